/* config_workers.c: the `command` and `env` keys of a worker group (see
 * config_workers.h): parsed, resolved, and the program checked. Read
 * through the loader's interface (config_loader.h). */
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

#include "config_loader.h"

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
    free(program->cwd);
    program->cwd = NULL;
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
    to->cwd = from->cwd ? strdup(from->cwd) : NULL;
    return (from->command && !to->command) || (from->env && !to->env)
        || (from->cwd && !to->cwd) ? -1 : 0;
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
resolve_program(loader_t *self, yaml_node_t *node, const char *path, char **program)
{
    const char *given = *program;
    char *resolved = strchr(given, '/') ? corral_config_resolve(self, given)
                                        : search_path(given);
    if (!resolved && !strchr(given, '/'))
        return corral_config_fail_at(self, node, path, "%s: not found in PATH", given);
    const char *why = resolved ? not_executable(resolved) : "out of memory";
    if (why) {
        corral_config_fail_at(self, node, path, "%s: %s", resolved ? resolved : given, why);
        free(resolved);
        return -1;
    }
    free(*program);
    *program = resolved;
    return 0;
}

int
corral_config_parse_command(loader_t *self, yaml_node_t *node, const char *path, char ***argv)
{
    if (node->type != YAML_SEQUENCE_NODE
        || node->data.sequence.items.top == node->data.sequence.items.start)
        return corral_config_fail_at(self, node, path,
                                     "expected a non-empty list: [program, arguments...]");
    size_t count = (size_t) (node->data.sequence.items.top - node->data.sequence.items.start);
    char **list = calloc(count + 1, sizeof *list);
    if (!list)
        return -1;
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = corral_config_node(self, node->data.sequence.items.start[i]);
        char child[KEY_PATH_MAX], index[24];
        snprintf(index, sizeof index, "[%zu]", i);
        corral_config_child(child, path, "", index);
        if (!is_string(item) || !(list[i] = strdup(corral_config_text(item)))) {
            free_list(&list);
            return corral_config_fail_at(self, item, child, "expected a non-empty string");
        }
        if (i == 0 && resolve_program(self, item, child, &list[0]) != 0) {
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

typedef struct {
    char **list;
    size_t count;
} variables_t;

static int
visit_variable(loader_t *self, const field_t *any, yaml_node_t *key, yaml_node_t *value,
               const char *path, void *arg)
{
    variables_t *variables = arg;
    const char *name = corral_config_text(key);
    if (!is_variable_name(name))
        return corral_config_fail_at(self, key, path,
                                     "not a variable name (letters, digits and _)");
    if (is_reserved(name))
        return corral_config_fail_at(self, key, path, "set by corral itself (LISTEN_*, "
                                     "CORRAL_*, NOTIFY_SOCKET)");
    if (value->type != YAML_SCALAR_NODE)
        return corral_config_fail_at(self, value, path,
                                     "expected a value (a string or a number)");
    if (strlen(corral_config_text(value)) != value->data.scalar.length)
        return corral_config_fail_at(self, value, path, "a value cannot hold a NUL character");
    char *variable = corral_format("%s=%s", name, corral_config_text(value));
    if (!variable)
        return -1;
    variables->list[variables->count++] = variable;
    return 0;
}

int
corral_config_parse_env(loader_t *self, yaml_node_t *node, const char *path, char ***env)
{
    static const field_t any_variable[] = {
        { .name = "NAME", .kind = VALUE_NODE, .any_key = true }, { .name = NULL }
    };
    if (node->type != YAML_MAPPING_NODE)
        return corral_config_fail_at(self, node, path,
                                     "expected a mapping of variable names to values");
    size_t count = (size_t) (node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    variables_t variables = { calloc(count + 1, sizeof *variables.list), 0 };
    if (!variables.list)
        return -1;
    if (corral_config_walk(self, node, path, any_variable, visit_variable, &variables) != 0) {
        free_list(&variables.list);
        return -1;
    }
    free_list(env);
    *env = variables.list;
    return 0;
}
