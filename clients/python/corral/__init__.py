"""corral: a corral worker in Python (docs/worker-protocol.md): the
handshake with the secret, the shared-mode hand-over, the bus, logs,
status reports, the main role and a graceful stop, serving a WSGI
application.

    import corral
    corral.serve(app)               # or: worker = corral.Worker(app); worker.run()
"""
from .bus import Message
from .logs import LogHandler
from .worker import Worker, WorkerError, serve

__all__ = ["Worker", "WorkerError", "Message", "LogHandler", "serve"]
