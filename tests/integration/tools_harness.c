/* tools_harness.c: what the operator-surface tests share: running
 * corralctl against an instance, followers (corralctl logs/events -f
 * writing to a file, awaited by polling that file), and waiting until
 * every worker is ready and reporting. */
#include "tools_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t
now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

char *
config_path(instance_t *instance)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/corral.yml", instance_dir(instance));
    return path;
}

/* corralctl FIRST... ARGS...: its exit status; *output (may be NULL)
 * gets stdout and stderr (free it). */
static int
run_ctl(char **output, char *argv[20], int argc, va_list args)
{
    for (const char *a = va_arg(args, const char *); a && argc < 19;
         a = va_arg(args, const char *))
        argv[argc++] = (char *) a;
    argv[argc] = NULL;
    int status = run_program(output, argv);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
ctl(instance_t *instance, char **output, ...)
{
    char *argv[20] = { CORRALCTL, "-c", config_path(instance) };
    va_list args;
    va_start(args, output);
    int exit_code = run_ctl(output, argv, 3, args);
    va_end(args);
    return exit_code;
}

int
ctl_bare(char **output, ...)
{
    char *argv[20] = { CORRALCTL };
    va_list args;
    va_start(args, output);
    int exit_code = run_ctl(output, argv, 1, args);
    va_end(args);
    return exit_code;
}

/* corralctl ... --json: the document (decref it); asserts it parses. */
json_t *
ctl_json(instance_t *instance, int expected_exit, const char *command)
{
    char *output = NULL;
    assert_int_equal(ctl(instance, &output, command, "--json", NULL), expected_exit);
    json_error_t error;
    json_t *document = json_loads(output, 0, &error);
    if (!document)
        fail_msg("corralctl %s --json: %s in %s", command, error.text, output);
    free(output);
    return document;
}

instance_t *
start(int workers)
{
    instance_t *instance = instance_new();
    instance_write_cluster_config_with(instance, workers, "test_routes: true", NULL);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, DEADLINE_MS));
    return instance;
}

char *
endpoints_path(instance_t *instance)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/data/endpoints.json", instance_dir(instance));
    return path;
}

/* --- A follower: corralctl writing to a file --------------------------------- */

void
follow(instance_t *instance, follower_t *follower, const char *name, char *const extra[])
{
    snprintf(follower->path, sizeof follower->path, "%s/%s.txt", instance_dir(instance), name);
    char *argv[20] = { CORRALCTL, "-c", config_path(instance) };
    int argc = 3;
    for (int i = 0; extra[i]; i++)
        argv[argc++] = extra[i];
    follower->pid = fork();
    assert_true(follower->pid >= 0);
    if (follower->pid == 0) {
        int fd = open(follower->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
}

char *
read_file(const char *path)
{
    char *text = read_text_file(path);
    return text ? text : strdup("");
}

bool
file_contains(const char *path, const char *text)
{
    char *content = read_file(path);
    bool found = strstr(content, text) != NULL;
    free(content);
    return found;
}

bool
await_file(const char *path, const char *text, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        if (file_contains(path, text))
            return true;
        usleep(20 * 1000);      /* polling a file another process writes */
    }
    return false;
}

void
stop_follower(follower_t *follower)
{
    kill(follower->pid, SIGTERM);
    int status;
    waitpid(follower->pid, &status, 0);
}


/* Polls `workers --json` until every worker is ready. */
json_t *
await_ready_workers(instance_t *instance, size_t count)
{
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (now_ms() < deadline) {
        json_t *workers = ctl_json(instance, 0, "workers");
        assert_true(json_is_array(workers));
        assert_int_equal(json_array_size(workers), count);
        size_t ready = 0, index;
        json_t *worker;
        json_array_foreach(workers, index, worker)
            ready += strcmp(json_string_value(json_object_get(worker, "state")), "ready") == 0
                  && json_is_true(json_object_get(worker, "reporting"))
                  && json_integer_value(json_object_get(worker, "rss_bytes")) > 0;
        if (ready == count)
            return workers;
        json_decref(workers);
        usleep(100 * 1000);
    }
    fail_msg("workers never all ready");
    return NULL;
}

void
await_events_follower(instance_t *instance, follower_t *follower)
{
    assert_true(await_file(follower->path, "following the events", DEADLINE_MS));
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (!file_contains(follower->path, "reopen-logs") && now_ms() < deadline)
        assert_int_equal(ctl(instance, NULL, "reopen-logs", NULL), 0);
    assert_true(file_contains(follower->path, "reopen-logs"));
}
