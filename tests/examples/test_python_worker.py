"""test_python_worker.py: the Python worker (examples/python-worker) beside
the C reference worker in one real instance: worker-1 runs corral-worker,
worker-2 and worker-3 run worker.py (one `command`, a wrapper that picks by
CORRAL_WORKER_ID, until named worker types exist). Through the public
routes only: the Python workers serve HTTP on fd 3, their status reports
reach /api/status and /api/stats on the C worker (and the cluster view
reaches their own /api/status), their log records come out of the
coordinator, a Python broadcast reaches C and Python handlers, and a C
broadcast reaches Python; SIGTERM stops all of them gracefully.

usage: test_python_worker.py BIN_DIR SOURCE_DIR PYTHON_OUT"""
import json
import os
import sys

from instance import Instance


def config(bin_dir, source, python_out):
    def write(directory):
        wrapper = os.path.join(directory, "mixed.sh")
        worker = os.path.join(source, "examples", "python-worker", "worker.py")
        with open(wrapper, "w") as out:
            # exec: the worker keeps the PID its Hello must name
            out.write("#!/bin/sh\n"
                      f'[ "$CORRAL_WORKER_ID" = 1 ] && exec {bin_dir}/corral-worker\n'
                      f"exec /usr/bin/python3 {worker}\n")
        os.chmod(wrapper, 0o755)
        return ("node:\n  workers:\n    count: 3\n"
                f"    command: [{wrapper}]\n"
                f"    env: {{ PYTHONPATH: {python_out} }}\n"
                "  status: { interval: 200ms }\n"
                "  debug_routes: true\n"
                "  shutdown_timeout: 10s\n")
    return write


def main():
    bin_dir, source, python_out = sys.argv[1:4]
    instance = Instance(os.path.join(bin_dir, "corral"), config(bin_dir, source, python_out),
                        balancing="reuseport")
    try:
        instance.wait_ready()           # every worker said Ready, Python ones too

        def to(worker, method, path, expect=200):
            """The body of a request answered by `worker` (fresh connections
            until one is), with the status `expect` (None: any)."""
            def answered():
                answer = instance.request(method, path)
                return answer if answer[2] == worker else None
            status, body, _ = instance.until(f"{method} {path} answered by {worker}", answered)
            assert expect is None or status == expect, (method, path, status, body)
            return body

        assert to("worker-2", "GET", "/py/hello") == {"message": "hello from python"}
        python = to("worker-2", "GET", "/py/node")
        assert python["worker_id"] == 2 and not python["main"], python
        assert to("worker-1", "GET", "/api/node")["main"] is True

        # status: set on worker-2, seen by the C worker and by worker-3
        to("worker-2", "POST", "/py/status?level=degraded&summary=python%20says%20so")

        def python_degraded(worker):
            status = to(worker, "GET", "/api/status", expect=None)
            plugin = status.get("status", {}).get("plugins", {}).get("python", {})
            return (plugin.get("level") == "degraded"
                    and plugin.get("summary", "").endswith("python says so"))
        instance.until("the C worker shows the Python status", lambda: python_degraded("worker-1"))
        instance.until("worker-3 shows worker-2's status", lambda: python_degraded("worker-3"))
        stats = to("worker-1", "GET", "/api/stats")
        pids = {process.get("pid") for process in stats["processes"]}
        assert python["pid"] in pids, stats["processes"]

        # logs through the coordinator
        to("worker-2", "POST", "/py/log?message=hello%20from%20worker%202", expect=202)
        instance.wait_output(r"\[worker-2\]\[plugins\.python\] hello from worker 2")

        # a Python broadcast reaches the Python workers' handlers
        to("worker-2", "POST", "/py/broadcast?text=from-py", expect=202)
        for worker in ("worker-2", "worker-3"):
            instance.until(f"{worker} heard worker-2", lambda: to(
                worker, "GET", "/py/heard") == {"heard": "from-py", "from": 2})
        # and the C worker's, as one of its probe plugins
        to("worker-1", "GET", "/api/debug/node?action=on&plugin=probe-a&type=say&worker=1")
        to("worker-3", "POST", "/py/broadcast?plugin=probe-a&text=py-to-c", expect=202)
        instance.until("the C worker heard worker-3", lambda: "py-to-c" in json.dumps(to(
            "worker-1", "GET", "/api/debug/node?action=received&worker=1&payloads=1")))

        # a C broadcast reaches the Python workers
        to("worker-1", "GET", "/api/debug/node?action=broadcast&plugin=probe-b&type=say"
                          "&payload=from-c&worker=1")
        for worker in ("worker-2", "worker-3"):
            instance.until(f"{worker} heard worker-1", lambda: to(
                worker, "GET", "/py/heard?plugin=probe-b") == {"heard": "from-c", "from": 1})

        assert instance.stop() == 0
        instance.wait_output(r"\[worker-3\]\[plugins\.python\] stopped")
        instance.wait_output(r"worker-2 \(pid \d+\) stopped")
    finally:
        instance.close()
    print("test_python_worker: ok")


if __name__ == "__main__":
    main()
