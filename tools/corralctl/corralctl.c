/* corralctl.c: the operator's tool. Finds a running instance (its
 * endpoints.json, or node.remote over CURVE), asks its desk (status,
 * stats, workers, config), commands it (reload, restart, stop,
 * reopen-logs, level) and follows its tap (logs -f, events -f, top).
 * Exit status: 0 answered and healthy, 1 unhealthy or the command was
 * refused, 64 usage, 69 no instance answers, 78 bad configuration. */
#include <czmq.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_instance.h"
#include "ctl_views.h"
#include "level.h"
#include "status_api.h"

#define DEFAULT_TIMEOUT_MS 5000
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
    fprintf(out,
        "usage: corralctl [OPTIONS] COMMAND [ARGS]\n"
        "commands:\n"
        "  status | stats | workers | config     ask (--json: the HTTP API's shapes)\n"
        "  logs -f [--level L] [--worker W] [--logger NAME]   follow log lines\n"
        "  events -f                             follow lifecycle events\n"
        "  top                                   live workers table\n"
        "  reload | stop | reopen-logs | restart WORKER | level LOGGER LEVEL\n"
        "  keygen FILE                           write a CURVE key pair (FILE, FILE_secret)\n"
        "options:\n"
        "  -c, --config FILE    the instance of this configuration (default config/corral.yml)\n"
        "  -d, --data DIR       the instance whose path.data is DIR\n"
        "  --remote ENDPOINT    node.remote's tcp:// desk, with --key and --server-key\n"
        "  --key FILE           our certificate (FILE_secret holds the secret key)\n"
        "  --server-key FILE    the instance's public certificate\n"
        "  --json               JSON output\n"
        "  --count N            logs, events, top: stop after N lines, events, refreshes\n"
        "  --timeout MS         wait this long for an answer (default %d)\n"
        "exit status: 0 healthy, 1 unhealthy or refused, 69 no instance answers\n",
        DEFAULT_TIMEOUT_MS);
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
            ctl_print_workers(stdout, answer->view);
        json_decref(document);
        json_decref(status);
    }
    corral_envelope_free(&reply);
    return exit_code;
}

static int
command(ctl_instance_t *instance, const char *name, char **args, size_t argc)
{
    corral_envelope_t *reply = ctl_instance_ask(instance, name, args, argc);
    if (!reply)
        return CTL_EXIT_NO_INSTANCE;
    int exit_code = 0;
    if (reply->tool_reply->ok)
        printf("%s\n", reply->tool_reply->message);
    else {
        fprintf(stderr, "corralctl: %s: %s\n", name, reply->tool_reply->error);
        exit_code = CTL_EXIT_UNHEALTHY;
    }
    corral_envelope_free(&reply);
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
            json_t *item = json_pack("{s:I, s:s, s:s, s:I, s:I, s:s}",
                "timestamp_ms", (json_int_t) event->timestamp_ms, "kind", event->kind,
                "worker", event->worker, "worker_id", (json_int_t) event->worker_id,
                "pid", (json_int_t) event->pid, "detail", event->detail);
            char *text = json_dumps(item, JSON_COMPACT);
            puts(text);
            free(text);
            json_decref(item);
        }
        else
            printf("%lld %-9s %-12s pid %-7u %s\n", (long long) event->timestamp_ms,
                   event->kind, event->worker, event->pid, event->detail);
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

/* top: the workers table, refreshed in place on a terminal. */
static int
top(ctl_instance_t *instance, const options_t *options)
{
    bool terminal = isatty(STDOUT_FILENO);
    long refreshes = 0;
    int exit_code = 0;
    while (!interrupted && (!options->count || refreshes < options->count)) {
        corral_envelope_t *reply = ctl_instance_ask(instance, "workers", NULL, 0);
        if (!reply)
            return CTL_EXIT_NO_INSTANCE;
        if (reply->tool_reply->ok && reply->tool_reply->view) {
            if (terminal)
                fputs("\033[H\033[2J", stdout);
            printf("corral %s — every %d ms, Ctrl-C to quit\n", ctl_instance_uuid(instance),
                   options->interval_ms);
            ctl_print_workers(stdout, reply->tool_reply->view);
            if (!terminal)
                putchar('\n');
            fflush(stdout);
        }
        else
            exit_code = CTL_EXIT_UNHEALTHY;
        corral_envelope_free(&reply);
        if (++refreshes == options->count)
            break;
        for (int waited = 0; waited < options->interval_ms && !interrupted; waited += 50)
            usleep(50 * 1000);
    }
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
           OPT_LOGGER, OPT_COUNT, OPT_TIMEOUT, OPT_INTERVAL };
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
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    int option;
    while ((option = getopt_long(argc, argv, "+c:d:fh", long_options, NULL)) != -1) {
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
        case OPT_TIMEOUT: options->target.timeout_ms = atoi(optarg); break;
        case OPT_INTERVAL: options->interval_ms = atoi(optarg); break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
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
    if (strcmp(name, "logs") == 0 || strcmp(name, "events") == 0)
        return follow(instance, options, strcmp(name, "logs") == 0);
    if (strcmp(name, "top") == 0)
        return top(instance, options);
    return command(instance, name, args, (size_t) argc);
}

static bool
known_command(const char *name, int argc)
{
    static const struct { const char *name; int argc; } commands[] = {
        { "status", 0 }, { "stats", 0 }, { "workers", 0 }, { "config", 0 }, { "logs", 0 },
        { "events", 0 }, { "top", 0 }, { "reload", 0 }, { "stop", 0 }, { "reopen-logs", 0 },
        { "restart", 1 }, { "level", 2 },
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].argc == argc;
    return false;
}

int
main(int argc, char *argv[])
{
    zsys_handler_set(NULL);
    options_t options = { .target.timeout_ms = DEFAULT_TIMEOUT_MS, .interval_ms = 1000 };
    if (parse_options(argc, argv, &options) != 0 || optind >= argc) {
        usage(stderr);
        return CTL_EXIT_USAGE;
    }
    const char *name = argv[optind++];
    /* options may follow the command: logs -f --level warn */
    if (parse_options(argc, argv, &options) != 0) {
        usage(stderr);
        return CTL_EXIT_USAGE;
    }
    char **args = argv + optind;
    int count = argc - optind;
    if (strcmp(name, "keygen") == 0 && count == 1)
        return keygen(args[0]);
    if (!known_command(name, count)) {
        fprintf(stderr, "corralctl: unknown command or wrong arguments: %s\n", name);
        usage(stderr);
        return CTL_EXIT_USAGE;
    }
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
