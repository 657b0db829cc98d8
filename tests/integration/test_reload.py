"""test_reload.py: zero-downtime reload (issue 10), against a real corral
under load, in both balancing modes.

Each mode: 10 SIGHUP reloads in a row (a new env value each time, the count
2 -> 3 -> 2 -> ...) with workers that take 300 ms to become ready, while
one client keeps opening new connections and another keeps requests
flowing on keep-alive connections, every response checked: 0 failures, 0
resets, each slot replaced exactly once per reload, the new settings in
effect. Then a bad file (nothing changes, FILE:LINE:COL logged), SIGHUP
during a reload (ignored, said so), a generation that is never ready
(rolled back, shown in /api/status, 0 failures), SIGTERM during a reload
(the instance stops cleanly), and a graceful stop whose new connections
are refused at once, even with a hung worker.

usage: test_reload.py BIN_DIR SOURCE_DIR"""
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(sys.argv[2], "tests", "examples"))
sys.path.insert(0, os.path.join(sys.argv[2], "tools"))
from instance import Instance  # noqa: E402
from reload_load import Load  # noqa: E402

CORRAL = os.path.join(sys.argv[1], "corral")
# the test worker (tests/plugins/): the debug routes and the start delay
TEST_WORKER = os.path.join(sys.argv[1], "corral-test-worker")


def node_yaml(count, generation, startup_delay="300ms", ready_timeout="10s", extra="",
              command=TEST_WORKER):
    return ("pid: { file: ./corral.pid }\n"
            "logging: { root: { level: info } }\n"
            "node:\n"
            "  debug_routes: true\n"
            "  shutdown_timeout: 3s\n"
            "  status: { interval: 100ms }\n"
            f"  reload: {{ parallel: 1, ready_timeout: {ready_timeout} }}\n"
            "  workers:\n"
            f"    count: {count}\n"
            f"    command: [{command}]\n"
            f"    startup_delay: {startup_delay}\n"
            f"    env: {{ RELOAD_MARK: \"{generation}\" }}\n" + extra)


def rewrite(instance, body, balancing):
    text = (f"server: {{ host: 127.0.0.1, port: 0, balancing: {balancing} }}\n"
            "path: { data: ./data }\n" + body)
    temporary = instance.config + ".new"
    with open(temporary, "w") as out:
        out.write(text)
    os.rename(temporary, instance.config)


def processes(instance):
    _, stats, _ = instance.request("GET", "/api/stats", expect=200)
    return {p["name"]: p for p in stats["processes"] if p.get("name", "").startswith("worker-")}


def count_lines(instance, text):
    with instance.changed:
        return sum(1 for line in instance.lines if line and text in line)


def replaced_lines(instance):
    with instance.changed:
        return sum(1 for line in instance.lines
                   if line and "] reload: worker-" in line and line.rstrip().endswith("replaced"))


def wait_count(instance, text, count, timeout=60):
    deadline = time.monotonic() + timeout
    with instance.changed:
        while sum(1 for line in instance.lines if line and text in line) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"not {count} lines with {text!r} in {timeout} s")
            instance.changed.wait(left)


def settled(instance, count, generation):
    """/api/stats shows `count` workers, all at configuration `generation`."""
    workers = processes(instance)
    return (len(workers) == count
            and all(w.get("config_generation") == generation for w in workers.values())
            and workers)


def rolling_reloads(instance, balancing):
    load = Load(instance.port)
    count = 2
    for reload in range(1, 11):
        before = instance.until("settled", lambda: settled(instance, count, reload))
        replaced_before = replaced_lines(instance)
        new_count = 3 if reload % 2 else 2
        rewrite(instance, node_yaml(new_count, reload), balancing)
        instance.process.send_signal(signal.SIGHUP)
        wait_count(instance, "reload: applied in", reload)
        after = instance.until("settled", lambda: settled(instance, new_count, reload + 1))
        # each slot that existed before was replaced exactly once: one new pid each
        replaced = replaced_lines(instance) - replaced_before
        assert replaced == min(count, new_count), (reload, replaced)
        for name in before:
            if name in after:
                assert after[name]["pid"] != before[name]["pid"], (reload, name)
        count = new_count
    ok, failed, resets = load.stop()
    print(f"[{balancing}] 10 reloads under load: {ok} ok, {len(failed)} failed, {resets} resets",
          flush=True)
    assert ok > 100, ok
    assert not failed, failed[:10]
    assert resets == 0
    return count


def reload_status(instance, check):
    """/api/status's `reload`, if check() holds for it (the view a worker
    answers with is the one of its latest report)."""
    _, status, _ = instance.request("GET", "/api/status")
    return "reload" in status and check(status["reload"]) and status["reload"]


