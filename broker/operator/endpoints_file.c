/* endpoints_file.c: writing and removing endpoints.json. */
#include "endpoints_file.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "fsutil.h"

#define FORMAT_VERSION 1

static json_t *
remote_json(const corral_endpoints_t *endpoints)
{
    if (!endpoints->remote_desk)
        return json_null();
    return json_pack("{s:s, s:s, s:s, s:s}", "desk", endpoints->remote_desk,
                     "tap", endpoints->remote_tap, "bus-out", endpoints->remote_bus_out,
                     "server_public_key", endpoints->remote_public_key);
}

char *
corral_endpoints_file_write(const char *data_dir, const corral_endpoints_t *endpoints,
                            char **error)
{
    json_t *named = json_object();
    for (int i = 0; i < endpoints->count; i++)
        json_object_set_new(named, endpoints->names[i], json_string(endpoints->endpoints[i]));
    struct timeval now;
    gettimeofday(&now, NULL);
    json_t *document = json_pack(
        "{s:i, s:s, s:i, s:I, s:s, s:s, s:s, s:o, s:o}",
        "version", FORMAT_VERSION,
        "instance", endpoints->uuid,
        "pid", (int) getpid(),
        "started_unix_ms", (json_int_t) now.tv_sec * 1000 + now.tv_usec / 1000,
        "config", endpoints->config_file,
        "runtime_dir", endpoints->runtime_dir,
        "http", endpoints->http,
        "endpoints", named,
        "remote", remote_json(endpoints));
    char *text = document ? json_dumps(document, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(document);
    char *path = corral_format("%s/" CORRAL_ENDPOINTS_FILE, data_dir);
    if (!text || !path) {
        *error = strdup("out of memory");
        free(text);
        free(path);
        return NULL;
    }
    size_t length = strlen(text);
    text[length++] = '\n';      /* json_dumps leaves room: its NUL */
    if (corral_atomic_write(path, text, length) != 0) {
        *error = corral_format("cannot write %s: %s", path, strerror(errno));
        free(path);
        path = NULL;
    }
    free(text);
    return path;
}

void
corral_endpoints_file_remove(const char *path)
{
    json_t *document = json_load_file(path, 0, NULL);
    if (document && json_integer_value(json_object_get(document, "pid")) == getpid())
        unlink(path);
    json_decref(document);
}
