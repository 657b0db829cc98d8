"""test_plain_workers.py: plain workers (protocol: none, docs/plain-workers.md)
on a real instance: plain_server.py, a program that knows nothing of corral
but fd 3 and sd_notify, in its variants.

usage: test_plain_workers.py BIN_DIR SOURCE_DIR SCENARIO
  notify     READY=1 and WATCHDOG=1: ready, serving, STATUS= shown, its memory
             in the view; kill -9: restarted after its backoff, serving again
  ready_after  a program that never notifies: ready after ready_after
  hung       WATCHDOG=1 stops: killed as hung (SIGABRT), replaced
  reload     a rolling reload under load: 0 failed requests
  upgrade    SIGUSR2 under load: 0 failed requests, the new coordinator's workers serve
  recycle    over recycle.max_rss: replaced, reason recycled
  output     100,000 lines on stdout and stderr, then exit: every line once in
             the log file with the worker's name; a JSON line's level; a long
             line split and marked
  refused    plain and protocol workers with balancing shared: refused, saying why
  cwd_removed  its cwd removed, then the worker killed: the restart's error
             names the directory, not the program"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

from instance import Instance

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "plain_server.py")


def plain_type(variant, extra="", count=2, env=""):
    return (f"    app: {{ count: {count}, protocol: none, {extra}\n"
            f"           command: [/usr/bin/python3, {SERVER}, {variant}]"
            f"{', env: { ' + env + ' }' if env else ''} }}\n")


def config(types, extra=""):
    return ("node:\n  workers:\n" + types +
            "  status: { interval: 200ms }\n"
            "  restart: { backoff: { initial: 300ms } }\n"
            "  shutdown_timeout: 5s\n" + extra)


def pid_serving(instance):
    return instance.request("GET", "/api/hello", expect=200)[1]["pid"]


def pids_of(instance, names=("app-1", "app-2")):
    """{name: pid} from the coordinator's lifecycle lines, the latest each."""
    found = {}
    for line in instance.lines:
        match = line and re.search(r"\] (app-\d) \(pid (\d+)\) is ready", line)
        if match and match.group(1) in names:
            found[match.group(1)] = int(match.group(2))
    return found


def corralctl(bin_dir, instance, *args):
    result = subprocess.run([os.path.join(bin_dir, "corralctl"), "-c", instance.config, *args],
                            capture_output=True, text=True, timeout=30)
    return result.stdout + result.stderr


