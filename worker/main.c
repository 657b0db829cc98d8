/* main.c: corral-worker, the reference worker: the worker runtime with the
 * built-in plugins. It is started by corral, never by hand. */
#include "corral/worker.h"
#include "plugins/plugins.h"

int
main(void)
{
    corral_worker_t *worker = corral_worker_new();
    if (!worker)
        return 1;
    corral_worker_add_plugin(worker, &corral_migrations_plugin);
    corral_worker_add_plugin(worker, &corral_tasks_plugin);
    corral_worker_add_plugin(worker, &corral_demo_plugin);
    corral_worker_add_plugin(worker, &corral_debug_plugin);
    corral_worker_add_plugin(worker, &corral_probe_a_plugin);
    corral_worker_add_plugin(worker, &corral_probe_b_plugin);
    corral_worker_add_plugin(worker, &corral_faults_plugin);
    corral_worker_add_plugin(worker, &corral_log_records_plugin);
    int exit_code = corral_worker_run(worker);
    corral_worker_destroy(&worker);
    return exit_code;
}
