/* config_types.c: node.workers, one group of workers or named types of
 * them (docs/architecture.md section 11): which keys name a type, each type's keys and
 * defaults, the instance-wide keys beside them, and which types may hold
 * the main role. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "config_loader.h"

/* ---- node.workers: one group, or named types ------------------------- */

/* A group key that a named type cannot set: one value for the instance. */
static bool
instance_wide(const field_t *field)
{
    return strcmp(field->name, "heartbeat_timeout") == 0;
}

static const field_t *
group_field(const char *name)
{
    const field_t *field = corral_config_group_fields;
    while (name && field->name && strcmp(field->name, name) != 0)
        field++;
    return name && field->name ? field : NULL;
}

/* A key of node.workers that names a type: it holds a mapping where its
 * group key, if it is one, holds none (`http: { count: 2 }` is a type,
 * `http: false` the group's key), or nothing at all where no group key has
 * that name. */
static bool
holds_type(yaml_node_t *key, yaml_node_t *value)
{
    const field_t *field = group_field(corral_config_text(key));
    if (value->type == YAML_MAPPING_NODE)
        return !field || (field->kind != VALUE_SECTION && field->kind != VALUE_ENV);
    return corral_config_is_null(value) && key->type == YAML_SCALAR_NODE && !field;
}

/* Named types: some key of node.workers names one. */
static bool
names_types(loader_t *self, yaml_node_t *node)
{
    if (node->type != YAML_MAPPING_NODE)
        return false;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++)
        if (holds_type(corral_config_node(self, pair->key),
                       corral_config_node(self, pair->value)))
            return true;
    return false;
}

/* A copy of `group` (its program too) at the end of node.types. */
int
corral_config_add_type(loader_t *self, const corral_worker_group_t *group)
{
    corral_config_t *config = self->config;
    corral_worker_group_t *grown = realloc(config->node.types, (size_t) (config->node.type_count
                                           + 1) * sizeof *grown);
    if (!grown)
        return -1;
    config->node.types = grown;
    corral_worker_group_t *type = &grown[config->node.type_count];
    *type = *group;
    type->program = (corral_worker_program_t) { NULL, NULL, NULL };
    if (corral_worker_program_copy(&type->program, &group->program) != 0) {
        corral_worker_program_clear(&type->program);
        return -1;
    }
    config->node.type_count++;
    return 0;
}

/* One named type: the group keys but the instance-wide ones, its own
 * defaults (count auto, http, the reference worker). */
static int
parse_type(loader_t *self, yaml_node_t *key, yaml_node_t *value, const char *path)
{
    const char *name = corral_config_text(key);
    if (!corral_worker_type_name_valid(name, CORRAL_WORKER_TYPE_NAME_MAX))
        return corral_config_fail_at(self, key, path, "not a worker type name (a letter or _, "
                                     "then letters, digits and _; at most %d characters)",
                                     CORRAL_WORKER_TYPE_NAME_MAX - 1);
    if (!corral_config_is_null(value) && value->type != YAML_MAPPING_NODE)
        return corral_config_fail_expected(self, value, path, "a mapping of the type's keys");
    bool empty = corral_config_is_null(value);
    for (yaml_node_pair_t *pair = empty ? NULL : value->data.mapping.pairs.start;
         pair && pair < value->data.mapping.pairs.top; pair++) {
        yaml_node_t *inner = corral_config_node(self, pair->key);
        const field_t *field = group_field(corral_config_text(inner));
        if (field && instance_wide(field))
            return corral_config_fail_at(self, inner, path, "%s is set once for every type: "
                                         "node.workers.%s", field->name, field->name);
    }
    corral_worker_group_t type;
    corral_config_group_defaults(&type);
    snprintf(type.name, sizeof type.name, "%s", name);
    int rc = corral_config_parse_section(self, value, path, corral_config_group_fields, &type);
    if (rc == 0)
        rc = corral_config_add_type(self, &type);
    corral_worker_program_clear(&type.program);
    return rc;
}

/* Named types: node.workers' keys are types, but for the instance-wide
 * keys (heartbeat_timeout); a key of one group beside them is an error. */
static int
visit_type(loader_t *self, const field_t *any, yaml_node_t *key, yaml_node_t *value,
           const char *path, void *arg)
{
    const field_t *field = group_field(corral_config_text(key));
    if (holds_type(key, value) || !field)
        return parse_type(self, key, value, path);
    if (instance_wide(field))
        return corral_config_parse_value(self, value, path, field, &self->config->node.workers);
    return corral_config_fail_at(self, key, path, "a key of one group of workers beside named "
                                 "worker types: set it in each type");
}

