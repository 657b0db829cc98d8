/* config_text.c: a configuration file's text before it is parsed: read
 * whole, and checked against the limits (size, depth, entries, aliases)
 * in one pass over its events, so that a hostile file is refused before
 * any document is built from it. */
#include "config_text.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"
#include "fsutil.h"

/* Reads a whole file into a NUL-terminated buffer. */
char *
corral_config_read_file(const char *file, size_t *length, char **error)
{
    FILE *stream = fopen(file, "rb");
    if (!stream) {
        *error = corral_format("%s: cannot read: %s", file, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t size = 0, used = 0;
    for (;;) {
        if (used > CORRAL_CONFIG_MAX_BYTES) {   /* enough to refuse it by its size */
            text[used] = '\0';
            fclose(stream);
            *length = used;
            return text;
        }
        if (used + 1 >= size) {
            size = size ? size * 2 : 4096;
            char *bigger = realloc(text, size);
            if (!bigger)
                break;
            text = bigger;
        }
        size_t got = fread(text + used, 1, size - used - 1, stream);
        used += got;
        if (got == 0) {
            if (ferror(stream))
                break;
            text[used] = '\0';
            fclose(stream);
            *length = used;
            return text;
        }
    }
    int saved = errno ? errno : EIO;
    free(text);
    fclose(stream);
    *error = corral_format("%s: cannot read: %s", file, strerror(saved));
    return NULL;
}

static int
fail_limit(const char *file, const yaml_mark_t *mark, const char *message, char **error)
{
    *error = corral_format("%s:%zu:%zu: %s", file, mark->line + 1, mark->column + 1, message);
    return -1;
}

/* Reads the text's events once, before any document is built: a file
 * past CORRAL_CONFIG_MAX_BYTES, nested deeper than CORRAL_CONFIG_MAX_DEPTH,
 * with more than CORRAL_CONFIG_MAX_ENTRIES in a mapping or list, or with
 * more than CORRAL_CONFIG_MAX_ALIASES aliases (a walk expands each) is
 * refused at once. Syntax errors
 * are left to the parse, which reports them. */
int
corral_config_check_limits(const char *file, const char *text, size_t length, char **error)
{
    if (length > CORRAL_CONFIG_MAX_BYTES) {
        *error = corral_format("%s: larger than %d bytes: refused", file,
                               CORRAL_CONFIG_MAX_BYTES);
        return -1;
    }
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return -1;
    yaml_parser_set_input_string(&parser, (const unsigned char *) text, length);
    size_t entries[CORRAL_CONFIG_MAX_DEPTH + 2] = { 0 };
    size_t most[CORRAL_CONFIG_MAX_DEPTH + 2] = { 0 };
    int depth = 0, rc = 0, aliases = 0;
    char message[128];
    yaml_event_t event;
    while (rc == 0 && yaml_parser_parse(&parser, &event)) {
        yaml_event_type_t type = event.type;
        bool opens = type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT;
        if (type == YAML_ALIAS_EVENT && ++aliases > CORRAL_CONFIG_MAX_ALIASES) {
            snprintf(message, sizeof message, "more than %d aliases (*name): refused",
                     CORRAL_CONFIG_MAX_ALIASES);
            rc = fail_limit(file, &event.start_mark, message, error);
        }
        else if ((opens || type == YAML_SCALAR_EVENT) && depth > 0
                 && ++entries[depth] > most[depth]) {
            snprintf(message, sizeof message, "more than %d entries in one %s: refused",
                     CORRAL_CONFIG_MAX_ENTRIES,
                     most[depth] > CORRAL_CONFIG_MAX_ENTRIES ? "mapping" : "list");
            rc = fail_limit(file, &event.start_mark, message, error);
        }
        else if (opens && ++depth > CORRAL_CONFIG_MAX_DEPTH) {
            snprintf(message, sizeof message, "nested deeper than %d levels: refused",
                     CORRAL_CONFIG_MAX_DEPTH);
            rc = fail_limit(file, &event.start_mark, message, error);
        }
        else if (opens) {
            entries[depth] = 0;     /* a mapping's entries are its keys and values */
            most[depth] = CORRAL_CONFIG_MAX_ENTRIES
                        * (type == YAML_MAPPING_START_EVENT ? 2 : 1);
        }
        else if (type == YAML_MAPPING_END_EVENT || type == YAML_SEQUENCE_END_EVENT)
            depth--;
        bool end = type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
        if (end)
            break;
    }
    yaml_parser_delete(&parser);
    return rc;
}
