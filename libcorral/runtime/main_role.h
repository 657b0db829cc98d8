/* main_role.h: the main role moving to or away from a running worker.
 * The coordinator decides who is main (docs/architecture.md section 8.4: when the main
 * worker dies, the lowest-numbered ready worker, a background type first);
 * the worker that learns it on desk calls this, and everything that
 * follows the role follows: corral_node_is_main_worker(), the plugins'
 * identity, and the task manager's schedule (corral/tasks.h). Internal to
 * libcorral. */
#ifndef CORRAL_MAIN_ROLE_H
#define CORRAL_MAIN_ROLE_H

#include <stdbool.h>

#include "corral/worker.h"

void corral_worker_set_main(corral_worker_t *self, bool main);

#endif
