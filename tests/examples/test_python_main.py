"""test_python_main.py: a Python worker (the corral package) can hold the
main role. Type `python` (python-1, python-2: main: true) beside the C
reference worker (http-1): python-1 is main, broadcasts migration-complete
(docs/worker-protocol.md, section 5a), and the C worker, which waits for
it, becomes ready and serves its app routes. python-1 killed with SIGKILL:
python-2 is told it is main now (MainRole), and the replacement of
python-1 is not.

usage: test_python_main.py BIN_DIR SOURCE_DIR"""
import os
import signal
import sys

from instance import Instance


def config(source):
    worker = os.path.join(source, "examples", "python-worker", "worker.py")
    return ("node:\n  workers:\n"
            f"    python: {{ count: 2, main: true, command: [/usr/bin/python3, {worker}],\n"
            f"              env: {{ PYTHONPATH: {source}/clients/python }} }}\n"
            "    http: { count: 1 }\n"
            "  status: { interval: 200ms }\n"
            "  restart: { backoff: { initial: 100ms } }\n"
            "  shutdown_timeout: 10s\n")


def main():
    bin_dir, source = sys.argv[1:3]
    instance = Instance(os.path.join(bin_dir, "corral"), config(source))
    try:
        instance.wait_ready()       # http-1 is ready only after migration-complete
        instance.wait_output(r"\[http-1\]\[plugins\.migrations\] migration-complete: "
                             r"\{\"migrated\": false\}; serving app routes")

        def node_of(worker, path="/py/node"):
            def answered():
                status, body, by = instance.request("GET", path)
                return body if by == worker and status == 200 else None
            return instance.until(f"GET {path} answered by {worker}", answered)

        first = node_of("python-1")
        assert first["main"] is True and first["worker_id"] == 1, first
        assert node_of("python-2")["main"] is False
        assert node_of("http-1", "/api/hello")       # the C worker serves its app routes

        os.kill(first["pid"], signal.SIGKILL)
        instance.wait_output(r"python-2 \(pid \d+\) is the main worker now")
        instance.wait_output(r"\[python-2\]\[corral\.worker\] took the main role")
        instance.until("python-2 says it is main",
                       lambda: node_of("python-2")["main"] is True)
        replacement = instance.until(
            "python-1 replaced",
            lambda: (lambda node: node if node["pid"] != first["pid"] else None)(
                node_of("python-1")))
        assert replacement["main"] is False, replacement
        assert node_of("http-1", "/api/hello")
        assert instance.stop() == 0
    finally:
        instance.close()
    print("test_python_main: ok")


if __name__ == "__main__":
    main()
