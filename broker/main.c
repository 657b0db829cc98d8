/* main.c: corral, the command. Loads and validates the configuration (exit
 * 78 on any error, before anything starts; --check creates nothing), takes
 * the PID file, binds the listening socket, then either runs the
 * coordinator (node.enabled) or execs one standalone worker in its place
 * (classic mode). */
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config.h"
#include "coordinator.h"
#include "fd_limit.h"
#include "cpu_quota.h"
#include "endpoints_file.h"
#include "fsutil.h"
#include "instance_uuid.h"
#include "launch_contract.h"
#include "listener.h"
#include "log.h"
#include "logging_control.h"
#include "pidfile.h"
#include "signals.h"
#include "spawn.h"
#include "upgrade.h"
#include "worker_config.h"
#include "worker_types.h"

#define LOGGER "coordinator"
#define DEFAULT_CONFIG "config/corral.yml"
/* A second start of a running instance (docs/supervision.md): not an
 * error of the configuration nor of the system, and told apart from
 * both. sysexits.h's EX_TEMPFAIL: try again once the other has stopped. */
#define EXIT_ALREADY_RUNNING 75

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: corral [-c FILE] [--check]\n"
            "  -c, --config FILE   configuration file (default %s)\n"
            "  -t, --check         validate the configuration and exit (0, or 78)\n"
            "  -V, --version       print the version\n"
            "  -h, --help          this help\n", DEFAULT_CONFIG);
}

/* Keeps fds 0..3 taken, so that nothing opened later lands on fd 3, the
 * listening socket's place in workers. */
static void
reserve_low_fds(void)
{
    int fd;
    while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd < 3)
        ;
    /* fd (3 or more) stays open until a worker's dup2 replaces it */
}

/* The usable CPUs, for the types whose count is auto; logged once. */
static int
usable_cpus(const corral_config_t *config)
{
    if (!corral_worker_types_count_cpus(config))
        return 1;
    int affinity = corral_cpu_affinity_count();
    double quota = corral_cpu_quota("/");
    int count = corral_cpu_auto_count(affinity, quota);
    if (quota > 0)
        corral_log(CORRAL_LEVEL_INFO, LOGGER,
                   "workers: auto = %d (%d CPUs in the affinity mask, cgroup quota %.2f CPUs)",
                   count, affinity, quota);
    else
        corral_log(CORRAL_LEVEL_INFO, LOGGER,
                   "workers: auto = %d (%d CPUs in the affinity mask, no cgroup quota)",
                   count, affinity);
    return count;
}

/* A memfd holding the packed WorkerConfig, open across exec, above fd 3. */
static int
classic_config_fd(const corral_config_t *config, int port, const char *uuid)
{
    corral_worker_config_t worker;
    corral_worker_config_init(&worker, config, 1, 1, port, false);
    corral_worker_config_set_node(&worker, uuid, NULL, NULL);
    char *error = NULL;
    if (corral_worker_config_make_data_dir(&worker, &error) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "%s", error);
        free(error);
        return -1;
    }
    size_t size = corral__v1__worker_config__get_packed_size(&worker.message);
    uint8_t *packed = malloc(size ? size : 1);
    int memfd = memfd_create("corral-worker-config", 0);
    int fd = -1;
    if (packed && memfd >= 0) {
        corral__v1__worker_config__pack(&worker.message, packed);
        if (write(memfd, packed, size) == (ssize_t) size)
            fd = fcntl(memfd, F_DUPFD, 4);
    }
    if (memfd >= 0)
        close(memfd);
    free(packed);
    return fd;
}

static int
run_classic(const corral_config_t *config, corral_listener_t *listener,
            corral_pidfile_t **pidfile, const char *program, const corral_worker_group_t *type)
{
    char *error = NULL;
    char *uuid = corral_instance_uuid_load(config->path.data, &error);
    if (!uuid) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "%s", error ? error : "out of memory");
        free(error);
        return 1;
    }
    int config_fd = classic_config_fd(config, corral_listener_port(listener), uuid);
    free(uuid);
    if (config_fd < 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot hand the configuration over: %s",
                   strerror(errno));
        return 1;
    }
    corral_spawn_t spawn = {
        .program = program, .name = "worker-1", .worker_id = 1,
        .argv = type->program.command, .env = type->program.env,
        .listen_fd = corral_listener_fd(listener, 1), .config_fd = config_fd,
        .handoff_fd = -1, .handoff_counters_fd = -1, .cwd = type->program.cwd,
        .stdout_fd = -1, .stderr_fd = -1,       /* the instance's own */
    };
    corral_pidfile_hand_over(pidfile);      /* the worker removes it at exit */
    corral_spawn_exec_standalone(&spawn, &error);
    corral_log(CORRAL_LEVEL_FATAL, LOGGER, "%s", error);
    free(error);
    return 1;
}

