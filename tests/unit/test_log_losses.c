/* test_log_losses.c: the appenders' losses outlive the router that counted
 * them (log_losses.c): banked at a logging reload, added to the next
 * router's by appender name, never lower than before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "log_losses.h"
#include "router.h"

/* A router whose appender `full` writes to /dev/full (every write fails
 * with ENOSPC) and whose appender `quiet` writes to /dev/null. */
static corral_log_router_t *
new_router(void)
{
    static const char yaml[] =
        "logging:\n"
        "  appenders: { full: { type: file, fileName: /dev/full },\n"
        "               quiet: { type: file, fileName: /dev/null } }\n"
        "  root: { appenders: [full, quiet], level: all }\n";
    char *error = NULL;
    corral_config_t *config = corral_config_parse("/t/corral.yml", yaml, sizeof yaml - 1, &error);
    assert_non_null(config);
    corral_log_router_options_t options = { .with_appenders = true, .clustered = true };
    corral_log_router_t *router = corral_log_router_new(config->logging.config, &options, &error);
    assert_non_null(router);
    corral_config_destroy(&config);
    return router;
}

static void
write_lines(corral_log_router_t *router, int count)
{
    for (int i = 0; i < count; i++) {
        corral_log_record_t record = { .level = CORRAL_LEVEL_INFO, .logger = "test",
                                       .message = "a line" };
        corral_log_router_write(router, &record);
    }
    corral_log_router_flush(router);
}

static const corral_appender_losses_t *
entry(const corral_appender_losses_t *list, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    fail_msg("no appender %s", name);
    return NULL;
}

static void
test_a_reload_keeps_the_counts(void **state)
{
    corral_log_losses_t *losses = corral_log_losses_new();
    corral_log_router_t *router = new_router();
    write_lines(router, 10);
    size_t count;
    const corral_appender_losses_t *list = corral_log_losses_now(losses, router, &count);
    assert_int_equal(entry(list, count, "full")->lost_writing, 10);
    assert_int_equal(entry(list, count, "full")->write_errors, 1);
    assert_int_equal(entry(list, count, "quiet")->lost_writing, 0);

    corral_log_losses_bank(losses, router);         /* the reload */
    corral_log_router_destroy(&router);
    list = corral_log_losses_now(losses, NULL, &count);
    assert_int_equal(entry(list, count, "full")->lost_writing, 10);

    router = new_router();
    write_lines(router, 5);
    list = corral_log_losses_now(losses, router, &count);
    assert_int_equal(entry(list, count, "full")->lost_writing, 15);
    assert_int_equal(entry(list, count, "full")->write_errors, 2);
    assert_int_equal(entry(list, count, "full")->lost_formatting, 0);
    corral_appender_losses_t sum = corral_log_losses_sum(list, count);
    assert_int_equal(sum.lost_writing, 15);
    assert_int_equal(sum.write_errors, 2);
    size_t names = count;

    corral_log_losses_bank(losses, router);         /* a second reload: one entry per name */
    corral_log_router_destroy(&router);
    list = corral_log_losses_now(losses, NULL, &count);
    assert_int_equal(count, names);
    assert_int_equal(entry(list, count, "full")->lost_writing, 15);
    corral_log_losses_destroy(&losses);
}

/* The cluster view packs a sample taken before a logging reload after the
 * reload destroyed the router: the names it borrowed must still be there
 * (under ASan this read was a use after free). */
static void
test_names_outlive_the_router(void **state)
{
    corral_log_losses_t *losses = corral_log_losses_new();
    corral_log_router_t *router = new_router();
    size_t count;
    const corral_appender_losses_t *list = corral_log_losses_now(losses, router, &count);
    const char *sampled = entry(list, count, "full")->name;
    corral_log_losses_bank(losses, router);
    corral_log_router_destroy(&router);
    assert_string_equal(sampled, "full");
    corral_log_losses_destroy(&losses);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_reload_keeps_the_counts),
        cmocka_unit_test(test_names_outlive_the_router),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
