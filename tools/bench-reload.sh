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
# Then PM2 (npm install pm2@PM2_VERSION into a cache under the build
# directory, its own PM2_HOME): a Node `cluster` app with the same 300 ms
# start (tools/peers/reload-app.js), `pm2 start -i 2`, the same load,
# RELOADS `pm2 reload` in a row; its failures printed as measured.
#
# The machine may be shared with other work: compare within one run.
# Environment: BUILD_DIR, RELOADS, STARTUP_DELAY, FRESH, KEEP_ALIVE,
# PM2_VERSION (5.4.3), SKIP_PM2=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
bench_init bench-reload

RELOADS=${RELOADS:-10}
STARTUP_DELAY=${STARTUP_DELAY:-300ms}
FRESH=${FRESH:-2}
KEEP_ALIVE=${KEEP_ALIVE:-2}
PM2_VERSION=${PM2_VERSION:-5.4.3}
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
  workers: { count: 2, startup_delay: $STARTUP_DELAY, env: { DEPLOYMENT: \"$2\" } }
  reload: { parallel: 1, ready_timeout: 30s }
logging: { root: { level: info } }"
}

bench_corral() {
    local mode=$1 dir=$TMP/$1 baseline reloaded started elapsed
    start_corral "$mode" "$(corral_config "$mode" 0)"
    started=$(date +%s%N)
    start_load "$TMP/$mode-reload.out"
    for i in $(seq 1 "$RELOADS"); do
        # a new deployment each time (a reload of an unchanged file replaces nothing)
        corral_config "$mode" "$i" >"$dir/corral.yml.new"
        mv "$dir/corral.yml.new" "$dir/corral.yml"
        kill -HUP "$CORRAL_PID"
        await_lines "$dir/corral.log" "$i" 'reload: (applied|failed)'
    done
    stop_load
    reloaded=$(tail -n 1 "$TMP/$mode-reload.out")
    elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
    start_load "$TMP/$mode-base.out"
    sleep "$(awk "BEGIN { print $elapsed / 1000 }")"
    stop_load
    baseline=$(tail -n 1 "$TMP/$mode-base.out")
    grep -c 'reload: failed' "$dir/corral.log" >/dev/null && \
        log "$mode: $(grep -c 'reload: failed' "$dir/corral.log") reloads failed"
    report "corral $mode" "$baseline" "$reloaded"
    grep -oE 'reload: applied in [0-9]+ ms' "$dir/corral.log" | grep -oE '[0-9]+' | sort -n \
        | awk '{ a[NR] = $1 } END { printf "  reload took: median %d ms, max %d ms (%d reloads, 2 workers, %s start each)\n", a[int((NR + 1) / 2)], a[NR], NR, "'"$STARTUP_DELAY"'" }'
    stop_corral
}

bench_pm2() {
    local cache=$BUILD_DIR/pm2-$PM2_VERSION home=$TMP/pm2-home baseline reloaded started elapsed
    command -v npm >/dev/null 2>&1 || { log "npm is missing: PM2 skipped"; return; }
    if [ ! -x "$cache/node_modules/.bin/pm2" ]; then
        mkdir -p "$cache"
        npm install --prefix "$cache" --no-audit --no-fund "pm2@$PM2_VERSION" >&2
    fi
    local pm2=$cache/node_modules/.bin/pm2
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    export PM2_HOME=$home
    # shellcheck disable=SC2064  # the values now
    trap "PM2_HOME=$home '$pm2' kill >/dev/null 2>&1 || true; bench_cleanup" EXIT
    PORT=$PORT STARTUP_MS=${STARTUP_DELAY%ms} "$pm2" start "$ROOT/tools/peers/reload-app.js" \
        -i 2 --name reload-app >/dev/null
    for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$PORT/api/hello" >/dev/null && break; sleep 0.05; done
    started=$(date +%s%N)
    start_load "$TMP/pm2-reload.out"
    for _ in $(seq 1 "$RELOADS"); do "$pm2" reload reload-app >/dev/null; done
    stop_load
    reloaded=$(tail -n 1 "$TMP/pm2-reload.out")
    elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
    start_load "$TMP/pm2-base.out"
    sleep "$(awk "BEGIN { print $elapsed / 1000 }")"
    stop_load
    baseline=$(tail -n 1 "$TMP/pm2-base.out")
    report "pm2 $PM2_VERSION reload" "$baseline" "$reloaded"
    printf '  %d pm2 reloads took %d ms in all\n' "$RELOADS" "$elapsed"
    "$pm2" kill >/dev/null 2>&1 || true
}

printf '%-22s %10s %8s %7s %9s %9s\n' "$RELOADS reloads under load" ok failed resets p50_ms p99_ms
bench_corral shared
bench_corral reuseport
[ "${SKIP_PM2:-}" = 1 ] || bench_pm2
