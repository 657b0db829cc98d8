/* task_manager.h: the tasks plugins register (corral/tasks.h) and their
 * schedule: timers on the worker's loop while this worker holds the main
 * role, none otherwise. Owned by the plugin host; internal to libcorral. */
#ifndef CORRAL_TASK_MANAGER_H
#define CORRAL_TASK_MANAGER_H

#include <stdbool.h>

#include "corral/tasks.h"

typedef struct corral_task_manager corral_task_manager_t;

corral_task_manager_t *corral_task_manager_new(zloop_t *loop);
void corral_task_manager_destroy(corral_task_manager_t **self_p);

int corral_task_manager_add(corral_task_manager_t *self, corral_plugin_handle_t *handle,
                            const char *name, uint64_t interval_ms, corral_task_fn *fn,
                            void *arg);

/* Runs the tasks from now on (main) or no longer. Until the first call,
 * nothing runs: the host calls it when the worker joins (before the
 * plugins' setup; timers fire only once the loop runs), whenever the role
 * changes, and with false before the plugins stop. */
void corral_task_manager_set_main(corral_task_manager_t *self, bool main);

#endif
