/* demo.c: the demo plugin's routes, for tests and benchmarks (the test
 * worker's; GET /api/hello is the reference worker's hello plugin):
 *   GET /api/cpu?work=N    fixed CPU work per request (N rounds, default 100000)
 *   GET /api/wait?ms=N     answers after N ms without blocking the loop
 *   GET /api/realistic?wait_ms=W&jitter_ms=J&cpu_us=C
 *                          a Kibana-like API call: awaits a "datastore" for
 *                          W +- J ms (a timer), then spends C us of CPU
 *                          building its JSON answer (tools/bench-rfc.sh)
 *   GET /api/node          who served: worker id, name, pid, main, clustered
 * and, only with server.test_routes (off by default: one request could
 * stall a worker or turn the instance's status red):
 *   GET /api/block?ms=N    blocks this worker's loop for N ms (event-loop delay)
 *   POST /api/demo/status?level=L&summary=S[&worker=N]
 *                          sets the demo plugin's status on this worker;
 *                          with worker=N, only worker N does (the others
 *                          answer 421), so a client can aim at one worker
 *                          through a shared port
 * Its start is where the test worker is slow to start when asked, before
 * the migrations plugin's (the test worker adds demo first):
 *   node.workers.startup_delay  every worker, before it can be ready
 *   node.migrations.delay       the main worker, before it migrates, so
 *                               that a test sees the others answer 503 */
#include "test_plugins.h"

#include "corral/status.h"
#include "log.h"
#include "plugin_host.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CPU_WORK 100000
#define MAX_CPU_WORK 100000000L
#define MAX_WAIT_MS 600000L
#define MAX_BLOCK_MS 60000L
/* /api/realistic: 20 +- 10 ms of datastore and 0.5 ms of CPU by default, the
 * shape of the RFC's Kibana calls (most of the time awaiting Elasticsearch,
 * a little CPU to shape the answer). The bounds keep it safe to leave on:
 * one request holds a timer for at most 1 s and the loop for about 5 ms. */
#define REALISTIC_WAIT_MS 20
#define REALISTIC_CPU_US 500
#define MAX_REALISTIC_WAIT_MS 1000L
#define MAX_REALISTIC_CPU_US 5000L
#define REALISTIC_HITS 10

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
    long cpu_us;            /* /api/realistic: CPU to spend once resumed */
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

/* Suspends `request` for `ms` on a zloop timer; the route is called again
 * with the wait_t as the request's state. */
static void
suspend_for(corral_request_t *request, zloop_t *loop, long ms, long cpu_us)
{
    wait_t *wait = malloc(sizeof *wait);
    if (!wait) {
        corral_request_respond_error(request, 503, "out of memory");
        return;
    }
    *wait = (wait_t) { loop, -1, ms, cpu_us };
    corral_request_set_state(request, wait, wait_destroy);
    wait->timer_id = zloop_timer(loop, (size_t) ms, 1, on_wait_over, request);
    corral_request_suspend(request);
    corral_log(CORRAL_LEVEL_DEBUG, "plugins.demo", "waiting %ld ms", ms);
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
    suspend_for(request, arg, ms, 0);
}

/* --- /api/realistic: a datastore wait, then CPU shaping the answer -------- */

static uint64_t
thread_cpu_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (uint64_t) now.tv_sec * 1000000 + (uint64_t) now.tv_nsec / 1000;
}

/* One answer as a search API shapes it: hits with a few fields each. */
static json_t *
search_answer(long waited_ms, long round)
{
    json_t *hits = json_array();
    for (int i = 0; hits && i < REALISTIC_HITS; i++) {
        char id[32];
        snprintf(id, sizeof id, "doc-%ld-%d", round, i);
        json_array_append_new(hits, json_pack(
            "{s:s, s:f, s:{s:s, s:i, s:[s, s], s:b}}",
            "_id", id, "_score", 1.0 / (i + 1), "_source", "title", "A saved object",
            "version", (int) round, "tags", "demo", "realistic", "managed", i % 2 == 0));
    }
    return json_pack("{s:i, s:b, s:{s:i, s:o}}", "took", (int) waited_ms, "timed_out", 0,
                     "hits", "total", REALISTIC_HITS, "hits", hits);
}

