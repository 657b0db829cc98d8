#!/usr/bin/env python3
"""worker.py: a corral worker in Python, on the corral package
(clients/python): a WSGI application, the bus, the logs and a status.

Routes:
  GET  /py/hello, /api/hello     a tiny JSON reply
  GET  /py/node                  who served: worker id, name, pid, main
  POST /py/broadcast?text=T[&plugin=P]
                                 broadcast T as a "say" of plugin P (default
                                 "python") to every worker, this one too
  GET  /py/heard[?plugin=P]      the last "say" of plugin P this worker heard,
                                 and from whom (P: "python" or one of the
                                 reference worker's probes, "probe-a", "probe-b")
  POST /py/status?level=L&summary=S   this worker's status for plugin "python"
  POST /py/log?message=M         a log record (info, logger plugins.python)
  GET  /api/status, /api/stats   the instance's, from the cluster view (the package's)
"""
import json
import logging
import os
import urllib.parse

import corral

LISTENS_TO = ("python", "probe-a", "probe-b")
STATUS_LEVELS = ("available", "degraded", "unavailable", "critical")
log = logging.getLogger("plugins.python")
worker = corral.Worker(wait_for_main=True)
heard = {plugin: {"heard": "", "from": 0} for plugin in LISTENS_TO}


def on_say(message):
    heard[message.plugin] = {"heard": message.payload.decode(errors="replace"),
                             "from": message.sender_worker_id}


for plugin in LISTENS_TO:
    worker.bus.on(plugin, "say", on_say)


def route(method, path, query):
    if method == "GET" and path in ("/py/hello", "/api/hello"):
        return 200, {"message": "hello from python"}
    if (method, path) == ("GET", "/py/node"):
        return 200, {"worker_id": worker.id, "worker_name": worker.name, "pid": os.getpid(),
                     "main": worker.main}
    if (method, path) == ("POST", "/py/broadcast"):
        text, plugin = query.get("text", ""), query.get("plugin", "python")
        if not text or plugin not in LISTENS_TO:
            return 400, {"error": f"text, and plugin: one of {', '.join(LISTENS_TO)}"}
        worker.bus.broadcast(plugin, "say", text, send_to_self=True)
        return 202, {"broadcast": text}
    if (method, path) == ("GET", "/py/heard"):
        if query.get("plugin", "python") not in LISTENS_TO:
            return 400, {"error": f"plugin: one of {', '.join(LISTENS_TO)}"}
        return 200, heard[query.get("plugin", "python")]
    if (method, path) == ("POST", "/py/status"):
        if query.get("level") not in STATUS_LEVELS:
            return 400, {"error": f"level: one of {', '.join(STATUS_LEVELS)}"}
        worker.set_status(query["level"], query.get("summary", query["level"]))
        return 200, {"level": query["level"], "summary": query.get("summary", query["level"])}
    if (method, path) == ("POST", "/py/log"):
        log.info(query.get("message", ""))
        return 202, {"logged": query.get("message", "")}
    return 404, {"statusCode": 404, "error": "Not Found", "message": "no such route"}


def app(environ, start_response):
    query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
    status, body = route(environ["REQUEST_METHOD"], environ["PATH_INFO"], query)
    start_response(f"{status} {'OK' if status < 300 else 'Error'}",
                   [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


if __name__ == "__main__":
    worker.run(app)
