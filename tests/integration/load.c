/* load.c: keep-alive HTTP connections in threads (load.h). */
#include "load.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define WORKER_NAMES_MAX 64
#define REPLY_MAX 16384
#define REQUESTS_PER_CONNECTION 20  /* then a new one: connections spread over the workers */

typedef struct {
    load_t *load;
    int index;
    pthread_t thread;
    int fd;
    char worker[32];            /* where this connection's last answer came from */
    unsigned requests;          /* on this connection */
    uint64_t ok, failed;
    char failed_on[8][32];
} connection_t;

struct load {
    int port;
    char request[512];
    char last_request[512];     /* the same with Connection: close */
    int count;
    connection_t connections[LOAD_CONNECTIONS_MAX];
    volatile bool stopping;
    pthread_mutex_t lock;
    char names[WORKER_NAMES_MAX][32];
    uint64_t served[WORKER_NAMES_MAX];
};

static int
connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    struct timeval timeout = { .tv_sec = 20 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (connect(fd, (struct sockaddr *) &address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
count_served(load_t *self, const char *worker)
{
    pthread_mutex_lock(&self->lock);
    for (int i = 0; i < WORKER_NAMES_MAX; i++) {
        if (!self->names[i][0])
            snprintf(self->names[i], sizeof self->names[i], "%s", worker);
        if (strcmp(self->names[i], worker) == 0) {
            self->served[i]++;
            break;
        }
    }
    pthread_mutex_unlock(&self->lock);
}

static void
header_value(const char *headers, const char *name, char *out, size_t size)
{
    *out = '\0';
    for (const char *line = strstr(headers, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, name, strlen(name)) != 0)
            continue;
        const char *value = line + 2 + strlen(name);
        while (*value == ' ')
            value++;
        size_t length = strcspn(value, "\r\n");
        snprintf(out, size, "%.*s", (int) (length < size ? length : size - 1), value);
        return;
    }
}

typedef enum { EXCHANGE_OK, EXCHANGE_NOTHING, EXCHANGE_FAILED } exchange_t;

/* One request and its answer on c->fd. EXCHANGE_NOTHING: the connection
 * was closed before any byte of an answer. */
static exchange_t
exchange(connection_t *c, bool *close_after)
{
    load_t *self = c->load;
    const char *request = ++c->requests % REQUESTS_PER_CONNECTION ? self->request
                                                                  : self->last_request;
    size_t length = strlen(request);
    if (send(c->fd, request, length, MSG_NOSIGNAL) != (ssize_t) length)
        return EXCHANGE_NOTHING;
    char reply[REPLY_MAX];
    size_t got = 0;
    char *end = NULL;
    while (!end) {
        ssize_t n = recv(c->fd, reply + got, sizeof reply - 1 - got, 0);
        if (n <= 0)
            return got == 0 && (n == 0 || errno == ECONNRESET) ? EXCHANGE_NOTHING
                                                               : EXCHANGE_FAILED;
        got += (size_t) n;
        reply[got] = '\0';
        end = strstr(reply, "\r\n\r\n");
        if (!end && got >= sizeof reply - 1)
            return EXCHANGE_FAILED;
    }
    char value[64];
    header_value(reply, "Content-Length:", value, sizeof value);
    size_t body = (size_t) atol(value);
    size_t header_length = (size_t) (end + 4 - reply);
    while (got < header_length + body) {
        char sink[4096];
        ssize_t n = recv(c->fd, sink, sizeof sink, 0);
        if (n <= 0)
            return EXCHANGE_FAILED;
        got += (size_t) n;
    }
    header_value(reply, "Connection:", value, sizeof value);
    *close_after = strcasecmp(value, "close") == 0;
    header_value(reply, "X-Corral-Worker:", c->worker, sizeof c->worker);
    int status = atoi(reply + 9);
    return strncmp(reply, "HTTP/1.1 ", 9) == 0 && status >= 200 && status < 300
        ? EXCHANGE_OK : EXCHANGE_FAILED;
}

static void
drop(connection_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static void
fail(connection_t *c)
{
    if (c->failed < 8)
        snprintf(c->failed_on[c->failed], sizeof c->failed_on[0], "%s",
                 c->worker[0] ? c->worker : "(none yet)");
    c->failed++;
    drop(c);
}

static void *
run_connection(void *arg)
{
    connection_t *c = arg;
    load_t *self = c->load;
    while (!self->stopping) {
        bool fresh = c->fd < 0;
        if (fresh)      /* whichever worker accepts it: unknown until it answers */
            snprintf(c->worker, sizeof c->worker, "%s", LOAD_NEW_CONNECTION);
        if (fresh && (c->fd = connect_to(self->port)) < 0) {
            fail(c);
            continue;
        }
        bool close_after = false;
        exchange_t result = exchange(c, &close_after);
        if (result == EXCHANGE_NOTHING && !fresh) {     /* closed while idle: retry once */
            drop(c);
            if ((c->fd = connect_to(self->port)) >= 0)
                result = exchange(c, &close_after);
        }
        if (result != EXCHANGE_OK) {
            fail(c);
            continue;
        }
        c->ok++;
        count_served(self, c->worker);
        if (close_after)
            drop(c);
    }
    drop(c);
    return NULL;
}

load_t *
load_start(int port, const char *path, int connections)
{
    load_t *self = calloc(1, sizeof *self);
    self->port = port;
    self->count = connections < LOAD_CONNECTIONS_MAX ? connections : LOAD_CONNECTIONS_MAX;
    snprintf(self->request, sizeof self->request,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    snprintf(self->last_request, sizeof self->last_request,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    pthread_mutex_init(&self->lock, NULL);
    for (int i = 0; i < self->count; i++) {
        connection_t *c = &self->connections[i];
        *c = (connection_t) { .load = self, .index = i, .fd = -1 };
        pthread_create(&c->thread, NULL, run_connection, c);
    }
    return self;
}

uint64_t
load_served_by(load_t *self, const char *worker)
{
    uint64_t served = 0;
    pthread_mutex_lock(&self->lock);
    for (int i = 0; i < WORKER_NAMES_MAX && self->names[i][0]; i++)
        if (strcmp(self->names[i], worker) == 0)
            served = self->served[i];
    pthread_mutex_unlock(&self->lock);
    return served;
}

uint64_t
load_ok(load_t *self)
{
    uint64_t ok = 0;
    pthread_mutex_lock(&self->lock);
    for (int i = 0; i < WORKER_NAMES_MAX; i++)
        ok += self->served[i];
    pthread_mutex_unlock(&self->lock);
    return ok;
}

void
load_stop(load_t **self_p, load_result_t *result)
{
    load_t *self = *self_p;
    self->stopping = true;
    memset(result, 0, sizeof *result);
    for (int i = 0; i < self->count; i++) {
        connection_t *c = &self->connections[i];
        pthread_join(c->thread, NULL);
        result->ok += c->ok;
        result->failed += c->failed;
        result->connection_failed[i] = c->failed;
        memcpy(result->failed_on[i], c->failed_on, sizeof c->failed_on);
    }
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}
