"""http.py: HTTP/1.1 connections served by a WSGI application from the
worker's one loop: keep-alive, Content-Length request bodies, responses
written without blocking (what the socket does not take now is written
when it is writable). A WSGI call runs to its end within a loop turn, as
in any single-threaded server; a slow route holds the loop (and shows in
the reports' event_loop_delay_ms)."""
import io
import sys
import time
import urllib.parse

MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
RECEIVE = 65536
REASONS = {200: "OK", 202: "Accepted", 204: "No Content", 400: "Bad Request",
           404: "Not Found", 413: "Payload Too Large", 431: "Request Header Fields Too Large",
           500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable"}


class Connection:
    __slots__ = ("socket", "fd", "handed", "input", "output", "close_when_written",
                 "served", "since")

    def __init__(self, sock, handed):
        self.socket = sock
        self.fd = sock.fileno()
        self.handed = handed            # from the coordinator: counted when closed
        self.input = bytearray()
        self.output = bytearray()
        self.close_when_written = False
        self.served = 0
        self.since = time.monotonic()

    def idle(self):
        return not self.input and not self.output


class HttpServer:
    """Connections by descriptor; `serve(sock, handed)` adopts one.
    `watch(fd, writable)` and `unwatch(fd)` are the loop's poller;
    `on_closed(connection)` is told of every close."""

    def __init__(self, app, worker_name, port, watch, unwatch, on_closed, log,
                 keepalive_requests=0):
        self.app = app
        self.worker_name = worker_name
        self.port = str(port)
        self.watch = watch
        self.unwatch = unwatch
        self.on_closed = on_closed
        self.log = log
        self.keepalive_requests = keepalive_requests    # then close; 0: no limit
        self.connections = {}
        self.draining = False
        self.accepted = 0
        self.recycled = 0
        self.requests = {"total": 0, "codes": {}, "count": 0, "total_us": 0, "max_us": 0}

    # --- Connections ---------------------------------------------------------------

    def serve(self, sock, handed):
        sock.setblocking(False)
        connection = Connection(sock, handed)
        self.connections[connection.fd] = connection
        self.accepted += 1
        self.watch(connection.fd, False)

    def close(self, connection):
        if self.connections.pop(connection.fd, None) is None:
            return
        self.unwatch(connection.fd)
        try:
            connection.socket.close()
        except OSError:
            pass
        self.on_closed(connection)

    def close_idle(self, grace_s):
        """Draining: closes the connections with nothing in progress, except
        a new one that may not have sent its request yet (grace_s)."""
        now = time.monotonic()
        for connection in list(self.connections.values()):
            if connection.idle() and (connection.served or now - connection.since >= grace_s):
                self.close(connection)

    def on_event(self, fd, readable, writable):
        connection = self.connections.get(fd)
        if connection is None:
            return
        if writable:
            self._write(connection)
        if readable and fd in self.connections:
            self._read(connection)

    def _read(self, connection):
        try:
            data = connection.socket.recv(RECEIVE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            return self.close(connection)
        connection.input += data
        while connection.fd in self.connections and not connection.close_when_written:
            if not self._serve_one(connection):
                break
        if connection.fd in self.connections:
            self._write(connection)

    def _write(self, connection):
        if connection.output:
            try:
                sent = connection.socket.send(connection.output)
                del connection.output[:sent]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                return self.close(connection)
        if connection.output:
            self.watch(connection.fd, True)
        elif connection.close_when_written:
            self.close(connection)
        else:
            self.watch(connection.fd, False)

    # --- Requests --------------------------------------------------------------------

    def _serve_one(self, connection):
        """Serves the first complete request in the input; False when there
        is none yet."""
        end = connection.input.find(b"\r\n\r\n")
        if end < 0:
            if len(connection.input) > MAX_HEAD:
                self._error(connection, 431, "request header fields too large")
            return False
        head = bytes(connection.input[:end]).decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self._error(connection, 400, "bad request line")
            return False
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip():
                self._error(connection, 400, "bad header line")
                return False
            headers.append((name.lower(), value.strip()))
        fields = dict(headers)
        if "transfer-encoding" in fields:
            self._error(connection, 501, "chunked request bodies are not taken here")
            return False
        length_text = fields.get("content-length", "0") or "0"
        if not length_text.isdigit():
            self._error(connection, 400, "bad Content-Length")
            return False
        length = int(length_text)
        if length > MAX_BODY:
            self._error(connection, 413, "request body too large")
            return False
        if len(connection.input) < end + 4 + length:
            return False
        body = bytes(connection.input[end + 4:end + 4 + length])
        del connection.input[:end + 4 + length]
        method, target, version = parts
        keep_alive = (version == "HTTP/1.1" and fields.get("connection", "").lower() != "close")
        if keep_alive and self.keepalive_requests \
                and connection.served + 1 >= self.keepalive_requests:
            keep_alive = False          # closed gracefully so that load spreads again
            self.recycled += 1
        self._respond(connection, method, target, version, headers, body,
                      keep_alive and not self.draining)
        return True

    def _environ(self, connection, method, target, version, headers, body):
        path, _, query = target.partition("?")
        environ = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "",
            "PATH_INFO": urllib.parse.unquote(path, encoding="latin-1"),
            "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": self.port,
            "SERVER_PROTOCOL": version, "REMOTE_ADDR": "", "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": True,
            "wsgi.run_once": False, "CONTENT_LENGTH": str(len(body)) if body else "",
        }
        try:
            environ["REMOTE_ADDR"] = connection.socket.getpeername()[0]
        except (OSError, IndexError):
            pass
        for name, value in headers:
            if name == "content-type":
                environ["CONTENT_TYPE"] = value
            elif name != "content-length":
                key = "HTTP_" + name.upper().replace("-", "_")
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _respond(self, connection, method, target, version, headers, body, keep_alive):
        began = time.monotonic()
        environ = self._environ(connection, method, target, version, headers, body)
        answer = {}

        def start_response(status, response_headers, exc_info=None):
            if exc_info and answer.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            answer["status"], answer["headers"] = status, response_headers
            return lambda data: answer.setdefault("written", []).append(data)

        try:
            result = self.app(environ, start_response)
            try:
                chunks = answer.pop("written", []) + [chunk for chunk in result]
            finally:
                if hasattr(result, "close"):
                    result.close()
            status, response_headers = answer["status"], answer["headers"]
        except Exception as error:      # noqa: BLE001: the route failed, the worker serves on
            self.log(5, f"{method} {target}: the application failed: {error!r}",
                     logger="http.server")
            status, response_headers = "500 Internal Server Error", \
                [("Content-Type", "application/json")]
            chunks = [b'{"statusCode":500,"error":"Internal Server Error"}']
        payload = b"".join(chunks)
        code = int(status.split(" ", 1)[0])
        lines = [f"HTTP/1.1 {status}"]
        for name, value in response_headers:
            if name.lower() not in ("connection", "content-length", "transfer-encoding",
                                    "keep-alive"):
                lines.append(f"{name}: {value}")
        lines.append(f"Content-Length: {len(payload)}")
        lines.append(f"X-Corral-Worker: {self.worker_name}")
        lines.append(f"Connection: {'keep-alive' if keep_alive else 'close'}")
        connection.output += ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if method != "HEAD":
            connection.output += payload
        connection.served += 1
        connection.close_when_written = not keep_alive
        self._count(code, began)

    def _error(self, connection, code, message):
        payload = ('{"statusCode":%d,"error":"%s","message":"%s"}'
                   % (code, REASONS.get(code, ""), message)).encode()
        connection.output += (f"HTTP/1.1 {code} {REASONS.get(code, '')}\r\n"
                              f"Content-Type: application/json\r\n"
                              f"Content-Length: {len(payload)}\r\n"
                              f"X-Corral-Worker: {self.worker_name}\r\n"
                              f"Connection: close\r\n\r\n").encode() + payload
        connection.input.clear()
        connection.close_when_written = True
        self._count(code, time.monotonic())
        self._write(connection)

    def _count(self, code, began):
        spent_us = int((time.monotonic() - began) * 1e6)
        requests = self.requests
        requests["total"] += 1
        requests["count"] += 1
        requests["total_us"] += spent_us
        requests["max_us"] = max(requests["max_us"], spent_us)
        requests["codes"][code] = requests["codes"].get(code, 0) + 1

    def take_interval(self):
        """The interval's request figures, reset for the next one."""
        requests = self.requests
        figures = (requests["count"], requests["total_us"], requests["max_us"])
        requests.update(count=0, total_us=0, max_us=0)
        return figures
