/* corralctl.c: the operator's tool. Finds a running instance (its
 * endpoints.json, or node.remote over CURVE), asks its desk (status,
 * stats, workers, config), commands it (reload, restart, stop,
 * reopen-logs, level), shows its log file's last lines and follows its
 * tap (logs -f, events -f, top). The commands and their exit statuses:
 * ctl_help.c. */
#include <czmq.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctl_cpu.h"
#include "ctl_instance.h"
#include "ctl_log_file.h"
#include "ctl_views.h"
#include "level.h"
#include "status_api.h"

#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_STOP_TIMEOUT_MS 60000   /* over node.shutdown_timeout's default, 30 s */
#define DEFAULT_LOG_LINES 10
#define STATUS_UNAVAILABLE 2        /* corral_status_level_t */

typedef struct {
    ctl_target_t target;
    bool json;
    bool follow;
    const char *level;
    const char *worker;
    const char *logger;
    long count;                     /* logs, events, top: stop after this many; 0: never */
    int interval_ms;                /* top */
    long lines;                     /* logs: history lines; -1: not given */
    bool timeout_given;             /* --timeout: stop and restart all wait this long */
    bool help;                      /* -h after the command: that command's help */
    bool version;
} options_t;

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int signal_number)
{
    interrupted = 1;
}

static void
usage(FILE *out)
{
    ctl_usage(out, DEFAULT_TIMEOUT_MS);
}

/* --- Queries ----------------------------------------------------------------- */

static void
print_json(json_t *document)
{
    char *text = json_dumps(document, JSON_INDENT(2));
    if (text)
        puts(text);
    free(text);
}

static int
query(ctl_instance_t *instance, const options_t *options, const char *command)
{
    corral_envelope_t *reply = ctl_instance_ask(instance, command, NULL, 0);
    if (!reply)
        return CTL_EXIT_NO_INSTANCE;
    const Corral__V1__ToolReply *answer = reply->tool_reply;
    int exit_code = 0;
    if (!answer->ok) {
        fprintf(stderr, "corralctl: %s: %s\n", command, answer->error);
        exit_code = CTL_EXIT_UNHEALTHY;
    }
    else if (strcmp(command, "config") == 0)
        puts(answer->json);
    else if (!answer->view) {
        fprintf(stderr, "corralctl: %s: the answer holds no view\n", command);
        exit_code = CTL_EXIT_UNHEALTHY;
    }
    else {
        int level = 0;
        json_t *status = corral_status_json(answer->view, true, 0, &level);
        exit_code = level >= STATUS_UNAVAILABLE ? CTL_EXIT_UNHEALTHY : 0;
        json_t *document = strcmp(command, "status") == 0 ? json_incref(status)
                         : strcmp(command, "stats") == 0 ? corral_stats_json(answer->view, true)
                         : ctl_workers_json(answer->view);
        if (options->json)
            print_json(document);
        else if (strcmp(command, "status") == 0)
            ctl_print_status(stdout, document);
        else if (strcmp(command, "stats") == 0)
            ctl_print_stats(stdout, document);
        else
            ctl_print_workers(stdout, answer->view, NULL);
        json_decref(document);
        json_decref(status);
    }
    corral_envelope_free(&reply);
    return exit_code;
}

/* A reload's summary, one line for what it applied and one for what it
 * kept until a restart. */
static void
print_reload(const char *message)
{
    static const char kept[] = "; kept until a restart";
    const char *split = strstr(message, kept);
    if (!split) {
        printf("%s\n", message);
        return;
    }
    printf("%.*s\n%s\n", (int) (split - message), message, split + 2);
}

static int
command(ctl_instance_t *instance, const char *name, char **args, size_t argc)
{
    corral_envelope_t *reply = ctl_instance_ask(instance, name, args, argc);
    if (!reply)
        return CTL_EXIT_NO_INSTANCE;
    int exit_code = 0;
    if (reply->tool_reply->ok && strcmp(name, "reload") == 0)
        print_reload(reply->tool_reply->message);
    else if (reply->tool_reply->ok)
        printf("%s\n", reply->tool_reply->message);
    else {
        fprintf(stderr, "corralctl: %s: %s\n", name, reply->tool_reply->error);
        exit_code = CTL_EXIT_UNHEALTHY;
    }
    corral_envelope_free(&reply);
    return exit_code;
}

/* stop: the command, then the coordinator's exit, awaited (a local
 * instance: its PID; a remote one is not waited for). */
