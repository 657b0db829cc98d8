/* coordinator_tools.c: the commands tools send on desk (corralctl stop,
 * reload, reopen-logs, level, restart) once desk_tools.c has checked
 * their arguments, and the logging in force that `level` and a reload
 * change. */
#include "coordinator_private.h"

#include <stdlib.h>
#include <string.h>

#include "config_json.h"
#include "fsutil.h"
#include "log.h"
#include "logging_control.h"

#define LOGGER "coordinator"

/* --- The logging in force ------------------------------------------------------ */

/* `config` (taken) is the logging in force from now on: new levels to
 * every worker over desk (workers started later get it in their
 * WorkerConfig). */
void
corral_coordinator_apply_log_config(corral_coordinator_t *self, Corral__V1__LogConfig *config)
{
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_LOG_CONFIG;
    envelope.log_config = config;
    for (int id = 1; id <= self->slot_count; id++) {
        corral_process_t *process = corral_supervisor_current(self->supervisor, id);
        peer_t *peer = process ? corral_process_link(process) : NULL;
        if (peer && peer->plain)
            continue;       /* a plain program has no desk: its lines are all captured */
        if (process && corral_coordinator_send_to_process(self, process, &envelope) != 0)
            corral_log(CORRAL_LEVEL_WARN, LOGGER, "cannot send the new log levels to %s",
                       corral_process_name(process));
    }
    if (self->reloaded_log_config && self->reloaded_log_config != config)
        corral__v1__log_config__free_unpacked(self->reloaded_log_config, NULL);
    self->reloaded_log_config = config;
}

static const Corral__V1__LogConfig *
log_config(const corral_coordinator_t *self)
{
    return self->reloaded_log_config ? self->reloaded_log_config : self->config->logging.config;
}

/* --- Tools' commands (desk_tools.c checked their arguments) ------------------ */

static int
set_level(corral_coordinator_t *self, const char *logger, const char *name, char **message)
{
    corral_level_t level;
    if (corral_level_parse(name, &level) != 0) {
        *message = corral_format("unknown level \"%s\" (all, trace, debug, info, warn, "
                                 "error, fatal, off)", name);
        return -1;
    }
    char *error = NULL;
    Corral__V1__LogConfig *config = self->logs ? corral_logging_set_level(
        self->logs, log_config(self), logger, level, &error) : NULL;
    if (!config) {
        *message = error ? error : strdup("logging is not collected by this process");
        return -1;
    }
    corral_coordinator_apply_log_config(self, config);
    *message = corral_format("logger %s: level %s", logger, corral_level_name(level));
    return 0;
}

/* `restart WORKER` (a name, worker-2, or an id, 2): a graceful
 * replacement, as a recycle does: the new process starts beside the old
 * one, which stops once the new one is ready. */
static int
restart_worker(corral_coordinator_t *self, const char *worker, char **message)
{
    const slot_t *slot = NULL;
    char *end;
    long id = strtol(worker, &end, 10);
    if (*worker && !*end)
        slot = corral_coordinator_slot(self, (uint32_t) id);
    for (int i = 0; !slot && i < self->slot_count; i++)
        if (strcmp(self->slots[i]->message.name, worker) == 0)
            slot = self->slots[i];
    if (!slot) {
        *message = corral_format("restart: no worker %s", worker);
        return -1;
    }
    if (corral_supervisor_replace(self->supervisor, slot->id, "asked by a tool", NULL, NULL) != 0) {
        *message = corral_format("restart: %s is not ready, or is being replaced already",
                                 slot->message.name);
        return -1;
    }
    *message = corral_format("restarting %s: its replacement starts beside it, then it stops "
                             "gracefully", slot->message.name);
    return 0;
}

static void
tool_reload_done(void *arg, bool ok, const char *summary)
{
    corral_desk_tools_pending_t *pending = arg;
    corral_desk_tools_finish(&pending, ok, summary);
}

int
corral_coordinator_run_tool_command(void *arg, const char *command, char **args, size_t argc,
                                    char **message)
{
    corral_coordinator_t *self = arg;
    corral_tap_event(self->tap, "command", 0, NULL, 0, "%s", command);
    if (strcmp(command, "stop") == 0) {
        corral_coordinator_begin_stop(self, 0, "asked by a tool");
        *message = strdup("stopping");
    }
    else if (strcmp(command, "reopen-logs") == 0 && self->logs) {
        corral_logging_reopen(self->logs);
        *message = strdup("log files reopened");
    }
    else if (strcmp(command, "reload") == 0) {
        /* answered when the reload ends (or at once: a bad file, one running) */
        corral_desk_tools_pending_t *pending = corral_desk_tools_defer(self->tools);
        if (!pending) {
            *message = strdup("out of memory");
            return -1;
        }
        corral_coordinator_reload(self, tool_reload_done, pending);
    }
    else if (strcmp(command, "level") == 0)
        return set_level(self, args[0], args[1], message);
    else if (strcmp(command, "restart") == 0)
        return restart_worker(self, args[0], message);
    else {
        *message = corral_format("%s: not supported yet", command);
        return -1;
    }
    return 0;
}

char *
corral_coordinator_effective_config(void *arg)
{
    corral_coordinator_t *self = arg;
    return corral_config_json(self->config, log_config(self), self->slot_count,
                              corral_listener_port(self->listener));
}
