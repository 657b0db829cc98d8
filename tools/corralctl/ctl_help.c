/* ctl_help.c: the table of corralctl's commands, their help and their
 * exit statuses: one place for `help`, `COMMAND --help` and the check of
 * a command's arguments. */
#include "ctl_help.h"

#include <string.h>

typedef struct {
    const char *name;
    int min_args, max_args;
    const char *synopsis;
    const char *text;           /* what it does, then its exit statuses */
} command_t;

#define FOUND "  69  no instance answers (none runs, or endpoints.json is stale)\n" \
              "  78  the configuration file cannot be read (give --data DIR)\n"

static const command_t commands[] = {
    { "status", 0, 0, "status [--json]",
      "The instance's status: overall, core and plugins, each worker's.\n"
      "--json: the document GET /api/status answers.\n"
      "exit status:\n"
      "  0   available or degraded\n"
      "  1   unavailable or critical\n" FOUND },
    { "stats", 0, 0, "stats [--json]",
      "The instance's counters: processes, memory, requests, response times, logs.\n"
      "--json: the document GET /api/stats answers.\n"
      "exit status:\n  0   answered\n  1   unavailable\n" FOUND },
    { "workers", 0, 0, "workers [--json]",
      "One line per worker: name, PID, state, main role, memory, loop delay,\n"
      "report age, restarts.\n"
      "exit status:\n  0   answered\n  1   unavailable\n" FOUND },
    { "config", 0, 0, "config",
      "The configuration the instance runs (JSON), logging levels as set now.\n"
      "exit status:\n  0   answered\n  1   refused\n" FOUND },
    { "logs", 0, 0, "logs [--lines N] [-f [--level L] [--worker W] [--logger NAME]]",
      "The last N lines (default 10) of the instance's log file (its first file or\n"
      "rolling-file appender), then, with -f, every new record of every process\n"
      "as it comes (--level: at or above L; --worker: one worker; --logger: a\n"
      "logger and its children; --count N: stop after N lines). Without -f it\n"
      "exits after the history. An instance that logs to the console only has no\n"
      "history here: see its standard output (journalctl -u corral).\n"
      "exit status:\n"
      "  0   printed (-f: until Ctrl-C or --count)\n"
      "  1   no log file to read (without -f)\n" FOUND },
    { "events", 0, 0, "events -f [--count N]",
      "Follows lifecycle events (workers started, ready, exited, replaced; reloads;\n"
      "commands), one line each with its ISO 8601 time (UTC).\n"
      "exit status:\n  0   until Ctrl-C or --count\n" FOUND },
    { "top", 0, 0, "top [--interval MS] [--count N]",
      "The workers table refreshed in place, with each process's CPU use since the\n"
      "last refresh (local instances). q or Ctrl-C quits.\n"
      "exit status:\n  0   quit\n  1   the instance did not answer a refresh\n" FOUND },
    { "reload", 0, 0, "reload",
      "The rolling reload (as SIGHUP): the file is re-read and validated, logging\n"
      "applies at once, changed workers are replaced one slot at a time. Prints\n"
      "what was applied and which keys were kept until a restart, and why.\n"
      "exit status:\n"
      "  0   applied\n"
      "  1   refused (a bad file: nothing changed; another reload running) or\n"
      "      failed and rolled back\n" FOUND },
    { "stop", 0, 0, "stop [--timeout MS]",
      "A graceful stop (as SIGTERM), then waits until the coordinator has exited\n"
      "(default 60000 ms; a remote instance is not waited for).\n"
      "exit status:\n"
      "  0   the instance stopped\n"
      "  1   the instance refused\n"
      "  75  still running when --timeout passed\n" FOUND },
    { "reopen-logs", 0, 0, "reopen-logs",
      "Reopens every log file (as SIGUSR1), after logrotate renamed them.\n"
      "exit status:\n  0   reopened\n  1   refused\n" FOUND },
    { "restart", 1, 1, "restart WORKER|all",
      "Replaces a worker (worker-2, or its id) gracefully: its replacement starts\n"
      "beside it, then it stops. all: every worker, one at a time, each replacement\n"
      "ready before the next begins (a rolling restart).\n"
      "exit status:\n"
      "  0   replaced (all: every one)\n"
      "  1   no such worker, or it could not be replaced now\n" FOUND },
    { "level", 2, 2, "level LOGGER LEVEL",
      "Sets a logger's level (root for the root logger) in the coordinator and\n"
      "every worker, until the next reload.\n"
      "exit status:\n  0   set\n  1   unknown level, or refused\n" FOUND },
    { "keygen", 1, 1, "keygen FILE",
      "Writes a CURVE key pair for node.remote: FILE (public) and FILE_secret.\n"
      "exit status:\n  0   written\n  1   cannot write\n" },
    { "help", 0, 1, "help [COMMAND]",
      "This help, or one command's.\n"
      "exit status:\n  0   printed\n  64  no such command\n" },
};

static const command_t *
find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

bool
ctl_command_known(const char *name, int argc)
{
    const command_t *command = find(name);
    return command && argc >= command->min_args && argc <= command->max_args;
}

void
ctl_usage(FILE *out, int default_timeout_ms)
{
    fputs("usage: corralctl [OPTIONS] COMMAND [ARGS]\ncommands:\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %s\n", commands[i].synopsis);
    fprintf(out,
        "options:\n"
        "  -c, --config FILE    the instance of this configuration (default config/corral.yml);\n"
        "                       only its path.data is needed: a file with an error still works\n"
        "  -d, --data DIR       the instance whose path.data is DIR\n"
        "  --remote ENDPOINT    node.remote's tcp:// desk, with --key and --server-key\n"
        "  --key FILE           our certificate (FILE_secret holds the secret key)\n"
        "  --server-key FILE    the instance's public certificate\n"
        "  --json               JSON output\n"
        "  --count N            logs, events, top: stop after N lines, events, refreshes\n"
        "  --timeout MS         wait this long for an answer (default %d; stop: for the exit)\n"
        "  -V, --version        print the version\n"
        "  -h, --help           this help; COMMAND --help: that command's\n"
        "exit status: 0 done and healthy, 1 unhealthy or refused, 64 usage,\n"
        "69 no instance answers, 75 stop timed out, 78 configuration unreadable;\n"
        "`corralctl help COMMAND` says which a command uses\n", default_timeout_ms);
}

bool
ctl_command_help(FILE *out, const char *name)
{
    const command_t *command = find(name);
    if (!command)
        return false;
    fprintf(out, "usage: corralctl [OPTIONS] %s\n%s", command->synopsis, command->text);
    return true;
}