def notify(bin_dir, instance):
    instance.wait_ready()
    pids = {pid_serving(instance) for _ in range(20)}
    assert pids <= set(pids_of(instance).values()), (pids, pids_of(instance))
    # STATUS= in the view: corralctl workers, and the tap's event; the line
    # the server prints then reaches corralctl logs (through the tap)
    follower = subprocess.Popen([os.path.join(bin_dir, "corralctl"), "-c", instance.config,
                                 "logs", "-f", "--logger", "stdout", "--count", "1"],
                                stdout=subprocess.PIPE, text=True)
    for _ in range(100):    # until the follower, once subscribed, got one
        instance.request("GET", "/status?text=warming%20caches", expect=200)
        try:
            follower.wait(0.3)
            break
        except subprocess.TimeoutExpired:
            pass
    else:
        follower.kill()
    followed = follower.stdout.read()
    assert re.search(r"\[app-\d\]\[stdout\] status set to warming%20caches", followed), followed
    instance.wait_output(r"app-\d \(pid \d+\) status: warming%20caches")
    instance.until("corralctl workers shows STATUS=", lambda: "warming%20caches" in corralctl(
        bin_dir, instance, "workers"), tries=100)
    # processes[] of /api/stats (corralctl's): each plain worker's pid and memory from /proc
    stats = json.loads(corralctl(bin_dir, instance, "--json", "stats"))
    processes = {p.get("pid"): p for p in stats["processes"]}
    for name, pid in pids_of(instance).items():
        assert pid in processes, (name, pid, stats["processes"])
    rss = {pid: p.get("memory", {}).get("resident_set_size_bytes")
           for pid, p in processes.items()}
    assert all(rss[pid] > 1 << 20 for pid in pids_of(instance).values()), rss
    # its CPU time from /proc (a Python interpreter's start takes some)
    assert all(processes[pid]["cpu_seconds"] > 0 for pid in pids_of(instance).values()), \
        stats["processes"]
    # a datagram from another process (this one) on app-1's notify socket:
    # refused, counted, said at warn, and it changes nothing
    runtime = instance.wait_output(r"bus at ipc://(\S+)/bus-in").group(1)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as forger:
        forger.sendto(b"WATCHDOG=trigger\nSTATUS=forged", os.path.join(runtime, "notify-1-1"))
    instance.wait_output(r"\[WARN \]\[coordinator\]\[coordinator\] app-1 \(pid \d+\) notify socket: "
                         r"refused a datagram not from pid \d+ \(1 refused so far\)")
    assert "forged" not in corralctl(bin_dir, instance, "workers")
    # RELOADING=1: shown reloading (as systemd), until READY=1
    def state_of(name):
        for line in corralctl(bin_dir, instance, "workers").splitlines():
            if line.startswith(name + " "):
                return line.split()[2]
    instance.request("GET", "/notify?message=RELOADING=1", expect=200)
    name = instance.wait_output(r"(app-\d) \(pid \d+\) says it is reloading its "
                                r"configuration \(RELOADING=1\)").group(1)
    instance.until(f"{name} shown reloading", lambda: state_of(name) == "reloading", tries=200)
    for _ in range(200):    # READY=1 to whichever takes it, until it is the reloading one
        instance.request("GET", "/notify?message=READY=1", expect=200)
        if any(line and f"] {name} (pid" in line and "is ready again" in line
               for line in instance.lines):
            break
    instance.until(f"{name} shown ready again", lambda: state_of(name) == "ready", tries=200)
    # kill -9: a crash, restarted after its backoff
    victim = pids_of(instance)["app-1"]
    os.kill(victim, signal.SIGKILL)
    match = instance.wait_output(r"app-1 \(pid %d\) was killed by signal 9 \(SIGKILL\): crashed; "
                                 r"restarting in (\d+) ms" % victim)
    assert 200 <= int(match.group(1)) <= 400, match.group(0)
    instance.until("app-1 replaced", lambda: pids_of(instance)["app-1"] != victim, tries=10**6)
    assert instance.stop() == 0
    print("rss in the stats:", rss)


def ready_after(bin_dir, instance):
    instance.wait_ready()
    text = "".join(line for line in instance.lines if line)
    started = instance.wait_output(r"starting 2 workers").string
    assert "app-1" in text and started
    assert pid_serving(instance)
    assert instance.stop() == 0


def hung(bin_dir, instance):
    instance.wait_ready()
    before = pids_of(instance)
    match = instance.wait_output(r"(app-\d) \(pid (\d+)\) sent no WATCHDOG=1 for \d+ ms "
                                 r"\(watchdog 1000 ms\): hung; sending SIGABRT")
    name, pid = match.group(1), int(match.group(2))
    assert before[name] == pid
    instance.wait_output(r"%s \(pid %d\) .*hung" % (name, pid))
    instance.until(f"{name} replaced", lambda: pids_of(instance)[name] != pid, tries=10**6)
    instance.stop()


def reload(bin_dir, instance):
    instance.wait_ready()
    before = pids_of(instance)

    ok = instance.under_load(lambda: instance.reload_with("GENERATION: '1'", "GENERATION: '2'"))
    after = pids_of(instance)
    assert all(after[name] != before[name] for name in before), (before, after)
    print(f"reload under load: {ok} ok, 0 failed")
    assert instance.stop() == 0


def upgrade(bin_dir, instance):
    instance.wait_ready()
    old = instance.process.pid
    pid_file = os.path.join(instance.dir, "corral.pid")

    def new_pid():
        try:
            with open(pid_file) as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0
        return pid if pid != old else 0

    def change():
        os.kill(old, signal.SIGUSR2)
        assert instance.process.wait(60) == 0
    try:
        ok = instance.under_load(change)
        new = new_pid()
        assert new, "no new coordinator in the PID file"
        print(f"upgrade under load: {ok} ok, 0 failed")
    finally:
        new = new_pid()
        if new:
            os.kill(new, signal.SIGTERM)
            for _ in range(600):
                if not os.path.exists(f"/proc/{new}"):
                    break
                time.sleep(0.05)


