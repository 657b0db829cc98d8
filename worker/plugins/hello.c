/* hello.c: the reference worker's application, as small as one can be:
 *   GET /api/hello    {"message":"hello"}
 * an app route (corral_plugin_app_route): it answers 503 while the
 * migrations plugin holds the worker, like any application's route. Its
 * body is what tools/bench-http.sh measures as the tiny route. */
#include "plugins.h"

static void
hello(corral_request_t *request, void *arg)
{
    static const char body[] = "{\"message\":\"hello\"}";
    corral_request_respond(request, 200, "application/json", body, sizeof body - 1);
}

static int
hello_setup(corral_plugin_handle_t *handle)
{
    return corral_plugin_app_route(handle, "GET", "/api/hello", hello, NULL);
}

const corral_plugin_t corral_hello_plugin = {
    .name = "hello",
    .setup = hello_setup,
};
