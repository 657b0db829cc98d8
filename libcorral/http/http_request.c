/* http_request.c: what a route handler can read from a request and how it
 * answers it (corral/http.h). */
#include "http_request.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

corral_request_t *
corral_request_new(struct MHD_Connection *connection, const char *worker_name)
{
    corral_request_t *self = calloc(1, sizeof *self);
    if (self) {
        self->connection = connection;
        self->worker_name = worker_name;
    }
    return self;
}

void
corral_request_destroy(corral_request_t **self_p)
{
    corral_request_t *self = *self_p;
    if (!self)
        return;
    if (self->destroy_state)
        self->destroy_state(self->state);
    free(self->body);
    free(self->target);
    free(self);
    *self_p = NULL;
}

void
corral_request_append_body(corral_request_t *self, const char *data, size_t length)
{
    if (self->body_too_large)
        return;
    if (self->body_length + length > CORRAL_MAX_BODY_BYTES) {
        self->body_too_large = true;
        free(self->body);
        self->body = NULL;
        self->body_length = 0;
        self->body_capacity = 0;
        return;
    }
    size_t needed = self->body_length + length + 1;
    if (needed > self->body_capacity) {
        size_t capacity = self->body_capacity ? self->body_capacity : 256;
        while (capacity < needed)
            capacity *= 2;
        char *grown = realloc(self->body, capacity);
        if (!grown) {
            self->body_too_large = true;
            return;
        }
        self->body = grown;
        self->body_capacity = capacity;
    }
    memcpy(self->body + self->body_length, data, length);
    self->body_length += length;
    self->body[self->body_length] = '\0';
}

const char *
corral_request_method(const corral_request_t *self)
{
    return self->method;
}

const char *
corral_request_path(const corral_request_t *self)
{
    return self->path;
}

const char *
corral_request_query(const corral_request_t *self, const char *key)
{
    return MHD_lookup_connection_value(self->connection, MHD_GET_ARGUMENT_KIND, key);
}

const char *
corral_request_body(const corral_request_t *self, size_t *length)
{
    if (length)
        *length = self->body_length;
    return self->body ? self->body : "";
}

void *
corral_request_state(const corral_request_t *self)
{
    return self->state;
}

void
corral_request_set_state(corral_request_t *self, void *state, void (*destroy)(void *state))
{
    self->state = state;
    self->destroy_state = destroy;
}

void
corral_request_suspend(corral_request_t *self)
{
    if (self->suspended || self->responded)
        return;
    self->suspended = true;
    MHD_suspend_connection(self->connection);
}

void
corral_request_resume(corral_request_t *self)
{
    if (!self->suspended)
        return;
    self->suspended = false;
    MHD_resume_connection(self->connection);
    if (self->wake_server)
        self->wake_server(self->server);
}

void
corral_request_respond(corral_request_t *self, unsigned status,
                       const char *content_type, const void *body, size_t length)
{
    if (self->responded || self->suspended)
        return;
    struct MHD_Response *response = MHD_create_response_from_buffer(
        length, (void *) body, MHD_RESPMEM_MUST_COPY);
    if (!response)
        return;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(response, "X-Corral-Worker", self->worker_name);
    if (self->close_connection)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    if (MHD_queue_response(self->connection, status, response) == MHD_YES) {
        self->responded = true;
        self->status = status;
        self->response_bytes = length;
    }
    MHD_destroy_response(response);
}

void
corral_request_respond_json(corral_request_t *self, unsigned status, json_t *document)
{
    char *text = json_dumps(document, JSON_COMPACT);
    json_decref(document);
    if (!text) {
        static const char failure[] = "cannot serialize the response\n";
        corral_request_respond(self, 500, "text/plain", failure, sizeof failure - 1);
        return;
    }
    corral_request_respond(self, status, "application/json", text, strlen(text));
    free(text);
}

static const char *
reason_phrase(unsigned status)
{
    const char *phrase = MHD_get_reason_phrase_for(status);
    return phrase && *phrase ? phrase : "Error";
}

void
corral_request_respond_error(corral_request_t *self, unsigned status, const char *message)
{
    json_t *document = json_pack("{s:i, s:s, s:s}", "statusCode", (int) status,
                                 "error", reason_phrase(status), "message", message);
    corral_request_respond_json(self, status, document);
}
