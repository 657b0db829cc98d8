"""bus.py: broadcasts between the workers (docs/worker-protocol.md,
section 3). bus-in is a PUSH we send on; bus-out a SUB on which we
subscribe to `B` (every sequenced broadcast), then to our private topic,
which answers with a snapshot of the persisted messages. Every message is
delivered once, in order: a gap in seq asks for a fresh snapshot."""
import zmq

from .v1 import corral_pb2 as pb
from .envelope import envelope

HWM = 1000000
MAX_MESSAGE = 4 * 1024 * 1024


class Message:
    """One broadcast as a handler sees it."""
    __slots__ = ("plugin", "type", "payload", "seq", "sender_worker_id", "persist")

    def __init__(self, broadcast):
        self.plugin = broadcast.plugin
        self.type = broadcast.type
        self.payload = broadcast.payload
        self.seq = broadcast.seq
        self.sender_worker_id = broadcast.sender_worker_id
        self.persist = broadcast.persist

    def __repr__(self):
        return (f"Message({self.plugin}/{self.type} seq {self.seq} "
                f"from {self.sender_worker_id}: {self.payload!r})")


class Bus:
    def __init__(self, context, config, log):
        self.worker_id = config.worker_id
        # unique per process, not per slot: a replacement that reused its
        # slot's topic would take the snapshot meant for the process it
        # replaces (docs/worker-protocol.md, "The bus")
        self.topic = b"S/w%07dg%07d" % (config.worker_id, max(config.generation, 1))
        self.sender = self.topic.decode()
        self.log = log
        self.handlers = {}              # (plugin, type) -> [callable]
        self.live = False               # until the first whole snapshot
        self.epoch = 0
        self.last_seq = 0
        self.gaps = 0
        self.dropped = 0                # broadcasts we could not queue
        self.bus_in = context.socket(zmq.PUSH)
        self.bus_in.setsockopt(zmq.SNDHWM, HWM)
        self.bus_in.setsockopt(zmq.LINGER, 5000)
        self.bus_in.connect(config.bus_in_endpoint)
        self.bus_out = context.socket(zmq.SUB)
        self.bus_out.setsockopt(zmq.RCVHWM, HWM)
        self.bus_out.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE)
        self.bus_out.connect(config.bus_out_endpoint)
        self.bus_out.setsockopt(zmq.SUBSCRIBE, b"B")
        self.bus_out.setsockopt(zmq.SUBSCRIBE, self.topic)

    def on(self, plugin, kind, handler):
        """Calls handler(Message) for every broadcast of `kind` by `plugin`,
        the persisted ones from before we subscribed included."""
        self.handlers.setdefault((plugin, kind), []).append(handler)

    def broadcast(self, plugin, kind, payload, persist=False, send_to_self=False):
        """To every worker (ourselves too with send_to_self); `persist`:
        kept (the last one per plugin and type) for later subscribers.
        Returns False when it could not be queued (counted)."""
        if isinstance(payload, str):
            payload = payload.encode()
        message = pb.Broadcast(plugin=plugin, type=kind, payload=payload, persist=persist,
                               send_to_self=send_to_self, sender=self.sender,
                               sender_worker_id=self.worker_id)
        try:
            self.bus_in.send(envelope(broadcast=message), zmq.DONTWAIT)
            return True
        except zmq.Again:
            self.dropped += 1
            return False

    def ask_snapshot(self):
        self.live = False
        self.bus_out.setsockopt(zmq.UNSUBSCRIBE, self.topic)
        self.bus_out.setsockopt(zmq.SUBSCRIBE, self.topic)

    def on_readable(self):
        while True:
            try:
                topic, frame = self.bus_out.recv_multipart(zmq.DONTWAIT)
            except zmq.Again:
                return
            except ValueError:
                continue                # not two frames
            try:
                message = pb.Envelope.FromString(frame)
            except Exception:           # noqa: BLE001 (DecodeError): not ours to crash on
                continue
            if topic == self.topic and message.WhichOneof("body") == "snapshot":
                self._on_snapshot(message.snapshot)
            elif topic == b"B" and self.live and message.WhichOneof("body") == "broadcast":
                self._on_broadcast(message.broadcast)

    def _on_snapshot(self, snapshot):
        if self.live:
            return                      # one we did not ask for
        for broadcast in snapshot.messages:
            self._deliver(broadcast)
        if not snapshot.partial:
            self.epoch, self.last_seq, self.live = snapshot.epoch, snapshot.upto_seq, True

    def _on_broadcast(self, broadcast):
        if broadcast.epoch != self.epoch or broadcast.seq <= self.last_seq:
            return                      # another coordinator's, or in the snapshot
        if broadcast.seq > self.last_seq + 1:
            self.gaps += 1
            self.log(4, f"bus: a gap before seq {broadcast.seq}; asking for a snapshot")
            self.ask_snapshot()
            return
        self.last_seq = broadcast.seq
        if broadcast.send_to_self or broadcast.sender != self.sender:
            self._deliver(broadcast)

    def _deliver(self, broadcast):
        handlers = self.handlers.get((broadcast.plugin, broadcast.type))
        if not handlers:
            return
        message = Message(broadcast)
        for handler in handlers:
            try:
                handler(message)
            except Exception as error:  # noqa: BLE001: a handler's bug is logged, not fatal
                self.log(5, f"bus: the handler of {broadcast.plugin}/{broadcast.type} "
                            f"failed: {error!r}")

    def close(self):
        self.bus_in.close()
        self.bus_out.close(linger=0)