static int
parse_types(loader_t *self, yaml_node_t *node, const char *path)
{
    static const field_t any_type[] = {
        { .name = "<type>", .kind = VALUE_NODE, .any_key = true }, { .name = NULL }
    };
    if (corral_config_walk(self, node, path, any_type, visit_type, NULL) != 0)
        return -1;
    /* heartbeat_timeout may come after the types */
    for (int i = 0; i < self->config->node.type_count; i++)
        self->config->node.types[i].heartbeat_timeout_ms =
            self->config->node.workers.heartbeat_timeout_ms;
    return 0;
}

/* Which types may hold the main role: those with `main: true`, if any;
 * else the background types (http: false), if any, so that the task
 * manager runs off the request path; else every type. A type that says
 * `main: false` never may. */
static int
settle_types(loader_t *self, yaml_node_t *node, const char *path)
{
    corral_config_t *config = self->config;
    bool any_true = false, any_background = false, any_http = false, any_main = false;
    bool any_protocol = false;
    self->workers_mark = node->start_mark;
    for (int i = 0; i < config->node.type_count; i++) {
        corral_worker_group_t *type = &config->node.types[i];
        if (type->plain && type->main_given && type->main)
            return corral_config_fail_at(self, node, path, "%s has protocol: none and "
                                         "main: true: a plain program cannot hold the main "
                                         "role (it owes the instance messages on the bus; "
                                         "docs/worker-protocol.md, section 5a)",
                                         type->name[0] ? type->name : "node.workers");
        if (type->plain) {          /* never main, whatever the defaults say */
            type->main = false;
            type->main_given = true;
        }
        if (!type->plain && (type->ready_after_ms || type->watchdog_ms))
            return corral_config_fail_at(self, node, path, "%s: ready_after and watchdog are "
                                         "for protocol: none (a worker speaking the protocol "
                                         "says Ready and reports)",
                                         type->name[0] ? type->name : "node.workers");
        any_protocol |= !type->plain;
        any_true |= type->main_given && type->main;
        any_background |= !type->http && !(type->main_given && !type->main);
        any_http |= type->http;
    }
    for (int i = 0; i < config->node.type_count; i++) {
        corral_worker_group_t *type = &config->node.types[i];
        if (!type->main_given)
            type->main = any_true ? false : any_background ? !type->http : true;
        any_main |= type->main;
    }
    if (!any_protocol)
        any_main = true;            /* only plain programs: no one owes or waits */
    if (!any_http)
        return corral_config_fail_at(self, node, path, "no worker serves HTTP "
                                     "(every %s has http: false), "
                                     "but the instance listens on server.port",
                                     config->node.types[0].name[0] ? "type" : "group");
    if (!any_main)
        return corral_config_fail_at(self, node, path, "no worker may hold the main role "
                                     "(every %s has main: false)",
                                     config->node.types[0].name[0] ? "type" : "group");
    return 0;
}

/* A plain worker cannot take connections handed over by the coordinator:
 * with balancing shared, it accepts on the shared socket itself, which is
 * fair among plain workers (the kernel's queue) but races the
 * coordinator's accepts when protocol workers share the port: refused. */
int
corral_config_settle_plain_types(loader_t *self)
{
    corral_config_t *config = self->config;
    const corral_worker_group_t *plain = NULL, *protocol = NULL;
    yaml_node_t workers = { .start_mark = self->workers_mark };
    for (int i = 0; i < config->node.type_count; i++) {
        corral_worker_group_t *type = &config->node.types[i];
        struct stat st;
        if (type->program.cwd       /* given: it must be there (the default is the file's) */
            && (stat(type->program.cwd, &st) != 0 || !S_ISDIR(st.st_mode)))
            return corral_config_fail_at(self, &workers, "node.workers", "%s%scwd %s is not a "
                                         "directory", type->name[0] ? type->name : "",
                                         type->name[0] ? ": " : "", type->program.cwd);
        if (!type->program.cwd && !(type->program.cwd = strdup(self->dir)))
            return -1;
        if (type->http && type->plain && !plain)
            plain = type;
        if (type->http && !type->plain && !protocol)
            protocol = type;
    }
    if (plain && protocol && config->server.balancing == CORRAL_BALANCING_SHARED)
        return corral_config_fail_at(self, &workers, "node.workers",
                                     "%s has protocol: none and %s speaks the protocol, "
                                     "both serving HTTP, with server.balancing: shared: the "
                                     "coordinator hands connections to %s while %s would "
                                     "accept on the same socket itself, outside the "
                                     "balancing; use server.balancing: reuseport (a socket "
                                     "per worker), or make every HTTP type plain",
                                     plain->name, protocol->name, protocol->name, plain->name);
    return 0;
}

int
corral_config_parse_workers(loader_t *self, yaml_node_t *node, const char *path)
{
    corral_config_t *config = self->config;
    if (!names_types(self, node)) {
        if (corral_config_parse_section(self, node, path, corral_config_group_fields,
                                        &config->node.workers) != 0
            || corral_config_add_type(self, &config->node.workers) != 0)
            return -1;
    }
    else if (parse_types(self, node, path) != 0)
        return -1;
    return settle_types(self, node, path);
}
