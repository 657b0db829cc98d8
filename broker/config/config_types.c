/* config_types.c: node.workers, one group of workers or named types of
 * them (docs/architecture.md section 11): which keys name a type, each type's keys and
 * defaults, the instance-wide keys beside them, and which types may hold
 * the main role. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
group_field(const field_t *fields, const char *name)
{
    while (fields->name && strcmp(fields->name, name) != 0)
        fields++;
    return fields->name ? fields : NULL;
}

/* A key of node.workers that names a type: it holds a mapping where its
 * group key, if it is one, holds none (`http: { count: 2 }` is a type,
 * `http: false` the group's key), or nothing at all where no group key has
 * that name. */
static bool
holds_type(loader_t *self, yaml_node_t *key, yaml_node_t *value, const field_t *fields)
{
    const field_t *field = key->type == YAML_SCALAR_NODE
        ? group_field(fields, corral_config_scalar_text(key)) : NULL;
    if (value->type == YAML_MAPPING_NODE)
        return !field || (field->kind != VALUE_SECTION && field->kind != VALUE_ENV);
    return corral_config_is_null(value) && key->type == YAML_SCALAR_NODE && !field;
}

/* Named types: some key of node.workers names one. */
static bool
names_types(loader_t *self, yaml_node_t *node, const field_t *fields)
{
    if (node->type != YAML_MAPPING_NODE)
        return false;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++)
        if (holds_type(self, yaml_document_get_node(self->document, pair->key),
                       yaml_document_get_node(self->document, pair->value), fields))
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
    type->program = (corral_worker_program_t) { NULL, NULL };
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
parse_type(loader_t *self, yaml_node_t *key, yaml_node_t *value, const char *path,
           const field_t *fields)
{
    const char *name = corral_config_scalar_text(key);
    if (!corral_worker_type_name_valid(name, CORRAL_WORKER_TYPE_NAME_MAX))
        return corral_config_fail_at(self, key, path, "not a worker type name (a letter or _, "
                                     "then letters, digits and _; at most %d characters)",
                                     CORRAL_WORKER_TYPE_NAME_MAX - 1);
    if (!corral_config_is_null(value) && value->type != YAML_MAPPING_NODE)
        return corral_config_fail_expected(self, value, path, "a mapping of the type's keys");
    bool empty = corral_config_is_null(value);
    for (yaml_node_pair_t *pair = empty ? NULL : value->data.mapping.pairs.start;
         pair && pair < value->data.mapping.pairs.top; pair++) {
        yaml_node_t *inner = yaml_document_get_node(self->document, pair->key);
        const field_t *field = inner->type == YAML_SCALAR_NODE
            ? group_field(fields, corral_config_scalar_text(inner)) : NULL;
        if (field && instance_wide(field))
            return corral_config_fail_at(self, inner, path, "%s is set once for every type: "
                                         "node.workers.%s", field->name, field->name);
    }
    corral_worker_group_t type = {
        .count_auto = true, .http = true, .main = true,
        .heartbeat_timeout_ms = self->config->node.workers.heartbeat_timeout_ms,
        .recycle.jitter_percent = DEFAULT_RECYCLE_JITTER,
    };
    snprintf(type.name, sizeof type.name, "%s", name);
    int rc = corral_config_parse_section(self, value, path, fields, &type);
    if (rc == 0)
        rc = corral_config_add_type(self, &type);
    corral_worker_program_clear(&type.program);
    return rc;
}

/* Named types: node.workers' keys are types, but for the instance-wide
 * keys (heartbeat_timeout). */
static int
parse_types(loader_t *self, yaml_node_t *node, const char *path, const field_t *fields)
{
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(self->document, pair->key);
        yaml_node_t *value = yaml_document_get_node(self->document, pair->value);
        if (key->type != YAML_SCALAR_NODE)
            return corral_config_fail_expected(self, key, path, "a worker type name");
        char child[KEY_PATH_MAX];
        snprintf(child, sizeof child, "%s.%s", path, corral_config_scalar_text(key));
        for (yaml_node_pair_t *earlier = node->data.mapping.pairs.start; earlier < pair;
             earlier++) {
            yaml_node_t *other = yaml_document_get_node(self->document, earlier->key);
            if (other->type == YAML_SCALAR_NODE
                && !strcmp(corral_config_scalar_text(other), corral_config_scalar_text(key)))
                return corral_config_fail_at(self, key, child, "duplicate key");
        }
        const field_t *field = group_field(fields, corral_config_scalar_text(key));
        if (holds_type(self, key, value, fields)) {
            if (parse_type(self, key, value, child, fields) != 0)
                return -1;
        }
        else if (field && instance_wide(field)) {
            if (corral_config_parse_value(self, value, child, field,
                                          &self->config->node.workers) != 0)
                return -1;
        }
        else if (field)
            return corral_config_fail_at(self, key, child, "a key of one group of workers "
                                         "beside named "
                                         "worker types: set it in each type");
        else if (parse_type(self, key, value, child, fields) != 0)
            return -1;
    }
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
    for (int i = 0; i < config->node.type_count; i++) {
        const corral_worker_group_t *type = &config->node.types[i];
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

int
corral_config_parse_workers(loader_t *self, yaml_node_t *node, const char *path,
                            const field_t *fields)
{
    corral_config_t *config = self->config;
    if (!names_types(self, node, fields)) {
        if (corral_config_parse_section(self, node, path, fields, &config->node.workers) != 0
            || corral_config_add_type(self, &config->node.workers) != 0)
            return -1;
    }
    else if (parse_types(self, node, path, fields) != 0)
        return -1;
    return settle_types(self, node, path);
}
