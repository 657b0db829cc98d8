#!/usr/bin/python3
"""bench-upgrade.py: what a SIGUSR2 binary upgrade costs under load
(docs/upgrade.md), per balancing mode: how long from the signal until the
new coordinator serves (the PID file names it), until the old one has
exited and until the new one writes the log file; the requests that failed;
and the latency of requests during the upgrade against the same load just
before it (a ratio measured within one run, so a shared machine's noise
cancels out as far as it can).

usage: tools/bench-upgrade.py [BIN_DIR [ROUNDS]]   (default: build/bin, 3)
The instance runs from a copy of BIN_DIR's binaries in a temporary
directory (tests/integration/test_upgrade.py's Instance), with 2 workers;
the load is tools/reload_load.py with 2 clients on fresh connections and 2
on keep-alive ones."""
import os
import signal
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from reload_load import Load              # noqa: E402
from test_upgrade import Instance, await_true, await_exit   # noqa: E402

WINDOW_S = 2.0


def round_once(bin_dir, balancing):
    instance = Instance(bin_dir, balancing)
    try:
        old = instance.process.pid
        before = Load(instance.port, 2, 2)
        time.sleep(WINDOW_S)        # a measuring window, not synchronisation
        _, failed_before, _ = before.stop()
        during = Load(instance.port, 2, 2)
        started = time.monotonic()
        os.kill(old, signal.SIGUSR2)
        new = await_true("the new coordinator", lambda: instance.pid_in_file() not in (0, old)
                         and instance.pid_in_file())
        served = time.monotonic()
        instance.pids.add(new)
        instance.process.wait(60)
        exited = time.monotonic()
        instance.await_log("logs: writing the log files from now on")
        writing = time.monotonic()
        ok, failed, _ = during.stop()
        result = {
            "serves_ms": (served - started) * 1000, "old_exited_ms": (exited - started) * 1000,
            "writes_log_ms": (writing - started) * 1000,
            "failed": len(failed) + len(failed_before), "requests": ok,
            "p50_before": before.percentile(0.5) * 1000, "p99_before": before.percentile(0.99) * 1000,
            "p50_during": during.percentile(0.5) * 1000, "p99_during": during.percentile(0.99) * 1000,
        }
        os.kill(new, signal.SIGTERM)
        await_exit(new)
        return result
    finally:
        instance.destroy()


def main():
    bin_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print("mode       round  serves_ms  old_exit_ms  log_ms  failed  requests  "
          "p50 before/during ms  p99 before/during ms  p99 ratio")
    for balancing in ("shared", "reuseport"):
        for number in range(1, rounds + 1):
            r = round_once(bin_dir, balancing)
            ratio = r["p99_during"] / r["p99_before"] if r["p99_before"] else 0.0
            print(f"{balancing:<10} {number:>5}  {r['serves_ms']:>9.0f}  {r['old_exited_ms']:>11.0f}"
                  f"  {r['writes_log_ms']:>6.0f}  {r['failed']:>6}  {r['requests']:>8}  "
                  f"{r['p50_before']:>8.2f} / {r['p50_during']:<8.2f}   "
                  f"{r['p99_before']:>8.2f} / {r['p99_during']:<8.2f}   {ratio:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