def bad_file(instance, balancing, count, generation):
    before = instance.until("settled", lambda: settled(instance, count, generation))
    with open(instance.config, "a") as out:
        out.write("node:\n  nonsense: 1\n")
    instance.process.send_signal(signal.SIGHUP)
    match = instance.wait_output(r"reload: configuration error, nothing changed: (\S+):(\d+):(\d+): ")
    assert match.group(1).endswith("corral.yml") and int(match.group(2)) > 0
    after = instance.until("settled", lambda: settled(instance, count, generation))
    assert {n: p["pid"] for n, p in after.items()} == {n: p["pid"] for n, p in before.items()}
    instance.until("/api/status shows the error", lambda: reload_status(
        instance, lambda r: not r["ok"] and "configuration error" in r["summary"]))


def sighup_during_reload(instance, balancing, count, generation):
    rewrite(instance, node_yaml(count, "during"), balancing)
    instance.process.send_signal(signal.SIGHUP)
    wait_count(instance, "reload: replacing ", 11)   # the 11th reload began
    instance.process.send_signal(signal.SIGHUP)
    instance.wait_output(r"reload: a reload is in progress; this one is ignored")
    wait_count(instance, "reload: applied in", 11)
    instance.until("settled", lambda: settled(instance, count, generation + 1))


def never_ready(instance, balancing, count, generation):
    load = Load(instance.port)
    before = instance.until("settled", lambda: settled(instance, count, generation))
    rewrite(instance, node_yaml(count, "slow", startup_delay="20s", ready_timeout="1s"),
            balancing)
    instance.process.send_signal(signal.SIGHUP)
    instance.wait_output(r"reload: failed after \d+ ms and was rolled back: the new worker-1 "
                         r"was not ready within ready_timeout")
    ok, failed, resets = load.stop()
    assert not failed and resets == 0 and ok > 0, (ok, failed[:10], resets)
    after = instance.until("settled", lambda: settled(instance, count, generation))
    assert {n: p["pid"] for n, p in after.items()} == {n: p["pid"] for n, p in before.items()}
    assert all(p["config_generation"] == generation for p in after.values())
    instance.until("/api/status shows the rollback", lambda: reload_status(
        instance, lambda r: not r["ok"] and "rolled back" in r["summary"]))
    # a worker program that exits: the same, through the crash path
    rewrite(instance, node_yaml(count, "exits", command="/bin/false"), balancing)
    instance.process.send_signal(signal.SIGHUP)
    instance.wait_output(r"rolled back: the new worker-1 exited before it was ready")
    after = processes(instance)
    assert {n: p["pid"] for n, p in after.items()} == {n: p["pid"] for n, p in before.items()}


def sigterm_during_reload(instance, balancing, count):
    rewrite(instance, node_yaml(count, "term", startup_delay="20s", ready_timeout="30s"),
            balancing)
    instance.process.send_signal(signal.SIGHUP)
    instance.wait_output(r"worker-1 \(pid \d+\): reload; starting its replacement")
    started = time.monotonic()
    assert instance.stop() == 0
    # the replacement busy starting is stopped with the rest (SIGKILL at the
    # 3 s shutdown timeout at worst), not waited for
    assert time.monotonic() - started < 10
    instance.wait_output(r"reload: aborted \(the instance is stopping\), not rolled back")


def hang_worker_1(instance):
    """POST /api/debug/hang?worker=1 until worker-1 takes it (it never answers)."""
    hung = []
    for _ in range(500):
        client = socket.create_connection(("127.0.0.1", instance.port), timeout=10)
        client.sendall(b"POST /api/debug/hang?worker=1 HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Length: 0\r\n\r\n")
        client.settimeout(2)
        try:
            if client.recv(100).startswith(b"HTTP/1.1 421"):
                client.close()
                continue
        except socket.timeout:
            pass
        hung.append(client)
        break
    instance.wait_output(r"worker-1 \(pid \d+\): blocking the loop on request")
    return hung


def refused_at_once(balancing):
    """A graceful stop with a hung worker: a connection attempted after the
    stop began is refused, not left in the backlog."""
    instance = Instance(CORRAL, node_yaml(2, 1, startup_delay="0ms"), balancing)
    try:
        instance.wait_ready()
        hang_worker_1(instance)
        instance.process.send_signal(signal.SIGTERM)
        instance.wait_output(r"stopping 2 workers")
        started = time.monotonic()
        with socket.socket() as client:
            client.settimeout(5)
            try:
                client.connect(("127.0.0.1", instance.port))
                client.sendall(b"GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\n")
                answer = client.recv(100)
                outcome = f"connected, answered {answer[:20]!r}"
            except ConnectionRefusedError:
                outcome = "refused"
            except (socket.timeout, ConnectionResetError) as error:
                outcome = repr(error)
        took = time.monotonic() - started
        print(f"[{balancing}] connection after the stop began: {outcome} in {took:.3f} s",
              flush=True)
        assert outcome == "refused" and took < 1, outcome
        instance.stop()
    finally:
        instance.close()