/* Builds and serialises answers until `cpu_us` of this thread's CPU time is
 * spent (at least once): CPU time, not wall time, so that a worker that
 * shares its core does the same work per request, and a peer in another
 * language can do the same amount (tools/peers/app.js). */
static json_t *
build_answer(long waited_ms, long cpu_us)
{
    uint64_t start = thread_cpu_us();
    json_t *answer = NULL;
    long rounds = 0;
    do {
        json_decref(answer);
        answer = search_answer(waited_ms, rounds++);
        free(json_dumps(answer, JSON_COMPACT));
    } while (answer && thread_cpu_us() - start < (uint64_t) cpu_us);
    if (answer)
        json_object_set_new(answer, "rounds", json_integer(rounds));
    return answer;
}

/* uniform in [0, bound], xorshift64 seeded per process */
static long
random_up_to(long bound)
{
    static uint64_t state;
    if (!state)
        state = (uint64_t) getpid() * 0x9E3779B97F4A7C15ull | 1;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (long) (state % (uint64_t) (bound + 1));
}

static void
realistic_route(corral_request_t *request, void *arg)
{
    wait_t *wait = corral_request_state(request);
    if (wait) {
        json_t *answer = build_answer(wait->ms, wait->cpu_us);
        if (answer)
            corral_request_respond_json(request, 200, answer);
        else
            corral_request_respond_error(request, 503, "out of memory");
        return;
    }
    long ms = corral_query_number(request, "wait_ms", REALISTIC_WAIT_MS, MAX_REALISTIC_WAIT_MS);
    long jitter = corral_query_number(request, "jitter_ms", ms < 0 ? 0 : ms / 2,
                                      MAX_REALISTIC_WAIT_MS);
    long cpu_us = corral_query_number(request, "cpu_us", REALISTIC_CPU_US, MAX_REALISTIC_CPU_US);
    if (ms < 0 || jitter < 0 || jitter > ms || cpu_us < 0) {
        corral_request_respond_error(request, 400, "wait_ms must be an integer from 0 to 1000, "
                                     "jitter_ms from 0 to wait_ms, cpu_us from 0 to 5000");
        return;
    }
    suspend_for(request, arg, ms - jitter + random_up_to(2 * jitter), cpu_us);
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

static void
busy_for(uint64_t ms)
{
    struct timespec delay = { (time_t) (ms / 1000), (long) (ms % 1000) * 1000000 };
    while (nanosleep(&delay, &delay) != 0 && errno == EINTR)
        ;
}

static int
demo_start(corral_plugin_handle_t *handle)
{
    const Corral__V1__WorkerConfig *config = corral_plugin_worker_config(handle);
    /* an application slow to start (every process, before it can be
     * ready), for reload tests and benchmarks */
    busy_for(config->startup_delay_ms);
    /* a slow migration, for tests and demos: the main worker is busy
     * before it migrates, as with a real one */
    if (corral_node_is_main_worker(corral_plugin_node(handle)))
        busy_for(config->migration_delay_ms);
    return corral_plugin_set_status(handle, CORRAL_STATUS_AVAILABLE, "demo routes ready");
}

static int
demo_setup(corral_plugin_handle_t *handle)
{
    zloop_t *loop = corral_plugin_loop(handle);
    const corral_identity_t *identity = corral_plugin_identity(handle);
    /* app routes: 503 until migrations are complete; /api/node always answers */
    if (corral_plugin_app_route(handle, "GET", "/api/cpu", cpu, NULL)
        || corral_plugin_app_route(handle, "GET", "/api/wait", wait_route, loop)
        || corral_plugin_app_route(handle, "GET", "/api/realistic", realistic_route, loop)
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
