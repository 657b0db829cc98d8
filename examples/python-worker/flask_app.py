"""flask_app.py: a Flask application (Debian's python3-flask), served
either as a corral worker through the corral package:

    node.workers.python: { command: [/usr/bin/python3, ./flask_app.py],
                           env: { PYTHONPATH: ../../clients/python } }

or by any WSGI server, Gunicorn for one (`gunicorn flask_app:app`)."""
import os

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/flask/hello")
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
