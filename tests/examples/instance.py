"""instance.py: a real corral instance for the example tests (Python, so
that they read like what a user would do): a temporary directory, a
configuration on an ephemeral port, corral's output read as it comes
(readiness and the port are awaited in it, never slept for), HTTP through
the public routes, and a graceful stop. Every process it starts is ended
by its PID."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

TIMEOUT = 30.0


def install(build, prefix):
    """`cmake --install` into prefix; returns the directory of corral.pc."""
    subprocess.run(["cmake", "--install", build, "--prefix", prefix], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.dirname(glob.glob(os.path.join(prefix, "lib*", "**", "corral.pc"),
                                     recursive=True)[0])


def make_example(source, example, pkgconfig, out, *targets):
    """Builds examples/<example> outside the tree with its Makefile, against
    the installed corral.pc alone."""
    environment = dict(os.environ, PKG_CONFIG_PATH=pkgconfig)
    subprocess.run(["make", "-s", "-C", os.path.join(source, "examples", example),
                    f"OUT={out}", *targets], check=True, env=environment)


class Instance:
    def __init__(self, corral, config_body, balancing="shared"):
        """config_body: YAML after the server and path sections, or a function
        that writes what the configuration needs into the instance's
        directory and returns that YAML."""
        self.dir = tempfile.mkdtemp(prefix="corral-example.")
        if callable(config_body):
            config_body = config_body(self.dir)
        self.config = os.path.join(self.dir, "corral.yml")
        with open(self.config, "w") as out:
            out.write(f"server: {{ host: 127.0.0.1, port: 0, balancing: {balancing} }}\n"
                      "path: { data: ./data }\n" + config_body)
        self.lines = []
        self.changed = threading.Condition()
        self.process = subprocess.Popen([corral, "-c", self.config],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, errors="replace")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.port = None

    def _read(self):
        for line in self.process.stdout:
            print(line, end="", flush=True)
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.lines.append(None)         # end of output
            self.changed.notify_all()

    def wait_output(self, pattern, timeout=TIMEOUT):
        """The first match of the regular expression in corral's output."""
        expression = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self.changed:
            while True:
                for line in self.lines[seen:]:
                    if line is None:
                        raise AssertionError(f"corral exited before printing /{pattern}/")
                    match = expression.search(line)
                    if match:
                        return match
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no /{pattern}/ in corral's output in {timeout} s")
                self.changed.wait(left)

    def wait_ready(self):
        self.port = int(self.wait_output(r"listening on http://127\.0\.0\.1:(\d+)").group(1))
        self.wait_output(r"\] ready: \d+ workers")
        return self

    def request(self, method, path, expect=None):
        """(status, parsed JSON body or text, X-Corral-Worker)."""
        url = f"http://127.0.0.1:{self.port}{path}"
        request = urllib.request.Request(url, method=method,
                                         data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                status, body, headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, body, headers = error.code, error.read(), error.headers
        text = body.decode()
        try:
            document = json.loads(text)
        except ValueError:
            document = text
        if expect is not None and status != expect:
            raise AssertionError(f"{method} {path}: {status}, expected {expect}: {text}")
        return status, document, headers.get("X-Corral-Worker")

    def until(self, what, check, tries=2000):
        """Repeats check() (requests on fresh connections) until it returns a
        true value; bounded by tries, never by sleeping."""
        for _ in range(tries):
            value = check()
            if value:
                return value
        raise AssertionError(f"never: {what}")

    def under_load(self, change, until_served=20):
        """change() while tools/reload_load.py's clients (fresh and keep-alive
        connections, every response checked) load the instance, from
        `until_served` answers before it to as many after it; asserts that
        no request failed. Returns how many were answered."""
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "..", "..", "tools"))
        from reload_load import Load

        load = Load(self.port, 2, 2)

        def served(count):
            deadline = time.monotonic() + TIMEOUT
            while load.ok < count and time.monotonic() < deadline:
                time.sleep(0.05)
        served(until_served)
        change()
        served(load.ok + until_served)
        ok, failed, resets = load.stop()
        assert not failed, (f"{len(failed)} failed ({resets} resets) of {ok + len(failed)}: "
                            f"{failed[:5]}")
        return ok

    def reload_with(self, old, new, timeout=90):
        """Rewrites `old` as `new` in the configuration, SIGHUP, and waits
        for the reload to be applied."""
        with open(self.config) as f:
            text = f.read()
        with open(self.config, "w") as f:
            f.write(text.replace(old, new))
        self.process.send_signal(signal.SIGHUP)
        self.wait_output(r"reload: applied in", timeout=timeout)

    def stop(self):
        """SIGTERM; returns corral's exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait()
        self.reader.join(TIMEOUT)
        return status

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
