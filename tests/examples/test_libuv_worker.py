"""test_libuv_worker.py: examples/libuv-worker, a worker whose event loop
is libuv's and drives libcorral through corral_worker_fd() and
corral_worker_process(), built against the installed prefix and run under
a real corral: its routes answer, a request waiting on a libuv timer does
not hold the loop (another request is answered meanwhile, by the same
worker), the program's own timer keeps running, status and logs reach the
coordinator, and SIGTERM stops it gracefully.

usage: test_libuv_worker.py BUILD_DIR SOURCE_DIR"""
import os
import shutil
import sys
import tempfile
import threading
import time

from instance import Instance, install, make_example


def main():
    build, source = sys.argv[1:3]
    work = tempfile.mkdtemp(prefix="corral-libuv.")
    instance = None
    try:
        prefix = os.path.join(work, "prefix")
        make_example(source, "libuv-worker", install(build, prefix), work, "all")
        instance = Instance(os.path.join(prefix, "bin", "corral"),
                            "node:\n  workers:\n    count: 1\n"
                            f"    command: [{os.path.join(work, 'uv-worker')}]\n"
                            "  shutdown_timeout: 10s\n")
        instance.wait_ready()
        _, hello, worker = instance.request("GET", "/uv/hello", expect=200)
        assert hello == {"message": "hello from libuv"} and worker == "worker-1", hello

        # a request asleep on a libuv timer; the loop goes on serving
        slept = {}
        sleeper = threading.Thread(target=lambda: slept.update(
            answer=instance.request("GET", "/uv/sleep?ms=1500", expect=200)))
        started = time.monotonic()
        sleeper.start()
        _, first, _ = instance.request("GET", "/uv/ticks", expect=200)
        instance.until("the program's own timer ticks", lambda: instance.request(
            "GET", "/uv/ticks", expect=200)[1]["ticks"] > first["ticks"])
        assert sleeper.is_alive(), "the sleep ended before the other requests were answered"
        sleeper.join(30)
        assert slept["answer"][1] == {"slept_ms": 1500}, slept
        assert time.monotonic() - started >= 1.5

        _, status, _ = instance.request("GET", "/api/status", expect=200)
        assert status["status"]["overall"]["level"] == "available", status
        instance.request("GET", "/uv/sleep?ms=x", expect=400)
        status = instance.stop()
        assert status == 0, status
        # its log records went through the coordinator
        instance.wait_output(r"\[worker-1\]\[node\] stopped")
    finally:
        if instance:
            instance.close()
        shutil.rmtree(work, ignore_errors=True)
    print("test_libuv_worker: ok")


if __name__ == "__main__":
    main()
