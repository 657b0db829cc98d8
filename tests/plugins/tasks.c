/* tasks.c: the test worker's tasks plugin, a user of the task manager
 * (corral/tasks.h, task_manager.c): every worker registers the same tasks;
 * only the main worker runs them, so a task runs once per period in the
 * whole instance. Each run is logged and broadcast as `task-run` (plugin
 * tasks).
 *
 * The built-in task: `sample`, enabled with node.debug_routes, appends one
 * line "<worker id> <pid> <run>" to <path.data>/tasks/sample.runs every
 * 100 ms, so that a test can see which process runs it. */
#include "test_plugins.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corral/tasks.h"
#include "plugin_host.h"

#define SAMPLE_INTERVAL_MS 100

static int
run_sample(corral_plugin_handle_t *handle, const char *name, void *arg)
{
    unsigned long *runs = arg;
    const Corral__V1__WorkerConfig *config = corral_plugin_worker_config(handle);
    char *dir = NULL, *file = NULL;
    int rc = -1;
    ++*runs;
    if (asprintf(&dir, "%s/tasks", config->data_path) >= 0
        && asprintf(&file, "%s/%s.runs", dir, name) >= 0
        && (mkdir(dir, 0755) == 0 || access(dir, W_OK) == 0)) {
        FILE *out = fopen(file, "a");
        if (out) {
            fprintf(out, "%u %d %lu\n", config->worker_id, (int) getpid(), *runs);
            rc = fclose(out) == 0 ? 0 : -1;
        }
    }
    free(dir);
    free(file);
    return rc;
}

static int
tasks_start(corral_plugin_handle_t *handle)
{
    static unsigned long sample_runs;
    /* the sample task is a demonstration: only with the debug routes */
    if (!corral_plugin_worker_config(handle)->debug_routes)
        return 0;
    return corral_task_register(handle, "sample", SAMPLE_INTERVAL_MS, run_sample, &sample_runs);
}

const corral_plugin_t corral_tasks_plugin = {
    .name = "tasks",
    .start = tasks_start,
};
