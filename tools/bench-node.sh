#!/usr/bin/env bash
# bench-node.sh: the same Node application (tools/peers/app.js) under
# corral (2 Node workers, the package in clients/node), under Node's
# cluster module (2 workers, tools/peers/cluster.js) and under PM2 in
# cluster mode (2 instances, tools/peers/ecosystem.config.js), side by
# side in one run:
#   - the tiny route (GET /api/hello, keep-alive, wrk -c16): requests per
#     second and CPU time per request (every process of the setup, all
#     threads, from /proc);
#   - the busier worker's share of wrk's keep-alive connections (each a
#     closed-loop client: the share of the load it is given), 4, 16 and 64
#     connections, TRIALS fresh starts each, read from the kernel's socket
#     table (ss) while wrk runs;
#   - new connections per second (Connection: close, wrk -c16);
#   - failed requests over RELOADS reloads under load (tools/reload_load.py:
#     corral's SIGHUP with a changed env, which replaces every worker, and
#     `pm2 reload`; Node's cluster module has no reload).
# Every trial is printed. Environment: DURATION (s, default 5), TRIALS (6),
# SETUPS (corral cluster pm2),
# RELOADS (10), BUILD_DIR, PEERS_DIR (where pm2 is installed,
# [$BUILD_DIR/peers]; `npm ci` from tools/peers/package-lock.json).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
bench_init bench-node wrk curl node npm python3 ss
PEERS=$ROOT/tools/peers
PEERS_DIR=${PEERS_DIR:-$BUILD_DIR/peers}
DURATION=${DURATION:-5}
TRIALS=${TRIALS:-6}
RELOADS=${RELOADS:-10}
SETUPS=${SETUPS:-corral cluster pm2}
NODE=$(command -v node)
SERVER_PID=
PM2_HOME=

"$ROOT/clients/node/scripts/ensure-installed.sh" >&2
if [ ! -x "$PEERS_DIR/node_modules/.bin/pm2" ] \
    || ! cmp -s "$PEERS/package-lock.json" "$PEERS_DIR/package-lock.json"; then
    mkdir -p "$PEERS_DIR"
    cp "$PEERS/package.json" "$PEERS/package-lock.json" "$PEERS_DIR/"
    npm ci --prefix "$PEERS_DIR" --no-audit --no-fund --loglevel=error >&2
fi
PM2=$PEERS_DIR/node_modules/.bin/pm2

# --- The three setups: start SETUP [MARK], workers, stop --------------------------------

corral_yaml() {           # MARK: a value of the workers' env (a change replaces them)
    printf '%s\n' "server: { host: 127.0.0.1, port: 0 }" "path: { data: ./data }" \
        "pid: { file: ./corral.pid }" "logging: { root: { level: info } }" \
        "node: { workers: { count: 2, command: [$NODE, $PEERS/app.js], env: { MARK: \"$1\" } }," \
        "        status: { interval: 1s }, shutdown_timeout: 10s }"
}

start() {
    case $1 in
    corral)
        start_corral corral "$(corral_yaml 0)"
        SERVER_PID=$CORRAL_PID ;;
    cluster)
        : >"$TMP/cluster.log"
        WORKERS=2 PORT=0 node "$PEERS/cluster.js" </dev/null >>"$TMP/cluster.log" 2>&1 &
        SERVER_PID=$!
        BASE_URL=$(timeout 20 tail -n +1 --pid="$SERVER_PID" -f "$TMP/cluster.log" \
                   | grep -m1 -oE 'ready .*http://127\.0\.0\.1:[0-9]+') || true
        BASE_URL=${BASE_URL##* }
        [ -n "$BASE_URL" ] || die "node cluster did not start: $(cat "$TMP/cluster.log")" ;;
    pm2)
        PM2_HOME=$TMP/pm2.$RANDOM
        export PM2_HOME
        PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1",
                        () => { console.log(s.address().port); s.close(); })')
        WORKERS=2 PORT=$PORT "$PM2" start "$PEERS/ecosystem.config.js" </dev/null >"$TMP/pm2.log" 2>&1 \
            || die "pm2 start failed: $(cat "$TMP/pm2.log")"
        SERVER_PID=$(cat "$PM2_HOME/pm2.pid")
        BASE_URL=http://127.0.0.1:$PORT
        await_listening 2 ;;
    esac
}

