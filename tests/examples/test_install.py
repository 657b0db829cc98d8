"""test_install.py: `cmake --install` gives a user what the README
promises: corral, libcorral (shared and static), its headers and corral.pc.
examples/hello-c is built outside the tree against that prefix with
pkg-config alone, and runs as the workers of a real corral from the same
prefix: its routes answer, its broadcast reaches every worker, the line
each worker logs through corral/log.h lands in the instance's log (the
coordinator's console) with that worker's name, its status shows in
/api/status, and the instance stops cleanly.

usage: test_install.py BUILD_DIR SOURCE_DIR"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from instance import Instance, install, make_example


def check_prefix(prefix):
    for name in ("bin/corral", "bin/corral-worker", "include/corral/worker.h",
                 "include/corral/node.h", "include/corral/log.h", "include/corral/version.h",
                 "include/corral/export.h"):
        assert os.path.exists(os.path.join(prefix, name)), name
    # the test worker and libcorral's internal headers stay in the tree
    for name in ("bin/corral-test-worker", "include/corral/plugin_host.h",
                 "include/corral/atomic_file.h", "include/log.h"):
        assert not os.path.exists(os.path.join(prefix, name)), name
    libs = glob.glob(os.path.join(prefix, "lib*", "**", "libcorral.*"), recursive=True)
    assert any(p.endswith(".a") for p in libs) and any(".so" in p for p in libs), libs
    # the shared library carries a versioned SONAME (docs/abi.md)
    shared = next(p for p in libs if p.endswith(".so"))
    dynamic = subprocess.run(["readelf", "-d", shared], check=True, capture_output=True,
                             text=True).stdout
    assert re.search(r"\(SONAME\)\s+Library soname: \[libcorral\.so\.\d+\]", dynamic), dynamic


def check_hello(prefix, program, workers):
    instance = Instance(os.path.join(prefix, "bin", "corral"),
                        "pid: { file: ./corral.pid }\n"
                        f"node:\n  workers:\n    count: {workers}\n"
                        f"    command: [{program}]\n"
                        "  shutdown_timeout: 10s\n",
                        # the kernel spreads connections over the workers'
                        # sockets, so that every one of them is reached
                        balancing="reuseport")
    try:
        instance.wait_ready()
        _, hello, worker = instance.request("GET", "/hello", expect=200)
        assert hello["hello"] == "world" and hello["worker"] == worker, hello
        instance.request("POST", "/hello/shout?text=hi%20all", expect=202)
        # every worker hears it, whichever took the request
        heard = set()

        def every_worker_heard():
            _, answer, worker = instance.request("GET", "/hello/heard", expect=200)
            if answer["heard"] == "hi all":
                heard.add(worker)
            return len(heard) == workers
        instance.until("every worker heard the shout", every_worker_heard)
        # the public log call: through the worker's pipeline to the coordinator
        for worker_name in sorted(heard):
            instance.wait_output(r"\[INFO \]\[" + re.escape(worker_name)
                                 + r"\]\[plugins\.hello\] heard \"hi all\" from worker \d+$")
        _, status, _ = instance.request("GET", "/api/status", expect=200)
        plugin = status["status"]["plugins"]["hello"]
        assert plugin["summary"] == "ready to greet", plugin
        assert instance.stop() == 0
    finally:
        instance.close()


def main():
    build, source = sys.argv[1:3]
    work = tempfile.mkdtemp(prefix="corral-install.")
    try:
        prefix = os.path.join(work, "prefix")
        pkgconfig = install(build, prefix)
        check_prefix(prefix)
        make_example(source, "hello-c", pkgconfig, work, "all", "hello-c-static")
        check_hello(prefix, os.path.join(work, "hello-c"), 2)
        check_hello(prefix, os.path.join(work, "hello-c-static"), 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("test_install: ok")


if __name__ == "__main__":
    main()
