/* handoff.c: the worker's end of its connection channel in corral's
 * `shared` balancing mode (proto/handoff_wire.h, docs/worker-protocol.md),
 * for Node: Node's `net` cannot receive descriptors (SCM_RIGHTS), so this
 * addon polls the channel on Node's own libuv loop, takes the connections
 * the coordinator hands over and gives their descriptors to JavaScript,
 * which wraps each in a net.Socket. It also owns the counters page (a
 * shared memfd the coordinator reads to choose the least loaded worker):
 * `received` when a message is taken, `closed` when JavaScript says a
 * connection closed, `heartbeat` with both and on demand, exactly as
 * libcorral/http/handoff.c keeps them.
 *
 *   open(channelFd, countersFd, onConnections(fds[]))  -> channel
 *   closed(channel)      one handed connection closed
 *   beat(channel)        the loop turns (heartbeat + 1)
 *   held(channel)        received - closed
 *   say(channel, byte)   'R' ready, 'D' draining; true when sent
 *   stop(channel)        stop taking connections (what is queued stays
 *                        queued: the coordinator takes it back at exit) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <node_api.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <uv.h>

#include "handoff_wire.h"

#define MESSAGES_PER_TURN 16    /* then the loop serves what it took */

typedef struct {
    napi_env env;
    uv_poll_t poll;
    bool polling;
    int fd;
    corral_handoff_counters_t *counters;
    napi_ref callback;
    napi_async_context async;
} channel_t;

#define CHECK(call) do { if ((call) != napi_ok) return NULL; } while (0)

static napi_value
throw_errno(napi_env env, const char *what)
{
    char message[256];
    snprintf(message, sizeof message, "%s: %s", what, strerror(errno));
    napi_throw_error(env, NULL, message);
    return NULL;
}

static void
beat(channel_t *channel)
{
    atomic_fetch_add_explicit(&channel->counters->heartbeat, 1, memory_order_relaxed);
}

static void
on_readable(uv_poll_t *poll, int status, int events)
{
    channel_t *channel = poll->data;
    napi_env env = channel->env;
    int fds[MESSAGES_PER_TURN * CORRAL_HANDOFF_MAX_FDS];
    int count = 0;
    for (int i = 0; i < MESSAGES_PER_TURN; i++) {
        int n = corral_handoff_receive(channel->fd, fds + count);
        if (n < 0)
            break;
        atomic_fetch_add_explicit(&channel->counters->received, (uint64_t) n,
                                  memory_order_relaxed);
        beat(channel);
        count += n;
    }
    if (count == 0)
        return;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value array, callback, global, result;
    napi_create_array_with_length(env, (size_t) count, &array);
    for (int i = 0; i < count; i++) {
        napi_value fd;
        napi_create_int32(env, fds[i], &fd);
        napi_set_element(env, array, (uint32_t) i, fd);
    }
    napi_get_reference_value(env, channel->callback, &callback);
    napi_get_global(env, &global);
    if (napi_make_callback(env, channel->async, global, callback, 1, &array, &result)
        == napi_pending_exception) {
        napi_value error;
        napi_get_and_clear_last_exception(env, &error);
        napi_fatal_exception(env, error);
    }
    napi_close_handle_scope(env, scope);
}

static void
free_channel(napi_env env, void *data, void *hint)
{
    channel_t *channel = data;
    /* the uv handle may still be closing: only the page and the refs here */
    if (channel->counters)
        munmap(channel->counters, sizeof *channel->counters);
    channel->counters = NULL;
    napi_delete_reference(env, channel->callback);
    napi_async_destroy(env, channel->async);
    if (!channel->polling)
        free(channel);
    else
        channel->env = NULL;    /* freed when the handle closes */
}

static channel_t *
get_channel(napi_env env, napi_callback_info info, napi_value *args, size_t want)
{
    size_t argc = want;
    napi_value this_arg;
    if (napi_get_cb_info(env, info, &argc, args, &this_arg, NULL) != napi_ok || argc < want) {
        napi_throw_type_error(env, NULL, "missing arguments");
        return NULL;
    }
    void *data = NULL;
    if (napi_get_value_external(env, args[0], &data) != napi_ok || !data) {
        napi_throw_type_error(env, NULL, "not a channel");
        return NULL;
    }
    return data;
}

