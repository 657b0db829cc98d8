/* coordinator_workers.c: what the supervisor asks of the coordinator
 * (spawn a process with its socket, channel and secret; tell one it is
 * main; stop the instance), what the coordinator tells it (a process was
 * reaped), and the slots' place in the configuration (assign, the
 * WorkerConfig a new process is welcomed with). */
#include "coordinator_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "exit_history.h"
#include "fsutil.h"
#include "log.h"
#include "notify.h"
#include "plain_worker.h"
#include "spawn.h"
#include "worker_output.h"

#define LOGGER "coordinator"
#define LOG_DRAIN_MS 5000           /* for a worker's records up to its Bye */

const char *
corral_coordinator_program(const corral_coordinator_t *self, const corral_slot_spec_t *spec)
{
    char **command = spec->type->program.command;
    return command ? command[0] : self->worker_program;
}

void
corral_coordinator_assign(corral_coordinator_t *self, slot_t *slot,
                          const corral_config_t *config, const corral_slot_spec_t *spec,
                          int worker_count, uint32_t generation)
{
    slot->config = config;
    slot->spec = *spec;
    slot->spec.config_generation = generation;
    slot->worker_count = worker_count;
    if (self->supervisor)
        corral_supervisor_set_spec(self->supervisor, slot->id, &slot->spec);
}

/* The WorkerConfig the slot's next process is welcomed with. */
static void
build_worker_config(corral_coordinator_t *self, slot_t *slot)
{
    corral_worker_config_init(&slot->message, slot->config, slot->id, slot->worker_count,
                              corral_listener_port(self->listener), true);
    corral_worker_config_set_type(&slot->message, slot->spec.name, slot->spec.type);
    if (self->bus)
        corral_worker_config_set_node(&slot->message, self->instance_uuid,
                                      corral_bus_in_endpoint(self->bus),
                                      corral_bus_out_endpoint(self->bus));
    if (self->logs)
        slot->message.message.logs_endpoint = (char *) corral_log_collector_endpoint(self->logs);
    if (self->reloaded_log_config)
        slot->message.message.logging = self->reloaded_log_config;
}

/* A process's life changed: the cluster view and the tap learn it. */
void
corral_coordinator_lifecycle(corral_coordinator_t *self, const corral_process_t *process,
                             const char *kind, const char *detail)
{
    int id = corral_process_slot(process);
    corral_cluster_view_worker_state(self->view, id, kind, corral_process_main(process));
    corral_tap_event(self->tap, kind, id, corral_process_name(process),
                     corral_process_pid(process), "%s", detail);
}

/* What the coordinator keeps for `process`, made at its spawn. NULL only
 * when out of memory. */
peer_t *
corral_coordinator_link_peer(corral_process_t *process)
{
    peer_t *peer = corral_process_link(process);
    if (!peer && (peer = calloc(1, sizeof *peer))) {
        peer->channel = -1;
        corral_process_set_link(process, peer);
    }
    return peer;
}

/* The connections still queued to the process go to the others. */
static void
close_channel(corral_coordinator_t *self, peer_t *peer)
{
    if (self->balancer && peer && peer->channel >= 0)
        corral_balancer_close(self->balancer, peer->channel);
    if (peer)
        peer->channel = -1;
}

/* Every slot was ready once: the instance is up. */
static void
announce_ready(void *arg)
{
    corral_coordinator_t *self = arg;
    if (self->stopping)
        return;
    char status[256];
    snprintf(status, sizeof status, "READY=1\nSTATUS=serving http://%s:%d with %d workers",
             self->config->server.host, corral_listener_port(self->listener),
             self->slot_count);
    corral_notify(status);
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "ready: %d workers serving http://%s:%d",
               self->slot_count, self->config->server.host,
               corral_listener_port(self->listener));
    corral_coordinator_upgrade_taken_over(self);
}

/* --- Workers ---------------------------------------------------------------- */

static void
worker_exited(corral_coordinator_t *self, corral_process_t *process, int status)
{
    peer_t *peer = corral_process_link(process);
    if (peer && peer->output)   /* everything it printed before it exited */
        corral_worker_output_finish(peer->output);
    if (self->logs) {   /* its records before the news of its exit */
        corral_log_collector_drain_worker(self->logs, corral_process_slot(process),
                                          peer && peer->said_bye ? peer->last_log_seq : 0,
                                          LOG_DRAIN_MS);
        corral_coordinator_drain_desk(self);   /* a Bye that came meanwhile */
    }
    char how[96];
    corral_exit_describe(status, how, sizeof how);
    corral_coordinator_lifecycle(self, process, "exited", how);
    close_channel(self, peer);
    corral_supervisor_reaped(self->supervisor, process, status);
}