static int
stop(ctl_instance_t *instance, const options_t *options)
{
    int exit_code = command(instance, "stop", NULL, 0);
    if (exit_code != 0 || ctl_instance_pid(instance) == 0)
        return exit_code;
    int timeout_ms = options->timeout_given ? options->target.timeout_ms
                                            : DEFAULT_STOP_TIMEOUT_MS;
    int64_t deadline = zclock_mono() + timeout_ms;
    while (ctl_instance_alive(instance)) {
        if (zclock_mono() >= deadline || interrupted) {
            fprintf(stderr, "corralctl: stop: instance %s (pid %d) is still running after "
                            "%d ms\n", ctl_instance_uuid(instance),
                    (int) ctl_instance_pid(instance), timeout_ms);
            return CTL_EXIT_STILL_RUNNING;
        }
        usleep(20 * 1000);      /* another process's exit: no event to await */
    }
    printf("stopped (pid %d exited)\n", (int) ctl_instance_pid(instance));
    return 0;
}

/* One worker's slot, from a `workers` answer: its generation and whether
 * that generation is ready; false if the answer has no such worker. */
static bool
slot_state(ctl_instance_t *instance, const char *name, uint32_t *generation, bool *ready)
{
    corral_envelope_t *reply = ctl_instance_ask(instance, "workers", NULL, 0);
    bool found = false;
    const Corral__V1__ClusterView *view = reply && reply->tool_reply->ok
                                        ? reply->tool_reply->view : NULL;
    for (size_t i = 0; view && i < view->n_workers && !found; i++)
        if (strcmp(view->workers[i]->name, name) == 0) {
            *generation = view->workers[i]->generation;
            *ready = strcmp(view->workers[i]->state, "ready") == 0;
            found = true;
        }
    corral_envelope_free(&reply);
    return found;
}

/* restart all: each worker in turn, its replacement ready before the next. */
static int
restart_all(ctl_instance_t *instance, const options_t *options)
{
    corral_envelope_t *reply = ctl_instance_ask(instance, "workers", NULL, 0);
    if (!reply)
        return CTL_EXIT_NO_INSTANCE;
    const Corral__V1__ClusterView *view = reply->tool_reply->ok ? reply->tool_reply->view : NULL;
    size_t count = view ? view->n_workers : 0;
    char **names = calloc(count ? count : 1, sizeof *names);
    for (size_t i = 0; names && i < count; i++)
        names[i] = strdup(view->workers[i]->name);
    corral_envelope_free(&reply);
    int timeout_ms = options->timeout_given ? options->target.timeout_ms
                                            : DEFAULT_STOP_TIMEOUT_MS;
    int exit_code = names ? 0 : CTL_EXIT_UNHEALTHY;
    for (size_t i = 0; names && i < count && exit_code == 0 && !interrupted; i++) {
        uint32_t before = 0, generation = 0;
        bool ready = false;
        if (!slot_state(instance, names[i], &before, &ready))
            continue;           /* gone meanwhile (a reload shrank the count) */
        char *args[] = { names[i] };
        exit_code = command(instance, "restart", args, 1);
        int64_t deadline = zclock_mono() + timeout_ms;
        bool replaced = false;
        while (exit_code == 0 && !replaced && !interrupted) {
            if (zclock_mono() >= deadline) {
                fprintf(stderr, "corralctl: restart: %s was not replaced within %d ms\n",
                        names[i], timeout_ms);
                exit_code = CTL_EXIT_UNHEALTHY;
                break;
            }
            usleep(100 * 1000);     /* polling the desk: no event to await */
            replaced = slot_state(instance, names[i], &generation, &ready)
                       && generation != before && ready;
        }
        if (replaced)
            printf("%s replaced and ready\n", names[i]);
    }
    for (size_t i = 0; names && i < count; i++)
        free(names[i]);
    free(names);
    return exit_code;
}

/* --- Following the tap ------------------------------------------------------- */

/* logs: a prefix per level at or above --level (and --worker); --logger
 * is checked here (a logger and its children). */
static void
subscribe_logs(zsock_t *tap, const options_t *options)
{
    corral_level_t from = CORRAL_LEVEL_ALL;
    if (options->level)
        corral_level_parse(options->level, &from);
    for (int level = CORRAL_LEVEL_TRACE; level < CORRAL_LEVEL_OFF; level++) {
        if (level < (int) from)
            continue;
        char prefix[256];
        snprintf(prefix, sizeof prefix, "log/%s/%s%s", corral_level_name((corral_level_t) level),
                 options->worker ? options->worker : "", options->worker ? "/" : "");
        zsock_set_subscribe(tap, prefix);
    }
}

