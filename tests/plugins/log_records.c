/* log_records.c: a plugin that logs numbered records, for the logging
 * tests and benchmark:
 *   GET /api/log?count=N&level=info&worker=W&chunk=C
 * answers 202 at once and logs N records "record K" (K counts up from 1 in
 * each worker, across requests) on logger `demo.records`, C per loop turn
 * (default 1000) from a timer, so the loop keeps serving. With worker=W,
 * only worker W takes the job (others answer 409, so a client can aim at
 * one worker through the shared socket). At stop, what is left is logged
 * before the worker says Bye: a graceful stop loses nothing. Every
 * 100,000 records, `demo.progress` says so at info. Only with
 * server.test_routes (off by default: one request could fill the disk). */
#include "test_plugins.h"

#include <jansson.h>
#include <stdlib.h>

#include "log.h"
#include "plugin_host.h"

#define LOGGER "demo.records"
#define PROGRESS_LOGGER "demo.progress"
#define PROGRESS_EVERY 100000
#define MAX_COUNT 100000000L
#define DEFAULT_CHUNK 1000
#define MAX_CHUNK 100000

typedef struct {
    zloop_t *loop;
    const corral_identity_t *identity;
    int timer_id;               /* -1: idle */
    uint64_t logged;            /* the last K */
    uint64_t target;            /* log up to this K */
    corral_level_t level;
    long chunk;
} records_t;

static records_t records = { .timer_id = -1 };

static void
log_up_to(records_t *self, uint64_t limit)
{
    while (self->logged < limit && self->logged < self->target) {
        self->logged++;
        corral_log(self->level, LOGGER, "record %llu", (unsigned long long) self->logged);
        if (self->logged % PROGRESS_EVERY == 0)
            corral_log(CORRAL_LEVEL_INFO, PROGRESS_LOGGER, "%s logged %llu records",
                       self->identity->worker_name, (unsigned long long) self->logged);
    }
}

static int
on_tick(zloop_t *loop, int timer_id, void *arg)
{
    records_t *self = arg;
    log_up_to(self, self->logged + (uint64_t) self->chunk);
    if (self->logged >= self->target) {
        zloop_timer_end(loop, timer_id);
        self->timer_id = -1;
    }
    return 0;
}

static void
log_route(corral_request_t *request, void *arg)
{
    records_t *self = arg;
    long count = corral_query_number(request, "count", 1, MAX_COUNT);
    long worker = corral_query_number(request, "worker", 0, 100000);
    long chunk = corral_query_number(request, "chunk", DEFAULT_CHUNK, MAX_CHUNK);
    const char *level_name = corral_request_query(request, "level");
    corral_level_t level = CORRAL_LEVEL_INFO;
    if (count < 0 || worker < 0 || chunk < 1
        || (level_name && corral_level_parse(level_name, &level) != 0)) {
        corral_request_respond_error(request, 400, "count, worker, chunk or level is invalid");
        return;
    }
    if (worker && worker != self->identity->worker_id) {
        corral_request_respond_error(request, 409, "not this worker");
        return;
    }
    log_up_to(self, self->target);      /* a new job: finish the last one first */
    self->target = self->logged + (uint64_t) count;
    self->level = level;
    self->chunk = chunk;
    if (self->timer_id < 0)
        self->timer_id = zloop_timer(self->loop, 1, 0, on_tick, self);
    corral_request_respond_json(request, 202, json_pack(
        "{s:I, s:I}", "from", (json_int_t) (self->logged + 1), "to", (json_int_t) self->target));
}

static int
records_setup(corral_plugin_handle_t *handle)
{
    records.loop = corral_plugin_loop(handle);
    records.identity = corral_plugin_identity(handle);
    if (!corral_plugin_worker_config(handle)->test_routes)
        return 0;
    return corral_plugin_route(handle, "GET", "/api/log", log_route, &records);
}

static void
records_stop(corral_plugin_handle_t *handle)
{
    log_up_to(&records, records.target);
    if (records.timer_id >= 0)
        zloop_timer_end(records.loop, records.timer_id);
    records.timer_id = -1;
}

const corral_plugin_t corral_log_records_plugin = {
    .name = "log_records",
    .setup = records_setup,
    .stop = records_stop,
};