/* RFC 6.1.7: a memory limit inherited from the shell (ulimit -v) would
 * apply to every worker as to one process; unless per-worker max_memory
 * says what each may use, the instance runs as one process (classic). */
static bool
memory_limit_forbids_clustering(const corral_config_t *config)
{
    struct rlimit limit;
    if (!config->node.enabled || corral_worker_types_memory_capped(config)
        || getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
        return false;
    corral_log(CORRAL_LEVEL_WARN, LOGGER,
               "an inherited memory limit (ulimit -v: %llu MB) would apply to every worker; "
               "clustering is disabled (classic mode). Set node.workers.max_memory (each type's, "
               "with named types) to cluster "
               "under it", (unsigned long long) (limit.rlim_cur >> 20));
    return true;
}

/* node.coordinator.max_memory: the coordinator's own soft limit (workers
 * get theirs, or none, from spawn.c). */
static void
limit_own_memory(const corral_config_t *config)
{
    struct rlimit limit;
    uint64_t max = config->node.coordinator.max_memory;
    if (!config->node.enabled || !max || getrlimit(RLIMIT_AS, &limit) != 0)
        return;
    limit.rlim_cur = limit.rlim_max != RLIM_INFINITY && limit.rlim_max < max ? limit.rlim_max
                                                                             : (rlim_t) max;
    if (setrlimit(RLIMIT_AS, &limit) != 0)
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "cannot apply node.coordinator.max_memory: %s",
                   strerror(errno));
}

/* The PID file: acquired, or, in a coordinator started by SIGUSR2, the
 * predecessor's descriptor (its lock) adopted. */
static corral_pidfile_t *
take_pidfile(const corral_config_t *config, corral_upgrade_t *upgrade, pid_t *running,
             char **error)
{
    int inherited = corral_upgrade_pidfile_fd(upgrade);
    *running = 0;
    if (inherited >= 0)
        return corral_pidfile_adopt(config->pid.file, inherited, error);
    pid_t stale = 0;
    corral_pidfile_t *pidfile = corral_pidfile_acquire(config->pid.file, &stale, running, error);
    if (stale)
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "took over stale PID file %s (process %d is gone)",
                   config->pid.file, (int) stale);
    return pidfile;
}

/* At exit: removed, unless the other coordinator of an upgrade holds it. */
static void
drop_pidfile(corral_pidfile_t **pidfile, const corral_upgrade_t *upgrade)
{
    if (corral_upgrade_owns_pidfile(upgrade))
        corral_pidfile_release(pidfile);
    else
        corral_pidfile_forget(pidfile);
}

/* log_router: the opened appenders, taken (classic mode: the worker opens
 * its own). */
