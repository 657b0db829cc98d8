"""test_python_worker.py: the Python workers (examples/python-worker, on the
corral package in clients/python) beside the C test worker in one real
instance, as named worker types: `http` (http-1) runs corral-test-worker
(the reference worker's plugins and the debug routes that drive the node
service), `python` (python-1 and python-2) runs worker.py and `flask`
(flask-1) the Flask application, each with its own `command`, `env` and
`cwd`. Through the public routes only: the Python workers serve HTTP, their status reports
reach /api/status and /api/stats on the C worker (and the cluster view
reaches their own /api/status), their log records come out of the
coordinator, a Python broadcast reaches C and Python handlers, and a C
broadcast reaches Python; SIGTERM stops all of them gracefully.

Run in both balancing modes: `shared` (the Python workers take the
connections the coordinator hands over) and `reuseport` (each accepts on
its own socket).

usage: test_python_worker.py BIN_DIR SOURCE_DIR shared|reuseport"""
import json
import os
import sys

from instance import Instance


def config(bin_dir, source):
    worker = os.path.join(source, "examples", "python-worker", "worker.py")
    test_worker = os.path.join(bin_dir, "corral-test-worker")
    return ("node:\n  workers:\n"
            f"    http: {{ count: 1, command: [{test_worker}] }}\n"
            f"    python: {{ count: 2, command: [/usr/bin/python3, {worker}],\n"
            f"              env: {{ PYTHONPATH: {source}/clients/python }} }}\n"
            f"    flask: {{ count: 1, cwd: {source}/examples/python-worker,\n"
            "             command: [/usr/bin/python3, ./flask_app.py],\n"
            f"             env: {{ PYTHONPATH: {source}/clients/python }} }}\n"
            "  status: { interval: 200ms }\n"
            "  debug_routes: true\n"
            "  shutdown_timeout: 10s\n")


def main():
    bin_dir, source, balancing = sys.argv[1:4]
    instance = Instance(os.path.join(bin_dir, "corral"), config(bin_dir, source),
                        balancing=balancing)
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

        assert to("python-1", "GET", "/py/hello") == {"message": "hello from python"}
        # a Flask application (WSGI) through the package, from its own cwd
        assert to("flask-1", "GET", "/flask/hello")["message"] == "hello from flask"
        python = to("python-1", "GET", "/py/node")
        assert python["worker_id"] == 2 and not python["main"], python
        assert to("http-1", "GET", "/api/node")["main"] is True

        # status: set on python-1, seen by the C worker and by python-2
        to("python-1", "POST", "/py/status?level=degraded&summary=python%20says%20so")

        def python_degraded(worker):
            status = to(worker, "GET", "/api/status", expect=None)
            plugin = status.get("status", {}).get("plugins", {}).get("python", {})
            return (plugin.get("level") == "degraded"
                    and plugin.get("summary", "").endswith("python says so"))
        instance.until("the C worker shows the Python status", lambda: python_degraded("http-1"))
        instance.until("python-2 shows python-1's status", lambda: python_degraded("python-2"))
        stats = to("http-1", "GET", "/api/stats")
        pids = {process.get("pid") for process in stats["processes"]}
        assert python["pid"] in pids, stats["processes"]

        # logs through the coordinator
        to("python-1", "POST", "/py/log?message=hello%20from%20worker%202", expect=202)
        instance.wait_output(r"\[python-1\]\[plugins\.python\] hello from worker 2")

        # a Python broadcast reaches the Python workers' handlers
        to("python-1", "POST", "/py/broadcast?text=from-py", expect=202)
        for worker in ("python-1", "python-2"):
            instance.until(f"{worker} heard python-1", lambda: to(
                worker, "GET", "/py/heard") == {"heard": "from-py", "from": 2})
        # and the C worker's, as one of its probe plugins
        to("http-1", "GET", "/api/debug/node?action=on&plugin=probe-a&type=say&worker=1")
        to("python-2", "POST", "/py/broadcast?plugin=probe-a&text=py-to-c", expect=202)
        instance.until("the C worker heard python-2", lambda: "py-to-c" in json.dumps(to(
            "http-1", "GET", "/api/debug/node?action=received&worker=1&payloads=1")))

        # a C broadcast reaches the Python workers
        to("http-1", "GET", "/api/debug/node?action=broadcast&plugin=probe-b&type=say"
                          "&payload=from-c&worker=1")
        for worker in ("python-1", "python-2"):
            instance.until(f"{worker} heard http-1", lambda: to(
                worker, "GET", "/py/heard?plugin=probe-b") == {"heard": "from-c", "from": 1})

        assert instance.stop() == 0
        instance.wait_output(r"\[python-2\]\[corral\.worker\] stopped")
        instance.wait_output(r"python-1 \(pid \d+\) stopped")
    finally:
        instance.close()
    print(f"test_python_worker ({balancing}): ok")


if __name__ == "__main__":
    main()
