/* test_worker_types.c: node.workers as one group or as named types: what
 * each type holds, the defaults of `main`, the slots planned from them
 * (names, sockets, counts with auto). Their errors, with file, line,
 * column and key, are test_config_workers.c's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "worker_types.h"

static corral_config_t *
parse(const char *text)
{
    char *error = NULL;
    corral_config_t *config = corral_config_parse("/tmp/corral.yml", text, strlen(text),
                                                  &error);
    if (!config)
        fail_msg("%s", error);
    return config;
}

static void
test_a_single_group_keeps_worker_n(void **state)
{
    corral_config_t *config = parse("node:\n  workers:\n    count: 3\n    max_memory: 1gb\n");
    assert_int_equal(config->node.type_count, 1);
    assert_string_equal(config->node.types[0].name, "");
    assert_true(config->node.types[0].http);
    assert_true(config->node.types[0].main);
    corral_worker_slots_t slots;
    assert_int_equal(corral_worker_slots_plan(&slots, config, 8), 0);
    assert_int_equal(slots.slot_count, 3);
    assert_int_equal(slots.http_count, 3);
    assert_string_equal(slots.specs[0].name, "worker-1");
    assert_string_equal(slots.specs[2].name, "worker-3");
    assert_int_equal(slots.specs[2].listen_index, 3);
    assert_int_equal(slots.specs[1].max_memory, 1 << 30);
    corral_worker_slots_clear(&slots);
    corral_config_destroy(&config);

    config = parse("server:\n  port: 0\n");       /* no node.workers at all */
    assert_int_equal(config->node.type_count, 1);
    assert_true(config->node.types[0].count_auto);
    corral_config_destroy(&config);
}

static void
test_named_types(void **state)
{
    corral_config_t *config = parse(
        "node:\n"
        "  workers:\n"
        "    http: { count: auto, max_memory: 1gb, recycle: { max_requests: 100 } }\n"
        "    background: { count: 1, http: false, command: [/bin/sh, -c, \"sleep 1\"],\n"
        "                  env: { QUEUE: reports } }\n"
        "    heartbeat_timeout: 3s\n");
    assert_int_equal(config->node.type_count, 2);
    const corral_worker_group_t *http = &config->node.types[0];
    const corral_worker_group_t *background = &config->node.types[1];
    assert_string_equal(http->name, "http");
    assert_true(http->count_auto);
    assert_true(http->http);
    assert_int_equal(http->max_memory, 1 << 30);
    assert_int_equal(http->recycle.max_requests, 100);
    assert_null(http->program.command);
    assert_string_equal(background->name, "background");
    assert_false(background->http);
    assert_string_equal(background->program.command[2], "sleep 1");
    assert_string_equal(background->program.env[0], "QUEUE=reports");
    /* a background type exists: it is the one that may be main */
    assert_false(http->main);
    assert_true(background->main);
    assert_int_equal(http->heartbeat_timeout_ms, 3000);
    assert_int_equal(config->node.workers.heartbeat_timeout_ms, 3000);

    corral_worker_slots_t slots;
    assert_int_equal(corral_worker_slots_plan(&slots, config, 3), 0);
    assert_int_equal(slots.slot_count, 4);          /* auto: 3 CPUs; background: 1 */
    assert_int_equal(slots.http_count, 3);
    assert_string_equal(slots.specs[0].name, "http-1");
    assert_string_equal(slots.specs[2].name, "http-3");
    assert_string_equal(slots.specs[3].name, "background-1");
    assert_false(slots.specs[3].http);
    assert_int_equal(slots.specs[3].listen_index, 0);
    assert_true(slots.specs[3].may_be_main);
    assert_false(slots.specs[0].may_be_main);
    assert_ptr_equal(slots.specs[3].type, background);
    corral_worker_slots_clear(&slots);
    corral_config_destroy(&config);
}

static void
test_main_defaults_and_auto_shares(void **state)
{
    /* no background type: every type may be main; `main: true` narrows it */
    corral_config_t *config = parse(
        "node:\n  workers:\n    web: { count: 2 }\n    api: {}\n");
    assert_true(config->node.types[0].main);
    assert_true(config->node.types[1].main);
    corral_worker_slots_t slots;
    assert_int_equal(corral_worker_slots_plan(&slots, config, 1), 0);
    assert_int_equal(slots.slot_count, 3);          /* auto gets at least one */
    assert_string_equal(slots.specs[2].name, "api-1");
    corral_worker_slots_clear(&slots);
    corral_config_destroy(&config);

    config = parse("node:\n  workers:\n    a: { count: auto }\n    b: { count: auto }\n"
                   "    jobs: { http: false, main: false }\n    c: { main: true }\n");
    assert_false(config->node.types[0].main);
    assert_false(config->node.types[2].main);
    assert_true(config->node.types[3].main);
    assert_int_equal(corral_worker_slots_plan(&slots, config, 5), 0);
    /* 5 CPUs counted once, shared by the three auto types that serve HTTP;
     * the auto type without HTTP runs one */
    assert_int_equal(slots.slot_count, 6);
    assert_string_equal(slots.specs[2].name, "a-3");
    assert_string_equal(slots.specs[3].name, "b-1");
    assert_string_equal(slots.specs[4].name, "jobs-1");
    assert_string_equal(slots.specs[5].name, "c-1");
    corral_worker_slots_clear(&slots);
    corral_config_destroy(&config);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_single_group_keeps_worker_n),
        cmocka_unit_test(test_named_types),
        cmocka_unit_test(test_main_defaults_and_auto_shares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
