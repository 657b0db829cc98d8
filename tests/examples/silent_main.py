"""silent_main.py: a worker on the corral Python package that holds the
main role and never broadcasts what it owes (migration-complete), for
test_python_main.py's silent scenario."""
import corral


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


worker = corral.Worker()
worker._complete_migration = lambda: None      # owes it, never sends it
worker.run(app)
