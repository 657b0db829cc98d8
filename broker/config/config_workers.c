/* config_workers.c: the `command` and `env` keys of a worker group (see
 * config_workers.h): parsed, resolved, and the program checked. */
#include "config_workers.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

#define KEY_PATH_MAX 256

static int
fail(const corral_config_reader_t *reader, const yaml_node_t *node, const char *path,
     const char *format, ...) __attribute__((format(printf, 4, 5)));

static int
fail(const corral_config_reader_t *reader, const yaml_node_t *node, const char *path,
     const char *format, ...)
{
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    return reader->fail(reader->loader, node, path, message);
}

static void
free_list(char ***list_p)
{
    for (char **item = *list_p; item && *item; item++)
        free(*item);
    free(*list_p);
    *list_p = NULL;
}

void
corral_worker_program_clear(corral_worker_program_t *program)
{
    free_list(&program->command);
    free_list(&program->env);
}

static char **
copy_list(char **list)
{
    size_t count = 0;
    while (list && list[count])
        count++;
    char **copy = list ? calloc(count + 1, sizeof *copy) : NULL;
    for (size_t i = 0; copy && i < count; i++)
        if (!(copy[i] = strdup(list[i]))) {
            free_list(&copy);
            return NULL;
        }
    return copy;
}

int
corral_worker_program_copy(corral_worker_program_t *to, const corral_worker_program_t *from)
{
    to->command = copy_list(from->command);
    to->env = copy_list(from->env);
    return (from->command && !to->command) || (from->env && !to->env) ? -1 : 0;
}

bool
corral_worker_type_name_valid(const char *name, size_t max)
{
    size_t length = strlen(name);
    if (length == 0 || length >= max || isdigit((unsigned char) *name))
        return false;
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char) *c) && *c != '_')
            return false;
    return true;
}

static bool
is_string(const yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE && node->data.scalar.length > 0
        && strlen((const char *) node->data.scalar.value) == node->data.scalar.length;
}

/* Why `path` cannot be a worker's program, or NULL if it can. */
static const char *
not_executable(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return strerror(errno);
    if (!S_ISREG(st.st_mode))
        return "not a regular file";
    if (access(path, X_OK) != 0)
        return "not executable";
    return NULL;
}

/* PATH lookup, as execvp would do it at exec time. malloc'd, or NULL. */
static char *
search_path(const char *name)
{
    const char *path = getenv("PATH");
    char *copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *found = NULL;
    char *saved = NULL;
    for (char *dir = copy ? strtok_r(copy, ":", &saved) : NULL; dir && !found;
         dir = strtok_r(NULL, ":", &saved)) {
        char *candidate = corral_format("%s/%s", dir, name);
        if (candidate && !not_executable(candidate))
            found = candidate;
        else
            free(candidate);
    }
    free(copy);
    return found;
}

static int
resolve_program(const corral_config_reader_t *reader, yaml_node_t *node, const char *path,
                char **program)
{
    const char *given = *program;
    char *resolved = strchr(given, '/') ? reader->resolve_path(reader->loader, given)
                                        : search_path(given);
    if (!resolved && !strchr(given, '/'))
        return fail(reader, node, path, "%s: not found in PATH", given);
    const char *why = resolved ? not_executable(resolved) : "out of memory";
    if (why) {
        fail(reader, node, path, "%s: %s", resolved ? resolved : given, why);
        free(resolved);
        return -1;
    }
    free(*program);
    *program = resolved;
    return 0;
}

int
corral_config_command_parse(const corral_config_reader_t *reader, yaml_node_t *node,
                            const char *path, char ***argv)
{
    if (node->type != YAML_SEQUENCE_NODE
        || node->data.sequence.items.top == node->data.sequence.items.start)
        return fail(reader, node, path, "expected a non-empty list: [program, arguments...]");
    size_t count = (size_t) (node->data.sequence.items.top - node->data.sequence.items.start);
    char **list = calloc(count + 1, sizeof *list);
    if (!list)
        return -1;
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = yaml_document_get_node(reader->document,
                                                   node->data.sequence.items.start[i]);
        char child[KEY_PATH_MAX];
        snprintf(child, sizeof child, "%s[%zu]", path, i);
        if (!is_string(item) || !(list[i] = strdup((const char *) item->data.scalar.value))) {
            free_list(&list);
            return fail(reader, item, child, "expected a non-empty string");
        }
        if (i == 0 && resolve_program(reader, item, child, &list[0]) != 0) {
            free_list(&list);
            return -1;
        }
    }
    free_list(argv);
    *argv = list;
    return 0;
}

static bool
is_variable_name(const char *name)
{
    return corral_worker_type_name_valid(name, SIZE_MAX);
}

/* Names the coordinator sets itself (docs/worker-protocol.md). */
static bool
is_reserved(const char *name)
{
    return strncmp(name, "LISTEN_", 7) == 0 || strncmp(name, "CORRAL_", 7) == 0
        || strcmp(name, "NOTIFY_SOCKET") == 0;
}

int
corral_config_env_parse(const corral_config_reader_t *reader, yaml_node_t *node,
                        const char *path, char ***env)
{
    if (node->type != YAML_MAPPING_NODE)
        return fail(reader, node, path, "expected a mapping of variable names to values");
    size_t count = (size_t) (node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    char **list = calloc(count + 1, sizeof *list);
    if (!list)
        return -1;
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
        yaml_node_t *key = yaml_document_get_node(reader->document, pair->key);
        yaml_node_t *value = yaml_document_get_node(reader->document, pair->value);
        const char *name = key->type == YAML_SCALAR_NODE
            ? (const char *) key->data.scalar.value : "";
        char child[KEY_PATH_MAX];
        snprintf(child, sizeof child, "%s.%s", path, name);
        int failed = 0;
        if (!is_variable_name(name))
            failed = fail(reader, key, child, "not a variable name (letters, digits and _)");
        else if (is_reserved(name))
            failed = fail(reader, key, child, "set by corral itself (LISTEN_*, CORRAL_*, "
                          "NOTIFY_SOCKET)");
        for (size_t j = 0; !failed && j < i; j++)
            if (strncmp(list[j], name, strlen(name)) == 0 && list[j][strlen(name)] == '=')
                failed = fail(reader, key, child, "duplicate key");
        if (!failed && value->type != YAML_SCALAR_NODE)
            failed = fail(reader, value, child, "expected a value (a string or a number)");
        if (!failed && strlen((const char *) value->data.scalar.value) != value->data.scalar.length)
            failed = fail(reader, value, child, "a value cannot hold a NUL character");
        if (!failed && !(list[i] = corral_format("%s=%s", name,
                                                  (const char *) value->data.scalar.value)))
            failed = -1;
        if (failed) {
            free_list(&list);
            return -1;
        }
    }
    free_list(env);
    *env = list;
    return 0;
}
