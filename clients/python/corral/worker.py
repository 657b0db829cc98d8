"""worker.py: a corral worker process in Python (docs/worker-protocol.md).

    import corral
    corral.Worker(app).run()        # app: any WSGI application

One thread, one poll loop: the HTTP connections (handed over by the
coordinator in `shared` mode, accepted on fd 3 in `reuseport` mode), desk
(Hello with the secret, Welcome, Ready, reports, MainRole, Bye), the bus
and the logs. SIGTERM stops it gracefully."""
import json
import logging
import os
import resource
import signal
import socket
import sys
import time

import zmq

from .bus import Bus
from .envelope import PROTOCOL, envelope
from .handoff import HEARTBEAT_S, Handoff
from .http import HttpServer
from .logs import LogHandler, LogPusher
from .v1 import corral_pb2 as pb
from . import views
from .views import STATUS_LEVELS

EX_CONFIG = 78
LISTEN_FD = 3
WELCOME_TIMEOUT_S = 10
MIGRATIONS = ("migrations", "migration-complete")   # what a main worker owes (section 5a)
WAITING = "waiting for migration-complete from the main worker"
DRAIN_GRACE_S = 0.5             # a connection handed as we drained may not have written yet
PYTHON_LEVELS = {0: logging.NOTSET, 1: logging.DEBUG, 2: logging.DEBUG, 3: logging.INFO,
                 4: logging.WARNING, 5: logging.ERROR, 6: logging.CRITICAL,
                 7: logging.CRITICAL + 10}