static napi_value
open_channel(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value args[3];
    CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
    int32_t fd, counters_fd;
    napi_valuetype type;
    if (argc < 3 || napi_get_value_int32(env, args[0], &fd) != napi_ok
        || napi_get_value_int32(env, args[1], &counters_fd) != napi_ok
        || napi_typeof(env, args[2], &type) != napi_ok || type != napi_function) {
        napi_throw_type_error(env, NULL, "open(channelFd, countersFd, onConnections)");
        return NULL;
    }
    void *page = mmap(NULL, sizeof(corral_handoff_counters_t), PROT_READ | PROT_WRITE,
                      MAP_SHARED, counters_fd, 0);
    if (page == MAP_FAILED)
        return throw_errno(env, "mmap of the handoff counters");
    close(counters_fd);
    channel_t *channel = calloc(1, sizeof *channel);
    if (!channel)
        return throw_errno(env, "calloc");
    channel->env = env;
    channel->fd = fd;
    channel->counters = page;
    napi_value name;
    uv_loop_t *loop;
    CHECK(napi_create_reference(env, args[2], 1, &channel->callback));
    CHECK(napi_create_string_utf8(env, "corral.handoff", NAPI_AUTO_LENGTH, &name));
    CHECK(napi_async_init(env, NULL, name, &channel->async));
    CHECK(napi_get_uv_event_loop(env, &loop));
    if (uv_poll_init(loop, &channel->poll, fd) != 0) {
        errno = EINVAL;
        return throw_errno(env, "uv_poll_init on the handoff channel");
    }
    channel->poll.data = channel;
    channel->polling = true;
    uv_poll_start(&channel->poll, UV_READABLE, on_readable);
    napi_value external;
    CHECK(napi_create_external(env, channel, free_channel, NULL, &external));
    return external;
}

static void
on_poll_closed(uv_handle_t *handle)
{
    channel_t *channel = handle->data;
    channel->polling = false;
    if (!channel->env)
        free(channel);  /* its external was collected first */
}

static napi_value
stop_channel(napi_env env, napi_callback_info info)
{
    napi_value args[1];
    channel_t *channel = get_channel(env, info, args, 1);
    if (channel && channel->polling && !uv_is_closing((uv_handle_t *) &channel->poll))
        uv_close((uv_handle_t *) &channel->poll, on_poll_closed);
    return NULL;
}

static napi_value
closed(napi_env env, napi_callback_info info)
{
    napi_value args[1];
    channel_t *channel = get_channel(env, info, args, 1);
    if (channel && channel->counters) {
        atomic_fetch_add_explicit(&channel->counters->closed, 1, memory_order_relaxed);
        beat(channel);
    }
    return NULL;
}

static napi_value
heartbeat(napi_env env, napi_callback_info info)
{
    napi_value args[1];
    channel_t *channel = get_channel(env, info, args, 1);
    if (channel && channel->counters)
        beat(channel);
    return NULL;
}

static napi_value
held(napi_env env, napi_callback_info info)
{
    napi_value args[1], result;
    channel_t *channel = get_channel(env, info, args, 1);
    if (!channel || !channel->counters)
        return NULL;
    uint64_t received = atomic_load_explicit(&channel->counters->received, memory_order_relaxed);
    uint64_t closed = atomic_load_explicit(&channel->counters->closed, memory_order_relaxed);
    CHECK(napi_create_double(env, received > closed ? (double) (received - closed) : 0, &result));
    return result;
}

static napi_value
say(napi_env env, napi_callback_info info)
{
    napi_value args[2], result;
    channel_t *channel = get_channel(env, info, args, 2);
    int32_t what;
    if (!channel || napi_get_value_int32(env, args[1], &what) != napi_ok)
        return NULL;
    char byte = (char) what;
    bool sent = send(channel->fd, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1;
    CHECK(napi_get_boolean(env, sent, &result));
    return result;
}

static napi_value
init(napi_env env, napi_value exports)
{
    napi_property_descriptor methods[] = {
        { "open", NULL, open_channel, NULL, NULL, NULL, napi_default, NULL },
        { "stop", NULL, stop_channel, NULL, NULL, NULL, napi_default, NULL },
        { "closed", NULL, closed, NULL, NULL, NULL, napi_default, NULL },
        { "beat", NULL, heartbeat, NULL, NULL, NULL, napi_default, NULL },
        { "held", NULL, held, NULL, NULL, NULL, napi_default, NULL },
        { "say", NULL, say, NULL, NULL, NULL, napi_default, NULL },
    };
    napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
    return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
