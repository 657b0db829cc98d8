/* test_migrations.c: the plugins that use the node service the way the
 * original design intends. Migrations run exactly once across 4 workers
 * (counted in the store on disk) and no worker answers 200 on an app route
 * before the store is migrated, on a first start and on a restart with a
 * current store; a failed migration stops the instance; scheduled tasks
 * run on the main worker only; the instance UUID is kept across starts and
 * a malformed one is a clear error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "corral/node_client.h"
#include "harness.h"
#include "node_harness.h"

#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 30000
#define WAIT_MS 60000
#define SLOW_MIGRATION "  migrations: { delay: 2s }\n"

static void
write_data_file(instance_t *instance, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/data", instance_dir(instance));
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/data/%s", instance_dir(instance), name);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
}

static char *
read_data_file(instance_t *instance, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/data/%s", instance_dir(instance), name);
    return read_text_file(path);
}

/* The store on disk, parsed; NULL when there is none yet. */
static json_t *
load_store(instance_t *instance)
{
    char path[512];
    snprintf(path, sizeof path, "%s/data/store.json", instance_dir(instance));
    return json_load_file(path, 0, NULL);
}

static void
stop_instance(instance_t **instance)
{
    assert_true(instance_stop_cleanly(instance, STOP_TIMEOUT_MS));
}

/* GETs an app route until the instance is ready. A 200 only ever comes
 * from a migrated store; anything else is a 503 that says why. Returns
 * the number of 503s. */
static int
hammer_until_ready(instance_t *instance)
{
    int port = instance_wait_listening(instance, START_TIMEOUT_MS);
    assert_true(port > 0);
    int unavailable = 0;
    while (!instance_wait_output(instance, "ready: 4 workers", 0)) {
        response_t response;
        assert_true(http_get(port, "/api/hello", &response));
        if (response.status == 200) {
            json_t *store = load_store(instance);
            assert_non_null(store);
            assert_int_equal(json_integer_value(json_object_get(store, "version")), 2);
            json_decref(store);
        }
        else {
            assert_int_equal(response.status, 503);
            const char *message = json_string_value(json_object_get(response.json, "message"));
            assert_non_null(message);
            assert_non_null(strstr(message, "migration-complete"));
            unavailable++;
        }
        response_clear(&response);
    }
    assert_true(instance_wait_ready(instance, START_TIMEOUT_MS));
    for (int i = 0; i < 40; i++) {      /* every worker serves now */
        response_t response;
        assert_true(http_get(instance_port(instance), "/api/hello", &response));
        assert_int_equal(response.status, 200);
        response_clear(&response);
    }
    return unavailable;
}

static size_t
migration_runs(instance_t *instance)
{
    json_t *store = load_store(instance);
    assert_non_null(store);
    size_t runs = json_array_size(json_object_get(store, "runs"));
    json_decref(store);
    return runs;
}

static void
test_migrations_run_once_and_hold_app_routes(void **state)
{
    instance_t *first = instance_new();
    instance_write_node_config(first, 4, SLOW_MIGRATION);
    instance_start(first);
    assert_true(hammer_until_ready(first) > 0);
    assert_int_equal(migration_runs(first), 1);
    assert_true(instance_wait_output(first, "\"migrated\":true", WAIT_MS));
    char *store = read_data_file(first, "store.json");
    char *uuid = read_data_file(first, "uuid");
    assert_non_null(store);
    assert_non_null(uuid);
    stop_instance(&first);

    /* a restart with the store already current: nobody migrates, the
     * workers still wait for the main worker's word */
    instance_t *second = instance_new();
    instance_write_node_config(second, 4, SLOW_MIGRATION);
    write_data_file(second, "store.json", store);
    write_data_file(second, "uuid", uuid);
    instance_start(second);
    assert_true(hammer_until_ready(second) > 0);
    assert_int_equal(migration_runs(second), 1);
    assert_true(instance_wait_output(second, "\"migrated\":false", WAIT_MS));
    json_t *replies = debug_node(second, "action=received&worker=2");
    assert_int_equal(strncmp(json_string_value(json_object_get(reply_of(replies, 2),
                                                               "instance_uuid")), uuid, 36), 0);
    json_decref(replies);
    char *kept = read_data_file(second, "uuid");
    assert_string_equal(kept, uuid);
    free(kept);
    free(store);
    free(uuid);
    stop_instance(&second);
}