def socket_activation():
    """The listening socket from systemd (LISTEN_FDS, LISTEN_PID): corral
    serves on it, and across a stop and a new start a connection made in
    between waits for the next corral instead of being refused (what a
    .socket unit gives `systemctl restart`)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    fd = listener.fileno()

    def start():
        def body(directory):
            # one worker: the main, which serves at once (a second one would
            # answer 503 until migration-complete, as at any first start)
            return node_yaml(1, 1, startup_delay="0ms")
        instance = Instance.__new__(Instance)
        instance.dir = __import__("tempfile").mkdtemp(prefix="corral-activation.")
        instance.config = os.path.join(instance.dir, "corral.yml")
        with open(instance.config, "w") as out:
            out.write("server: { host: 127.0.0.1, port: 1 }\npath: { data: ./data }\n"
                      + body(instance.dir))
        instance.lines = []
        instance.changed = threading.Condition()
        instance.process = __import__("subprocess").Popen(
            ["/bin/bash", "-c",
             'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$0" -c "$1"'
             + ("" if fd == 3 else f" 3<&{fd} {fd}<&-"),
             CORRAL, instance.config],
            pass_fds=(fd,), stdout=__import__("subprocess").PIPE,
            stderr=__import__("subprocess").STDOUT, text=True, errors="replace")
        instance.reader = threading.Thread(target=instance._read, daemon=True)
        instance.reader.start()
        instance.port = port
        instance.wait_output(r"listening socket from systemd \(LISTEN_FDS=1\)")
        instance.wait_output(r"\] ready: \d+ workers")
        return instance

    first = start()
    try:
        first.request("GET", "/api/hello", expect=200)
        assert first.stop() == 0
    finally:
        first.close()
    # nobody runs: the connection waits in the backlog of the socket systemd keeps
    waiting = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    waiting.connect()
    waiting.sock.sendall(b"GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\n")
    second = start()
    try:
        response = http.client.HTTPResponse(waiting.sock)
        response.begin()
        assert response.status == 200, response.status
        print("socket activation: a connection made between two instances was served by "
              "the second", flush=True)
        assert second.stop() == 0
    finally:
        second.close()
        waiting.close()
        listener.close()


def types_yaml(http_count):
    return ("logging: { root: { level: info } }\n"
            "node:\n"
            "  shutdown_timeout: 3s\n"
            "  status: { interval: 100ms }\n"
            "  workers:\n"
            f"    http: {{ count: {http_count}, command: [{TEST_WORKER}], startup_delay: 300ms }}\n"
            "    background: { count: 1, http: false }\n")


def typed_reloads(balancing):
    """Named types: the http type's count 2 -> 3 -> 2 under load. The slots
    whose type, name and socket stay are not replaced; slot 3 turns from
    background-1 into http-3 and back; 0 failures, 0 resets."""
    instance = Instance(CORRAL, types_yaml(2), balancing)
    try:
        instance.wait_ready()

        def named(names):
            _, stats, _ = instance.request("GET", "/api/stats", expect=200)
            found = {p["name"]: p["pid"] for p in stats["processes"]
                     if p.get("name", "") != "coordinator" and p.get("pid")}
            return set(found) == names and found
        first = instance.until("settled", lambda: named({"http-1", "http-2", "background-1"}))
        load = Load(instance.port)
        for reload, (count, names) in enumerate(
                [(3, {"http-1", "http-2", "http-3", "background-1"}),
                 (2, {"http-1", "http-2", "background-1"})], start=1):
            rewrite(instance, types_yaml(count), balancing)
            instance.process.send_signal(signal.SIGHUP)
            wait_count(instance, "reload: applied in", reload)
            now = instance.until("settled", lambda: named(names))
            for name in ("http-1", "http-2"):
                assert now[name] == first[name], (reload, name, "was replaced")
        ok, failed, resets = load.stop()
        print(f"[{balancing}] worker types 2 -> 3 -> 2 under load: {ok} ok, {len(failed)} "
              f"failed, {resets} resets", flush=True)
        assert ok > 10 and not failed and resets == 0, (ok, failed[:10], resets)
        assert instance.stop() == 0
    finally:
        instance.close()


def run(balancing):
    instance = Instance(CORRAL, node_yaml(2, 0), balancing)
    try:
        instance.wait_ready()
        instance.until("settled", lambda: settled(instance, 2, 1))
        count = rolling_reloads(instance, balancing)
        bad_file(instance, balancing, count, 11)
        sighup_during_reload(instance, balancing, count, 11)
        never_ready(instance, balancing, count, 12)
        sigterm_during_reload(instance, balancing, count)
    finally:
        instance.close()
    refused_at_once(balancing)
    typed_reloads(balancing)


def main():
    socket_activation()
    for balancing in ("shared", "reuseport"):
        run(balancing)
    print("test_reload: ok")


if __name__ == "__main__":
    main()
