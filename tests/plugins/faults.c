/* faults.c: ways to make a worker fail, for the supervision tests and
 * benchmarks (node.debug_routes: true; off by default, never in the
 * shipped configuration). Each route acts only in the worker it names
 * (worker=N; the others answer 421, so a client aims at one worker
 * through the shared port):
 *
 *   POST /api/debug/crash?worker=N            SIGSEGV, as a bad pointer would
 *   POST /api/debug/hang?worker=N[&mask=1]    blocks the loop for good; with
 *                                             mask=1, SIGABRT is blocked too,
 *                                             so that only SIGKILL ends it
 *   POST /api/debug/allocate?worker=N&mb=M    allocates and touches M MB and
 *                                             keeps them; a failed allocation
 *                                             exits CORRAL_WORKER_EXIT_MEMORY
 *   POST /api/debug/exit?worker=N&code=C      exits at once with status C */
#include "test_plugins.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "corral/worker.h"
#include "log.h"
#include "plugin_host.h"

#define LOGGER "plugins.faults"
#define MAX_ALLOCATE_MB (1L << 20)

#define BLOCKS_MAX 256

static const corral_identity_t *identity;
static size_t allocated_mb;
static char *blocks[BLOCKS_MAX];   /* kept: a leak checker sees them reachable */
static size_t block_count;

/* True if this worker is the one the request names (else answered 421). */
static bool
aimed_here(corral_request_t *request)
{
    long worker = corral_query_number(request, "worker", 0, INT32_MAX);
    if (worker != identity->worker_id) {
        corral_request_respond_error(request, 421, "this is another worker (worker=N names one)");
        return false;
    }
    return true;
}

static void
crash(corral_request_t *request, void *arg)
{
    if (!aimed_here(request))
        return;
    dprintf(2, "[faults] %s (pid %d): crashing on request\n", identity->worker_name,
            (int) getpid());
    signal(SIGSEGV, SIG_DFL);       /* past any sanitizer's handler: a plain crash */
    raise(SIGSEGV);
}

static void
hang(corral_request_t *request, void *arg)
{
    if (!aimed_here(request))
        return;
    if (corral_query_number(request, "mask", 0, 1) == 1) {
        sigset_t abort_signal;
        sigemptyset(&abort_signal);
        sigaddset(&abort_signal, SIGABRT);
        sigprocmask(SIG_BLOCK, &abort_signal, NULL);
    }
    dprintf(2, "[faults] %s (pid %d): blocking the loop on request\n", identity->worker_name,
            (int) getpid());
    for (;;) {
        struct timespec nap = { 1, 0 };
        nanosleep(&nap, NULL);
    }
}

static void
allocate(corral_request_t *request, void *arg)
{
    if (!aimed_here(request))
        return;
    long mb = corral_query_number(request, "mb", 1, MAX_ALLOCATE_MB);
    if (mb < 0) {
        corral_request_respond_error(request, 400, "mb must be an integer from 0 to 1048576");
        return;
    }
    if (block_count == BLOCKS_MAX) {
        corral_request_respond_error(request, 400, "no more than 256 allocations");
        return;
    }
    char *block = malloc((size_t) mb << 20);
    if (!block) {
        dprintf(2, "[faults] %s (pid %d): cannot allocate %ld MB: out of memory; exiting %d\n",
                identity->worker_name, (int) getpid(), mb, CORRAL_WORKER_EXIT_MEMORY);
        _exit(CORRAL_WORKER_EXIT_MEMORY);
    }
    memset(block, 1, (size_t) mb << 20);     /* resident, not just reserved */
    __asm__ volatile("" : : "r"(block) : "memory");     /* ... and not optimised away */
    blocks[block_count++] = block;
    allocated_mb += (size_t) mb;
    corral_request_respond_json(request, 200, json_pack("{s:I, s:I}", "allocated_mb",
                                                        (json_int_t) mb, "total_mb",
                                                        (json_int_t) allocated_mb));
}

static void
exit_route(corral_request_t *request, void *arg)
{
    if (!aimed_here(request))
        return;
    long code = corral_query_number(request, "code", 1, 255);
    if (code < 0) {
        corral_request_respond_error(request, 400, "code must be an integer from 0 to 255");
        return;
    }
    dprintf(2, "[faults] %s (pid %d): exiting with status %ld on request\n",
            identity->worker_name, (int) getpid(), code);
    _exit((int) code);
}

static int
faults_setup(corral_plugin_handle_t *handle)
{
    if (!corral_plugin_worker_config(handle)->debug_routes)
        return 0;
    identity = corral_plugin_identity(handle);
    return corral_plugin_route(handle, "POST", "/api/debug/crash", crash, NULL)
        || corral_plugin_route(handle, "POST", "/api/debug/hang", hang, NULL)
        || corral_plugin_route(handle, "POST", "/api/debug/allocate", allocate, NULL)
        || corral_plugin_route(handle, "POST", "/api/debug/exit", exit_route, NULL)
        ? -1 : 0;
}

const corral_plugin_t corral_faults_plugin = {
    .name = "faults",
    .setup = faults_setup,
};
