"""flask_app.py: a Flask application (Debian's python3-flask), served
either as a corral worker through the corral package:

    node.workers.python: { command: [/usr/bin/python3, ./flask_app.py],
                           env: { PYTHONPATH: ../../clients/python } }

or by Gunicorn as a plain worker (docs/plain-workers.md), which knows
nothing of corral but fd 3 and sd_notify:

    node.workers.web: { protocol: none, command: [/usr/bin/gunicorn, flask_app:app] }

(Gunicorn takes fd 3 from LISTEN_FDS itself; do not add `--bind fd://3`,
which would make it take the descriptor twice.)"""
import os

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/flask/hello")
@app.get("/api/hello")
def hello():
    return jsonify(message="hello from flask", pid=os.getpid())


@app.get("/flask/cpu")
def cpu():
    """CPU-bound: about a million additions."""
    total = 0
    for i in range(1000000):
        total += i
    return jsonify(total=total)


if __name__ == "__main__":
    import corral
    corral.serve(app)
