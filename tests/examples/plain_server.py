"""plain_server.py: a plain HTTP server for the plain-worker tests: it knows
nothing of corral, only systemd's conventions: the listening socket on
fd 3 (LISTEN_FDS, LISTEN_PID) and, in some variants, sd_notify on
NOTIFY_SOCKET, with WATCHDOG_USEC.

usage: plain_server.py notify|quiet|stalls|print [LINES]
  notify   READY=1 once serving, WATCHDOG=1 every WATCHDOG_USEC/4
  quiet    never notifies (a type with ready_after)
  stalls   READY=1 and WATCHDOG=1 for a second, then no more WATCHDOG=1
           (it keeps serving: hung all the same)
  print    LINES numbered lines on stdout and on stderr, a JSON line, an
           over-long line, then exits 3

Routes: GET /api/hello (200, "hello", the pid), GET /grow?mb=N (keeps N
MB more), GET /status?text=T (STATUS=T). SIGTERM: stops accepting, answers
the next request of each keep-alive connection with Connection: close (or
closes it after a second idle), waits for them, exits 0: a graceful stop
as a real server does it, so that no client sees a reset."""
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn

kept = []
stopping = threading.Event()


def notify(text):
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(text.encode(), path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 1.0               # an idle keep-alive connection, while stopping

    def log_message(self, *args):
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
        if path == "/api/hello":
            body = {"message": "hello from a plain server", "pid": os.getpid()}
        elif path == "/grow":
            kept.append(bytearray(int(params.get("mb", "1")) << 20))
            body = {"kept_mb": sum(len(b) for b in kept) >> 20}
        elif path == "/notify":       # any sd_notify message, say RELOADING=1
            notify(params.get("message", "").replace("%0A", "\n"))
            body = {"notified": params.get("message", "")}
        elif path == "/status":
            notify("STATUS=" + params.get("text", ""))
            print(f"status set to {params.get('text', '')}", flush=True)    # to the central log
            body = {"status": params.get("text", "")}
        else:
            self.send_error(404)
            return
        payload = json.dumps(body).encode()
        self.send_response(200)
        if stopping.is_set():
            self.close_connection = True
            self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class Server(ThreadingMixIn, HTTPServer):
    daemon_threads = False      # server_close() waits for the connections
    block_on_close = True


def print_lines(count):
    for stream, name in ((sys.stdout, "out"), (sys.stderr, "err")):
        for n in range(1, count + 1):
            stream.write(f"{name} line {n}\n")
        stream.flush()
    sys.stdout.write(json.dumps({"level": "warn", "message": "a structured warning"}) + "\n")
    sys.stdout.write("long " + "x" * 40000 + "\n")
    sys.stdout.write("no newline at the end")
    sys.stdout.flush()
    sys.exit(3)


def main():
    mode = sys.argv[1]
    if mode == "print":
        print_lines(int(sys.argv[2]))
    if os.environ.get("LISTEN_FDS") != "1" or os.environ.get("LISTEN_PID") != str(os.getpid()):
        sys.exit("plain_server: no socket on fd 3")
    server = Server(("127.0.0.1", 0), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = socket.socket(fileno=3)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    serving.start()
    stop = stopping

    def on_term(*_):
        stop.set()
    import signal
    signal.signal(signal.SIGTERM, on_term)
    if mode in ("notify", "stalls"):
        notify("READY=1\nSTATUS=serving")
    period = int(os.environ.get("WATCHDOG_USEC", "0")) / 4e6
    began = time.monotonic()
    while not stop.wait(period or 0.2):
        if period and (mode == "notify" or time.monotonic() - began < 1.0):
            notify("WATCHDOG=1")
    notify("STOPPING=1")
    server.shutdown()               # no more accepts
    server.server_close()           # each connection answered with close, or idle 1 s
    sys.exit(0)


if __name__ == "__main__":
    main()
