"""handoff.py: the worker's end of its connection channel in the `shared`
balancing mode (docs/worker-protocol.md, section 2a; the C side is
proto/handoff_wire.h and libcorral/http/handoff.c).

The coordinator accepts on the listening socket and sends each connection
to the worker with the fewest open ones, over a SOCK_SEQPACKET channel
(CORRAL_HANDOFF_FD). The worker counts in a shared page
(CORRAL_HANDOFF_COUNTERS_FD) the connections it took and closed, and its
loop's heartbeat: the coordinator balances by those numbers and takes
back what a worker leaves queued for a second."""
import array
import mmap
import os
import socket

CONNECTIONS = b"C"
READY = b"R"
DRAINING = b"D"
MAX_FDS = 64                    # connections in one message
HEARTBEAT_S = 0.05              # while connections are held
MESSAGES_PER_TURN = 16          # then the loop serves what it took

# The counters page: three native 64-bit unsigned integers, each written
# by the worker alone (one aligned 8-byte store each).
CLOSED, RECEIVED, HEARTBEAT = 0, 1, 2
PAGE_BYTES = 24


def _env_fd(name):
    text = os.environ.get(name, "")
    return int(text) if text.isdigit() else -1


class Handoff:
    """The channel and its counters. `Handoff.from_env()` is None when the
    coordinator does not balance (reuseport, classic mode, no HTTP)."""

    @classmethod
    def from_env(cls):
        fd = _env_fd("CORRAL_HANDOFF_FD")
        counters_fd = _env_fd("CORRAL_HANDOFF_COUNTERS_FD")
        if fd < 0 or counters_fd < 0:
            return None
        return cls(fd, counters_fd)

    def __init__(self, fd, counters_fd):
        self.channel = socket.socket(fileno=fd)
        self.channel.setblocking(False)
        self._page = mmap.mmap(counters_fd, PAGE_BYTES, mmap.MAP_SHARED,
                               mmap.PROT_READ | mmap.PROT_WRITE)
        os.close(counters_fd)
        self._counters = memoryview(self._page).cast("Q")
        self._local = [self._counters[CLOSED], self._counters[RECEIVED],
                       self._counters[HEARTBEAT]]

    def fileno(self):
        return self.channel.fileno()

    def _add(self, field, count):
        # only we write the page: our copy is the truth, the store is whole
        self._local[field] += count
        self._counters[field] = self._local[field] & 0xFFFFFFFFFFFFFFFF

    def held(self):
        """Handed connections taken and not closed yet."""
        return self._local[RECEIVED] - self._local[CLOSED]

    def say(self, what):
        try:
            self.channel.send(what)
            return True
        except OSError:
            return False

    def ready(self):
        """We take connections from now on."""
        return self.say(READY)

    def draining(self):
        """We take no new ones (graceful stop); those already sent still come."""
        self.say(DRAINING)

    def alive(self):
        """Our loop turns: the coordinator hands us connections only while
        this moves."""
        self._add(HEARTBEAT, 1)

    def receive(self):
        """The connections of the messages queued now (a few messages at
        most), as connected non-blocking sockets, counted as taken."""
        taken = []
        for _ in range(MESSAGES_PER_TURN):
            fds = array.array("i")
            try:
                data, ancillary, _, _ = self.channel.recvmsg(
                    1, socket.CMSG_SPACE(MAX_FDS * fds.itemsize), socket.MSG_CMSG_CLOEXEC)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            if not data and not ancillary:
                break                   # the coordinator closed its end
            for level, kind, data in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
            self._add(RECEIVED, len(fds))
            self.alive()
            for fd in fds:
                connection = socket.socket(fileno=fd)
                connection.setblocking(False)
                taken.append(connection)
        return taken

    def closed(self):
        """A handed connection is closed: exactly once per connection."""
        self._add(CLOSED, 1)
        self.alive()

    def close(self):
        self._counters.release()
        self._page.close()
        self.channel.close()
