/* test_notify_socket.c: a plain worker's notify socket: sd_notify's lines
 * parsed (READY, WATCHDOG, STATUS, STOPPING, RELOADING, the rest ignored),
 * a datagram from the expected process taken, one from any other process
 * refused and counted, the file removed with the socket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "notify_socket.h"

static void
test_lines_are_parsed(void **state)
{
    corral_notify_message_t message;
    const char text[] = "READY=1\nSTATUS=serving 4 workers\tnow\nMAINPID=12\nWATCHDOG=1";
    corral_notify_parse(text, sizeof text - 1, &message);
    assert_true(message.ready);
    assert_true(message.watchdog);
    assert_false(message.stopping);
    assert_false(message.reloading);
    assert_true(message.has_status);
    assert_string_equal(message.status, "serving 4 workers now");
    corral_notify_parse("STOPPING=1\nRELOADING=1\n", 22, &message);
    assert_true(message.stopping && message.reloading && !message.ready);
    assert_false(message.has_status);
    corral_notify_parse("READY=0\nREADY=1x\nWATCHDOG=trigger", 33, &message);
    assert_false(message.ready);
    assert_true(message.watchdog_trigger);
}

static void
send_datagram(const char *path, const char *text)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    strcpy(address.sun_path, path);
    assert_int_equal(sendto(fd, text, strlen(text), 0, (struct sockaddr *) &address,
                            sizeof address), (ssize_t) strlen(text));
    close(fd);
}

static void
test_only_the_expected_process_is_heard(void **state)
{
    char path[] = "/tmp/corral-notify-XXXXXX";
    assert_non_null(mkdtemp(path));
    char socket_path[64];
    snprintf(socket_path, sizeof socket_path, "%s/notify-1-1", path);
    corral_notify_socket_t *notify = corral_notify_socket_new(socket_path);
    assert_non_null(notify);
    corral_notify_message_t message;
    assert_int_equal(corral_notify_socket_read(notify, &message), -1);    /* none yet */

    pid_t child = fork();
    if (child == 0) {
        send_datagram(socket_path, "READY=1\nSTATUS=up");
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    corral_notify_socket_expect(notify, child);
    /* another process (this one) is refused */
    send_datagram(socket_path, "READY=1");
    /* the child's came first */
    assert_int_equal(corral_notify_socket_read(notify, &message), 1);
    assert_true(message.ready);
    assert_string_equal(message.status, "up");
    assert_int_equal(corral_notify_socket_read(notify, &message), 0);
    assert_int_equal(corral_notify_socket_refused(notify), 1);
    assert_int_equal(corral_notify_socket_read(notify, &message), -1);

    corral_notify_socket_destroy(&notify);
    assert_null(notify);
    assert_int_not_equal(access(socket_path, F_OK), 0);
    rmdir(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_are_parsed),
        cmocka_unit_test(test_only_the_expected_process_is_heard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
