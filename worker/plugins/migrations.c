/* migrations.c: the original design's example of work done by one worker
 * (RFC 5.3, 5.4). The store is <path.data>/store.json, versioned. Only the
 * main worker migrates it, atomically (a temporary file renamed into
 * place: a crash leaves the old store or the new one, never half of one),
 * and records each migration run in the store itself ("runs"), so the
 * number of migrations is visible on disk. It then broadcasts
 * `migration-complete` with persist. Every other worker holds its app
 * routes (503) and its readiness until that message arrives, however late
 * it subscribes. A store that cannot be read or migrated stops the
 * instance with an error naming the file.
 *
 * It uses only libcorral's public API (include/corral/), as a plugin of
 * your own would. */
#include "plugins.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "corral/log.h"
#include "corral/worker.h"

#define LOGGER "plugins.migrations"
#define STORE_FILE "store.json"
#define STORE_VERSION 2
#define WAITING "waiting for migration-complete from the main worker"

typedef struct {
    corral_plugin_handle_t *handle;
    corral_subscription_t *waiting;
} migrations_t;

static migrations_t migrations;     /* one per process: plugins are static */

/* --- The store ------------------------------------------------------------------ */

/* The store, or an empty one (version 0) when there is none yet. NULL
 * with *error set when the file is there but not a store. */
static json_t *
load_store(const char *file, char **error)
{
    if (access(file, F_OK) != 0)
        return json_pack("{s:i, s:[], s:{}}", "version", 0, "runs", "items");
    json_error_t json_error;
    json_t *store = json_load_file(file, 0, &json_error);
    json_t *version = store ? json_object_get(store, "version") : NULL;
    if (!store || !json_is_integer(version) || !json_is_array(json_object_get(store, "runs"))
        || json_integer_value(version) < 0 || json_integer_value(version) > STORE_VERSION) {
        if (asprintf(error, "%s is not a store this worker can migrate (%s)", file,
                     store ? "unknown version or shape" : json_error.text) < 0)
            *error = NULL;
        json_decref(store);
        return NULL;
    }
    return store;
}

/* The steps from each version to the next. */
static void
migrate_step(json_t *store, int from)
{
    if (from == 0)
        json_object_set_new(store, "items", json_object());
    else if (from == 1)
        json_object_set_new(store, "created_by", json_string("corral"));
    json_object_set_new(store, "version", json_integer(from + 1));
}

/* Writes the store under a fresh name beside `file` (mkostemp: mode 0600,
 * never an existing file or a planted link), fsyncs it and renames it
 * into place. */
static int
save_store(const char *file, json_t *store)
{
    char *temporary = NULL;
    if (asprintf(&temporary, "%s.XXXXXX", file) < 0)
        return -1;
    int fd = mkostemp(temporary, O_CLOEXEC);
    int rc = fd >= 0 && json_dumpfd(store, fd, JSON_INDENT(2)) == 0 && fsync(fd) == 0 ? 0 : -1;
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    if (rc == 0)
        rc = rename(temporary, file);
    if (rc != 0 && fd >= 0) {
        int saved = errno;
        unlink(temporary);
        errno = saved;
    }
    free(temporary);
    return rc;
}

/* Migrates the store to STORE_VERSION if it is older. Returns the version
 * it had (STORE_VERSION: nothing to do), or -1 (logged). */
static int
migrate(const char *data_path, int worker_id)
{
    char *file = NULL;
    char *error = NULL;
    if (asprintf(&file, "%s/%s", data_path, STORE_FILE) < 0)
        return -1;
    json_t *store = load_store(file, &error);
    int from = store ? (int) json_integer_value(json_object_get(store, "version")) : -1;
    if (store && from < STORE_VERSION) {
        for (int version = from; version < STORE_VERSION; version++)
            migrate_step(store, version);
        json_array_append_new(json_object_get(store, "runs"), json_pack(
            "{s:i, s:i, s:i, s:i, s:I}", "from", from, "to", STORE_VERSION,
            "worker_id", worker_id, "pid", (int) getpid(), "at", (json_int_t) time(NULL)));
        if (save_store(file, store) != 0) {
            if (asprintf(&error, "cannot write %s: %s", file, strerror(errno)) < 0)
                error = NULL;
            from = -1;
        }
        else
            corral_log_write(CORRAL_LOG_INFO, LOGGER, "migrated %s from version %d to %d",
                             file, from, STORE_VERSION);
    }
    if (from < 0)
        corral_log_write(CORRAL_LOG_FATAL, LOGGER, "migration failed: %s; stopping the instance",
                         error ? error : "out of memory");
    json_decref(store);
    free(error);
    free(file);
    return from;
}

/* --- The plugin ----------------------------------------------------------------- */

static void
on_migration_complete(const corral_message_t *message, void *arg)
{
    corral_log_write(CORRAL_LOG_INFO, LOGGER, "migration-complete: %.*s; serving app routes",
                     (int) message->len, (const char *) message->payload);
    corral_subscription_cancel(&migrations.waiting);
    corral_plugin_release(migrations.handle);
}

static int
migrations_setup(corral_plugin_handle_t *handle)
{
    corral_node_t *node = corral_plugin_node(handle);
    migrations.handle = handle;
    if (corral_node_is_main_worker(node))
        return 0;
    corral_plugin_hold(handle, WAITING);
    migrations.waiting = corral_node_on(node, "migration-complete", on_migration_complete, NULL);
    return migrations.waiting ? 0 : -1;
}

static int
migrations_start(corral_plugin_handle_t *handle)
{
    corral_node_t *node = corral_plugin_node(handle);
    if (!corral_node_is_main_worker(node))
        return 0;
    const char *data_path = corral_plugin_data_path(handle);
    int from = data_path ? migrate(data_path, corral_node_worker_id(node)) : -1;
    if (!data_path)
        corral_log_write(CORRAL_LOG_FATAL, LOGGER, "migration failed: the worker was handed "
                         "no data directory (path.data); stopping the instance");
    if (from < 0) {
        corral_plugin_fail_with(handle, CORRAL_WORKER_EXIT_MIGRATION);    /* never retried */
        return -1;
    }
    char payload[96];
    int length = snprintf(payload, sizeof payload, "{\"version\":%d,\"migrated\":%s}",
                          STORE_VERSION, from < STORE_VERSION ? "true" : "false");
    corral_broadcast_opts_t opts = { .persist = true };
    if (corral_node_broadcast(node, "migration-complete", payload, (size_t) length, &opts) != 0) {
        corral_log_write(CORRAL_LOG_FATAL, LOGGER, "cannot broadcast migration-complete");
        return -1;
    }
    return 0;
}

static void
migrations_stop(corral_plugin_handle_t *handle)
{
    corral_subscription_cancel(&migrations.waiting);
}

const corral_plugin_t corral_migrations_plugin = {
    .name = "migrations",
    .setup = migrations_setup,
    .start = migrations_start,
    .stop = migrations_stop,
};
