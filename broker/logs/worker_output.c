/* worker_output.c: a worker's stdout and stderr into the central log
 * (worker_output.h). */
#include "worker_output.h"

#include <errno.h>
#include <stdlib.h>

#include "output_capture.h"

#define READ_BUDGET (64 * 1024)     /* per wake-up and stream: a chatty worker
                                     * does not hold up the loop */

struct corral_worker_output {
    zloop_t *loop;
    corral_log_collector_t *logs;
    int worker_id;
    pid_t pid;
    corral_output_capture_t *capture;
    zmq_pollitem_t items[2];
    bool polling[2];
};

static void
write_line(void *arg, int stream, corral_level_t level, const char *message, const char *meta)
{
    corral_worker_output_t *self = arg;
    corral_log_collector_write_output(self->logs, self->worker_id, self->pid,
                                      stream == 1 ? "stdout" : "stderr", level, message, meta);
}

static void
stop_polling(corral_worker_output_t *self, int index)
{
    if (self->polling[index]) {
        zloop_poller_end(self->loop, &self->items[index]);
        self->polling[index] = false;
    }
}

static int
on_readable(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    corral_worker_output_t *self = arg;
    int index = item->fd == self->items[1].fd;
    if (corral_output_capture_read(self->capture, index + 1, READ_BUDGET) < 0)
        stop_polling(self, index);      /* end of file */
    return 0;
}

corral_worker_output_t *
corral_worker_output_new(zloop_t *loop, corral_log_collector_t *logs, int worker_id)
{
    corral_worker_output_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->logs = logs;
    self->worker_id = worker_id;
    self->capture = corral_output_capture_new(write_line, self);
    if (!self->capture) {
        int saved = errno;
        free(self);
        errno = saved;
        return NULL;
    }
    return self;
}

void
corral_worker_output_destroy(corral_worker_output_t **self_p)
{
    corral_worker_output_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < 2; i++)
        stop_polling(self, i);
    corral_output_capture_destroy(&self->capture);
    free(self);
    *self_p = NULL;
}

int
corral_worker_output_child_fd(const corral_worker_output_t *self, int stream)
{
    return corral_output_capture_child_fd(self->capture, stream);
}

int
corral_worker_output_started(corral_worker_output_t *self, pid_t pid)
{
    self->pid = pid;
    corral_output_capture_forked(self->capture);
    for (int i = 0; i < 2; i++) {
        self->items[i] = (zmq_pollitem_t) {
            NULL, corral_output_capture_fd(self->capture, i + 1), ZMQ_POLLIN, 0 };
        if (zloop_poller(self->loop, &self->items[i], on_readable, self) != 0)
            return -1;
        self->polling[i] = true;
    }
    return 0;
}

void
corral_worker_output_finish(corral_worker_output_t *self)
{
    for (int i = 0; i < 2; i++)
        stop_polling(self, i);
    corral_output_capture_finish(self->capture);
}