await_listening() {        # COUNT: PM2's instances say "listening" in their logs
    local i
    for ((i = 0; i < 200; i++)); do
        [ "$(cat "$PM2_HOME"/logs/peer-out*.log 2>/dev/null | grep -c '^listening')" -ge "$1" ] && return
        sleep 0.1
    done
    die "pm2's instances did not listen in time"
}

workers() { pgrep -P "$SERVER_PID" | tr '\n' ' ' || true; }

stop() {
    case $1 in
    pm2)
        "$PM2" kill >/dev/null 2>&1 || true
        PM2_HOME= ;;
    corral)
        stop_corral ;;
    *)
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true ;;
    esac
    SERVER_PID=
}

# shellcheck disable=SC2317  # run by the trap
cleanup() {
    local status=$?
    [ -z "$PM2_HOME" ] || "$PM2" kill >/dev/null 2>&1 || true
    [ -z "$SERVER_PID" ] || kill -TERM "$SERVER_PID" 2>/dev/null || true
    bench_cleanup
    exit "$status"
}
trap cleanup EXIT

# --- Measures -------------------------------------------------------------------------------

# wrk on /api/hello; prints "REQUESTS_PER_S CPU_US_PER_REQUEST SERVER_US":
# the CPU of every process of the setup (the coordinator, the cluster
# primary or PM2's daemon, and the workers), then of the first alone
measure() {               # CONNECTIONS [wrk header option]
    local out before server_before pids used_us server_us
    pids="$SERVER_PID $(workers)"
    # shellcheck disable=SC2086  # a list of pids
    before=$(all_ticks $pids)
    server_before=$(ticks "$SERVER_PID")
    out=$(wrk -t2 -c"$1" -d"${DURATION}s" ${2:+-H "$2"} "$BASE_URL/api/hello") || die "wrk failed"
    # shellcheck disable=SC2086
    used_us=$(( ($(all_ticks $pids) - before) * 1000000 / $(getconf CLK_TCK) ))
    server_us=$(( ($(ticks "$SERVER_PID") - server_before) * 1000000 / $(getconf CLK_TCK) ))
    grep -q 'Non-2xx' <<<"$out" && die "wrk saw errors: $out"
    awk -v used="$used_us" -v server="$server_us" '/requests in/ { n = $1 } /^Requests\/sec:/ { rate = $2 }
        END { printf "%.0f %.2f %.2f\n", rate, used / n, server / n }' <<<"$out"
}

# the keep-alive connections each worker holds, from the kernel's socket
# table (ss: the owner of each established server-side socket), while wrk
# runs: "BUSIER_SHARE count count"
connection_share() {      # CONNECTIONS
    local wrk_pid counts
    wrk -t2 -c"$1" -d"${DURATION}s" "$BASE_URL/api/hello" >/dev/null &
    wrk_pid=$!
    sleep "$(awk -v d="$DURATION" 'BEGIN { print d / 2 }')"
    counts=$(ss -Htnp state established "( sport = :${BASE_URL##*:} )" \
             | grep -oE 'pid=[0-9]+' | sort | uniq -c | awk '{ print $1 }' | sort -rn | tr '\n' ' ')
    wait "$wrk_pid" || die "wrk failed"
    awk -v c="$counts" 'BEGIN { n = split(c, v, " "); for (i = 1; i <= n; i++) { s += v[i]; if (v[i] > m) m = v[i] }
                        printf "%.3f %s\n", s ? m / s : 0, c }'
}