static void
assert_fails_to_start(instance_t *instance, const char *message)
{
    instance_start(instance);
    assert_true(instance_wait_exit(instance, STOP_TIMEOUT_MS));
    int status = instance_exit_status(instance);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 0);
    assert_true(instance_wait_output(instance, message, STOP_TIMEOUT_MS));
}

static void
test_failed_migration_stops_the_instance(void **state)
{
    instance_t *instance = instance_new();
    instance_write_node_config(instance, 2, NULL);
    write_data_file(instance, "store.json", "{ this is not a store");
    assert_fails_to_start(instance, "migration failed: ");
    assert_true(instance_wait_output(instance, "store.json is not a store", STOP_TIMEOUT_MS));
    char *store = read_data_file(instance, "store.json");
    assert_string_equal(store, "{ this is not a store");      /* left as it was */
    free(store);
    instance_destroy(&instance);
}

static void
test_malformed_uuid_is_an_error(void **state)
{
    instance_t *instance = instance_new();
    instance_write_node_config(instance, 2, NULL);
    write_data_file(instance, "uuid", "not-a-uuid\n");
    assert_fails_to_start(instance, "is not a valid instance UUID file");
    instance_destroy(&instance);
}

/* --- Tasks ------------------------------------------------------------------------- */

static void
count_run(const corral_message_t *message, void *arg)
{
    (*(int *) arg)++;
}

static void
test_tasks_run_on_the_main_worker_only(void **state)
{
    instance_t *instance = instance_new();
    instance_write_node_config(instance, 3, NULL);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_TIMEOUT_MS));
    corral_node_client_t *client = corral_node_client_new(instance_runtime_dir(instance), WAIT_MS);
    assert_non_null(client);
    int runs = 0;
    corral_node_on(corral_node_client_plugin(client, "tasks"), "task-run", count_run, &runs);
    int64_t deadline = zclock_mono() + WAIT_MS;
    while (runs < 5 && zclock_mono() < deadline)
        corral_node_client_poll(client, 100);
    assert_true(runs >= 5);

    json_t *replies = debug_node(instance, "action=received");
    assert_int_equal(json_array_size(replies), 3);
    json_decref(replies);
    char *lines = read_data_file(instance, "tasks/sample.runs");
    assert_non_null(lines);
    int count = 0;
    int first_pid = 0;
    for (char *line = strtok(lines, "\n"); line; line = strtok(NULL, "\n"), count++) {
        int worker = 0, pid = 0;
        assert_int_equal(sscanf(line, "%d %d", &worker, &pid), 2);
        assert_int_equal(worker, 1);
        if (!first_pid)
            first_pid = pid;
        assert_int_equal(pid, first_pid);
    }
    assert_true(count >= 5);
    free(lines);
    /* the workers log it before they report ready, so before this line */
    assert_true(instance_wait_output(instance, "ready: 3 workers", WAIT_MS));
    char *output = instance_output_copy(instance);
    int waiting = 0;
    for (char *at = output; (at = strstr(at, "runs on the main worker only")); at++)
        waiting++;
    assert_int_equal(waiting, 2);           /* workers 2 and 3 registered it too */
    free(output);
    corral_node_client_destroy(&client);
    stop_instance(&instance);
}

int
main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrations_run_once_and_hold_app_routes),
        cmocka_unit_test(test_failed_migration_stops_the_instance),
        cmocka_unit_test(test_malformed_uuid_is_an_error),
        cmocka_unit_test(test_tasks_run_on_the_main_worker_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