void
corral_coordinator_reap_workers(corral_coordinator_t *self)
{
    corral_coordinator_drain_desk(self);
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        corral_process_t *process = corral_supervisor_process(self->supervisor, pid);
        if (process)
            worker_exited(self, process, status);
        else if (corral_upgrade_reaped(self->upgrade, pid, status))
            corral_tap_event(self->tap, "upgrade", 0, NULL, pid, "the new coordinator exited "
                             "(wait status %d)", status);
    }
}

/* --- Plain workers (protocol: none): what their notify sockets say -------------- */

static void
plain_ready(void *arg, corral_plain_worker_t *worker)
{
    corral_coordinator_t *self = arg;
    corral_process_t *process = corral_plain_worker_link(worker);
    if (!corral_process_starting(process))     /* asked to stop meanwhile */
        return;
    corral_supervisor_ready(self->supervisor, process);
    corral_coordinator_lifecycle(self, process, "ready", "serving");
}

static void
plain_hung(void *arg, corral_plain_worker_t *worker, const char *why)
{
    corral_coordinator_t *self = arg;
    corral_supervisor_hung(self->supervisor, corral_plain_worker_link(worker), why);
}

/* What a protocol worker reports, read from /proc: its heartbeat too. */
static void
plain_report(void *arg, corral_plain_worker_t *worker, const Corral__V1__Report *report)
{
    corral_coordinator_t *self = arg;
    corral_process_t *process = corral_plain_worker_link(worker);
    corral_supervisor_heard(self->supervisor, process, report->process->resident_set_size_bytes,
                            0);
    int slot = corral_process_slot(process);
    if (corral_supervisor_current(self->supervisor, slot) == process)
        corral_cluster_view_accept(self->view, slot, report);
}

static void
plain_event(void *arg, corral_plain_worker_t *worker, const char *kind, const char *detail)
{
    corral_coordinator_t *self = arg;
    corral_process_t *process = corral_plain_worker_link(worker);
    corral_log(strcmp(kind, "refused") == 0 ? CORRAL_LEVEL_WARN : CORRAL_LEVEL_INFO, LOGGER,
               "%s (pid %d) %s", corral_process_name(process),
               (int) corral_process_pid(process), detail);
    if (strcmp(kind, "ready") != 0)     /* that one is the lifecycle's own event */
        corral_tap_event(self->tap, kind, corral_process_slot(process),
                         corral_process_name(process), corral_process_pid(process), "%s",
                         detail);
}

/* Its notify socket, named for its slot and generation in the runtime
 * directory. */
static int
open_plain(corral_coordinator_t *self, corral_process_t *process, peer_t *peer,
           const corral_worker_group_t *type, char **error)
{
    static const corral_plain_worker_ops_t ops = {
        .ready = plain_ready, .hung = plain_hung, .report = plain_report,
        .event = plain_event,
    };
    char path[256];
    snprintf(path, sizeof path, "%s/notify-%d-%u", self->runtime_dir,
             corral_process_slot(process), corral_process_generation(process));
    corral_plain_worker_spec_t spec = {
        .worker_id = corral_process_slot(process), .notify_path = path,
        .ready_after_ms = type->ready_after_ms, .watchdog_ms = type->watchdog_ms,
        .status_interval_ms = self->config->node.status.interval_ms,
    };
    peer->plain = corral_plain_worker_new(self->loop, &spec, &ops, self);
    if (!peer->plain) {
        *error = corral_format("cannot make the notify socket %s for %s: %s", path,
                               corral_process_name(process), strerror(errno));
        return -1;
    }
    corral_plain_worker_set_link(peer->plain, process);
    return 0;
}

/* Its stdout and stderr go to the central log, a pipe each. */
static int
open_output(corral_coordinator_t *self, corral_process_t *process, peer_t *peer, char **error)
{
    if (!self->logs)
        return 0;
    peer->output = corral_worker_output_new(self->loop, self->logs, corral_process_slot(process));
    if (!peer->output) {
        *error = corral_format("cannot capture the output of %s: %s",
                               corral_process_name(process), strerror(errno));
        return -1;
    }
    return 0;
}