await_count() {            # COUNT PATTERN FILE: the pattern on COUNT lines, within 60 s
    local i
    for ((i = 0; i < 600; i++)); do
        [ "$(grep -c -- "$2" "$3")" -ge "$1" ] && return 0
        sleep 0.1
    done
    die "not $1 lines with '$2' in $3 within 60 s"
}

reloads() {                # SETUP: sets FAILED[SETUP], failed requests over RELOADS reloads under load
    local load result i
    python3 "$ROOT/tools/reload_load.py" "${BASE_URL##*:}" 2 2 >"$TMP/load.out" &
    load=$!
    sleep 1
    for ((i = 1; i <= RELOADS; i++)); do
        if [ "$1" = corral ]; then
            corral_yaml "$i" >"$TMP/corral/corral.yml.new"
            mv "$TMP/corral/corral.yml.new" "$TMP/corral/corral.yml"
            kill -HUP "$SERVER_PID"
            await_count "$i" 'reload: applied in' "$TMP/corral/corral.log"
        else
            "$PM2" reload peer >/dev/null 2>&1 || die "pm2 reload failed"
        fi
    done
    sleep 1
    kill -TERM "$load"
    wait "$load" || true
    result=$(tail -n1 "$TMP/load.out")
    log "  $1: $RELOADS reloads under load: $result"
    FAILED[$1]=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["failed"])' "$result")
}

# --- The run ---------------------------------------------------------------------------------

log "bench-node: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version)," \
    "pm2 $(node -p "require('$PEERS_DIR/node_modules/pm2/package.json').version"); DURATION=${DURATION}s TRIALS=$TRIALS RELOADS=$RELOADS"
declare -A RATE CPU NEWCONN FAILED SHARES
for setup in $SETUPS; do
    start "$setup"
    measure 16 >/dev/null                 # warm-up
    read -r RATE[$setup] CPU[$setup] server < <(measure 16)
    log "  $setup: tiny route, 16 keep-alive connections: ${RATE[$setup]} req/s, ${CPU[$setup]} us CPU/request" \
        "(of which the coordinator, primary or daemon: $server)"
    read -r NEWCONN[$setup] _ < <(measure 16 "Connection: close")
    log "  $setup: new connections: ${NEWCONN[$setup]}/s"
    if [ "$setup" = cluster ] || [ "$RELOADS" = 0 ]; then
        FAILED[$setup]=n/a
    else
        reloads "$setup"
    fi
    stop "$setup"
    for connections in 4 16 64; do
        SHARES[$setup,$connections]=
        for ((trial = 1; trial <= TRIALS; trial++)); do
            start "$setup"
            read -r share counts < <(connection_share "$connections")
            SHARES[$setup,$connections]+="$share "
            log "  $setup: $connections keep-alive connections, trial $trial: busier worker's share $share (connections per worker: $counts)"
            stop "$setup"
        done
    done
done

printf '\n%-8s %10s %12s %12s %10s %s\n' setup "req/s" "us CPU/req" "new conn/s" "failed" \
    "busier share (4 | 16 | 64 connections, each trial)"
for setup in $SETUPS; do
    printf '%-8s %10s %12s %12s %10s %s | %s | %s\n' "$setup" "${RATE[$setup]}" "${CPU[$setup]}" \
        "${NEWCONN[$setup]}" "${FAILED[$setup]}" "${SHARES[$setup,4]}" "${SHARES[$setup,16]}" \
        "${SHARES[$setup,64]}"
done
if [ -n "${CPU[corral]:-}" ] && [ -n "${CPU[cluster]:-}" ]; then
    awk -v c="${CPU[corral]}" -v n="${CPU[cluster]}" -v cc="${NEWCONN[corral]}" -v nc="${NEWCONN[cluster]}" \
        'BEGIN { printf "\ncorral/cluster: CPU per request %.2f, new connections per second %.2f\n", c / n, cc / nc }'
fi