class WorkerError(Exception):
    """The worker cannot run: `code` is its exit status (78: never restarted)."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def read_secret():
    """The worker's secret (section 1): the descriptor named by
    CORRAL_SECRET_FD read to its end, then closed."""
    text = os.environ.get("CORRAL_SECRET_FD", "")
    if not text.isdigit():
        return b""
    fd, chunks = int(text), []
    while True:
        chunk = os.read(fd, 128)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


class Worker:
    """A worker serving `app` (WSGI). Options:
    - plugin: the name of this worker's status in /api/status;
    - wait_for_main: a worker that is not main answers 503 and is not ready
      until the main worker broadcasts migration-complete (as libcorral's);
    - migrate: called on the main worker before it broadcasts
      migration-complete; what it returns (JSON-able) is the payload;
    - install_logging: Python's root logger sends its records to corral;
    - instance_routes: GET /api/status and /api/stats for the instance."""

    def __init__(self, app=None, plugin="python", wait_for_main=False, migrate=None,
                 install_logging=True, instance_routes=True):
        self.id = int(os.environ["CORRAL_WORKER_ID"])
        self.secret = read_secret()
        self.pid = os.getpid()
        self.coordinator_pid = os.getppid()
        self.started = time.monotonic()
        self.context = zmq.Context()
        self.config = self._join(os.environ["CORRAL_DESK"])
        self.name = self.config.worker_name
        self.main = self.config.main
        self.view = None
        self.plugin = plugin
        self.status = (0, "serving from Python")
        self.logs = LogPusher(self.context, self.config, self.secret)
        if install_logging:
            root = logging.getLogger()
            root.addHandler(LogHandler(self.logs))
            root.setLevel(PYTHON_LEVELS.get(self.logs.root_level, logging.INFO))
        self.bus = Bus(self.context, self.config, self.log)
        self._main_handlers = []
        self._migrate = migrate
        self._waiting = wait_for_main and not self.main
        if self._waiting:
            self.bus.on(*MIGRATIONS, self._on_migration_complete)
        self.app = app
        self.instance_routes = instance_routes
        self.http = None
        self.listener = None
        self.handoff = None
        self.stopping = False
        self.report_seq = 0
        self.loop_delay_ms = 0.0
        self.poller = zmq.Poller()

    # --- desk: Hello, Welcome, and what the coordinator says later -----------------

    def _join(self, endpoint):
        self.desk = self.context.socket(zmq.DEALER)
        self.desk.setsockopt(zmq.MAXMSGSIZE, 4 * 1024 * 1024)
        self.desk.setsockopt(zmq.LINGER, 5000)
        self.desk.connect(endpoint)
        hello = pb.Hello(worker_id=self.id, pid=self.pid, secret=self.secret)
        self.desk.send_multipart([b"", envelope(hello=hello)])
        if not self.desk.poll(WELCOME_TIMEOUT_S * 1000):
            raise WorkerError(f"no Welcome from the coordinator within {WELCOME_TIMEOUT_S} s")
        reply = pb.Envelope.FromString(self.desk.recv_multipart()[-1])
        if reply.WhichOneof("body") == "protocol_error":
            raise WorkerError("the coordinator refused this worker: "
                              f"{reply.protocol_error.message}", EX_CONFIG)
        if reply.protocol != PROTOCOL:
            raise WorkerError(f"the coordinator speaks corral protocol version "
                              f"{reply.protocol}, this worker speaks version {PROTOCOL}: "
                              "use a corral Python package made for this corral", EX_CONFIG)
        if reply.WhichOneof("body") != "welcome":
            raise WorkerError("the coordinator answered Hello with something else than a "
                              "Welcome")
        return reply.welcome.config

    def send_desk(self, **body):
        try:
            self.desk.send_multipart([b"", envelope(**body)], zmq.DONTWAIT)
        except zmq.Again:
            pass

    def _on_desk(self):
        while self.desk.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            try:
                reply = pb.Envelope.FromString(self.desk.recv_multipart()[-1])
            except Exception:           # noqa: BLE001 (DecodeError): dropped
                continue
            body = reply.WhichOneof("body")
            if body == "cluster_view":
                self.view = reply.cluster_view
            elif body == "log_config":
                self.logs.apply(reply.log_config)
            elif body == "main_role":
                self._set_main(reply.main_role.main)

    # --- The main role -----------------------------------------------------------------

    def on_main_role(self, handler):
        """handler(main: bool) when this process takes or loses the main role."""
        self._main_handlers.append(handler)

    def _set_main(self, main):
        if main == self.main:
            return
        self.main = main
        self.log(3, f"{'took' if main else 'gave up'} the main role", logger="corral.worker")
        if main and self._waiting:
            self._release()     # the role's holder owes, it does not wait
        for handler in self._main_handlers:
            handler(main)

    def _complete_migration(self):
        """What a main worker owes at start (section 5a): its start-up work,
        then migration-complete, persisted for every later subscriber."""
        payload = {"migrated": False}
        if self._migrate:
            payload = self._migrate()
        if not self.bus.broadcast(*MIGRATIONS, json.dumps(payload), persist=True):
            raise WorkerError("cannot broadcast migration-complete")

    def _on_migration_complete(self, message):
        self.log(3, f"migration-complete: {message.payload.decode(errors='replace')}; "
                    "serving app routes", logger="plugins.migrations")
        self._release()

    def _release(self):
        if self._waiting:
            self._waiting = False
            self.send_desk(ready=pb.Ready(worker_id=self.id))

    # --- Logs, status -----------------------------------------------------------------

    def log(self, level, message, logger=None, meta=""):
        """A record to the coordinator: level 1 trace .. 6 fatal."""
        self.logs.log(level, logger or f"plugins.{self.plugin}", message, meta=meta)

    def set_status(self, level, summary):
        """This worker's status in /api/status: available, degraded,
        unavailable or critical."""
        self.status = (STATUS_LEVELS.index(level), summary)

    def _report(self):
        self.report_seq += 1
        with open("/proc/self/statm") as statm:
            rss = int(statm.read().split()[1]) * resource.getpagesize()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        http = self.http
        count, total_us, max_us = http.take_interval() if http else (0, 0, 0)
        requests = pb.RequestMetrics()
        if http:
            requests = pb.RequestMetrics(
                total=http.requests["total"], interval_count=count,
                interval_total_us=total_us, interval_max_us=max_us,
                concurrent_connections=len(http.connections),
                connections_accepted=http.accepted, connections_recycled=http.recycled,
                status_codes=[pb.StatusCodeCount(code=c, count=n)
                              for c, n in sorted(http.requests["codes"].items())])
        level, summary = self.status
        if self._waiting:
            level, summary = 0, WAITING
        report = pb.Report(
            worker_id=self.id, seq=self.report_seq,
            core=[pb.ServiceStatus(name="http", level=0, summary="serving" if http else "none")],
            plugins=[pb.ServiceStatus(name=self.plugin, level=level, summary=summary)],
            process=pb.ProcessMetrics(pid=self.pid, resident_set_size_bytes=rss,
                                      event_loop_delay_ms=self.loop_delay_ms,
                                      cpu_seconds=usage.ru_utime + usage.ru_stime,
                                      uptime_ms=int((time.monotonic() - self.started) * 1000)),
            requests=requests,
            logs=pb.LogCounters(received=self.logs.seq, dropped=self.logs.dropped))
        self.send_desk(report=report)
        self.loop_delay_ms = 0.0
        if self.handoff:
            self.handoff.alive()

    # --- HTTP: where connections come from --------------------------------------------

    def _open_http(self, app):
        if self.config.without_http:
            return
        if os.environ.get("LISTEN_FDS") != "1" or os.environ.get("LISTEN_PID") != str(self.pid):
            raise WorkerError("no listening socket: fd 3 was not given to this process "
                              "(LISTEN_FDS=1, LISTEN_PID)")
        self.handoff = Handoff.from_env()
        listener = socket.socket(fileno=LISTEN_FD)
        if self.handoff:
            listener.close()            # the coordinator accepts (section 2a)
            self.poller.register(self.handoff.fileno(), zmq.POLLIN)
        else:
            listener.setblocking(False)
            self.listener = listener
            self.poller.register(listener.fileno(), zmq.POLLIN)
        self.http = HttpServer(app, self.name, self.config.server_port, self._watch,
                               self._unwatch, self._on_closed, self.log,
                               keepalive_requests=self.config.limits.keepalive_requests)

    def _watch(self, fd, writable):
        self.poller.register(fd, zmq.POLLIN | (zmq.POLLOUT if writable else 0))

    def _unwatch(self, fd):
        self.poller.unregister(fd)

    def _on_closed(self, connection):
        if connection.handed and self.handoff:
            self.handoff.closed()

    def _accept(self):
        while self.listener is not None:
            try:
                connection, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                # EINVAL: the coordinator shut the socket down, the
                # instance is stopping (our SIGTERM is on its way)
                self._close_listener()
                return
            self.http.serve(connection, handed=False)

    def _close_listener(self):
        if self.listener is not None:
            self.poller.unregister(self.listener.fileno())
            self.listener.close()
            self.listener = None

    def _take_handed(self):
        for connection in self.handoff.receive():
            self.http.serve(connection, handed=True)

    # --- The loop ------------------------------------------------------------------------

    def run(self, app=None):
        """Serves until SIGTERM (or the coordinator's death), then exits 0."""
        try:
            self._run(app or self.app)
        except WorkerError as error:
            self.log(6, str(error), logger="corral.worker")
            self.logs.flush()
            sys.stderr.write(f"[{self.name}] {error}\n")
            self.context.destroy(linger=1000)
            sys.exit(error.code)
        self._stop()
        sys.exit(0)

    def _run(self, app):
        self.app = app
        self.wake_read, self.wake_write = socket.socketpair()
        self.wake_read.setblocking(False)
        self.wake_write.setblocking(False)
        signal.set_wakeup_fd(self.wake_write.fileno())
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: setattr(self, "stopping", True))
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        self._open_http(self._application())
        for item in (self.desk, self.bus.bus_out, self.wake_read.fileno()):
            self.poller.register(item, zmq.POLLIN)
        if self.main:
            self._complete_migration()
        if self.handoff and not self.handoff.ready():
            raise WorkerError("cannot tell the coordinator we take connections")
        self.log(3, f"serving from Python (pid {self.pid}, "
                    f"{'handed over by the coordinator' if self.handoff else 'fd 3'})",
                 logger="corral.worker")
        if not self._waiting:
            self.send_desk(ready=pb.Ready(worker_id=self.id))
        self._report()
        self._loop()

    def _application(self):
        app = self.app or _not_found
        if self.instance_routes:
            app = views.instance_routes(self, app)

        def held(environ, start_response):
            if self._waiting and not environ.get("PATH_INFO", "").startswith("/api/"):
                start_response("503 Service Unavailable",
                               [("Content-Type", "application/json")])
                return [json.dumps({"statusCode": 503, "error": "Service Unavailable",
                                    "message": WAITING}).encode()]
            return app(environ, start_response)
        return held

    def _loop(self, until=None):
        interval = max(self.config.status_interval_ms, 100) / 1000.0
        next_report = time.monotonic() + interval
        next_beat = 0.0
        while until is None and not self.stopping or until is not None and not until():
            now = time.monotonic()
            wake = next_report
            if self.handoff and self.handoff.held():
                wake = min(wake, next_beat)
            if until is not None:
                wake = min(wake, now + 0.05)
            events = self.poller.poll(max(0.0, wake - now) * 1000)
            turn = time.monotonic()
            if turn >= next_report:
                self.loop_delay_ms = max(self.loop_delay_ms, (turn - next_report) * 1000)
                self._report()
                next_report = max(next_report + interval, turn)
            if self.handoff and self.handoff.held() and turn >= next_beat:
                self.handoff.alive()
                next_beat = turn + HEARTBEAT_S
            self._dispatch(events)
            self.logs.flush()
            self.loop_delay_ms = max(self.loop_delay_ms, (time.monotonic() - turn) * 1000)
            if os.getppid() != self.coordinator_pid:
                self.stopping = True    # the coordinator died: we were reparented
                return

    def _dispatch(self, events):
        for item, flags in events:
            if item is self.desk:
                self._on_desk()
            elif item is self.bus.bus_out:
                self.bus.on_readable()
            elif item == self.wake_read.fileno():
                try:
                    self.wake_read.recv(4096)
                except BlockingIOError:
                    pass
            elif self.listener is not None and item == self.listener.fileno():
                self._accept()
            elif self.handoff and item == self.handoff.fileno():
                self._take_handed()
            elif self.http:
                self.http.on_event(item, bool(flags & zmq.POLLIN), bool(flags & zmq.POLLOUT))

    def _stop(self):
        """Takes no new connections, serves what is in progress (answered
        with Connection: close), closes the rest, flushes the logs, says
        Bye, exits 0, within the shutdown timeout."""
        self.log(3, "stopping", logger="corral.worker")
        deadline = time.monotonic() + max(self.config.shutdown_timeout_ms / 1000.0 - 1, 1)
        if self.http:
            self.http.draining = True
            if self.handoff:
                self.handoff.draining()
            self._close_listener()
            drain_started = time.monotonic()

            def drained():
                self.http.close_idle(DRAIN_GRACE_S)
                return (not self.http.connections
                        and time.monotonic() - drain_started >= (0.1 if self.handoff else 0)
                        or time.monotonic() >= deadline
                        or os.getppid() != self.coordinator_pid)
            self._loop(until=drained)
            for connection in list(self.http.connections.values()):
                self.http.close(connection)
        self.log(3, "stopped", logger="corral.worker")
        self.logs.flush()
        self.send_desk(bye=pb.Bye(worker_id=self.id, last_log_seq=self.logs.seq, exit_code=0))
        self.context.destroy(linger=5000)   # what is queued leaves first


def _not_found(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "application/json")])
    return [b'{"statusCode":404,"error":"Not Found","message":"no such route"}']


def serve(app, **options):
    """Runs `app` (WSGI) as this corral worker until SIGTERM."""
    try:
        worker = Worker(app, **options)
    except WorkerError as error:
        sys.stderr.write(f"[corral] {error}\n")
        sys.exit(error.code)
    worker.run()