static bool
logger_matches(const char *logger, const char *wanted)
{
    size_t length = strlen(wanted);
    return strncmp(logger, wanted, length) == 0
        && (logger[length] == '\0' || logger[length] == '.');
}

/* "2026-12-04T18:00:00.123Z" */
static void
iso8601(char *out, size_t size, int64_t unix_ms)
{
    time_t seconds = (time_t) (unix_ms / 1000);
    struct tm utc;
    gmtime_r(&seconds, &utc);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(out, size, "%s.%03dZ", date, (int) (unix_ms % 1000));
}

static bool
print_tap_item(const corral_envelope_t *envelope, const options_t *options)
{
    if (envelope->body_case == CORRAL__V1__ENVELOPE__BODY_TAP_LINE) {
        const Corral__V1__TapLine *line = envelope->tap_line;
        if (!line->record || (options->logger && !logger_matches(line->record->logger,
                                                                 options->logger)))
            return false;
        if (options->json) {
            json_t *item = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s}",
                "timestamp_ms", (json_int_t) line->record->timestamp_ms,
                "level", corral_level_name((corral_level_t) line->record->level),
                "worker", line->worker, "logger", line->record->logger,
                "message", line->record->message, "pid", (json_int_t) line->record->pid,
                "seq", (json_int_t) line->record->seq, "line", line->line);
            char *text = json_dumps(item, JSON_COMPACT);
            puts(text);
            free(text);
            json_decref(item);
        }
        else
            puts(line->line);
    }
    else if (envelope->body_case == CORRAL__V1__ENVELOPE__BODY_TAP_EVENT) {
        const Corral__V1__TapEvent *event = envelope->tap_event;
        if (options->json) {
            char when[40];
            iso8601(when, sizeof when, event->timestamp_ms);
            json_t *item = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:s}",
                "timestamp_ms", (json_int_t) event->timestamp_ms, "time", when,
                "kind", event->kind,
                "worker", event->worker, "worker_id", (json_int_t) event->worker_id,
                "pid", (json_int_t) event->pid, "detail", event->detail);
            char *text = json_dumps(item, JSON_COMPACT);
            puts(text);
            free(text);
            json_decref(item);
        }
        else {
            char when[40];
            iso8601(when, sizeof when, event->timestamp_ms);
            printf("%s %-9s %-12s pid %-7u %s\n", when, event->kind, event->worker,
                   event->pid, event->detail);
        }
    }
    else
        return false;
    return true;
}

static int
follow(ctl_instance_t *instance, const options_t *options, bool logs)
{
    zsock_t *tap = ctl_instance_subscribe(instance, "tap");
    if (!tap)
        return CTL_EXIT_NO_INSTANCE;
    if (logs)
        subscribe_logs(tap, options);
    else
        zsock_set_subscribe(tap, "event/");
    fprintf(stderr, "corralctl: following the %s of instance %s\n", logs ? "logs" : "events",
            ctl_instance_uuid(instance));
    long shown = 0;
    while (!interrupted && (!options->count || shown < options->count)) {
        zmq_pollitem_t item = { zsock_resolve(tap), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 0) <= 0) {       /* all caught up: show it */
            fflush(stdout);
            if (zmq_poll(&item, 1, 200) <= 0) {
                if (!ctl_instance_alive(instance)) {
                    fprintf(stderr, "corralctl: the instance stopped\n");
                    zsock_destroy(&tap);
                    return CTL_EXIT_NO_INSTANCE;
                }
                continue;
            }
        }
        zmsg_t *message = zmsg_recv(tap);
        zframe_t *frame = message && zmsg_size(message) == 2 ? zmsg_last(message) : NULL;
        corral_envelope_t *envelope = frame ? corral_envelope_decode(frame) : NULL;
        if (envelope && print_tap_item(envelope, options))
            shown++;
        corral_envelope_free(&envelope);
        zmsg_destroy(&message);
    }
    fflush(stdout);
    zsock_destroy(&tap);
    return 0;
}

/* top's keyboard: stdin unbuffered and silent while top runs, so that a
 * single q quits. */
typedef struct {
    bool active;
    struct termios saved;
} keyboard_t;

static void
keyboard_open(keyboard_t *keyboard)
{
    keyboard->active = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &keyboard->saved) == 0;
    if (!keyboard->active)
        return;
    struct termios raw = keyboard->saved;
    raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
}

