/* main.c: corral-test-worker, the worker of the tests and benchmarks: the
 * reference worker's plugins (worker/plugins/: migrations, hello) and the
 * test plugins here. A test selects it with node.workers.command (the
 * harnesses write it into every configuration); nothing installs it. */
#include "corral/worker.h"
#include "plugins.h"
#include "test_plugins.h"

static const corral_plugin_t *const plugins[] = {
    &corral_demo_plugin,            /* first: its start holds the start delays */
    &corral_migrations_plugin,
    &corral_hello_plugin,
    &corral_tasks_plugin,
    &corral_debug_plugin,
    &corral_probe_a_plugin,
    &corral_probe_b_plugin,
    &corral_faults_plugin,
    &corral_log_records_plugin,
};

int
main(void)
{
    corral_worker_t *worker = corral_worker_new();
    if (!worker)
        return 1;
    for (size_t i = 0; i < sizeof plugins / sizeof plugins[0]; i++)
        if (corral_worker_add_plugin(worker, plugins[i]) != 0) {
            corral_worker_destroy(&worker);
            return 1;
        }
    int exit_code = corral_worker_run(worker);
    corral_worker_destroy(&worker);
    return exit_code;
}
