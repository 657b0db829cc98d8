/* test_instance_uuid.c: the instance UUID under path.data: created once,
 * read back unchanged, a malformed file is an error naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "instance_uuid.h"

static int
make_dir(void **state)
{
    char *dir = strdup("/tmp/corral-uuid-test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    *state = dir;
    return 0;
}

static int
remove_dir(void **state)
{
    char path[256];
    snprintf(path, sizeof path, "%s/uuid", (char *) *state);
    unlink(path);
    rmdir(*state);
    free(*state);
    return 0;
}

static void
write_uuid_file(const char *dir, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/uuid", dir);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
}

static void
test_created_once_then_read(void **state)
{
    char *error = NULL;
    char *first = corral_instance_uuid_load(*state, &error);
    assert_non_null(first);
    assert_null(error);
    assert_int_equal(strlen(first), 36);
    assert_int_equal(first[14], '4');                   /* version 4 */
    assert_non_null(strchr("89ab", first[19]));         /* RFC 4122 variant */
    char *second = corral_instance_uuid_load(*state, &error);
    assert_non_null(second);
    assert_string_equal(first, second);
    free(first);
    free(second);
}

static void
test_an_existing_uuid_is_kept(void **state)
{
    write_uuid_file(*state, "0f8fad5b-d9cb-469f-a165-70867728950e\n");
    char *error = NULL;
    char *uuid = corral_instance_uuid_load(*state, &error);
    assert_string_equal(uuid, "0f8fad5b-d9cb-469f-a165-70867728950e");
    free(uuid);
}

static void
test_malformed_files_are_errors(void **state)
{
    static const char *const malformed[] = {
        "", "\n", "not a uuid", "0f8fad5b-d9cb-469f-a165-70867728950", "0f8fad5b-d9cb-469f-a165-70867728950e0",
        "0f8fad5bxd9cb-469f-a165-70867728950e", "0f8fad5b-d9cb-469f-a165-70867728950g",
        "0f8fad5b-d9cb-469f-a165-70867728950e\n\n",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        write_uuid_file(*state, malformed[i]);
        char *error = NULL;
        assert_null(corral_instance_uuid_load(*state, &error));
        assert_non_null(error);
        assert_non_null(strstr(error, "/uuid is not a valid instance UUID file"));
        free(error);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_created_once_then_read, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_an_existing_uuid_is_kept, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_malformed_files_are_errors, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
