"""logs.py: the worker's log records, sent to the coordinator as LogBatch
frames on the logs PUSH socket (docs/worker-protocol.md, section 4): seq
per worker from 1 without gaps, a bounded queue, never blocking the loop
(what cannot be sent is dropped and counted). LogHandler makes Python's
`logging` write there."""
import logging
import os
import time
import traceback

import zmq

from .envelope import envelope
from .v1 import corral_pb2 as pb

LEVELS = {"all": 0, "trace": 1, "debug": 2, "info": 3, "warn": 4, "error": 5, "fatal": 6,
          "off": 7}
QUEUE_MAX = 4096                # records, and at most this many per batch


def corral_level(python_level):
    """logging's levels as corral's: DEBUG 2, INFO 3, WARNING 4, ERROR 5,
    CRITICAL 6 (and between them, the lower one)."""
    for floor, level in ((logging.CRITICAL, 6), (logging.ERROR, 5), (logging.WARNING, 4),
                         (logging.INFO, 3), (logging.DEBUG, 2)):
        if python_level >= floor:
            return level
    return 1


class LogPusher:
    def __init__(self, context, config, secret):
        self.worker_id = config.worker_id
        self.secret = secret
        self.pid = os.getpid()
        self.root_level = LEVELS.get(config.log_level, 3)
        self.levels = {}
        self.apply(config.logging)
        self.seq = 0                # the last record's, sent or dropped
        self.dropped = 0
        self.queue = []
        self.socket = context.socket(zmq.PUSH)
        self.socket.setsockopt(zmq.SNDHWM, 100000)
        self.socket.setsockopt(zmq.LINGER, 5000)
        self.socket.connect(config.logs_endpoint)

    def enabled(self, level, logger):
        """The level configured for `logger` (its longest dotted prefix
        with one), else the root level."""
        name = logger
        while name:
            if name in self.levels:
                return level >= self.levels[name]
            name = name.rpartition(".")[0]
        return level >= self.root_level

    def apply(self, log_config):
        """A LogConfig from the coordinator (after its SIGHUP)."""
        if log_config.root.has_level:
            self.root_level = log_config.root.level
        self.levels = {logger.name: logger.level for logger in log_config.loggers
                       if logger.has_level}

    def log(self, level, logger, message, meta="", error=""):
        if not self.enabled(level, logger):
            return
        self.seq += 1
        if len(self.queue) >= QUEUE_MAX:
            self.dropped += 1       # its seq is taken: the coordinator sees it as dropped
            return
        self.queue.append(pb.LogRecord(timestamp_ms=int(time.time() * 1000), level=level,
                                       logger=logger, message=message, meta=meta,
                                       error=error, pid=self.pid, seq=self.seq))

    def flush(self):
        """One LogBatch with what is queued; never blocks."""
        if not self.queue:
            return
        batch = pb.LogBatch(worker_id=self.worker_id, records=self.queue,
                            dropped=self.dropped, secret=self.secret)
        try:
            self.socket.send(envelope(log_batch=batch), zmq.DONTWAIT)
        except zmq.Again:
            self.dropped += len(self.queue)
        self.queue = []

    def close(self):
        self.flush()
        self.socket.close()


class LogHandler(logging.Handler):
    """A logging.Handler sending each record to the coordinator, which
    writes it with the configured layouts and `%worker` set. The logger
    is the record's name (`root` for the root logger); an exception goes
    in the record's `error`."""

    def __init__(self, pusher):
        super().__init__()
        self.pusher = pusher

    def emit(self, record):
        try:
            error = ""
            if record.exc_info:
                error = "".join(traceback.format_exception(*record.exc_info)).rstrip()
            self.pusher.log(corral_level(record.levelno), record.name, record.getMessage(),
                            error=error)
        except Exception:               # noqa: BLE001: logging must never raise
            self.handleError(record)
