"""reload_load.py: an HTTP load that checks every response, for the reload
test and tools/bench-reload.sh: clients that open a new connection per
request and clients that keep theirs alive, on GET /api/hello (any server
answering 200 with "hello" in the body), counting successes (with their
latency), failures and connection resets.

As a command: reload_load.py PORT [FRESH KEEP_ALIVE] runs until SIGINT or
SIGTERM, then prints one JSON line: ok, failed, resets, p50_ms, p99_ms,
the first failures."""
import http.client
import json
import signal
import sys
import threading
import time


class Load:
    """Two kinds of clients: some open a new connection per request, the
    others keep theirs alive. A keep-alive connection the server closed cleanly
    while idle (the graceful stop of a replaced worker) is reopened and the
    request retried once, as HTTP clients do for an idempotent request that
    got no byte of an answer (RFC 9112, 9.3.1); everything else that is not
    a 200 counts as a failure, a reset as a reset too."""

    def __init__(self, port, fresh=1, keep_alive=1):
        self.port = port
        self.latencies = []
        self.ok = 0
        self.failed = []
        self.resets = 0
        self.running = True
        self.lock = threading.Lock()
        self.threads = ([threading.Thread(target=self._fresh, daemon=True)
                         for _ in range(fresh)]
                        + [threading.Thread(target=self._keep_alive, daemon=True)
                           for _ in range(keep_alive)])
        for thread in self.threads:
            thread.start()

    def _count(self, ok, what=None, reset=False, started=None):
        with self.lock:
            if ok:
                self.ok += 1
                self.latencies.append(time.monotonic() - started)
            else:
                self.failed.append(what)
                self.resets += reset

    def _one(self, connection):
        connection.request("GET", "/api/hello")
        response = connection.getresponse()
        body = response.read()
        if response.status != 200 or b"hello" not in body.lower():
            raise AssertionError(f"{response.status} {body[:80]!r}")

    def _fresh(self):
        while self.running:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            started = time.monotonic()
            try:
                self._one(connection)
                self._count(True, started=started)
            except ConnectionResetError as error:
                self._count(False, f"new connection: {error!r}", reset=True)
            except Exception as error:  # noqa: BLE001 - every failure is counted
                self._count(False, f"new connection: {error!r}")
            finally:
                connection.close()

    def _keep_alive(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        used = False
        while self.running:
            started = time.monotonic()
            try:
                self._one(connection)
                self._count(True, started=started)
                used = True
            except (http.client.RemoteDisconnected, BrokenPipeError) as error:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                if not used:
                    self._count(False, f"keep-alive: {error!r}")
                used = False
            except ConnectionResetError as error:
                self._count(False, f"keep-alive: {error!r}", reset=True)
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                used = False
            except Exception as error:  # noqa: BLE001
                self._count(False, f"keep-alive: {error!r}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                used = False
        connection.close()

    def stop(self):
        self.running = False
        for thread in self.threads:
            thread.join(15)
        return self.ok, self.failed, self.resets

    def percentile(self, share):
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0



def main():
    port = int(sys.argv[1])
    fresh = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    keep_alive = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    done = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: done.set())
    load = Load(port, fresh, keep_alive)
    print("started", flush=True)
    done.wait()
    ok, failed, resets = load.stop()
    print(json.dumps({"ok": ok, "failed": len(failed), "resets": resets,
                      "p50_ms": round(load.percentile(0.50) * 1000, 2),
                      "p99_ms": round(load.percentile(0.99) * 1000, 2),
                      "failures": failed[:5]}), flush=True)


if __name__ == "__main__":
    main()