/* The process started: what watches it begins. */
static void
watch_started(corral_coordinator_t *self, corral_process_t *process, peer_t *peer, pid_t pid)
{
    if (peer->output && corral_worker_output_started(peer->output, pid) != 0)
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "cannot read the output of %s (pid %d)",
                   corral_process_name(process), (int) pid);
    if (peer->plain && corral_plain_worker_started(peer->plain, pid) != 0)
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "cannot watch the notify socket of %s (pid %d)",
                   corral_process_name(process), (int) pid);
}

static void
close_watches(peer_t *peer)
{
    corral_worker_output_destroy(&peer->output);
    corral_plain_worker_destroy(&peer->plain);
}

/* --- What the supervisor asks ----------------------------------------------------- */

static pid_t
spawn_process(void *arg, corral_process_t *process, char **error)
{
    corral_coordinator_t *self = arg;
    slot_t *slot = corral_coordinator_slot(self, (uint32_t) corral_process_slot(process));
    const corral_slot_spec_t *spec = &slot->spec;
    peer_t *peer = corral_coordinator_link_peer(process);
    corral_handoff_fds_t handoff = { -1, -1, -1 };
    bool plain = spec->type->plain;
    if (peer && ((plain && open_plain(self, process, peer, spec->type, error) != 0)
                 || open_output(self, process, peer, error) != 0)) {
        close_watches(peer);
        return -1;
    }
    /* a worker without HTTP gets no connections: no channel, no socket;
     * nor does a plain one: it accepts on fd 3 */
    if (!peer || (self->balancer && spec->http && !plain
                  && corral_balancer_open(self->balancer, &handoff) != 0)) {
        if (peer)
            close_watches(peer);
        *error = corral_format("cannot open a connection channel for %s: %s",
                               slot->message.name, strerror(errno));
        return -1;
    }
    peer->channel = handoff.channel;
    build_worker_config(self, slot);
    corral_spawn_t spawn = {
        .program = corral_coordinator_program(self, spec),
        .name = slot->message.name,
        .argv = spec->type->program.command,
        .env = spec->type->program.env,
        .worker_id = slot->id,
        .listen_fd = spec->http ? corral_listener_fd(self->listener, spec->listen_index) : -1,
        .desk_endpoint = self->desk_endpoint,
        .config_fd = -1,
        .max_memory = corral_process_max_memory(process),
        .secret = slot->secret,
        .handoff_fd = handoff.worker_fd,
        .handoff_counters_fd = handoff.counters_fd,
        .cwd = spec->type->program.cwd,
        .stdout_fd = peer->output ? corral_worker_output_child_fd(peer->output, 1) : -1,
        .stderr_fd = peer->output ? corral_worker_output_child_fd(peer->output, 2) : -1,
        .notify_socket = peer->plain ? corral_plain_worker_notify_path(peer->plain) : NULL,
        .watchdog_usec = peer->plain ? corral_plain_worker_watchdog_usec(peer->plain) : 0,
    };
    if (!slot->secret[0] && corral_spawn_make_secret(slot->secret) != 0) {
        *error = corral_format("cannot make a secret for %s: %s", slot->message.name,
                               strerror(errno));
        close_channel(self, peer);
        close_watches(peer);
        return -1;
    }
    if (self->logs) {
        corral_log_collector_set_secret(self->logs, slot->id, slot->secret);
        /* a reload may have renamed the slot (background-1 to http-3) */
        corral_log_collector_name_worker(self->logs, slot->id, spec->name);
    }
    corral_binary_id(spawn.program, &slot->binary);     /* a reload compares it */
    pid_t pid = -1;
    if (corral_worker_config_make_data_dir(&slot->message, error) == 0)
        pid = corral_spawn_worker(&spawn, error);
    if (pid < 0) {
        close_channel(self, peer);
        close_watches(peer);
    }
    else
        watch_started(self, process, peer, pid);
    return pid;
}

/* balancing shared: the coordinator accepts and hands each connection to
 * the worker with the fewest open connections (balancer.h). */
int
corral_coordinator_start_balancer(corral_coordinator_t *self)
{
    if (self->config->server.balancing != CORRAL_BALANCING_SHARED)
        return 0;
    self->balancer = corral_balancer_new(corral_listener_fd(self->listener, 1));
    if (!self->balancer)
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot start the balancer: %s", strerror(errno));
    return self->balancer ? 0 : -1;
}

