/* tasks.c: the task manager (RFC 5.3, DESIGN section 4). Every worker
 * registers the same tasks; only the main worker schedules and runs them,
 * so a task runs once per period in the whole instance, not once per
 * worker. Each run is logged and broadcast as `task-run` (plugin tasks).
 *
 * The built-in task: `sample`, enabled with node.debug_routes, appends one
 * line "<worker id> <pid> <run>" to <path.data>/tasks/sample.runs every
 * 100 ms, so that a test can see which process runs it. */
#include "plugins.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "plugin_host.h"

#define LOGGER "plugins.tasks"
#define SAMPLE_INTERVAL_MS 100

typedef struct task task_t;
typedef int (task_fn)(task_t *task);

struct task {
    const char *name;
    size_t interval_ms;
    task_fn *run;
    /* set when registered */
    corral_plugin_handle_t *handle;
    unsigned long runs;
    int timer_id;               /* -1: not scheduled (not the main worker) */
};

static int
run_sample(task_t *task)
{
    const Corral__V1__WorkerConfig *config = corral_plugin_worker_config(task->handle);
    char *dir = NULL, *file = NULL;
    int rc = -1;
    if (asprintf(&dir, "%s/tasks", config->data_path) >= 0
        && asprintf(&file, "%s/%s.runs", dir, task->name) >= 0
        && (mkdir(dir, 0755) == 0 || access(dir, W_OK) == 0)) {
        FILE *out = fopen(file, "a");
        if (out) {
            fprintf(out, "%u %d %lu\n", config->worker_id, (int) getpid(), task->runs);
            rc = fclose(out) == 0 ? 0 : -1;
        }
    }
    free(dir);
    free(file);
    return rc;
}

static task_t tasks[] = {
    { "sample", SAMPLE_INTERVAL_MS, run_sample, NULL, 0, -1 },
};
#define TASK_COUNT (sizeof tasks / sizeof tasks[0])

static bool
enabled(const task_t *task)
{
    /* the sample task is a demonstration: only with the debug routes */
    return corral_plugin_worker_config(task->handle)->debug_routes;
}

static int
on_task_due(zloop_t *loop, int timer_id, void *arg)
{
    task_t *task = arg;
    task->runs++;
    int rc = task->run(task);
    corral_log(rc == 0 ? CORRAL_LEVEL_DEBUG : CORRAL_LEVEL_WARN, LOGGER,
               "task %s: run %lu %s", task->name, task->runs, rc == 0 ? "done" : "failed");
    char payload[128];
    int length = snprintf(payload, sizeof payload, "{\"task\":\"%s\",\"run\":%lu,\"ok\":%s}",
                          task->name, task->runs, rc == 0 ? "true" : "false");
    corral_node_broadcast(corral_plugin_node(task->handle), "task-run", payload,
                          (size_t) length, NULL);
    return 0;
}

static void
unschedule(corral_plugin_handle_t *handle)
{
    for (size_t i = 0; i < TASK_COUNT; i++)
        if (tasks[i].timer_id != -1) {
            zloop_timer_end(corral_plugin_loop(handle), tasks[i].timer_id);
            tasks[i].timer_id = -1;
        }
}

static void
schedule(task_t *task)
{
    if (task->timer_id == -1)
        task->timer_id = zloop_timer(corral_plugin_loop(task->handle), task->interval_ms, 0,
                                     on_task_due, task);
}

/* The main role moved: the schedule follows it. */
static void
on_main_change(corral_node_t *node, bool main, void *arg)
{
    corral_plugin_handle_t *handle = arg;
    for (size_t i = 0; i < TASK_COUNT; i++)
        if (main && enabled(&tasks[i])) {
            schedule(&tasks[i]);
            corral_log(CORRAL_LEVEL_INFO, LOGGER, "task %s scheduled here, on the new main "
                       "worker", tasks[i].name);
        }
    if (!main)
        unschedule(handle);
}

static int
tasks_start(corral_plugin_handle_t *handle)
{
    corral_node_t *node = corral_plugin_node(handle);
    bool main = corral_node_is_main_worker(node);
    for (size_t i = 0; i < TASK_COUNT; i++) {
        task_t *task = &tasks[i];
        task->handle = handle;
        if (!enabled(task))
            continue;
        if (main)
            schedule(task);
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "task %s registered (every %zu ms)%s",
                   task->name, task->interval_ms,
                   main ? "; scheduled here, on the main worker"
                        : "; runs on the main worker only");
    }
    return corral_node_on_main_change(node, on_main_change, handle);
}

static void
tasks_stop(corral_plugin_handle_t *handle)
{
    unschedule(handle);
}

const corral_plugin_t corral_tasks_plugin = {
    .name = "tasks",
    .start = tasks_start,
    .stop = tasks_stop,
};
