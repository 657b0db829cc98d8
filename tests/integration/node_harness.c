/* node_harness.c: the node service's test helpers. */
#include "node_harness.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
instance_write_node_config(instance_t *instance, int workers, const char *node_extra)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0 }\n"
             "path: { data: ./data }\n"
             "pid: { file: ./corral.pid }\n"
             "logging: { root: { level: debug } }\n"
             "node:\n"
             "  enabled: %s\n"
             "  workers: { count: %d, " TEST_WORKER " }\n"
             "  shutdown_timeout: 10s\n"
             "  debug_routes: true\n"
             "%s",
             workers > 0 ? "true" : "false", workers > 0 ? workers : 1,
             node_extra ? node_extra : "");
    instance_write_config(instance, yaml);
}

bool
instance_stop_cleanly(instance_t **instance, int timeout_ms)
{
    kill(instance_pid(*instance), SIGTERM);
    bool exited = instance_wait_exit(*instance, timeout_ms);
    int status = exited ? instance_exit_status(*instance) : -1;
    instance_destroy(instance);
    return exited && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

const char *
instance_runtime_dir(instance_t *instance)
{
    static char path[1024];
    char parent[400];
    snprintf(parent, sizeof parent, "%s/corral", instance_dir(instance));
    DIR *dir = opendir(parent);
    struct dirent *entry;
    path[0] = '\0';
    while (dir && (entry = readdir(dir)))
        if (entry->d_type == DT_DIR && entry->d_name[0] != '.')
            snprintf(path, sizeof path, "%s/%s", parent, entry->d_name);
    if (dir)
        closedir(dir);
    if (!path[0]) {
        fprintf(stderr, "node_harness: no runtime directory in %s\n", instance_dir(instance));
        abort();
    }
    return path;
}

static int
by_worker(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *) a, "worker"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *) b, "worker"));
    return x < y ? -1 : x > y;
}

json_t *
debug_node(instance_t *instance, const char *format, ...)
{
    char query[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(query, sizeof query, format, args);
    va_end(args);
    char path[1100];
    snprintf(path, sizeof path, "/api/debug/node?%s", query);
    response_t response;
    if (!http_get(instance_port(instance), path, &response) || response.status != 200
        || !json_is_array(json_object_get(response.json, "replies"))) {
        fprintf(stderr, "node_harness: GET %s: %ld %s\n", path, response.status,
                response.body ? response.body : "");
        abort();
    }
    json_t *replies = json_incref(json_object_get(response.json, "replies"));
    response_clear(&response);
    size_t count = json_array_size(replies);
    json_t **items = calloc(count + 1, sizeof *items);
    for (size_t i = 0; i < count; i++)
        items[i] = json_incref(json_array_get(replies, i));
    qsort(items, count, sizeof *items, by_worker);
    json_array_clear(replies);
    for (size_t i = 0; i < count; i++)
        json_array_append_new(replies, items[i]);
    free(items);
    return replies;
}

json_t *
reply_of(json_t *replies, int worker)
{
    size_t i;
    json_t *reply;
    json_array_foreach(replies, i, reply)
        if (json_integer_value(json_object_get(reply, "worker")) == worker)
            return json_object_get(reply, "result");
    return NULL;
}

json_t *
handler_of(json_t *result, const char *plugin, const char *type, int index)
{
    size_t i;
    json_t *handler;
    json_array_foreach(json_object_get(result, "handlers"), i, handler)
        if (strcmp(json_string_value(json_object_get(handler, "plugin")), plugin) == 0
            && strcmp(json_string_value(json_object_get(handler, "type")), type) == 0
            && index-- == 0)
            return handler;
    return NULL;
}

int
instance_wait_listening(instance_t *instance, int timeout_ms)
{
    static const char marker[] = "listening on http://";
    if (!instance_wait_output(instance, marker, timeout_ms))
        return -1;
    char *output = instance_output_copy(instance);
    const char *url = strstr(output, marker) + sizeof marker - 1;
    const char *colon = strchr(url, ':');
    int port = colon ? atoi(colon + 1) : -1;
    free(output);
    return port;
}

