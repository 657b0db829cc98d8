/* ctl_data_dir.c: path.data of a configuration file, strictly (the
 * coordinator's parser) or, when that refuses the file, leniently (the
 * YAML events up to the first error). */
#include "ctl_data_dir.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"
#include "config_values.h"
#include "launch_contract.h"

#define DEFAULT_DATA "data"         /* docs/configuration.md: path.data's default */

/* The scalar at `path: data:` of the top mapping, or NULL: events up to
 * the first syntax error (what precedes a typo still counts). */
static char *
lenient_path_data(FILE *input)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return NULL;
    yaml_parser_set_input_file(&parser, input);
    char *found = NULL;
    int depth = 0;              /* mappings and sequences open */
    bool expect_key = false;    /* in a mapping, the next scalar is a key */
    bool in_path = false;       /* inside the top-level `path` mapping */
    bool key_is_path = false, key_is_data = false;
    for (bool done = false; !done && !found;) {
        yaml_event_t event;
        if (!yaml_parser_parse(&parser, &event))
            break;
        switch (event.type) {
        case YAML_STREAM_END_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            done = true;
            break;
        case YAML_MAPPING_START_EVENT:
            depth++;
            if (depth == 2)
                in_path = key_is_path;
            expect_key = true;
            key_is_path = key_is_data = false;
            break;
        case YAML_SEQUENCE_START_EVENT:
            depth++;
            expect_key = false;
            key_is_path = key_is_data = false;
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            depth--;
            if (depth < 2)
                in_path = false;
            expect_key = depth > 0;     /* a collection was a value: a key follows */
            break;
        case YAML_SCALAR_EVENT: {
            const char *text = (const char *) event.data.scalar.value;
            if (expect_key) {
                key_is_path = depth == 1 && strcmp(text, "path") == 0;
                key_is_data = depth == 2 && in_path && strcmp(text, "data") == 0;
                expect_key = false;
            }
            else {
                if (key_is_data && depth == 2 && in_path)
                    found = strdup(text);
                key_is_path = key_is_data = false;
                expect_key = true;
            }
            break;
        }
        case YAML_ALIAS_EVENT:
            key_is_path = key_is_data = false;
            expect_key = !expect_key;
            break;
        default:
            break;
        }
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    return found;
}

static char *
lenient(const char *file, const char *why, int *exit_code)
{
    FILE *input = fopen(file, "rb");
    if (!input) {
        fprintf(stderr, "corralctl: cannot read %s: %s (or give the instance's data "
                        "directory: --data DIR)\n", file, strerror(errno));
        *exit_code = CORRAL_EXIT_CONFIG;
        return NULL;
    }
    char *data = lenient_path_data(input);
    fclose(input);
    char *dir = corral_config_directory(file);
    char *resolved = dir ? corral_config_resolve_path(dir, data ? data : DEFAULT_DATA) : NULL;
    fprintf(stderr, "corralctl: note: %s does not load (%s); its instance is looked for "
                    "in %s%s\n", file, why, resolved ? resolved : "?",
            data ? "" : " (no path.data read: the default)");
    free(data);
    free(dir);
    return resolved;
}

char *
ctl_data_dir(const char *file, int *exit_code)
{
    char *error = NULL;
    corral_config_t *config = corral_config_load(file, &error);
    if (config) {
        char *dir = strdup(config->path.data);
        corral_config_destroy(&config);
        return dir;
    }
    char *dir = lenient(file, error ? error : "out of memory", exit_code);
    free(error);
    return dir;
}