static void
keyboard_close(keyboard_t *keyboard)
{
    if (keyboard->active)
        tcsetattr(STDIN_FILENO, TCSANOW, &keyboard->saved);
}

/* Waits up to `ms` for a key: true when it was q (or Q). */
static bool
quit_pressed(const keyboard_t *keyboard, int ms)
{
    if (!keyboard->active) {
        usleep((useconds_t) ms * 1000);
        return false;
    }
    struct pollfd input = { STDIN_FILENO, POLLIN, 0 };
    char key;
    return poll(&input, 1, ms) > 0 && read(STDIN_FILENO, &key, 1) == 1
           && (key == 'q' || key == 'Q');
}

/* top: the workers table with CPU%, refreshed in place on a terminal. */
static int
top(ctl_instance_t *instance, const options_t *options)
{
    bool terminal = isatty(STDOUT_FILENO);
    long refreshes = 0;
    int exit_code = 0;
    keyboard_t keyboard;
    keyboard_open(&keyboard);
    ctl_cpu_t *cpu = ctl_cpu_new();
    bool quit = false;
    while (!interrupted && !quit && (!options->count || refreshes < options->count)) {
        corral_envelope_t *reply = ctl_instance_ask(instance, "workers", NULL, 0);
        if (!reply) {
            exit_code = CTL_EXIT_NO_INSTANCE;
            break;
        }
        if (reply->tool_reply->ok && reply->tool_reply->view) {
            if (terminal)
                fputs("\033[H\033[2J", stdout);
            printf("corral %s — every %d ms, q to quit\n", ctl_instance_uuid(instance),
                   options->interval_ms);
            ctl_print_workers(stdout, reply->tool_reply->view, cpu);
            if (!terminal)
                putchar('\n');
            fflush(stdout);
        }
        else
            exit_code = CTL_EXIT_UNHEALTHY;
        corral_envelope_free(&reply);
        if (++refreshes == options->count)
            break;
        for (int waited = 0; waited < options->interval_ms && !interrupted && !quit;
             waited += 50)
            quit = quit_pressed(&keyboard, 50);
    }
    ctl_cpu_destroy(&cpu);
    keyboard_close(&keyboard);
    return exit_code;
}

static int
keygen(const char *file)
{
    zcert_t *cert = zcert_new();
    zcert_set_meta(cert, "created-by", "corralctl keygen");
    int rc = cert ? zcert_save(cert, file) : -1;
    if (rc != 0)
        fprintf(stderr, "corralctl: cannot write %s and %s_secret\n", file, file);
    else
        printf("wrote %s (public) and %s_secret (secret)\n", file, file);
    zcert_destroy(&cert);
    return rc == 0 ? 0 : 1;
}

/* --- main ---------------------------------------------------------------------- */

static int
parse_options(int argc, char *argv[], options_t *options)
{
    enum { OPT_REMOTE = 256, OPT_KEY, OPT_SERVER_KEY, OPT_JSON, OPT_LEVEL, OPT_WORKER,
           OPT_LOGGER, OPT_COUNT, OPT_TIMEOUT, OPT_INTERVAL, OPT_LINES };
    static const struct option long_options[] = {
        { "config", required_argument, NULL, 'c' }, { "data", required_argument, NULL, 'd' },
        { "remote", required_argument, NULL, OPT_REMOTE },
        { "key", required_argument, NULL, OPT_KEY },
        { "server-key", required_argument, NULL, OPT_SERVER_KEY },
        { "json", no_argument, NULL, OPT_JSON }, { "follow", no_argument, NULL, 'f' },
        { "level", required_argument, NULL, OPT_LEVEL },
        { "worker", required_argument, NULL, OPT_WORKER },
        { "logger", required_argument, NULL, OPT_LOGGER },
        { "count", required_argument, NULL, OPT_COUNT },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "interval", required_argument, NULL, OPT_INTERVAL },
        { "lines", required_argument, NULL, OPT_LINES },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    int option;
    while ((option = getopt_long(argc, argv, "+c:d:fhVn:", long_options, NULL)) != -1) {
        switch (option) {
        case 'c': options->target.config_file = optarg; break;
        case 'd': options->target.data_dir = optarg; break;
        case 'f': options->follow = true; break;
        case OPT_REMOTE: options->target.remote = optarg; break;
        case OPT_KEY: options->target.key_file = optarg; break;
        case OPT_SERVER_KEY: options->target.server_key = optarg; break;
        case OPT_JSON: options->json = true; break;
        case OPT_LEVEL: options->level = optarg; break;
        case OPT_WORKER: options->worker = optarg; break;
        case OPT_LOGGER: options->logger = optarg; break;
        case OPT_COUNT: options->count = atol(optarg); break;
        case OPT_TIMEOUT:
            options->target.timeout_ms = atoi(optarg);
            options->timeout_given = true;
            break;
        case OPT_INTERVAL: options->interval_ms = atoi(optarg); break;
        case 'n':
        case OPT_LINES: options->lines = atol(optarg); break;
        case 'V': options->version = true; break;
        case 'h': options->help = true; break;
        default: return -1;
        }
    }
    if (options->target.timeout_ms <= 0 || options->lines < -1) {
        fprintf(stderr, "corralctl: --timeout and --lines take a positive number\n");
        return -1;
    }
    corral_level_t level;
    if (options->level && corral_level_parse(options->level, &level) != 0) {
        fprintf(stderr, "corralctl: unknown level %s\n", options->level);
        return -1;
    }
    return 0;
}

