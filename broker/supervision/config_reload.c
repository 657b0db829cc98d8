/* config_reload.c: comparing a reloaded configuration with the running one. */
#include "config_reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker_config.h"

#define LOGGER "coordinator"

/* What a reload kept, for its reply: "server.port 8080 (9090 in the file)". */
typedef struct {
    char *text;
    size_t size;
    int count;
} kept_t;

static void
note_kept(kept_t *kept, const char *key, const char *running, const char *next)
{
    corral_log(CORRAL_LEVEL_WARN, LOGGER, "reload: %s changed (%s -> %s): it needs a restart; "
               "keeping %s", key, running, next, running);
    size_t used = strlen(kept->text);
    if (used < kept->size)
        snprintf(kept->text + used, kept->size - used, "%s%s %s (%s in the file)",
                 kept->count ? ", " : "", key, running, next);
    kept->count++;
}

static void
keep_string(const char *key, char *const *running, char **next, kept_t *kept)
{
    if (strcmp(*running ? *running : "", *next ? *next : "") == 0)
        return;
    note_kept(kept, key, *running ? *running : "none", *next ? *next : "none");
    free(*next);
    *next = *running ? strdup(*running) : NULL;
}

static void
keep_int(const char *key, int running, int *next, kept_t *kept)
{
    if (running == *next)
        return;
    char was[16], now[16];
    snprintf(was, sizeof was, "%d", running);
    snprintf(now, sizeof now, "%d", *next);
    note_kept(kept, key, was, now);
    *next = running;
}

int
corral_config_pin_restart_keys(const corral_config_t *running, corral_config_t *next,
                               char *kept_keys, size_t size)
{
    char none[1];
    kept_t kept = { size ? kept_keys : none, size ? size : sizeof none, 0 };
    kept.text[0] = '\0';
    keep_string("server.host", &running->server.host, &next->server.host, &kept);
    keep_string("path.data", &running->path.data, &next->path.data, &kept);
    keep_string("pid.file", &running->pid.file, &next->pid.file, &kept);
    int port = next->server.port, balancing = (int) next->server.balancing;
    int enabled = next->node.enabled;
    keep_int("server.port", running->server.port, &port, &kept);
    keep_int("server.balancing", (int) running->server.balancing, &balancing, &kept);
    keep_int("node.enabled", running->node.enabled, &enabled, &kept);
    next->server.port = port;
    next->server.balancing = (corral_balancing_t) balancing;
    next->node.enabled = enabled;
    return kept.count;
}

static bool
strings_differ(char *const *a, char *const *b)
{
    for (; a && b && *a && *b; a++, b++)
        if (strcmp(*a, *b) != 0)
            return true;
    return (a && *a) != (b && *b);
}

/* The WorkerConfig of slot 1, packed, without what a reload applies in
 * place (logging) or what is the instance's (endpoints, UUID). */
static uint8_t *
packed_worker(const corral_config_t *config, size_t *size)
{
    corral_worker_config_t worker;
    corral_worker_config_init(&worker, config, 1, 1, 0, true);
    worker.message.logging = NULL;
    corral_worker_config_set_node(&worker, "", NULL, NULL);
    *size = corral__v1__worker_config__get_packed_size(&worker.message);
    uint8_t *packed = malloc(*size ? *size : 1);
    if (packed)
        corral__v1__worker_config__pack(&worker.message, packed);
    return packed;
}

bool
corral_config_workers_differ(const corral_config_t *a, const corral_config_t *b)
{
    size_t size_a, size_b;
    uint8_t *packed_a = packed_worker(a, &size_a), *packed_b = packed_worker(b, &size_b);
    bool differ = !packed_a || !packed_b || size_a != size_b
               || memcmp(packed_a, packed_b, size_a) != 0;
    free(packed_a);
    free(packed_b);
    return differ;
}

bool
corral_slot_specs_differ(const corral_slot_spec_t *a, const corral_slot_spec_t *b)
{
    const corral_worker_group_t *x = a->type, *y = b->type;
    return strcmp(a->name, b->name) != 0 || a->http != b->http
        || a->listen_index != b->listen_index || a->max_memory != b->max_memory
        || a->recycle_max_rss != b->recycle_max_rss
        || a->recycle_max_requests != b->recycle_max_requests
        || a->recycle_jitter_percent != b->recycle_jitter_percent
        || strings_differ(x->program.command, y->program.command)
        || strings_differ(x->program.env, y->program.env)
        || strcmp(x->program.cwd ? x->program.cwd : "", y->program.cwd ? y->program.cwd : "")
        || x->plain != y->plain || x->ready_after_ms != y->ready_after_ms
        || x->watchdog_ms != y->watchdog_ms
        || x->startup_delay_ms != y->startup_delay_ms
        || x->heartbeat_timeout_ms != y->heartbeat_timeout_ms;
}

bool
corral_binary_id(const char *path, corral_binary_id_t *id)
{
    struct stat st;
    memset(id, 0, sizeof *id);
    if (!path || stat(path, &st) != 0)
        return false;
    *id = (corral_binary_id_t) { st.st_dev, st.st_ino, st.st_size, st.st_mtim };
    return true;
}

bool
corral_binary_id_equal(const corral_binary_id_t *a, const corral_binary_id_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size
        && a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}
