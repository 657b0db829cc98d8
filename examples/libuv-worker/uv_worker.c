/* uv_worker.c: a corral worker whose event loop is libuv's. The program
 * owns the loop; libcorral's session (HTTP on fd 3, the node service,
 * logs, status, SIGTERM) is one descriptor watched with uv_poll, and a
 * uv_timer for its timers (corral/worker.h, "A program with an event loop
 * of its own"). Its plugin shows both loops working together:
 *   GET /uv/hello         a tiny JSON reply (for benchmarks)
 *   GET /uv/sleep?ms=N    answers after N ms of a libuv timer, the request
 *                         suspended meanwhile: the loop keeps serving
 *   GET /uv/ticks         how often the program's own 5 ms uv_timer ran */
#include <corral/worker.h>
#include <jansson.h>
#include <uv.h>

#include <stdio.h>
#include <stdlib.h>

#define MAX_SLEEP_MS 60000
#define TICK_MS 5

static uv_loop_t *loop;
static uint64_t ticks;

/* --- The plugin: routes answered from libuv -------------------------------- */

static void
hello(corral_request_t *request, void *arg)
{
    static const char body[] = "{\"message\":\"hello from libuv\"}";
    corral_request_respond(request, 200, "application/json", body, sizeof body - 1);
}

typedef struct {
    uv_timer_t timer;
    corral_request_t *request;  /* NULL once the request is gone */
    long ms;
    int done;
} nap_t;

static void
nap_closed(uv_handle_t *handle)
{
    free(handle->data);
}

/* The request ends however it ends (answered, or the client left). */
static void
nap_destroy(void *state)
{
    nap_t *nap = state;
    nap->request = NULL;
    uv_timer_stop(&nap->timer);
    uv_close((uv_handle_t *) &nap->timer, nap_closed);
}

static void
on_nap_over(uv_timer_t *timer)
{
    nap_t *nap = timer->data;
    nap->done = 1;
    if (nap->request)
        corral_request_resume(nap->request);    /* the handler runs again */
}

static void
sleep_route(corral_request_t *request, void *arg)
{
    nap_t *nap = corral_request_state(request);
    if (nap && nap->done) {
        corral_request_respond_json(request, 200, json_pack("{s:i}", "slept_ms", (int) nap->ms));
        return;
    }
    const char *text = corral_request_query(request, "ms");
    char *end = NULL;
    long ms = text ? strtol(text, &end, 10) : -1;
    if (!text || *end || ms < 0 || ms > MAX_SLEEP_MS) {
        corral_request_respond_error(request, 400, "ms must be an integer from 0 to 60000");
        return;
    }
    nap = calloc(1, sizeof *nap);
    if (!nap || uv_timer_init(loop, &nap->timer) != 0) {
        free(nap);
        corral_request_respond_error(request, 503, "out of memory");
        return;
    }
    nap->timer.data = nap;
    nap->request = request;
    nap->ms = ms;
    corral_request_set_state(request, nap, nap_destroy);
    uv_timer_start(&nap->timer, on_nap_over, (uint64_t) ms, 0);
    corral_request_suspend(request);
}

static void
ticks_route(corral_request_t *request, void *arg)
{
    corral_request_respond_json(request, 200, json_pack("{s:I}", "ticks", (json_int_t) ticks));
}

static int
setup(corral_plugin_handle_t *handle)
{
    if (corral_plugin_route(handle, "GET", "/uv/hello", hello, NULL) != 0
        || corral_plugin_route(handle, "GET", "/uv/sleep", sleep_route, NULL) != 0
        || corral_plugin_route(handle, "GET", "/uv/ticks", ticks_route, NULL) != 0)
        return -1;
    return 0;
}

static const corral_plugin_t uv_plugin = { .name = "uv", .setup = setup };

/* --- The session in libuv's loop ----------------------------------------------- */

typedef struct {
    corral_worker_t *worker;
    uv_poll_t poll;             /* corral_worker_fd() */
    uv_timer_t wakeup;          /* at the latest corral_worker_timeout_ms() */
    uv_timer_t tick;            /* the program's own work */
    int exit_code;
} session_t;

static void
on_tick(uv_timer_t *timer)
{
    ticks++;
}

static void process(session_t *session);

static void
on_readable(uv_poll_t *poll, int status, int events)
{
    process(poll->data);
}

static void
on_wakeup(uv_timer_t *timer)
{
    process(timer->data);
}

static void
process(session_t *session)
{
    if (corral_worker_process(session->worker) == 0) {
        uv_timer_start(&session->wakeup, on_wakeup,
                       (uint64_t) corral_worker_timeout_ms(session->worker), 0);
        return;
    }
    /* stopped gracefully: leave the loop once our handles are closed */
    session->exit_code = corral_worker_finish(session->worker);
    uv_poll_stop(&session->poll);
    uv_close((uv_handle_t *) &session->poll, NULL);
    uv_close((uv_handle_t *) &session->wakeup, NULL);
    uv_close((uv_handle_t *) &session->tick, NULL);
}

int
main(void)
{
    loop = uv_default_loop();
    session_t session = { .worker = corral_worker_new() };
    if (!session.worker || corral_worker_add_plugin(session.worker, &uv_plugin) != 0)
        return 1;
    int status = corral_worker_start(session.worker);
    if (status != 0) {
        corral_worker_destroy(&session.worker);
        return status;
    }
    uv_poll_init(loop, &session.poll, corral_worker_fd(session.worker));
    uv_timer_init(loop, &session.wakeup);
    uv_timer_init(loop, &session.tick);
    session.poll.data = session.wakeup.data = &session;
    uv_poll_start(&session.poll, UV_READABLE, on_readable);
    uv_timer_start(&session.tick, on_tick, TICK_MS, TICK_MS);
    process(&session);          /* what is ready already */
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    corral_worker_destroy(&session.worker);
    return session.exit_code;
}
