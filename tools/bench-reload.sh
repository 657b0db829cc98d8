#!/usr/bin/env bash
# bench-reload.sh: what a reload costs the clients (docs/reload.md), and
# the same for PM2.
#
# For each balancing mode (shared, reuseport): corral with 2 workers that
# take STARTUP_DELAY (300ms) to become ready; tools/reload_load.py
# (FRESH clients opening a new connection per request, KEEP_ALIVE clients
# on keep-alive connections, every response checked) for the time RELOADS
# (10) reloads take, once without reloads (the baseline) and once with
# RELOADS SIGHUPs in a row (each awaited: "reload: applied in N ms").
# Prints failed requests, resets, p50/p99 latency for both, and the reload
# durations (median, max) from corral's log.
#
# Then PM2 (pinned in tools/peers/package.json, `npm ci` into PEERS_DIR
# as bench-rfc.sh does, its own PM2_HOME): tools/peers/app.js with the
# same 300 ms start (STARTUP_MS), `pm2 start app.js -i 2`, the same load,
# RELOADS `pm2 reload` in a row; its failures printed as measured.
#
# The machine may be shared with other work: compare within one run.
# Environment: BUILD_DIR, RELOADS, STARTUP_DELAY, FRESH, KEEP_ALIVE,
# PEERS_DIR ($BUILD_DIR/peers), SKIP_PM2=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
bench_init bench-reload

RELOADS=${RELOADS:-10}
STARTUP_DELAY=${STARTUP_DELAY:-300ms}
FRESH=${FRESH:-2}
KEEP_ALIVE=${KEEP_ALIVE:-2}
PEERS_DIR=${PEERS_DIR:-$BUILD_DIR/peers}
LOAD=$ROOT/tools/reload_load.py
LOAD_PID=

stop_load() {   # in this shell, not $(...): wait needs the load to be its child
    kill -TERM "$LOAD_PID"
    wait "$LOAD_PID" || true
    LOAD_PID=
}

# start_load OUT: the load on $PORT, in the background, once it runs.
start_load() {
    python3 "$LOAD" "$PORT" "$FRESH" "$KEEP_ALIVE" >"$1" &
    LOAD_PID=$!
    for _ in $(seq 1 100); do grep -q started "$1" && return; sleep 0.05; done
    die "the load did not start"
}

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

report() {   # NAME BASELINE_JSON RELOAD_JSON
    printf '%-22s %10s %8s %7s %9s %9s\n' "$1" "$(field "$3" ok)" "$(field "$3" failed)" \
        "$(field "$3" resets)" "$(field "$3" p50_ms)" "$(field "$3" p99_ms)"
    printf '%-22s %10s %8s %7s %9s %9s\n' "  (same load, no reload)" "$(field "$2" ok)" \
        "$(field "$2" failed)" "$(field "$2" resets)" "$(field "$2" p50_ms)" "$(field "$2" p99_ms)"
}

# Waits until the log has $2 lines matching $3.
await_lines() {
    for _ in $(seq 1 1200); do
        [ "$(grep -cE "$3" "$1")" -ge "$2" ] && return
        sleep 0.05
    done
    die "no $2 lines /$3/ in $1"
}

corral_config() {   # MODE DEPLOYMENT
    printf '%s\n' "server: { host: 127.0.0.1, port: 0, balancing: $1 }
node:
  workers: { count: 2, command: [$TEST_WORKER], startup_delay: $STARTUP_DELAY, env: { DEPLOYMENT: \"$2\" } }
  reload: { parallel: 1, ready_timeout: 30s }
logging: { root: { level: info } }"
}

# measure NAME COMMAND...: the load while COMMAND runs (RELOADED), then
# the same load for as long without it (BASELINE).
measure() {
    local name=$1 started elapsed
    shift
    started=$(date +%s%N)
    start_load "$TMP/$name-reload.out"
    "$@"
    stop_load
    RELOADED=$(tail -n 1 "$TMP/$name-reload.out")
    elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
    ELAPSED_MS=$elapsed
    start_load "$TMP/$name-base.out"
    sleep "$(awk "BEGIN { print $elapsed / 1000 }")"
    stop_load
    BASELINE=$(tail -n 1 "$TMP/$name-base.out")
}

corral_reloads() {   # MODE
    local dir=$TMP/$1 i
    for i in $(seq 1 "$RELOADS"); do
        # a new deployment each time (a reload of an unchanged file replaces nothing)
        corral_config "$1" "$i" >"$dir/corral.yml.new"
        mv "$dir/corral.yml.new" "$dir/corral.yml"
        kill -HUP "$CORRAL_PID"
        await_lines "$dir/corral.log" "$i" 'reload: (applied|failed)'
    done
}

bench_corral() {
    local mode=$1 dir=$TMP/$1
    start_corral "$mode" "$(corral_config "$mode" 0)"
    measure "$mode" corral_reloads "$mode"
    if grep -q 'reload: failed' "$dir/corral.log"; then
        log "$mode: $(grep -c 'reload: failed' "$dir/corral.log") reloads failed"
    fi
    report "corral $mode" "$BASELINE" "$RELOADED"
    grep -oE 'reload: applied in [0-9]+ ms' "$dir/corral.log" | grep -oE '[0-9]+' | sort -n \
        | awk '{ a[NR] = $1 } END { printf "  reload took: median %d ms, max %d ms (%d reloads, 2 workers, %s start each)\n", a[int((NR + 1) / 2)], a[NR], NR, "'"$STARTUP_DELAY"'" }'
    stop_corral
}

# pm2 pinned in tools/peers/package.json (issue 14's peers), as bench-rfc.sh installs it.
install_pm2() {
    if [ -x "$PEERS_DIR/node_modules/.bin/pm2" ] \
        && cmp -s "$ROOT/tools/peers/package-lock.json" "$PEERS_DIR/package-lock.json"; then
        return 0
    fi
    mkdir -p "$PEERS_DIR"
    cp "$ROOT/tools/peers/package.json" "$ROOT/tools/peers/package-lock.json" "$PEERS_DIR/"
    npm ci --prefix "$PEERS_DIR" --no-audit --no-fund >&2
}

pm2_reloads() {
    local i
    for i in $(seq 1 "$RELOADS"); do "$PM2" reload reload-app >/dev/null; done
}

bench_pm2() {
    command -v npm >/dev/null 2>&1 || { log "npm is missing: PM2 skipped"; return; }
    install_pm2
    PM2=$PEERS_DIR/node_modules/.bin/pm2
    export PM2_HOME=$TMP/pm2-home
    # shellcheck disable=SC2064  # the values now
    trap "PM2_HOME=$PM2_HOME '$PM2' kill >/dev/null 2>&1 || true; bench_cleanup" EXIT
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    PORT=$PORT STARTUP_MS=${STARTUP_DELAY%ms} "$PM2" start "$ROOT/tools/peers/app.js" \
        -i 2 --name reload-app >/dev/null
    for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$PORT/api/hello" >/dev/null && break; sleep 0.05; done
    measure pm2 pm2_reloads
    report "pm2 $("$PM2" --version | tail -n 1) reload" "$BASELINE" "$RELOADED"
    printf '  %d pm2 reloads took %d ms in all\n' "$RELOADS" "$ELAPSED_MS"
    "$PM2" kill >/dev/null 2>&1 || true
}

printf '%-22s %10s %8s %7s %9s %9s\n' "$RELOADS reloads under load" ok failed resets p50_ms p99_ms
bench_corral shared
bench_corral reuseport
[ "${SKIP_PM2:-}" = 1 ] || bench_pm2
