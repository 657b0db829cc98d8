/* task_worker.c: a worker program of a third party's, for test_tasks: the
 * reference runtime with one plugin of its own, "thirdparty", that uses
 * the public task manager (corral/tasks.h) and its worker's own data
 * directory (corral_node_worker_data_dir):
 *   task "tick", every 50 ms: appends "<worker id> <pid> <run>" to
 *                             <worker data dir>/tick.runs
 *   GET /thirdparty/data-dir  {"data_dir": ..., "existed_at_setup": true} */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corral/tasks.h"
#include "corral/worker.h"

static bool existed_at_setup;

static int
tick(corral_plugin_handle_t *handle, const char *name, void *arg)
{
    unsigned long *runs = arg;
    char path[4200];
    snprintf(path, sizeof path, "%s%s.runs", corral_node_worker_data_dir(
                 corral_plugin_node(handle)), name);
    FILE *out = fopen(path, "a");
    if (!out)
        return -1;
    fprintf(out, "%d %d %lu\n", corral_plugin_identity(handle)->worker_id, (int) getpid(),
            ++*runs);
    return fclose(out) == 0 ? 0 : -1;
}

static void
data_dir_route(corral_request_t *request, void *arg)
{
    corral_plugin_handle_t *handle = arg;
    corral_request_respond_json(request, 200, json_pack(
        "{s:s?, s:b}", "data_dir", corral_node_worker_data_dir(corral_plugin_node(handle)),
        "existed_at_setup", existed_at_setup));
}

static int
setup(corral_plugin_handle_t *handle)
{
    static unsigned long runs;
    const char *dir = corral_node_worker_data_dir(corral_plugin_node(handle));
    struct stat st;
    existed_at_setup = dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    if (corral_plugin_route(handle, "GET", "/thirdparty/data-dir", data_dir_route, handle) != 0)
        return -1;
    return corral_task_register(handle, "tick", 50, tick, &runs);
}

static const corral_plugin_t thirdparty = { .name = "thirdparty", .setup = setup };

int
main(void)
{
    corral_worker_t *worker = corral_worker_new();
    if (!worker || corral_worker_add_plugin(worker, &thirdparty) != 0)
        return 1;
    int exit_code = corral_worker_run(worker);
    corral_worker_destroy(&worker);
    return exit_code;
}
