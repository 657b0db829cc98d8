"""views.py: /api/status and /api/stats answered from the latest
ClusterView, which the coordinator sends with every report ack: any
worker answers for the whole instance, as the reference worker does (the
same names and shapes, fewer figures)."""
import json

STATUS_LEVELS = ["available", "degraded", "unavailable", "critical"]


def instance_status(view):
    """(HTTP status, body): each plugin's worst level across the workers."""
    plugins, workers, worst = {}, [], 0
    for worker in view.workers if view else []:
        level = 0 if worker.reporting else 2
        for service in list(worker.report.core) + list(worker.report.plugins):
            level = max(level, service.level)
            if service.name not in plugins or service.level > plugins[service.name][0]:
                plugins[service.name] = (service.level, service.summary)
        worst = max(worst, level)
        workers.append({"name": worker.name, "pid": worker.pid, "state": worker.state,
                        "main": worker.main, "level": STATUS_LEVELS[min(level, 3)]})
    body = {"status": {"overall": {"level": STATUS_LEVELS[min(worst, 3)]},
                       "plugins": {name: {"level": STATUS_LEVELS[min(level, 3)],
                                          "summary": summary}
                                   for name, (level, summary) in plugins.items()}},
            "workers": workers}
    return (503 if worst >= 2 else 200), body


def instance_stats(view):
    """(200, body): each worker's process, requests and connections."""
    workers = {}
    for worker in view.workers if view else []:
        report = worker.report
        workers[worker.name] = {
            "worker_id": worker.worker_id, "pid": worker.pid, "reporting": worker.reporting,
            "state": worker.state, "main": worker.main, "restarts": worker.restarts,
            "requests": {"total": report.requests.total},
            "connections": {"open": report.requests.concurrent_connections,
                            "accepted": report.requests.connections_accepted,
                            "recycled": report.requests.connections_recycled},
            "memory": {"rss": report.process.resident_set_size_bytes},
            "event_loop_delay_ms": report.process.event_loop_delay_ms,
        }
    return 200, {"workers": workers}


def instance_routes(worker, app):
    """A WSGI application answering GET /api/status and /api/stats for the
    instance, and passing everything else to `app`."""
    routes = {"/api/status": instance_status, "/api/stats": instance_stats}

    def application(environ, start_response):
        route = routes.get(environ.get("PATH_INFO"))
        if route is None or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return app(environ, start_response)
        code, body = route(worker.view)
        payload = json.dumps(body).encode()
        start_response(f"{code} {'OK' if code == 200 else 'Service Unavailable'}",
                       [("Content-Type", "application/json")])
        return [payload]
    return application
