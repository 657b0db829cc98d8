/* view_cache.c: the copy of the cluster view, its age, the ViewRequest in
 * flight and the requests that wait for its answer. */
#include "view_cache.h"

#include <stdlib.h>

#include "log.h"
#include "message_copy.h"

#define LOGGER "node"
/* How long requests wait for the coordinator's answer before they are
 * answered from the older copy (the `coordinator` core service then says
 * how old). A 1024-worker view is packed in milliseconds. */
#define FETCH_TIMEOUT_MS 1000

struct corral_view_cache {
    zloop_t *loop;
    corral_desk_client_t *desk;
    int worker_id;
    uint64_t interval_ms;
    Corral__V1__ClusterView *copy;  /* owned; NULL until the first answer */
    int64_t copied_at_ms;
    int fetch_timer;                /* a ViewRequest in flight: its deadline; -1: none */
    zlistx_t *waiting;              /* waiter_t, in arrival order */
};

/* A suspended request's state while it waits for the view. */
typedef struct {
    corral_view_cache_t *cache;     /* NULL once woken */
    corral_request_t *request;
    void *handle;                   /* in cache->waiting */
} waiter_t;

corral_view_cache_t *
corral_view_cache_new(zloop_t *loop, corral_desk_client_t *desk, int worker_id,
                      uint64_t interval_ms)
{
    corral_view_cache_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->desk = desk;
    self->worker_id = worker_id;
    self->interval_ms = interval_ms;
    self->fetch_timer = -1;
    self->waiting = zlistx_new();
    if (!self->waiting)
        corral_view_cache_destroy(&self);
    return self;
}

void
corral_view_cache_destroy(corral_view_cache_t **self_p)
{
    corral_view_cache_t *self = *self_p;
    if (!self)
        return;
    if (self->fetch_timer >= 0)
        zloop_timer_end(self->loop, self->fetch_timer);
    for (waiter_t *waiter = zlistx_first(self->waiting); waiter;
         waiter = zlistx_next(self->waiting))
        waiter->cache = NULL;
    zlistx_destroy(&self->waiting);
    if (self->copy)
        corral__v1__cluster_view__free_unpacked(self->copy, NULL);
    free(self);
    *self_p = NULL;
}

/* --- Waking the requests that wait ------------------------------------------ */

static void
wake_all(corral_view_cache_t *self)
{
    if (self->fetch_timer >= 0)
        zloop_timer_end(self->loop, self->fetch_timer);
    self->fetch_timer = -1;
    waiter_t *waiter;
    while ((waiter = zlistx_detach(self->waiting, NULL))) {
        waiter->cache = NULL;
        corral_request_resume(waiter->request);
    }
}

/* The request ended, answered or not (its client may have gone). */
static void
forget_waiter(void *state)
{
    waiter_t *waiter = state;
    if (waiter->cache)
        zlistx_detach(waiter->cache->waiting, waiter->handle);
    free(waiter);
}

static int
on_fetch_timeout(zloop_t *loop, int timer_id, void *arg)
{
    corral_view_cache_t *self = arg;
    self->fetch_timer = -1;
    corral_log(CORRAL_LEVEL_DEBUG, LOGGER,
               "no cluster view from the coordinator in %d ms; answering from the older copy",
               FETCH_TIMEOUT_MS);
    wake_all(self);
    return 0;
}

/* --- Fetching ------------------------------------------------------------------ */

static bool
fresh(const corral_view_cache_t *self)
{
    return self->copy && (uint64_t) (zclock_mono() - self->copied_at_ms) < self->interval_ms;
}

/* A ViewRequest in flight (sent now or before). False if it cannot be
 * sent now. */
static bool
fetch(corral_view_cache_t *self)
{
    if (self->fetch_timer >= 0)
        return true;
    Corral__V1__ViewRequest request = CORRAL__V1__VIEW_REQUEST__INIT;
    request.worker_id = (uint32_t) self->worker_id;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_VIEW_REQUEST;
    envelope.view_request = &request;
    if (corral_desk_client_send(self->desk, &envelope) != 0)
        return false;
    self->fetch_timer = zloop_timer(self->loop, FETCH_TIMEOUT_MS, 1, on_fetch_timeout, self);
    return self->fetch_timer >= 0;
}

bool
corral_view_cache_await(corral_view_cache_t *self, corral_request_t *request)
{
    if (corral_request_state(request))
        return false;           /* called again: woken by an answer or the timeout */
    if (fresh(self) || !fetch(self))
        return false;
    waiter_t *waiter = calloc(1, sizeof *waiter);
    if (!waiter)
        return false;
    waiter->cache = self;
    waiter->request = request;
    waiter->handle = zlistx_add_end(self->waiting, waiter);
    if (!waiter->handle) {
        free(waiter);
        return false;
    }
    corral_request_set_state(request, waiter, forget_waiter);
    corral_request_suspend(request);
    return true;
}

void
corral_view_cache_take(corral_view_cache_t *self, const Corral__V1__ClusterView *view)
{
    Corral__V1__ClusterView *copy = corral_message_copy(&view->base);
    if (copy) {
        if (self->copy)
            corral__v1__cluster_view__free_unpacked(self->copy, NULL);
        self->copy = copy;
        self->copied_at_ms = zclock_mono();
    }
    wake_all(self);
}

const Corral__V1__ClusterView *
corral_view_cache_view(const corral_view_cache_t *self)
{
    return self->copy;
}
