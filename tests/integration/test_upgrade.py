#!/usr/bin/python3
"""test_upgrade.py: SIGUSR2, the binary upgrade (docs/upgrade.md), on a real
instance under load, in both balancing modes; and its failure: a new binary
that exits at once, then one whose workers never become ready. The instance
runs from a copy of the binaries in a temporary directory, so that the test
can put another "new binary" in its place, as an operator's package upgrade
does.

What a user relies on, checked here:
- no request fails, from clients on fresh connections and on keep-alive
  ones (tools/reload_load.py, every response checked);
- the PID file and endpoints.json name the new coordinator, the old one exits 0;
- the instance UUID is the same;
- a persisted broadcast sent before the upgrade reaches a handler registered
  after it, in every new worker;
- the log file (a rolling file that rolls every 4 KB, so both coordinators
  roll it) holds every record exactly once (no seq twice, none missing per
  process), and it had one writer at a time: every line of the old
  coordinator and its workers comes before every line of the new ones;
- a failed upgrade leaves the old coordinator serving, says so in its log,
  and a later SIGUSR2 succeeds; a SIGUSR2 during an upgrade is ignored,
  with a log line, and a persisted broadcast the old workers send during
  it reaches the new ones; a SIGTERM during an upgrade stops the new
  coordinator too.

usage: test_upgrade.py BIN_DIR TOOLS_DIR [shared|reuseport|failure]...
"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

DEADLINE = 60.0


def fail(message):
    print(f"FAIL: {message}", flush=True)
    raise AssertionError(message)


def await_true(what, check, deadline=DEADLINE):
    """Polls `check` (a file's content, a process's state) until it is true."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    fail(f"timed out awaiting {what}")


