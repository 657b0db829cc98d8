/* harness.h: integration-test harness: a real corral instance in a
 * temporary directory on an ephemeral port, awaited through events (its
 * sd_notify readiness, its output lines, its exit through a pidfd), and a
 * real HTTP client. Nothing here sleeps to synchronise. */
#ifndef CORRAL_TEST_HARNESS_H
#define CORRAL_TEST_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define WORKERS_MAX 1024

typedef struct instance instance_t;

/* A new temporary directory; no process yet. */
instance_t *instance_new(void);
/* Kills what is left of the instance (by the PIDs it started), removes the
 * directory. */
void instance_destroy(instance_t **self_p);

const char *instance_dir(const instance_t *self);
/* corral-test-worker (tests/plugins/): the reference worker's plugins and
 * the test routes (/api/cpu, /api/wait, /api/node, the debug and fault
 * routes, ...). A test that needs them names it in its configuration as
 * an administrator names a program: `node.workers.command`, through
 * TEST_WORKER inside the `workers` mapping ({ count: 2, TEST_WORKER }).
 * instance_write_cluster_config() does. Without it, corral runs the
 * reference corral-worker, which serves none of them. */
#define TEST_WORKER_PROGRAM CORRAL_BIN_DIR "/corral-test-worker"
#define TEST_WORKER "command: [" TEST_WORKER_PROGRAM "]"

/* <dir>/corral.pid: the PID file the configs in the tests use. */
const char *instance_pid_file(const instance_t *self);

/* Writes <dir>/corral.yml. */
void instance_write_config(instance_t *self, const char *yaml);
/* A clustered config with `workers` workers, port 0, the PID file above,
 * level debug, shutdown_timeout 10s, followed by `extra` YAML lines. */
void instance_write_cluster_config(instance_t *self, int workers, const char *extra);
/* The same, with more keys of the server mapping in flow style, such as
 * "test_routes: true, limits: { header_timeout: 1s }". */
void instance_write_cluster_config_with(instance_t *self, int workers, const char *server,
                                        const char *extra);
/* One worker, test routes, a status view every 100 ms (counters show up
 * fast), the PID file above, then `logging` (the section's body, indented;
 * NULL: none). */
void instance_write_quick_config(instance_t *self, const char *logging);
/* RLIMIT_NOFILE (soft and hard) for the processes instance_start starts;
 * 0 (the default): inherited. */
void instance_set_fd_limit(instance_t *self, long limit);

/* Starts `corral -c <dir>/corral.yml`. */
void instance_start(instance_t *self);
/* The same with its standard output on `stdout_fd` (its standard error
 * still read here). */
void instance_start_with_stdout(instance_t *self, int stdout_fd);
/* Awaits READY=1 on the notify socket; learns the port. */
bool instance_wait_ready(instance_t *self, int timeout_ms);
/* Awaits a line of corral's output (all its processes) containing `text`. */
bool instance_wait_output(instance_t *self, const char *text, int timeout_ms);
/* Awaits the coordinator's exit; true if it exited in time. */
bool instance_wait_exit(instance_t *self, int timeout_ms);
/* After instance_wait_exit: the raw wait status. */
int instance_exit_status(const instance_t *self);
/* corral's output so far (for messages). */
const char *instance_output(instance_t *self);

pid_t instance_pid(const instance_t *self);
int instance_port(const instance_t *self);
/* The coordinator's children now (the workers); they are also remembered
 * for clean-up. Returns the count. */
int instance_workers(instance_t *self, pid_t *pids, int max);

/* True if `pid` has exited (or exits within timeout_ms). */
bool process_gone(pid_t pid, int timeout_ms);

/* Runs `corral ARGS...` to completion with output captured; returns the
 * wait status. `output` (may be NULL) receives it (free it). */
int run_corral(char **output, const char *arg, ...);
/* The same for any program: argv[0] is its path, NULL-terminated; stdout
 * and stderr together. */
int run_program(char **output, char *const argv[]);

typedef struct {
    long status;
    char worker[64];        /* X-Corral-Worker */
    char *body;
    json_t *json;           /* the body parsed, when it is JSON */
} response_t;

/* GET on a fresh connection; false if the request failed at the transport. */
bool http_get(int port, const char *path, response_t *response);
void response_clear(response_t *response);

/* GETs `path` twice with one client; returns the connections the second
 * request had to open (0: the first one was kept alive), or -1. */
long http_second_get_connects(int port, const char *path);

/* Sends `bytes` on a fresh connection and reads the reply until the server
 * closes it or `size` - 1 bytes came. Returns the reply's length, or -1. */
int raw_exchange(int port, const char *bytes, char *reply, size_t size);
/* The same with `count` bytes (NULs included); *closed (may be NULL) tells
 * whether the server closed the connection (rather than a 10 s timeout). */
int raw_exchange_bytes(int port, const char *bytes, size_t count, char *reply, size_t size,
                       bool *closed);
/* The two halves of raw_exchange: a connected socket (10 s read timeout)
 * or -1; reading a reply as above, then closing `fd`. */
int raw_connect(int port);
int raw_read_all(int fd, char *reply, size_t size);

/* --- Status and stats (issue 5) --- */

/* METHOD (GET or POST, empty body) on fresh connections until one is
 * answered by `worker` (its X-Corral-Worker; NULL: any), at most 2000
 * tries. False if the transport failed or no try reached it. */
bool http_request_to(int port, const char *method, const char *path, const char *worker,
                     response_t *response);

/* ipc://<dir>/corral/<uuid>/desk: the running coordinator's desk (the
 * harness sets XDG_RUNTIME_DIR to the instance's directory); NULL if there
 * is not exactly one. Free it. */
char *instance_desk_endpoint(const instance_t *self);

/* SIGTERM, awaits the exit (15 s at most), destroys the instance. True if
 * it stopped in time with status 0. */
bool instance_stop(instance_t **self_p);

/* --- Hardening (issue 15) ------------------------------------------------------- */

/* /api/stats's integer at a dotted path ("input.desk.hello_refused"), or
 * -1 when the request fails or the value is absent. */
long long stats_integer(const instance_t *self, const char *dotted);
/* The string at a dotted path of `route`'s JSON ("status.core.data.level"
 * of /api/status), or "" (free it). */
char *api_string(const instance_t *self, const char *route, const char *dotted);
/* Awaits /api/stats showing `dotted` >= `at_least` (the view refreshes
 * every status interval) for at most timeout_ms; returns the value seen. */
long long await_stats_integer(const instance_t *self, const char *dotted, long long at_least,
                              int timeout_ms);
/* GET /api/log?worker=W&QUERY (the log_records plugin) on fresh
 * connections until worker W takes the job (202); aborts the test if it
 * never does. */
bool instance_aim_log_job(const instance_t *self, int worker, const char *query);
/* CLOCK_MONOTONIC in milliseconds. */
int64_t harness_now_ms(void);
/* A whole file as a string (free it), or NULL if it cannot be read. */
char *read_text_file(const char *path);

/* --- The node service (issue 3) ------------------------------------------------ */

/* A copy of corral's output so far, taken under the reader's lock (free it). */
char *instance_output_copy(instance_t *self);

#endif
