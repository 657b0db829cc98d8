/* test_task_manager.c: corral/tasks.h inside one worker: a plugin's task
 * runs only while the worker holds the main role, starts when the role
 * comes to it and stops when the role goes (the hook the supervision's
 * hand-over calls), and a name is registered once per plugin. A real
 * zloop, a real plugin host and node service; time bounds only fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <czmq.h>

#include "corral/tasks.h"
#include "node_service.h"
#include "plugin_host.h"

#define PERIOD_MS 5
#define WAIT_MS 5000

static int runs;
static int registered_twice;

static int
count_run(corral_plugin_handle_t *handle, const char *name, void *arg)
{
    runs++;
    return 0;
}

static int
setup(corral_plugin_handle_t *handle)
{
    registered_twice = corral_task_register(handle, "count", PERIOD_MS, count_run, NULL) == 0
        && corral_task_register(handle, "count", PERIOD_MS, count_run, NULL) == 0;
    return 0;
}

static const corral_plugin_t plugin = { .name = "counter", .setup = setup };

static int
end_loop(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

static int
check_runs(zloop_t *loop, int timer_id, void *arg)
{
    return runs >= *(int *) arg ? -1 : 0;
}

/* Runs the loop until `runs` reaches `target` or `ms` pass. */
static void
run_loop(zloop_t *loop, int target, int ms)
{
    int deadline = zloop_timer(loop, (size_t) ms, 1, end_loop, NULL);
    int poll = zloop_timer(loop, 1, 0, check_runs, &target);
    zloop_start(loop);
    zloop_timer_end(loop, deadline);
    zloop_timer_end(loop, poll);
}

static void
test_tasks_follow_the_main_role(void **state)
{
    zloop_t *loop = zloop_new();
    corral_identity_t identity = { .worker_id = 2, .worker_name = "worker-2", .main = false,
                                   .clustered = true, .worker_count = 2 };
    Corral__V1__WorkerConfig config = CORRAL__V1__WORKER_CONFIG__INIT;
    corral_node_params_t params = { .worker_id = 1, .clustered = false };
    corral_node_service_t *node = corral_node_service_new(loop, &params);
    corral_plugin_host_t *host = corral_plugin_host_new(loop, &identity);
    corral_http_server_t *http = corral_http_server_new(loop, -1, "worker-2");
    assert_int_equal(corral_plugin_host_add(host, &plugin), 0);
    corral_plugin_host_join(host, &config, node);
    assert_int_equal(corral_plugin_host_setup(host, http), 0);
    assert_false(registered_twice);

    /* not main: ten periods and more, no run */
    run_loop(loop, 1, PERIOD_MS * 20);
    assert_int_equal(runs, 0);
    /* the role comes: the task runs here */
    corral_plugin_host_set_main(host, true);
    run_loop(loop, 3, WAIT_MS);
    assert_true(runs >= 3);
    /* the role goes: no more runs */
    corral_plugin_host_set_main(host, false);
    int before = runs;
    run_loop(loop, before + 1, PERIOD_MS * 20);
    assert_int_equal(runs, before);

    corral_plugin_host_stop(host);
    corral_http_server_destroy(&http);
    corral_plugin_host_destroy(&host);
    corral_node_service_destroy(&node);
    zloop_destroy(&loop);
}

int
main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tasks_follow_the_main_role),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
