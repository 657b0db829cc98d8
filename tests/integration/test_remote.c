/* test_remote.c: node.remote over CURVE: an authorised key reads desk
 * and tap through corralctl --remote; an unknown key and a plain client get
 * nothing; the remote desk checks the protocol version; SIGUSR2 with
 * node.remote is refused up front; node.remote without keys is a
 * configuration error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <czmq.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "tools_harness.h"

static void
keygen(instance_t *instance, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/keys/%s", instance_dir(instance), name);
    char *argv[] = { CORRALCTL, "keygen", path, NULL };
    int status = run_program(NULL, argv);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* corralctl --remote DESK --key keys/KEY --server-key keys/server ARGS... */
static void
remote_args(instance_t *instance, char **argv, const char *desk, const char *key)
{
    static char key_path[600], server_path[600];
    snprintf(key_path, sizeof key_path, "%s/keys/%s", instance_dir(instance), key);
    snprintf(server_path, sizeof server_path, "%s/keys/server", instance_dir(instance));
    argv[0] = "--remote";
    argv[1] = (char *) desk;
    argv[2] = "--key";
    argv[3] = key_path;
    argv[4] = "--server-key";
    argv[5] = server_path;
}

static void
test_remote_curve(void **state)
{
    instance_t *instance = instance_new();
    char path[600];
    snprintf(path, sizeof path, "%s/keys", instance_dir(instance));
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/keys/clients", instance_dir(instance));
    mkdir(path, 0700);
    keygen(instance, "server");
    keygen(instance, "clients/operator");
    keygen(instance, "stranger");
    /* the operator's secret stays beside its public key: zauth reads only
     * the public certificates of the directory */
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0 }\n"
             "path: { data: ./data }\n"
             "pid: { file: ./corral.pid }\n"
             "node:\n"
             "  workers: { count: 1 }\n"
             "  shutdown_timeout: 10s\n"
             "  remote: { endpoint: \"tcp://127.0.0.1:0\",\n"
             "            curve: { secret_key: ./keys/server_secret,"
             " authorized_keys: ./keys/clients } }\n"
             "logging: { root: { level: debug } }\n");
    instance_write_config(instance, yaml);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, DEADLINE_MS));
    json_t *document = json_load_file(endpoints_path(instance), 0, NULL);
    json_t *remote = json_object_get(document, "remote");
    char desk[128], tap[128];
    snprintf(desk, sizeof desk, "%s", json_string_value(json_object_get(remote, "desk")));
    snprintf(tap, sizeof tap, "%s", json_string_value(json_object_get(remote, "tap")));
    assert_true(strncmp(desk, "tcp://127.0.0.1:", 16) == 0);
    json_decref(document);

    /* an authorised key: desk answers, tap delivers */
    char *argv[20] = { CORRALCTL };
    remote_args(instance, argv + 1, desk, "clients/operator_secret");
    argv[7] = "status";
    argv[8] = NULL;
    int status = run_program(NULL, argv);
    assert_int_equal(WEXITSTATUS(status), 0);
    follower_t follower;
    char *follow_args[12];
    remote_args(instance, follow_args, desk, "clients/operator_secret");
    follow_args[6] = "events";
    follow_args[7] = "-f";
    follow_args[8] = NULL;
    follow(instance, &follower, "remote-events", follow_args);
    await_events_follower(instance, &follower);
    stop_follower(&follower);

    /* an unknown key: nothing answers */
    remote_args(instance, argv + 1, desk, "stranger_secret");
    argv[7] = "--timeout";
    argv[8] = "1000";
    argv[9] = "status";
    argv[10] = NULL;
    status = run_program(NULL, argv);
    assert_int_equal(WEXITSTATUS(status), 69);

    /* a plain client: no answer on desk, nothing on tap */
    zsock_t *plain_desk = zsock_new_dealer(desk);
    zsock_t *plain_tap = zsock_new_sub(tap, "");
    Corral__V1__ToolHello hello = CORRAL__V1__TOOL_HELLO__INIT;
    hello.name = "plain";
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_TOOL_HELLO;
    envelope.tool_hello = &hello;
    zmsg_t *message = zmsg_new();
    zmsg_addmem(message, "", 0);
    zframe_t *frame = corral_envelope_pack(&envelope);
    zmsg_append(message, &frame);
    zmsg_send(&message, plain_desk);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ctl(instance, NULL, "reopen-logs", NULL), 0);
    zpoller_t *poller = zpoller_new(plain_desk, plain_tap, NULL);
    assert_null(zpoller_wait(poller, 1000));
    zpoller_destroy(&poller);
    zsock_destroy(&plain_desk);
    zsock_destroy(&plain_tap);

    /* the remote desk checks the protocol version as the local one does:
     * an authorised client's ToolHello of another version is refused,
     * with the reason */
    char key_path[600], server_path[600];
    snprintf(key_path, sizeof key_path, "%s/keys/clients/operator_secret",
             instance_dir(instance));
    snprintf(server_path, sizeof server_path, "%s/keys/server", instance_dir(instance));
    zcert_t *client_cert = zcert_load(key_path);
    zcert_t *server_cert = zcert_load(server_path);
    assert_non_null(client_cert);
    assert_non_null(server_cert);
    zsock_t *curve_desk = zsock_new(ZMQ_DEALER);
    zcert_apply(client_cert, curve_desk);
    zsock_set_curve_serverkey(curve_desk, zcert_public_txt(server_cert));
    zsock_set_rcvtimeo(curve_desk, DEADLINE_MS);
    assert_int_equal(zsock_connect(curve_desk, "%s", desk), 0);
    envelope.protocol = CORRAL_PROTOCOL_VERSION + 1;
    frame = zframe_new(NULL, corral__v1__envelope__get_packed_size(&envelope));
    corral__v1__envelope__pack(&envelope, zframe_data(frame));
    message = zmsg_new();
    zmsg_addmem(message, "", 0);
    zmsg_append(message, &frame);
    zmsg_send(&message, curve_desk);
    zmsg_t *reply = zmsg_recv(curve_desk);
    assert_non_null(reply);
    corral_envelope_t *answer = corral_envelope_decode(zmsg_last(reply));
    assert_non_null(answer);
    assert_int_equal(answer->body_case, CORRAL__V1__ENVELOPE__BODY_TOOL_REPLY);
    assert_false(answer->tool_reply->ok);
    assert_non_null(strstr(answer->tool_reply->error, "protocol version"));
    corral_envelope_free(&answer);
    zmsg_destroy(&reply);
    zsock_destroy(&curve_desk);
    zcert_destroy(&client_cert);
    zcert_destroy(&server_cert);

    /* SIGUSR2 with node.remote bound is refused up front, with the
     * reason; no new coordinator starts, and this one keeps serving,
     * remote desk included (docs/upgrade.md) */
    assert_int_equal(kill(instance_pid(instance), SIGUSR2), 0);
    assert_true(instance_wait_output(instance, "SIGUSR2 refused: node.remote is bound",
                                     DEADLINE_MS));
    char *output = instance_output_copy(instance);
    assert_null(strstr(output, "started the new coordinator"));
    free(output);
    remote_args(instance, argv + 1, desk, "clients/operator_secret");
    argv[7] = "status";
    argv[8] = NULL;
    status = run_program(NULL, argv);
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(instance_stop(&instance));
}

static void
test_remote_needs_keys(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0 }\n"
        "node:\n"
        "  remote: { endpoint: \"tcp://127.0.0.1:0\" }\n");
    char *output = NULL;
    int status = run_corral(&output, "-c", config_path(instance), NULL);
    assert_int_equal(WEXITSTATUS(status), 78);
    assert_non_null(strstr(output, "corral.yml:3:"));
    assert_non_null(strstr(output, "nothing is exposed without CURVE keys"));
    free(output);
    instance_destroy(&instance);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remote_curve),
        cmocka_unit_test(test_remote_needs_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
