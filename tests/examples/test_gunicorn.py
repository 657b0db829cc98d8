"""test_gunicorn.py: Gunicorn (Debian's gunicorn, a real third-party server)
serving examples/python-worker/flask_app.py as a plain worker type
(protocol: none): it takes fd 3 from LISTEN_FDS itself (systemd socket
activation; `--bind fd://3` as well would make it take fd 3 twice and
fail with EBADF) and says READY=1 on its own notify socket: two
workers, each a Gunicorn arbiter with its own Gunicorn worker; requests
answered by both; a rolling reload under load with 0 failed requests;
the Gunicorn log lines (its stderr) in the central log with the worker's
name.

usage: test_gunicorn.py BIN_DIR SOURCE_DIR"""
import os
import re
import sys

from instance import Instance


def config(source):
    example = os.path.join(source, "examples", "python-worker")
    return ("node:\n  workers:\n"
            f"    web: {{ count: 2, protocol: none, cwd: {example},\n"
            "           command: [/usr/bin/gunicorn, --workers, '1',\n"
            "                     --graceful-timeout, '5', flask_app:app],\n"
            "           env: { GENERATION: '1' } }\n"
            "  status: { interval: 200ms }\n"
            "  reload: { parallel: 1, ready_timeout: 30s }\n"
            "  shutdown_timeout: 10s\n")


def ready_pids(instance):
    found = {}
    for line in instance.lines:
        match = line and re.search(r"\] (web-\d) \(pid (\d+)\) is ready \(READY=1\)", line)
        if match:
            found[match.group(1)] = int(match.group(2))
    return found


def main():
    bin_dir, source = sys.argv[1:3]
    instance = Instance(os.path.join(bin_dir, "corral"), config(source))
    try:
        instance.wait_ready()
        before = ready_pids(instance)
        assert set(before) == {"web-1", "web-2"}, before
        # Gunicorn's own log lines (stderr) in the central log
        instance.wait_output(r"\[web-\d\]\[stderr\] .*\[INFO\] Listening at: http://127\.0\.0\.1")
        # both answer (each a Gunicorn worker under its arbiter)
        answered = set()
        instance.until("both Gunicorn workers answer", lambda: answered.add(
            instance.request("GET", "/flask/hello", expect=200)[1]["pid"]) or len(answered) >= 2)

        ok = instance.under_load(
            lambda: instance.reload_with("GENERATION: '1'", "GENERATION: '2'"))
        after = ready_pids(instance)
        assert all(after[name] != before[name] for name in before), (before, after)
        print(f"gunicorn: reload under load, {ok} ok, 0 failed")
        assert instance.stop() == 0
    finally:
        instance.close()
    print("test_gunicorn: ok")


if __name__ == "__main__":
    main()
