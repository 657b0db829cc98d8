/* signals.c: a signalfd registered with a zloop (signals.h). */
#include "signals.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct corral_signals {
    zloop_t *loop;
    int fd;
    zmq_pollitem_t item;
    corral_signal_fn *fn;
    void *arg;
};

static int
on_readable(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    corral_signals_t *self = arg;
    struct signalfd_siginfo info;
    int rc = 0;
    while (read(self->fd, &info, sizeof info) == (ssize_t) sizeof info)
        if (self->fn((int) info.ssi_signo, self->arg) != 0)
            rc = -1;
    return rc;
}

corral_signals_t *
corral_signals_new(zloop_t *loop, const int *signals, size_t count,
                   corral_signal_fn *fn, void *arg)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < count; i++)
        sigaddset(&set, signals[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return NULL;
    corral_signals_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    *self = (corral_signals_t) { loop, signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC),
                                 { 0 }, fn, arg };
    self->item = (zmq_pollitem_t) { NULL, self->fd, ZMQ_POLLIN, 0 };
    if (self->fd < 0 || zloop_poller(loop, &self->item, on_readable, self) != 0)
        corral_signals_destroy(&self);
    return self;
}

int
corral_signals_fd(const corral_signals_t *self)
{
    return self->fd;
}

void
corral_signals_destroy(corral_signals_t **self_p)
{
    corral_signals_t *self = *self_p;
    if (!self)
        return;
    if (self->fd >= 0) {
        zloop_poller_end(self->loop, &self->item);
        close(self->fd);
    }
    free(self);
    *self_p = NULL;
}

static void
on_sigpipe(int signal_number)
{
    (void) signal_number;       /* the write that raised it fails with EPIPE */
}

void
corral_signals_survive_sigpipe(void)
{
    struct sigaction action = { .sa_handler = on_sigpipe, .sa_flags = SA_RESTART };
    sigemptyset(&action.sa_mask);
    sigaction(SIGPIPE, &action, NULL);
}
