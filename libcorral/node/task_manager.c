/* task_manager.c: registered tasks and their timers (task_manager.h). */
#include "task_manager.h"

#include <czmq.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define LOGGER "tasks"

typedef struct task {
    corral_plugin_handle_t *handle;
    char *name;
    uint64_t interval_ms;
    corral_task_fn *fn;
    void *arg;
    unsigned long runs;
    int timer_id;               /* -1: not scheduled */
    struct task *next;
} task_t;

struct corral_task_manager {
    zloop_t *loop;
    task_t *tasks;              /* in registration order */
    bool main;
};

corral_task_manager_t *
corral_task_manager_new(zloop_t *loop)
{
    corral_task_manager_t *self = calloc(1, sizeof *self);
    if (self)
        self->loop = loop;
    return self;
}

void
corral_task_manager_destroy(corral_task_manager_t **self_p)
{
    corral_task_manager_t *self = *self_p;
    if (!self)
        return;
    corral_task_manager_set_main(self, false);
    while (self->tasks) {
        task_t *task = self->tasks;
        self->tasks = task->next;
        free(task->name);
        free(task);
    }
    free(self);
    *self_p = NULL;
}

static int
on_task_due(zloop_t *loop, int timer_id, void *arg)
{
    task_t *task = arg;
    const char *plugin = corral_plugin_name(task->handle);
    task->runs++;
    int rc = task->fn(task->handle, task->name, task->arg);
    corral_log(rc == 0 ? CORRAL_LEVEL_DEBUG : CORRAL_LEVEL_WARN, LOGGER,
               "task %s (plugin %s): run %lu %s", task->name, plugin, task->runs,
               rc == 0 ? "done" : "failed");
    json_t *payload = json_pack("{s:s, s:I, s:b}", "task", task->name,
                                "run", (json_int_t) task->runs, "ok", rc == 0);
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    if (text)
        corral_node_broadcast(corral_plugin_node(task->handle), "task-run", text,
                              strlen(text), NULL);
    free(text);
    json_decref(payload);
    return 0;
}

static void
schedule(corral_task_manager_t *self, task_t *task)
{
    task->timer_id = zloop_timer(self->loop, (size_t) task->interval_ms, 0, on_task_due, task);
    if (task->timer_id == -1)
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "task %s (plugin %s): cannot schedule it",
                   task->name, corral_plugin_name(task->handle));
}

static void
unschedule(corral_task_manager_t *self, task_t *task)
{
    if (task->timer_id != -1)
        zloop_timer_end(self->loop, task->timer_id);
    task->timer_id = -1;
}

int
corral_task_manager_add(corral_task_manager_t *self, corral_plugin_handle_t *handle,
                        const char *name, uint64_t interval_ms, corral_task_fn *fn, void *arg)
{
    const char *plugin = corral_plugin_name(handle);
    if (!name || !*name || !fn || interval_ms == 0)
        return -1;
    task_t **end = &self->tasks;
    for (; *end; end = &(*end)->next)
        if ((*end)->handle == handle && strcmp((*end)->name, name) == 0) {
            corral_log(CORRAL_LEVEL_ERROR, LOGGER, "task %s (plugin %s): registered twice",
                       name, plugin);
            return -1;
        }
    task_t *task = calloc(1, sizeof *task);
    if (!task || !(task->name = strdup(name))) {
        free(task);
        return -1;
    }
    *task = (task_t) { handle, task->name, interval_ms, fn, arg, 0, -1, NULL };
    *end = task;
    if (self->main)
        schedule(self, task);
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "task %s (plugin %s) registered (every %llu ms)%s",
               name, plugin, (unsigned long long) interval_ms,
               self->main ? "; scheduled here, on the main worker"
                          : "; runs on the main worker only");
    return 0;
}

void
corral_task_manager_set_main(corral_task_manager_t *self, bool main)
{
    if (main == self->main)
        return;
    self->main = main;
    size_t count = 0;
    for (task_t *task = self->tasks; task; task = task->next, count++) {
        if (main)
            schedule(self, task);
        else
            unschedule(self, task);
    }
    if (count)
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "%s %zu task%s", main ? "running" : "no longer running",
                   count, count == 1 ? "" : "s");
}
