/* test_worker_types.c: node.workers as one group or as named types: what
 * each type holds, the defaults of `main`, the slots planned from them
 * (names, sockets, counts with auto), and each error with its file,
 * line, column and key. */
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

typedef struct {
    const char *text;
    const char *expected;       /* after "/tmp/corral.yml:" */
} bad_case_t;

static void
test_errors_name_line_column_and_key(void **state)
{
    static const bad_case_t cases[] = {
        { "node:\n  workers:\n    2http: { count: 1 }\n",
          "3:5: node.workers.2http: not a worker type name (a letter or _, then letters, "
          "digits and _; at most 23 characters)" },
        { "node:\n  workers:\n    web-api: { count: 1 }\n",
          "3:5: node.workers.web-api: not a worker type name (a letter or _, then letters, "
          "digits and _; at most 23 characters)" },
        { "node:\n  workers:\n    a_name_that_is_far_too_long: {}\n",
          "3:5: node.workers.a_name_that_is_far_too_long: not a worker type name (a letter or "
          "_, then letters, digits and _; at most 23 characters)" },
        { "node:\n  workers:\n    http: { count: 1 }\n    jobs: 3\n",
          "4:11: node.workers.jobs: expected a mapping of the type's keys, got \"3\"" },
        { "node:\n  workers:\n    http: { count: 1 }\n    count: 3\n",
          "4:5: node.workers.count: a key of one group of workers beside named worker types: "
          "set it in each type" },
        { "node:\n  workers:\n    http: { cuont: 1 }\n",
          "3:13: node.workers.http.cuont: unknown key" },
        { "node:\n  workers:\n    http: { count: 0 }\n",
          "3:20: node.workers.http.count: expected a positive integer or \"auto\", got \"0\"" },
        { "node:\n  workers:\n    http: { http: maybe }\n",
          "3:19: node.workers.http.http: expected true or false, got \"maybe\"" },
        { "node:\n  workers:\n    http: { main: 1 }\n",
          "3:19: node.workers.http.main: expected true or false, got \"1\"" },
        { "node:\n  workers:\n    http: { max_memory: lots }\n",
          "3:25: node.workers.http.max_memory: expected a size such as 512kb, 256mb or 1gb, "
          "got \"lots\"" },
        { "node:\n  workers:\n    http: { command: [] }\n",
          "3:22: node.workers.http.command: expected a non-empty list: [program, arguments...]" },
        { "node:\n  workers:\n    http: { env: { LISTEN_FDS: 1 } }\n",
          "3:20: node.workers.http.env.LISTEN_FDS: set by corral itself (LISTEN_*, CORRAL_*, "
          "NOTIFY_SOCKET)" },
        { "node:\n  workers:\n    http: { heartbeat_timeout: 5s }\n",
          "3:13: node.workers.http: heartbeat_timeout is set once for every type: "
          "node.workers.heartbeat_timeout" },
        { "node:\n  workers:\n    http: {}\n    http: {}\n",
          "4:5: node.workers.http: duplicate key" },
        { "node:\n  workers:\n    jobs: { http: false }\n    more: { http: false }\n",
          "3:5: node.workers: no worker serves HTTP (every type has http: false), "
          "but the instance listens on server.port" },
        { "node:\n  workers:\n    http: false\n",
          "3:5: node.workers: no worker serves HTTP (every group has http: false), "
          "but the instance listens on server.port" },
        { "node:\n  workers:\n    web: { main: false }\n    jobs: { http: false, main: false }\n",
          "3:5: node.workers: no worker may hold the main role (every type has main: false)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *error = NULL;
        corral_config_t *config = corral_config_parse("/tmp/corral.yml", cases[i].text,
                                                      strlen(cases[i].text), &error);
        char expected[600];
        snprintf(expected, sizeof expected, "/tmp/corral.yml:%s", cases[i].expected);
        if (config || !error || strcmp(error, expected) != 0)
            fail_msg("case %zu:\n%s\n--- expected: %s\n--- got:      %s", i, cases[i].text,
                     expected, error ? error : "(no error)");
        free(error);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_single_group_keeps_worker_n),
        cmocka_unit_test(test_named_types),
        cmocka_unit_test(test_main_defaults_and_auto_shares),
        cmocka_unit_test(test_errors_name_line_column_and_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
