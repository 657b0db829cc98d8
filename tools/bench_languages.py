"""bench_languages.py: the C reference worker, the Python package
(clients/python serving examples/python-worker/flask_app.py) and Gunicorn
as a plain worker (protocol: none, the same Flask application), side by
side on one machine (tools/bench-languages.sh runs it; see there).

For each: CPU per request on the tiny route (the coordinator's and every
worker process's CPU time from /proc, over a wrk run, divided by the
requests), the busier worker's share of N keep-alive connections opened at
once (2 workers, fresh instances, every trial printed), and throughput on
a CPU-bound route with 2 workers over 1."""
import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(os.environ.get("BUILD_DIR", os.path.join(ROOT, "build")))
DURATION = int(os.environ.get("DURATION", "5"))
TRIALS = int(os.environ.get("TRIALS", "6"))
CONNECTIONS = [int(n) for n in os.environ.get("SHARE_CONNECTIONS", "4 16 64").split()]
EXAMPLE = os.path.join(ROOT, "examples", "python-worker")
TICKS = os.sysconf("SC_CLK_TCK")

SETUPS = {
    # name: (worker type YAML, tiny route, CPU route); the C test worker:
    # the reference worker's plugins and /api/cpu
    "c": ("{ count: %%d, command: [%s/bin/corral-test-worker] }" % BUILD,
          "/api/hello", "/api/cpu?work=100000"),
    "python": ("{ count: %%d, command: [/usr/bin/python3, %s/flask_app.py], "
               "env: { PYTHONPATH: %s/clients/python } }" % (EXAMPLE, ROOT),
               "/api/hello", "/flask/cpu"),
    "gunicorn": ("{ count: %%d, protocol: none, cwd: %s, "
                 "command: [/usr/bin/gunicorn, --workers, '1', flask_app:app] }" % EXAMPLE,
                 "/api/hello", "/flask/cpu"),
}


class Corral:
    def __init__(self, corral, setup, workers):
        self.dir = tempfile.mkdtemp(prefix="bench-languages.")
        worker = SETUPS[setup][0] % workers
        config = os.path.join(self.dir, "corral.yml")
        with open(config, "w") as f:
            f.write("server: { host: 127.0.0.1, port: 0 }\npath: { data: ./data }\n"
                    f"node:\n  workers:\n    app: {worker}\n  shutdown_timeout: 5s\n"
                    "logging: { root: { level: warn } }\n")
        self.process = subprocess.Popen([corral, "-c", config], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        # level warn: the ready line is info; read the port from endpoints.json
        deadline = time.monotonic() + 30
        endpoints = os.path.join(self.dir, "data", "endpoints.json")
        while time.monotonic() < deadline:
            try:
                with open(endpoints) as f:
                    self.port = int(re.search(r"127\.0\.0\.1:(\d+)", f.read()).group(1))
                break
            except (OSError, AttributeError, ValueError):
                time.sleep(0.05)
        else:
            raise SystemExit(f"{setup}: corral did not start")
        self.wait_serving(SETUPS[setup][1], workers)

    def wait_serving(self, path, workers):
        """Until every worker answered (fresh connections)."""
        seen = set()
        deadline = time.monotonic() + 60
        while len(seen) < workers and time.monotonic() < deadline:
            try:
                seen.add(who(self.port, path))
            except OSError:
                time.sleep(0.05)
        if len(seen) < workers:
            raise SystemExit("workers did not all answer")

    def cpu_seconds(self):
        """The coordinator's and its descendants' CPU time."""
        parents, cpu = {}, {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / TICKS
        ours = {self.process.pid}
        changed = True
        while changed:
            changed = False
            for pid, parent in parents.items():
                if parent in ours and pid not in ours:
                    ours.add(pid)
                    changed = True
        return sum(cpu.get(pid, 0) for pid in ours)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def request(sock, path):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("closed")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(65536)
    match = re.search(rb"(?i)x-corral-worker: *(\S+)", head)
    return match.group(1).decode() if match else str(json.loads(body)["pid"])


def who(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        return request(sock, path)


def wrk(port, path, connections):
    out = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{DURATION}s",
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return requests, float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def cpu_per_request(corral, setup):
    instance = Corral(corral, setup, 2)
    try:
        wrk(instance.port, SETUPS[setup][1], 16)        # warm-up
        before = instance.cpu_seconds()
        requests, rate = wrk(instance.port, SETUPS[setup][1], 16)
        used = instance.cpu_seconds() - before
    finally:
        instance.stop()
    return used / requests * 1e6, rate


def shares(corral, setup, connections):
    result = []
    for _ in range(TRIALS):
        instance = Corral(corral, setup, 2)
        try:
            socks = [socket.create_connection(("127.0.0.1", instance.port), timeout=10)
                     for _ in range(connections)]
            held = collections.Counter(request(s, SETUPS[setup][1]) for s in socks)
            for s in socks:
                s.close()
        finally:
            instance.stop()
        result.append(max(held.values()) / connections)
    return result


def scaling(corral, setup):
    rates = []
    for workers in (1, 2):
        instance = Corral(corral, setup, workers)
        try:
            wrk(instance.port, SETUPS[setup][2], 8)
            rates.append(wrk(instance.port, SETUPS[setup][2], 8)[1])
        finally:
            instance.stop()
    return rates


def main():
    corral = os.path.join(BUILD, "bin", "corral")
    setups = sys.argv[1:] or list(SETUPS)
    print(f"# {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start; "
          f"wrk {DURATION} s per run, {TRIALS} trials per share", flush=True)
    for setup in setups:
        us, rate = cpu_per_request(corral, setup)
        print(f"{setup:9s} tiny route: {us:8.1f} us CPU per request (coordinator + workers), "
              f"{rate:9.0f} req/s, 2 workers, 16 connections", flush=True)
        for n in CONNECTIONS:
            trial = shares(corral, setup, n)
            print(f"{setup:9s} share {n:3d} keep-alive connections: "
                  f"{' '.join(f'{x:.2f}' for x in trial)}  (max {max(trial):.2f})", flush=True)
        one, two = scaling(corral, setup)
        print(f"{setup:9s} CPU route: 1 worker {one:8.0f} req/s, 2 workers {two:8.0f} req/s, "
              f"{two / one:.2f}x", flush=True)
    if os.environ.get("BEFORE_BUILD_DIR"):
        before = os.path.join(os.environ["BEFORE_BUILD_DIR"], "bin", "corral")
        # the same worker program for both: the coordinator's cost is compared
        us_before, rate_before = cpu_per_request(before, "c")
        us_after, rate_after = cpu_per_request(corral, "c")
        print(f"c tiny route, before (BEFORE_BUILD_DIR) {us_before:.1f} us/request "
              f"{rate_before:.0f} req/s; after {us_after:.1f} us/request {rate_after:.0f} req/s")


if __name__ == "__main__":
    main()