static int
run(ctl_instance_t *instance, const options_t *options, const char *name, char **args,
    int argc)
{
    if (strcmp(name, "status") == 0 || strcmp(name, "stats") == 0
        || strcmp(name, "workers") == 0 || strcmp(name, "config") == 0)
        return query(instance, options, name);
    if (strcmp(name, "logs") == 0) {
        /* the history, then (-f) what comes */
        long lines = options->lines >= 0 ? options->lines : options->follow ? 0
                   : DEFAULT_LOG_LINES;
        int exit_code = lines > 0 || !options->follow
                      ? ctl_log_file_tail(instance, lines, stdout) : 0;
        if (!options->follow || (exit_code != 0 && exit_code != CTL_EXIT_UNHEALTHY))
            return exit_code;
        return follow(instance, options, true);
    }
    if (strcmp(name, "events") == 0)
        return follow(instance, options, false);
    if (strcmp(name, "top") == 0)
        return top(instance, options);
    if (strcmp(name, "stop") == 0)
        return stop(instance, options);
    if (strcmp(name, "restart") == 0 && strcmp(args[0], "all") == 0)
        return restart_all(instance, options);
    return command(instance, name, args, (size_t) argc);
}

/* help [COMMAND] */
static int
help(char **args, int count)
{
    if (count == 0) {
        usage(stdout);
        return 0;
    }
    if (ctl_command_help(stdout, args[0]))
        return 0;
    fprintf(stderr, "corralctl: no command %s\n", args[0]);
    usage(stderr);
    return CTL_EXIT_USAGE;
}

int
main(int argc, char *argv[])
{
    zsys_handler_set(NULL);
    options_t options = { .target.timeout_ms = DEFAULT_TIMEOUT_MS, .interval_ms = 1000,
                          .lines = -1 };
    if (parse_options(argc, argv, &options) != 0) {
        usage(stderr);
        return CTL_EXIT_USAGE;
    }
    if (options.version) {
        printf("corralctl %s\n", CORRAL_VERSION);
        return 0;
    }
    if (optind >= argc) {
        usage(options.help ? stdout : stderr);
        return options.help ? 0 : CTL_EXIT_USAGE;
    }
    const char *name = argv[optind++];
    /* options may follow the command: logs -f --level warn */
    if (parse_options(argc, argv, &options) != 0) {
        if (!ctl_command_help(stderr, name))
            usage(stderr);
        return CTL_EXIT_USAGE;
    }
    char **args = argv + optind;
    int count = argc - optind;
    if (options.help) {             /* COMMAND --help */
        char *command_name[] = { (char *) name };
        return help(command_name, 1);
    }
    if (!ctl_command_known(name, count)) {
        fprintf(stderr, "corralctl: unknown command or wrong arguments: %s\n", name);
        if (!ctl_command_help(stderr, name))
            usage(stderr);
        return CTL_EXIT_USAGE;
    }
    if (strcmp(name, "help") == 0)
        return help(args, count);
    if (strcmp(name, "keygen") == 0)
        return keygen(args[0]);
    struct sigaction action = { .sa_handler = on_interrupt };
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    int exit_code;
    ctl_instance_t *instance = ctl_instance_connect(&options.target, &exit_code);
    if (!instance)
        return exit_code;
    exit_code = run(instance, &options, name, args, count);
    ctl_instance_destroy(&instance);
    return exit_code;
}
