/* hello.c: your own worker program, built outside corral's tree against
 * the installed libcorral (see README.md here). One plugin, "hello":
 *   GET  /hello             a greeting from the worker that served it
 *   POST /hello/shout?text= broadcast `text` to every worker (this one too)
 *   GET  /hello/heard       the last shout this worker heard, from whom
 * Each worker logs what it hears (logger `plugins.hello`, corral/log.h):
 * the line lands in the instance's log beside corral's own.
 * Run it as node.workers.command of a corral instance. */
#include <corral/log.h>
#include <corral/status.h>
#include <corral/worker.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    corral_plugin_handle_t *handle;
    corral_subscription_t *shouts;
    char heard[256];
    int heard_from;             /* worker id; 0: nothing heard yet */
} hello_t;

static void
greet(corral_request_t *request, void *arg)
{
    hello_t *self = arg;
    const corral_identity_t *me = corral_plugin_identity(self->handle);
    json_t *body = json_pack("{s:s, s:s, s:i, s:b}", "hello", "world", "worker",
                             me->worker_name, "pid", (int) me->pid, "main", me->main);
    corral_request_respond_json(request, 200, body);
}

static void
shout(corral_request_t *request, void *arg)
{
    hello_t *self = arg;
    const char *text = corral_request_query(request, "text");
    if (!text || !*text || strlen(text) >= sizeof self->heard) {
        corral_request_respond_error(request, 400, "text: 1 to 255 characters");
        return;
    }
    corral_broadcast_opts_t opts = { .send_to_self = true };
    if (corral_node_broadcast(corral_plugin_node(self->handle), "shout", text, strlen(text),
                              &opts) != 0) {
        corral_request_respond_error(request, 503, "the bus is busy");
        return;
    }
    corral_request_respond_json(request, 202, json_pack("{s:s}", "shouted", text));
}

static void
heard(corral_request_t *request, void *arg)
{
    hello_t *self = arg;
    corral_request_respond_json(request, 200, json_pack("{s:s, s:i}", "heard", self->heard,
                                                        "from", self->heard_from));
}

static void
on_shout(const corral_message_t *message, void *arg)
{
    hello_t *self = arg;
    size_t length = message->len < sizeof self->heard ? message->len : sizeof self->heard - 1;
    memcpy(self->heard, message->payload, length);
    self->heard[length] = '\0';
    self->heard_from = message->sender_worker_id;
    corral_log_write(CORRAL_LOG_INFO, "plugins.hello", "heard \"%s\" from worker %d",
                     self->heard, self->heard_from);
}

static int
setup(corral_plugin_handle_t *handle)
{
    hello_t *self = calloc(1, sizeof *self);
    if (!self)
        return -1;
    self->handle = handle;
    corral_plugin_set_state(handle, self);
    self->shouts = corral_node_on(corral_plugin_node(handle), "shout", on_shout, self);
    if (!self->shouts
        || corral_plugin_route(handle, "GET", "/hello", greet, self) != 0
        || corral_plugin_route(handle, "POST", "/hello/shout", shout, self) != 0
        || corral_plugin_route(handle, "GET", "/hello/heard", heard, self) != 0)
        return -1;
    return corral_plugin_set_status(handle, CORRAL_STATUS_AVAILABLE, "ready to greet");
}

static void
stop(corral_plugin_handle_t *handle)
{
    hello_t *self = corral_plugin_state(handle);
    if (!self)
        return;
    corral_subscription_cancel(&self->shouts);
    free(self);
    corral_plugin_set_state(handle, NULL);
}

static const corral_plugin_t hello_plugin = { .name = "hello", .setup = setup, .stop = stop };

int
main(void)
{
    corral_worker_t *worker = corral_worker_new();
    if (!worker || corral_worker_add_plugin(worker, &hello_plugin) != 0)
        return 1;
    int exit_code = corral_worker_run(worker);
    corral_worker_destroy(&worker);
    return exit_code;
}
