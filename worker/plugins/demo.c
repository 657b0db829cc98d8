/* demo.c: the demo plugin's routes, for tests and benchmarks:
 *   GET /api/hello         a tiny JSON reply
 *   GET /api/cpu?work=N    fixed CPU work per request (N rounds, default 100000)
 *   GET /api/wait?ms=N     answers after N ms without blocking the loop
 *   GET /api/node          who served: worker id, name, pid, main, clustered
 * and, only with server.test_routes (off by default: one request could
 * stall a worker or turn the instance's status red):
 *   GET /api/block?ms=N    blocks this worker's loop for N ms (event-loop delay)
 *   POST /api/demo/status?level=L&summary=S[&worker=N]
 *                          sets the demo plugin's status on this worker;
 *                          with worker=N, only worker N does (the others
 *                          answer 421), so a client can aim at one worker
 *                          through a shared port */
#include "plugins.h"

#include "corral/status.h"
#include "log.h"
#include "plugin_host.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define DEFAULT_CPU_WORK 100000
#define MAX_CPU_WORK 100000000L
#define MAX_WAIT_MS 600000L
#define MAX_BLOCK_MS 60000L

static void
hello(corral_request_t *request, void *arg)
{
    static const char body[] = "{\"message\":\"hello\"}";
    corral_request_respond(request, 200, "application/json", body, sizeof body - 1);
}

/* xorshift64* rounds: work the compiler cannot skip, the same every time */
static uint64_t
burn_cpu(long rounds)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (long i = 0; i < rounds; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x *= 0x2545F4914F6CDD1Dull;
    }
    return x;
}

static void
cpu(corral_request_t *request, void *arg)
{
    long work = corral_query_number(request, "work", DEFAULT_CPU_WORK, MAX_CPU_WORK);
    if (work < 0) {
        corral_request_respond_error(request, 400,
                                     "work must be an integer from 0 to 100000000");
        return;
    }
    char body[96];
    int length = snprintf(body, sizeof body, "{\"work\":%ld,\"result\":\"%016" PRIx64 "\"}",
                          work, burn_cpu(work));
    corral_request_respond(request, 200, "application/json", body, (size_t) length);
}

/* --- /api/wait: a timer instead of a blocked loop ------------------------- */

typedef struct {
    zloop_t *loop;
    int timer_id;           /* -1 once fired */
    long ms;
} wait_t;

static void
wait_destroy(void *arg)
{
    wait_t *wait = arg;
    if (wait->timer_id != -1)
        zloop_timer_end(wait->loop, wait->timer_id);
    free(wait);
}

static int
on_wait_over(zloop_t *loop, int timer_id, void *arg)
{
    corral_request_t *request = arg;
    wait_t *wait = corral_request_state(request);
    wait->timer_id = -1;
    corral_request_resume(request);
    return 0;
}

static void
wait_route(corral_request_t *request, void *arg)
{
    wait_t *wait = corral_request_state(request);
    if (wait) {                         /* resumed: the time is up */
        corral_request_respond_json(request, 200, json_pack("{s:i}", "waited_ms", (int) wait->ms));
        return;
    }
    long ms = corral_query_number(request, "ms", 100, MAX_WAIT_MS);
    if (ms < 0) {
        corral_request_respond_error(request, 400, "ms must be an integer from 0 to 600000");
        return;
    }
    wait = malloc(sizeof *wait);
    if (!wait) {
        corral_request_respond_error(request, 503, "out of memory");
        return;
    }
    *wait = (wait_t) { arg, -1, ms };
    corral_request_set_state(request, wait, wait_destroy);
    wait->timer_id = zloop_timer(wait->loop, (size_t) ms, 1, on_wait_over, request);
    corral_request_suspend(request);
    corral_log(CORRAL_LEVEL_DEBUG, "plugins.demo", "waiting %ld ms", ms);
}

static void
node(corral_request_t *request, void *arg)
{
    const corral_identity_t *identity = arg;
    corral_request_respond_json(request, 200, json_pack(
        "{s:i, s:s, s:i, s:b, s:b, s:i}",
        "worker_id", identity->worker_id, "worker_name", identity->worker_name,
        "pid", (int) identity->pid, "main", identity->main,
        "clustered", identity->clustered, "worker_count", identity->worker_count));
}

/* --- Blocking the loop and changing the status, for status tests ---------- */

static int64_t
monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Deliberately blocks the whole loop: what a CPU-bound handler does. */
static void
block_route(corral_request_t *request, void *arg)
{
    long ms = corral_query_number(request, "ms", 100, MAX_BLOCK_MS);
    if (ms < 0) {
        corral_request_respond_error(request, 400, "ms must be an integer from 0 to 60000");
        return;
    }
    int64_t until = monotonic_ms() + ms;
    while (monotonic_ms() < until) {
        struct timespec nap = { 0, 1000000 };
        nanosleep(&nap, NULL);
    }
    corral_request_respond_json(request, 200, json_pack("{s:i}", "blocked_ms", (int) ms));
}

static void
status_route(corral_request_t *request, void *arg)
{
    corral_plugin_handle_t *handle = arg;
    corral_status_level_t level;
    const char *summary = corral_request_query(request, "summary");
    long worker = corral_query_number(request, "worker", 0, INT32_MAX);
    if (worker > 0 && worker != corral_plugin_identity(handle)->worker_id) {
        corral_request_respond_error(request, 421, "this is another worker");
        return;
    }
    if (corral_status_level_parse(corral_request_query(request, "level"), &level) != 0) {
        corral_request_respond_error(request, 400, "level must be one of available, "
                                     "degraded, unavailable, critical");
        return;
    }
    if (corral_plugin_set_status(handle, level, summary ? summary : "set by a request") != 0) {
        corral_request_respond_error(request, 503, "out of memory");
        return;
    }
    corral_request_respond_json(request, 200, json_pack("{s:s, s:s}", "level",
                                corral_status_level_name(level), "summary",
                                summary ? summary : "set by a request"));
}

static int
demo_start(corral_plugin_handle_t *handle)
{
    return corral_plugin_set_status(handle, CORRAL_STATUS_AVAILABLE, "demo routes ready");
}

static int
demo_setup(corral_plugin_handle_t *handle)
{
    zloop_t *loop = corral_plugin_loop(handle);
    const corral_identity_t *identity = corral_plugin_identity(handle);
    /* app routes: 503 until migrations are complete; /api/node always answers */
    if (corral_plugin_app_route(handle, "GET", "/api/hello", hello, NULL)
        || corral_plugin_app_route(handle, "GET", "/api/cpu", cpu, NULL)
        || corral_plugin_app_route(handle, "GET", "/api/wait", wait_route, loop)
        || corral_plugin_route(handle, "GET", "/api/node", node, (void *) identity))
        return -1;
    if (!corral_plugin_worker_config(handle)->test_routes)
        return 0;
    corral_log(CORRAL_LEVEL_WARN, "plugins.demo", "test routes enabled: GET /api/block, "
               "POST /api/demo/status, GET /api/log (server.test_routes; never in production)");
    return corral_plugin_route(handle, "GET", "/api/block", block_route, NULL)
        || corral_plugin_route(handle, "POST", "/api/demo/status", status_route, handle)
        ? -1 : 0;
}

const corral_plugin_t corral_demo_plugin = {
    .name = "demo",
    .setup = demo_setup,
    .start = demo_start,
};