static int
run(const corral_config_t *config, corral_log_router_t *log_router, corral_upgrade_t *upgrade)
{
    if (corral_make_dirs(config->path.data) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot create path.data %s: %s",
                   config->path.data, strerror(errno));
        corral_log_router_destroy(&log_router);
        return 1;
    }
    corral_pidfile_t *pidfile = NULL;
    char *error = NULL;
    pid_t running = corral_upgrade_is_successor(upgrade)
        ? 0 : corral_endpoints_file_running(config->path.data);
    if (running > 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "already running (pid %d): %s/"
                   CORRAL_ENDPOINTS_FILE " names it", (int) running, config->path.data);
        corral_log_router_destroy(&log_router);
        return EXIT_ALREADY_RUNNING;
    }
    if (config->pid.file) {
        pidfile = take_pidfile(config, upgrade, &running, &error);
        if (!pidfile) {
            corral_log(CORRAL_LEVEL_FATAL, LOGGER, "%s", error ? error : "out of memory");
            free(error);
            corral_log_router_destroy(&log_router);
            return running ? EXIT_ALREADY_RUNNING : 1;
        }
    }
    bool clustered = config->node.enabled && !memory_limit_forbids_clustering(config);
    corral_worker_slots_t slots = { NULL, 0, 1 };
    if (clustered && corral_worker_slots_plan(&slots, config, usable_cpus(config)) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "out of memory");
        drop_pidfile(&pidfile, upgrade);
        corral_log_router_destroy(&log_router);
        return 1;
    }
    bool reuseport = config->server.balancing == CORRAL_BALANCING_REUSEPORT;
    if (config->node.enabled && corral_fd_limit_raise(clustered ? slots.slot_count : 1, reuseport,
                                                      &error) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "%s", error);
        free(error);
        corral_worker_slots_clear(&slots);
        corral_log_router_destroy(&log_router);
        drop_pidfile(&pidfile, upgrade);
        return 1;
    }
    int inherited = corral_listener_inherited();
    corral_listener_t *listener =
        inherited && corral_upgrade_is_successor(upgrade)
            ? corral_upgrade_adopt_listener(upgrade, inherited, config->server.host, reuseport,
                                            slots.http_count, &error)
        : inherited ? corral_listener_adopt(inherited, config->server.host, reuseport,
                                            slots.http_count, &error)
                    : corral_listener_new(config->server.host, config->server.port, reuseport,
                                          slots.http_count, &error);
    if (listener && inherited)
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "listening socket from %s (LISTEN_FDS=%d): "
                   "port %d; server.host and server.port are not used",
                   corral_upgrade_is_successor(upgrade) ? "the previous coordinator" : "systemd",
                   inherited, corral_listener_port(listener));
    /* classic mode: one worker of the first type that serves HTTP */
    const corral_worker_group_t *first = &config->node.types[0];
    for (int i = config->node.type_count - 1; i >= 0; i--)
        if (config->node.types[i].http)
            first = &config->node.types[i];
    char *program = first->program.command ? strdup(first->program.command[0])
                                           : corral_spawn_default_program();
    int exit_code = 1;
    if (!listener) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "%s", error);
        free(error);
    }
    else if (!clustered && corral_upgrade_is_successor(upgrade))
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "the configuration now runs classic mode: a "
                   "binary upgrade cannot switch to it (restart instead)");
    else if (!clustered) {
        corral_log_router_destroy(&log_router);
        exit_code = run_classic(config, listener, &pidfile, program, first);
    }
    else {
        limit_own_memory(config);
        corral_coordinator_t *coordinator = corral_coordinator_new(config, listener, &slots);
        if (coordinator) {
            corral_coordinator_set_log_router(coordinator, log_router);
            log_router = NULL;
            corral_upgrade_set_pidfile(upgrade, pidfile);
            corral_coordinator_set_upgrade(coordinator, upgrade);
            exit_code = corral_coordinator_run(coordinator);
        }
        corral_coordinator_destroy(&coordinator);
    }
    free(program);
    corral_worker_slots_clear(&slots);
    corral_log_router_destroy(&log_router);
    corral_listener_destroy(&listener);
    drop_pidfile(&pidfile, upgrade);
    return exit_code;
}

int
main(int argc, char *argv[])
{
    zsys_handler_set(NULL);         /* before any czmq call: signals are ours */
    corral_signals_survive_sigpipe();   /* a closed stdout is a write error, not a death */
    reserve_low_fds();
    static const struct option options[] = {
        { "config", required_argument, NULL, 'c' },
        { "check", no_argument, NULL, 't' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *file = DEFAULT_CONFIG;
    bool check_only = false;
    int option;
    while ((option = getopt_long(argc, argv, "c:tVh", options, NULL)) != -1) {
        switch (option) {
        case 'c': file = optarg; break;
        case 't': check_only = true; break;
        case 'V': printf("corral %s\n", CORRAL_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;     /* EX_USAGE */
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 64;
    }
    char *error = NULL;
    corral_config_t *config = corral_config_load(file, &error);
    if (!config) {
        fprintf(stderr, "corral: configuration error: %s\n", error);
        free(error);
        return CORRAL_EXIT_CONFIG;
    }
    corral_log_init(config->node.enabled ? "coordinator" : NULL,
                    config->logging.root_level, 2);
    if (check_only) {
        /* creates nothing: path.data, the PID file and the log files are
         * only checked where they would be made */
        int rc = corral_config_check_files(config, &error);
        if (rc == 0)
            printf("corral: %s is valid\n", file);
        else
            fprintf(stderr, "corral: configuration error: %s\n", error ? error : "out of memory");
        free(error);
        corral_config_destroy(&config);
        return rc == 0 ? 0 : CORRAL_EXIT_CONFIG;
    }
    /* an appender that cannot write is a configuration error, before
     * anything starts; path.data first, as log files often live there */
    corral_log_router_t *log_router = NULL;
    if (corral_make_dirs(config->path.data) != 0)
        error = corral_config_error(config, "path.data", "cannot create %s: %s",
                                    config->path.data, strerror(errno));
    else if (corral_config_check_files(config, &error) == 0)
        log_router = corral_logging_open(config, config->node.enabled, &error);
    if (!log_router) {
        fprintf(stderr, "corral: configuration error: %s\n", error ? error : "out of memory");
        free(error);
        corral_config_destroy(&config);
        return CORRAL_EXIT_CONFIG;
    }
    corral_upgrade_t *upgrade = corral_upgrade_new(argc, argv);
    int exit_code = run(config, log_router, upgrade);     /* upgrade NULL: none */
    /* after the log files are closed: a successor writes them now */
    corral_upgrade_destroy(&upgrade);
    corral_config_destroy(&config);
    return exit_code;
}