static void
slot_changed(void *arg, int slot_id, const corral_process_t *process)
{
    corral_coordinator_t *self = arg;
    if (process) {
        corral_cluster_view_worker_started(self->view, slot_id, corral_process_name(process),
                                           corral_process_pid(process));
        corral_coordinator_lifecycle(self, process,
                                     corral_process_generation(process) > 1 ? "restarted"
                                                                            : "started",
                                     corral_process_main(process) ? "main" : "");
    }
    else
        corral_cluster_view_worker_gone(self->view, slot_id);
}

static void
tell_main(void *arg, const corral_process_t *process, bool main)
{
    corral_coordinator_t *self = arg;
    Corral__V1__MainRole body = CORRAL__V1__MAIN_ROLE__INIT;
    body.main = main;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_MAIN_ROLE;
    envelope.main_role = &body;
    if (main)
        corral_coordinator_lifecycle(self, process, "main", "holds the main role now");
    if (corral_coordinator_send_to_process(self, process, &envelope) != 0)
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "cannot tell %s (pid %d) it is main",
                   corral_process_name(process), (int) corral_process_pid(process));
}

static void
stop_instance(void *arg, int exit_code, const char *why)
{
    corral_coordinator_begin_stop(arg, exit_code, why);
}

static void
forget_process(void *arg, corral_process_t *process)
{
    peer_t *peer = corral_process_link(process);
    close_channel(arg, peer);
    if (peer) {
        zframe_destroy(&peer->desk_peer);
        close_watches(peer);
    }
    free(peer);
    corral_process_set_link(process, NULL);
}

static bool
killed_for_memory(void *arg, const corral_process_t *process, int status)
{
    corral_coordinator_t *self = arg;
    return self->oom_kills
        && corral_oom_kills_took(self->oom_kills, corral_process_pid(process), status);
}

/* The supervision fields of each slot's view. */
static void
fill_slot_view(void *arg, int slot_id, Corral__V1__WorkerView *view)
{
    corral_coordinator_t *self = arg;
    corral_supervisor_fill_view(self->supervisor, slot_id, view);
    /* a ready plain worker that said RELOADING=1 or STOPPING=1 shows it, as
     * systemd shows its units (its supervision does not change) */
    corral_process_t *process = corral_supervisor_current(self->supervisor, slot_id);
    peer_t *peer = process ? corral_process_link(process) : NULL;
    const char *state = peer && peer->plain ? corral_plain_worker_state(peer->plain) : NULL;
    if (state && view->state && strcmp(view->state, "ready") == 0)
        view->state = (char *) state;
}

void
corral_coordinator_policy(const corral_config_t *config, corral_supervision_t *out)
{
    corral_supervision_t policy = {
        .policy = config->node.restart.policy,
        .max_restarts = config->node.restart.max_restarts,
        .window_ms = config->node.restart.window_ms,
        .backoff_initial_ms = config->node.restart.backoff_initial_ms,
        .backoff_max_ms = config->node.restart.backoff_max_ms,
        .heartbeat_timeout_ms = config->node.workers.heartbeat_timeout_ms,
        .ready_timeout_ms = config->node.reload.ready_timeout_ms,
        .shutdown_timeout_ms = config->node.shutdown_timeout_ms,
    };
    *out = policy;
}

int
corral_coordinator_start_supervisor(corral_coordinator_t *self)
{
    corral_supervision_t policy;
    corral_coordinator_policy(self->config, &policy);
    static const corral_supervisor_ops_t ops = {
        .spawn = spawn_process, .slot_changed = slot_changed, .tell_main = tell_main,
        .stop_instance = stop_instance, .all_ready = announce_ready,
        .forget = forget_process, .killed_for_memory = killed_for_memory,
    };
    self->oom_kills = corral_oom_kills_new(NULL, NULL, NULL);
    if (self->oom_kills)
        corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "OOM kills counted in %s",
                   corral_oom_kills_counter(self->oom_kills)
                   ? corral_oom_kills_counter(self->oom_kills)
                   : "no cgroup file (the kernel's record is read instead)");
    corral_slot_spec_t *specs = calloc((size_t) self->slot_count, sizeof *specs);
    if (!specs)
        return -1;
    for (int i = 0; i < self->slot_count; i++)
        specs[i] = self->slots[i]->spec;
    self->supervisor = corral_supervisor_new(self->loop, &policy, specs, self->slot_count,
                                             &ops, self);
    free(specs);
    if (!self->supervisor)
        return -1;
    corral_cluster_view_set_filler(self->view, fill_slot_view, self);
    return 0;
}