def recycle(bin_dir, instance):
    instance.wait_ready()
    before = pids_of(instance)
    instance.request("GET", "/grow?mb=80", expect=200)     # whichever worker takes it
    match = instance.wait_output(r"(app-\d) .*recycle.max_rss", timeout=30)
    name = match.group(1)
    instance.until(f"{name} replaced", lambda: pids_of(instance)[name] != before[name],
                   tries=10**6)
    instance.wait_output(r"%s \(pid %d\) .*recycled" % (name, before[name]))
    assert instance.stop() == 0


def output(bin_dir, instance, lines=100000):
    instance.process.wait(120)
    with open(os.path.join(instance.dir, "data", "corral.log")) as f:
        text = f.read()
    for stream, level in (("out", "INFO "), ("err", "ERROR")):
        found = re.findall(r"\[%s\]\[app-1\]\[std%s\] %s line (\d+)\n" % (level, stream, stream),
                           text)
        numbers = sorted(int(n) for n in found)
        assert numbers == list(range(1, lines + 1)), (stream, len(numbers), numbers[:3])
    assert re.search(r"\[WARN \]\[app-1\]\[stdout\] a structured warning\n", text)
    split = re.findall(r"\[app-1\]\[stdout\] (long x+|x+)( \[line continues in the next "
                       r"record\])?\n", text)
    assert len(split) == 3 and split[0][1] and split[1][1] and not split[2][1], \
        [(len(a), b) for a, b in split]
    assert sum(len(part) for part, _ in split) == len("long ") + 40000
    assert re.search(r"\[app-1\]\[stdout\] no newline at the end\n", text)
    print("output: every line once")


def cwd_removed(bin_dir, instance):
    instance.wait_ready()
    os.rmdir(os.path.join(instance.dir, "app"))
    os.kill(pids_of(instance, ("app-1",))["app-1"], signal.SIGKILL)
    instance.wait_output(r"cannot start app-1: its directory \S*/app: "
                         r"No such file or directory")
    assert not [line for line in instance.lines
                if line and "plain_server.py: No such file" in line]


SCENARIOS = {
    "notify": (plain_type("notify", "watchdog: 2s,"), "", {}),
    "ready_after": (plain_type("quiet", "ready_after: 300ms,"), "", {}),
    "hung": (plain_type("stalls", "watchdog: 1s,", count=1), "", {}),
    "reload": (plain_type("notify", "watchdog: 2s,", env="GENERATION: '1'"),
               "  reload: { parallel: 1, ready_timeout: 20s }\n", {}),
    "upgrade": (plain_type("notify", "watchdog: 2s,"), "", {"pid": True}),
    "recycle": (plain_type("notify", "recycle: { max_rss: 60mb, jitter: 0 },"), "", {}),
    "output": (plain_type("print", count=1).replace("print]", "print, '100000']"),
               "  restart: { policy: never }\n", {"log": True}),
    "cwd_removed": (plain_type("notify", "cwd: ./app,", count=1), "", {"cwd": "app"}),
}


def main():
    bin_dir, source, scenario = sys.argv[1:4]
    if scenario == "refused":
        body = config(plain_type("notify") + "    http: { count: 1 }\n")
        instance = Instance(os.path.join(bin_dir, "corral"), body)
        try:
            instance.wait_output(r"corral\.yml:\d+:\d+: node\.workers: app has protocol: none "
                                 r"and http speaks the protocol, .* use server\.balancing: "
                                 r"reuseport")
            assert instance.process.wait(30) == 78
        finally:
            instance.close()
        print("test_plain_workers refused: ok")
        return
    types, extra, options = SCENARIOS[scenario]
    body = config(types, extra)
    if scenario == "output":
        body = body.replace("  restart: { backoff: { initial: 300ms } }\n", "")
        body += ("logging:\n  appenders:\n    file: { type: file, fileName: ./data/corral.log }\n"
                 "  root: { appenders: [file], level: info }\n")
    if options.get("pid"):
        body += "pid: { file: ./corral.pid }\n"
    if options.get("cwd"):
        def with_cwd(directory, body=body):
            os.mkdir(os.path.join(directory, options["cwd"]))
            return body
        instance = Instance(os.path.join(bin_dir, "corral"), with_cwd)
    else:
        instance = Instance(os.path.join(bin_dir, "corral"), body)
    try:
        globals()[scenario](bin_dir, instance)
    finally:
        instance.close()
    print(f"test_plain_workers {scenario}: ok")


if __name__ == "__main__":
    main()
