/* notify_socket.c: a plain worker's notify socket (notify_socket.h). */
#include "notify_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DATAGRAM_MAX 4096       /* sd_notify messages are a few lines */

struct corral_notify_socket {
    int fd;
    pid_t expected;
    uint64_t refused;
    char path[sizeof ((struct sockaddr_un *) 0)->sun_path];
};

corral_notify_socket_t *
corral_notify_socket_new(const char *path)
{
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof address.sun_path) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    corral_notify_socket_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    strcpy(self->path, path);
    strcpy(address.sun_path, path);
    int on = 1;
    unlink(path);
    self->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (self->fd < 0
        || setsockopt(self->fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0
        || bind(self->fd, (struct sockaddr *) &address, sizeof address) != 0) {
        int saved = errno;
        if (self->fd >= 0)
            close(self->fd);
        free(self);
        errno = saved;
        return NULL;
    }
    return self;
}

void
corral_notify_socket_destroy(corral_notify_socket_t **self_p)
{
    corral_notify_socket_t *self = *self_p;
    if (!self)
        return;
    close(self->fd);
    unlink(self->path);
    free(self);
    *self_p = NULL;
}

const char *
corral_notify_socket_path(const corral_notify_socket_t *self)
{
    return self->path;
}

int
corral_notify_socket_fd(const corral_notify_socket_t *self)
{
    return self->fd;
}

void
corral_notify_socket_expect(corral_notify_socket_t *self, pid_t pid)
{
    self->expected = pid;
}

uint64_t
corral_notify_socket_refused(const corral_notify_socket_t *self)
{
    return self->refused;
}

static bool
is(const char *line, size_t length, const char *assignment)
{
    return length == strlen(assignment) && memcmp(line, assignment, length) == 0;
}

void
corral_notify_parse(const char *text, size_t length, corral_notify_message_t *out)
{
    memset(out, 0, sizeof *out);
    const char *end = text + length;
    while (text < end) {
        const char *newline = memchr(text, '\n', (size_t) (end - text));
        size_t line = (size_t) ((newline ? newline : end) - text);
        if (is(text, line, "READY=1"))
            out->ready = true;
        else if (is(text, line, "WATCHDOG=1"))
            out->watchdog = true;
        else if (is(text, line, "WATCHDOG=trigger"))
            out->watchdog_trigger = true;
        else if (is(text, line, "STOPPING=1"))
            out->stopping = true;
        else if (is(text, line, "RELOADING=1"))
            out->reloading = true;
        else if (line >= 7 && memcmp(text, "STATUS=", 7) == 0) {
            size_t kept = line - 7 < sizeof out->status - 1 ? line - 7 : sizeof out->status - 1;
            memcpy(out->status, text + 7, kept);
            out->status[kept] = '\0';
            for (size_t i = 0; i < kept; i++)    /* one line in logs and views */
                if ((unsigned char) out->status[i] < 0x20)
                    out->status[i] = ' ';
            out->has_status = true;
        }
        /* anything else (MAINPID=, EXTEND_TIMEOUT_USEC=, ...) is ignored */
        text += line + (newline ? 1 : 0);
    }
}

int
corral_notify_socket_read(corral_notify_socket_t *self, corral_notify_message_t *out)
{
    char data[DATAGRAM_MAX];
    struct iovec iov = { data, sizeof data };
    union {
        char buffer[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(16 * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = control.buffer,
                              .msg_controllen = sizeof control.buffer };
    ssize_t n = recvmsg(self->fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    if (n < 0)
        return -1;
    const struct ucred *sender = NULL;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header;
         header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET)
            continue;
        if (header->cmsg_type == SCM_CREDENTIALS)
            sender = (const struct ucred *) CMSG_DATA(header);
        else if (header->cmsg_type == SCM_RIGHTS) {     /* FDSTORE=1: not kept */
            int count = (int) ((header->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < count; i++)
                close(((int *) CMSG_DATA(header))[i]);
        }
    }
    if (!sender || self->expected <= 0 || sender->pid != self->expected
        || (message.msg_flags & MSG_TRUNC)) {
        self->refused++;
        return 0;
    }
    corral_notify_parse(data, (size_t) n, out);
    return 1;
}
