/* test_status_config.c: the status keys of the configuration:
 * node.status.interval and node.workers.heartbeat_timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"

static corral_config_t *
parse(const char *text, char **error)
{
    return corral_config_parse("/etc/corral/corral.yml", text, strlen(text), error);
}

static void
test_defaults_are_one_second_and_ten_seconds(void **state)
{
    char *error = NULL;
    corral_config_t *config = parse("", &error);
    assert_non_null(config);
    assert_int_equal(config->node.status.interval_ms, 1000);
    assert_int_equal(config->node.workers.heartbeat_timeout_ms, 10000);
    corral_config_destroy(&config);
}

static void
test_both_keys_take_durations(void **state)
{
    char *error = NULL;
    corral_config_t *config = parse(
        "node:\n"
        "  workers: { count: 2, heartbeat_timeout: 3s }\n"
        "  status: { interval: 250ms }\n", &error);
    assert_non_null(config);
    assert_int_equal(config->node.status.interval_ms, 250);
    assert_int_equal(config->node.workers.heartbeat_timeout_ms, 3000);
    corral_config_destroy(&config);
}

static void
test_bad_values_name_the_key(void **state)
{
    char *error = NULL;
    assert_null(parse("node: { status: { interval: fast } }\n", &error));
    assert_non_null(strstr(error, ":1:29: node.status.interval:"));
    free(error);
    assert_null(parse("node: { workers: { heartbeat_timeout: -1s } }\n", &error));
    assert_non_null(strstr(error, "node.workers.heartbeat_timeout:"));
    free(error);
    assert_null(parse("node: { status: { period: 1s } }\n", &error));
    assert_non_null(strstr(error, "node.status.period: unknown key"));
    free(error);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_one_second_and_ten_seconds),
        cmocka_unit_test(test_both_keys_take_durations),
        cmocka_unit_test(test_bad_values_name_the_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
