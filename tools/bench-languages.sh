#!/usr/bin/env bash
# bench-languages.sh: one application served three ways, on one machine:
# the C worker (libcorral; corral-test-worker, the reference worker's
# plugins and /api/cpu), the Python package (clients/python,
# examples/python-worker/flask_app.py through corral.serve) and Gunicorn as a
# plain worker (protocol: none, the same Flask application). For each: CPU
# per request on the tiny route (coordinator and workers, from /proc), the
# busier of 2 workers' share of 4, 16 and 64 keep-alive connections opened at
# once (every trial printed), and 2 workers / 1 worker throughput on a
# CPU-bound route. wrk runs on the same machine and competes for the CPUs.
#
# Environment (defaults in brackets):
#   BUILD_DIR          build tree with bin/corral, bin/corral-test-worker [<repo>/build]
#   DURATION           seconds per wrk run [5]
#   TRIALS             fresh instances per share [6]
#   SHARE_CONNECTIONS  connection counts for the shares ["4 16 64"]
#   BEFORE_BUILD_DIR   another build: the C worker's tiny route there too (the
#                      cost of capturing stdout, before and after) [none]
#
# Usage: tools/bench-languages.sh [c] [python] [gunicorn]
# Needs: wrk, gunicorn, python3-flask, python3-zmq, python3-protobuf.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec /usr/bin/python3 "$ROOT/tools/bench_languages.py" "$@"
