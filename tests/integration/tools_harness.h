/* tools_harness.h: helpers of the operator-surface tests (test_tools,
 * test_metrics, test_remote): corralctl, followers, waits. */
#ifndef CORRAL_TEST_TOOLS_HARNESS_H
#define CORRAL_TEST_TOOLS_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"

#define DEADLINE_MS 20000
#define CORRALCTL CORRAL_BIN_DIR "/corralctl"

int64_t now_ms(void);
/* <dir>/corral.yml (static storage) */
char *config_path(instance_t *instance);
/* <dir>/data/endpoints.json (static storage) */
char *endpoints_path(instance_t *instance);

/* corralctl -c <config> ARGS... (NULL-terminated): its exit status;
 * *output (may be NULL) gets stdout and stderr (free it). */
int ctl(instance_t *instance, char **output, ...);
/* corralctl ARGS... (NULL-terminated), with no -c: the same. */
int ctl_bare(char **output, ...);
/* corralctl COMMAND --json: the document (decref it); asserts the exit
 * status and that it parses. */
json_t *ctl_json(instance_t *instance, int expected_exit, const char *command);

/* A clustered instance of `workers` workers, ready. */
instance_t *start(int workers);

/* Polls `workers --json` until every worker is ready and reporting with
 * figures; returns that document (decref it). */
json_t *await_ready_workers(instance_t *instance, size_t count);

/* corralctl -c <config> EXTRA... in the background, writing to
 * <dir>/NAME.txt. */
typedef struct {
    pid_t pid;
    char path[512];
} follower_t;
void follow(instance_t *instance, follower_t *follower, const char *name, char *const extra[]);
void stop_follower(follower_t *follower);
/* Until an `events -f` follower is subscribed: it said so, and it shows
 * the event of a reopen-logs command (asked again until it does). */
void await_events_follower(instance_t *instance, follower_t *follower);

/* A file's text (free it; "" if unreadable); whether it holds `text`;
 * polling until it does, for at most timeout_ms. */
char *read_file(const char *path);
bool file_contains(const char *path, const char *text);
bool await_file(const char *path, const char *text, int timeout_ms);

#endif
