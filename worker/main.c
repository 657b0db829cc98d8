/* main.c: corral-worker, the reference worker: the worker runtime with the
 * migrations plugin and a one-route application (plugins/). Built-in
 * routes (/api/status, /api/stats, /api/metrics) come with libcorral.
 * It is started by corral, never by hand. */
#include "corral/worker.h"
#include "plugins.h"

int
main(void)
{
    corral_worker_t *worker = corral_worker_new();
    if (!worker)
        return 1;
    if (corral_worker_add_plugin(worker, &corral_migrations_plugin) != 0
        || corral_worker_add_plugin(worker, &corral_hello_plugin) != 0) {
        corral_worker_destroy(&worker);
        return 1;
    }
    int exit_code = corral_worker_run(worker);
    corral_worker_destroy(&worker);
    return exit_code;
}