def read(path):
    try:
        with open(path) as source:
            return source.read()
    except OSError:
        return ""


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def await_exit(pid, deadline=DEADLINE):
    """A process that is not our child (the new coordinator, reparented)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        if not select.select([fd], [], [], deadline)[0]:
            fail(f"process {pid} did not exit")
    finally:
        os.close(fd)


class Instance:
    def __init__(self, bin_dir, balancing, extra=""):
        self.dir = tempfile.mkdtemp(prefix="corral-upgrade.")
        self.bin = os.path.join(self.dir, "bin")
        os.makedirs(self.bin)
        self.real = os.path.join(self.bin, "corral.real")
        shutil.copy2(os.path.join(bin_dir, "corral"), self.real)
        # the test worker (tests/plugins/: the debug routes), beside corral
        # as a package would put its worker, named in the configuration
        self.worker = os.path.join(self.bin, "corral-test-worker")
        shutil.copy2(os.path.join(bin_dir, "corral-test-worker"), self.worker)
        self.put_binary(self.real)
        self.config = os.path.join(self.dir, "corral.yml")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.data, "corral.log")
        self.pid_file = os.path.join(self.dir, "corral.pid")
        with open(self.config, "w") as out:
            out.write(self.yaml(balancing, extra))
        self.output = open(os.path.join(self.dir, "output.txt"), "w")
        env = dict(os.environ, XDG_RUNTIME_DIR=self.dir)
        env.pop("NOTIFY_SOCKET", None)
        self.process = subprocess.Popen([os.path.join(self.bin, "corral"), "-c", self.config],
                                        env=env, cwd=self.dir, stdout=self.output,
                                        stderr=subprocess.STDOUT)
        self.pids = {self.process.pid}
        self.endpoints = self.await_endpoints(self.process.pid)
        self.port = int(self.endpoints["http"].rsplit(":", 1)[1])
        self.await_log("ready: 2 workers serving")      # every worker, migrations done
        self.uuid = read(os.path.join(self.data, "uuid")).strip()

    def yaml(self, balancing, extra, command=None):
        return ("server: { host: 127.0.0.1, port: 0, balancing: %s }\n"
                "path: { data: ./data }\n"
                "pid: { file: ./corral.pid }\n"
                "logging:\n"
                "  appenders:\n"
                "    file:\n"
                "      type: rolling-file\n"
                "      fileName: ./data/corral.log\n"
                "      policy: { type: size-limit, size: 4kb }\n"
                "      strategy: { type: numeric, pattern: '-%%i', max: 100 }\n"
                "      layout: { type: json }\n"
                "  root: { level: info, appenders: [file] }\n"
                "node:\n"
                "  workers: { count: 2, command: [%s]%s }\n"
                "  shutdown_timeout: 10s\n"
                "  reload: { ready_timeout: 10s }\n"
                "  debug_routes: true\n" % (balancing, command or self.worker, extra))

    def put_binary(self, source):
        """What an upgrade of the package does: a new file at the same path."""
        temporary = os.path.join(self.bin, "corral.new")
        shutil.copy2(source, temporary)
        os.replace(temporary, os.path.join(self.bin, "corral"))

    def put_script(self, text):
        temporary = os.path.join(self.bin, "corral.new")
        with open(temporary, "w") as out:
            out.write("#!/bin/sh\n" + text)
        os.chmod(temporary, 0o755)
        os.replace(temporary, os.path.join(self.bin, "corral"))

    def await_endpoints(self, pid):
        def current():
            try:
                document = json.loads(read(os.path.join(self.data, "endpoints.json")))
            except ValueError:
                return None
            return document if document.get("pid") == pid else None
        return await_true(f"endpoints.json of pid {pid}", current)

    def log_text(self):
        return "".join(read(part) for part in rolled_files(self.log))

    def await_log(self, text):
        return await_true(f"'{text}' in the log", lambda: text in self.log_text())

    def pid_in_file(self):
        text = read(self.pid_file).strip()
        return int(text) if text.isdigit() else 0

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as reply:
            return json.loads(reply.read())

    def debug_node(self, query):
        return self.get("/api/debug/node?" + query)["replies"]

    def destroy(self):
        for pid in list(self.pids) + [self.pid_in_file()]:
            if pid and alive(pid):
                os.kill(pid, signal.SIGTERM)
        for pid in list(self.pids) + [self.pid_in_file()]:
            if pid:
                await_exit(pid, 20)
        self.process.wait(20)
        self.output.close()
        if not os.environ.get("KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


def load_class(tools_dir):
    sys.path.insert(0, tools_dir)
    from reload_load import Load
    return Load


def rolled_files(path):
    """The file and its rolled parts (rolling-file, size-limit: it rolls
    every 4 KB), oldest first."""
    parts = []
    directory, name = os.path.split(path)
    stem, extension = os.path.splitext(name)       # corral.log rolls to corral-1.log
    for entry in os.listdir(directory):
        rolled = re.fullmatch(re.escape(stem) + r"-(\d+)" + re.escape(extension), entry)
        if rolled:
            parts.append((int(rolled.group(1)), os.path.join(directory, entry)))
    return [p for _, p in sorted(parts, reverse=True)] + [path]


def records(path):
    """Every line of the log files, parsed: a torn or interleaved line fails."""
    lines = []
    for part in rolled_files(path):
        with open(part) as source:
            for number, line in enumerate(source, 1):
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    fail(f"{part}:{number} is not one JSON record: {line[:200]!r}")
    return lines


def family(lines, coordinator):
    """A coordinator's pid and its workers' (from its 'stopped' records)."""
    pids = {coordinator}
    for record in lines:
        if record["process"]["pid"] == coordinator:
            stopped = re.match(r"\S+ \(pid (\d+)\) stopped$", record["message"])
            if stopped:
                pids.add(int(stopped.group(1)))
    return pids


def check_log(instance, old, new):
    if len(rolled_files(instance.log)) < 2:
        fail("the log file never rolled")
    lines = records(instance.log)
    seen = {}
    for record in lines:
        pid = record["process"]["pid"]
        seq = record.get("event", {}).get("sequence")
        if seq is None:
            fail(f"a record without a sequence: {record}")
        if seq in seen.setdefault(pid, set()):
            fail(f"record {seq} of pid {pid} is in the log twice")
        seen[pid].add(seq)
    for pid, seqs in seen.items():
        missing = set(range(min(seqs), max(seqs) + 1)) - seqs
        if missing:
            fail(f"pid {pid}: records {sorted(missing)[:10]} are missing from the log")
    old_family, new_family = family(lines, old), family(lines, new)
    if len(old_family) < 3 or len(new_family) < 3:
        fail(f"the workers of {old} and {new} are not all in the log")
    for pid in (old_family | new_family) - {old, new}:
        if min(seen.get(pid, {0})) != 1:
            fail(f"worker pid {pid}: its first records are missing from the log")
    last_old = max(i for i, r in enumerate(lines) if r["process"]["pid"] in old_family)
    first_new = min(i for i, r in enumerate(lines) if r["process"]["pid"] in new_family)
    if last_old > first_new:
        fail(f"two writers: line {first_new + 1} (new) before line {last_old + 1} (old)")
    messages = [r["message"] for r in lines]
    for expected in ("the new coordinator (pid %d) is ready" % new, "logs: writing the log "
                     "files from now on", "stopped (restarts:"):
        if not any(expected in m for m in messages):
            fail(f"no '{expected}' in the log")
    return len(lines)


def upgrade(instance, Load, twice=False):
    """SIGUSR2 under load; returns the new coordinator's pid. twice: a
    second SIGUSR2 while the first one's is starting is ignored, and a
    persisted broadcast the old workers send meanwhile is the one the new
    ones get."""
    old = instance.process.pid
    instance.debug_node("action=broadcast&worker=1&plugin=probe-a&type=kept"
                        "&payload=before-upgrade&persist=1&self=1")
    load = Load(instance.port, 2, 2)
    await_true("requests served", lambda: load.ok >= 20)
    started = instance.log_text().count("SIGUSR2: started the new coordinator")
    os.kill(old, signal.SIGUSR2)
    if twice:
        await_true("the new coordinator to start", lambda: instance.log_text().count(
            "SIGUSR2: started the new coordinator") > started)
        os.kill(old, signal.SIGUSR2)
        instance.await_log("SIGUSR2 ignored: an upgrade is in progress")
        instance.debug_node("action=broadcast&worker=1&plugin=probe-a&type=kept"
                            "&payload=during-upgrade&persist=1&self=1")
    expected = ["during-upgrade" if twice else "before-upgrade"]
    new = await_true("the PID file to name the new coordinator",
                     lambda: instance.pid_in_file() not in (0, old) and instance.pid_in_file())
    instance.pids.add(new)
    instance.await_endpoints(new)
    if instance.process.wait(DEADLINE) != 0:
        fail(f"the old coordinator exited with {instance.process.returncode}")
    instance.await_log("logs: writing the log files from now on")
    served = load.ok
    await_true("requests served after the upgrade", lambda: load.ok >= served + 20)
    ok, failed, resets = load.stop()
    if failed:
        fail(f"{len(failed)} requests failed ({resets} resets) of {ok + len(failed)}: "
             f"{failed[:5]}")
    if read(os.path.join(instance.data, "uuid")).strip() != instance.uuid:
        fail("the instance UUID changed")
    if instance.await_endpoints(new)["instance"] != instance.uuid:
        fail("endpoints.json names another instance")
    instance.debug_node("action=on&plugin=probe-a&type=kept")
    replies = instance.debug_node("action=received&payloads=1")
    if len(replies) != 2:
        fail(f"replies of {len(replies)} workers, not 2")
    for reply in replies:
        result = reply["result"]
        if result["instance_uuid"] != instance.uuid:
            fail(f"worker {reply['worker']} is in instance {result['instance_uuid']}")
        payloads = [p for h in result["handlers"] if h["type"] == "kept" for p in h["payloads"]]
        if payloads != expected:
            fail(f"worker {reply['worker']}: the handler registered after the upgrade got "
                 f"{payloads}")
    return new, ok


def stop(instance, pid):
    os.kill(pid, signal.SIGTERM)
    await_exit(pid)
    if os.path.exists(instance.pid_file):
        fail("the PID file is still there after the stop")
    # the new coordinator is not our child: its exit status is not ours to
    # see, but a sanitizer's report (--sanitize) is in the output
    output = read(os.path.join(instance.dir, "output.txt"))
    for report in ("Sanitizer", "runtime error:"):
        if report in output:
            fail(f"{report} in the output:\n{output[-3000:]}")


def test_upgrade(bin_dir, Load, balancing):
    instance = Instance(bin_dir, balancing)
    try:
        old = instance.process.pid
        new, served = upgrade(instance, Load)
        stop(instance, new)
        count = check_log(instance, old, new)
        print(f"ok {balancing}: {served} requests, 0 failed; pid {old} -> {new}; "
              f"{count} log records, each once", flush=True)
    finally:
        instance.destroy()


def failed_upgrade(instance, Load, what):
    old = instance.process.pid
    load = Load(instance.port, 2, 2)
    await_true("requests served", lambda: load.ok >= 20)
    failures = instance.log_text().count("upgrade failed:")
    os.kill(old, signal.SIGUSR2)
    await_true(f"the log to say the upgrade failed ({what})",
               lambda: instance.log_text().count("upgrade failed:") > failures)
    served = load.ok
    await_true("requests served after the failure", lambda: load.ok >= served + 20)
    ok, failed, resets = load.stop()
    if failed:
        fail(f"{what}: {len(failed)} requests failed of {ok + len(failed)}: {failed[:5]}")
    if instance.pid_in_file() != old or instance.process.poll() is not None:
        fail(f"{what}: the old coordinator does not serve any more")
    if instance.await_endpoints(old)["pid"] != old:
        fail(f"{what}: endpoints.json changed")


def test_failure(bin_dir, Load):
    instance = Instance(bin_dir, "shared")
    try:
        old = instance.process.pid
        instance.put_script("echo 'corral: this build is broken' >&2\nexit 3\n")
        failed_upgrade(instance, Load, "a binary that exits")
        instance.await_log("exited with status 3 before it was ready")
        # a new coordinator that hangs: stopped at node.reload.ready_timeout
        instance.put_script("exec sleep 60\n")
        failed_upgrade(instance, Load, "a new coordinator that hangs")
        instance.await_log("was not ready within 10000 ms (node.reload.ready_timeout)")
        # a new coordinator that starts, but whose workers never get ready
        bad = os.path.join(instance.dir, "bad.yml")
        with open(bad, "w") as out:
            out.write(instance.yaml("shared", "", command="/bin/false")
                      + "  restart: { policy: never }\n")
        instance.put_script(f"exec {instance.real} -c {bad}\n")
        failed_upgrade(instance, Load, "workers that never get ready")
        # a configuration whose balancing needs other sockets
        with open(bad, "w") as out:
            out.write(instance.yaml("reuseport", ""))
        failed_upgrade(instance, Load, "another balancing mode")
        await_true("the new coordinator to say why (its stderr: the log file is not its own)",
                   lambda: "a change of balancing needs a restart"
                   in read(os.path.join(instance.dir, "output.txt")))
        # the same coordinator upgrades later, to a binary slow to start
        # (a fixture, not synchronisation): a SIGUSR2 meanwhile is ignored
        instance.put_script(f"sleep 3\nexec {instance.real} \"$@\"\n")
        new, served = upgrade(instance, Load, twice=True)
        instance.await_log("1 persisted bus messages the previous coordinator took after")
        stop(instance, new)
        check_log(instance, old, new)
        print(f"ok failure: the old coordinator kept serving three times, then pid {old} -> {new} "
              f"(a second SIGUSR2 meanwhile ignored)", flush=True)
    finally:
        instance.destroy()


def test_stop_during_upgrade(bin_dir):
    """SIGTERM before the new coordinator is ready stops it too: nothing is
    left half-started, the PID file is removed."""
    instance = Instance(bin_dir, "shared")
    try:
        old = instance.process.pid
        instance.put_script(f"sleep 2\nexec {instance.real} \"$@\"\n")
        os.kill(old, signal.SIGUSR2)
        instance.await_log("SIGUSR2: started the new coordinator")
        new = int(re.search(r"started the new coordinator \S+ \(pid (\d+)\)",
                            instance.log_text()).group(1))
        instance.pids.add(new)
        os.kill(old, signal.SIGTERM)
        if instance.process.wait(DEADLINE) != 0:
            fail(f"the old coordinator exited with {instance.process.returncode}")
        await_exit(new)
        if os.path.exists(instance.pid_file):
            fail("the PID file is still there after the stop")
        if "it is stopped too" not in instance.log_text():
            fail("the stop does not say it stops the new coordinator")
        print(f"ok stop during an upgrade: pid {old} and its successor {new} stopped",
              flush=True)
    finally:
        instance.destroy()


def main():
    bin_dir, tools_dir = sys.argv[1], sys.argv[2]
    Load = load_class(tools_dir)
    for case in sys.argv[3:] or ["shared", "reuseport", "failure"]:
        if case == "failure":
            test_failure(bin_dir, Load)
            test_stop_during_upgrade(bin_dir)
        else:
            test_upgrade(bin_dir, Load, case)


if __name__ == "__main__":
    main()
