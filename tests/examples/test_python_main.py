"""test_python_main.py: a Python worker (the corral package) can hold the
main role. Type `python` (python-1, python-2: main: true) beside the C
reference worker (http-1): python-1 is main, broadcasts migration-complete
(docs/worker-protocol.md, section 5a), and the C worker, which waits for
it, becomes ready and serves its app routes. python-1 killed with SIGKILL:
python-2 is told it is main now (MainRole), and the replacement of
python-1 is not.

`silent`: a Python main that never broadcasts migration-complete: the
instance says at warn who it waits on, for what and since when, and
stops within node.reload.ready_timeout, the main worker taken as failing
to become ready.

usage: test_python_main.py BIN_DIR SOURCE_DIR [silent]"""
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


def silent(bin_dir, source):
    script = os.path.join(source, "tests", "examples", "silent_main.py")
    body = ("node:\n  workers:\n"
            f"    python: {{ count: 1, main: true, command: [/usr/bin/python3, {script}],\n"
            f"              env: {{ PYTHONPATH: {source}/clients/python }} }}\n"
            "    http: { count: 1 }\n"
            "  reload: { ready_timeout: 8s }\n"
            "  shutdown_timeout: 5s\n")
    instance = Instance(os.path.join(bin_dir, "corral"), body)
    try:
        instance.wait_output(r"\[WARN \]\[coordinator\]\[coordinator\] waiting for the main "
                             r"worker python-1 \(pid \d+\) to broadcast migration-complete "
                             r"\(docs/worker-protocol\.md, section 5a\) since \d\d:\d\d:\d\d "
                             r"UTC \(\d+ s\): http-1 is held back until it does")
        instance.wait_output(r"the main worker python-1 \(pid \d+\) did not broadcast "
                             r"migration-complete within 8000 ms \(node\.reload\.ready_timeout\): "
                             r"it failed to become ready")
        assert instance.process.wait(30) == 1
        assert not any(line and "] ready: " in line for line in instance.lines)
    finally:
        instance.close()
    print("test_python_main silent: ok")


def main():
    bin_dir, source = sys.argv[1:3]
    if sys.argv[3:] == ["silent"]:
        return silent(bin_dir, source)
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
        instance.wait_output(r"\[python-1\]\[corral\.worker\] serving from Python \(pid "
                             r"(?!%d\b)\d+" % first["pid"])
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
