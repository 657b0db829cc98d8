#!/usr/bin/env bash
# bench-supervision.sh: how fast a killed worker is replaced, and what a
# kill costs the clients (docs/architecture.md section 8, docs/supervision.md).
#
# 1. Replacement time: KILLS (20) times, `kill -9` of worker-2, then the
#    time until its replacement reports Ready (the coordinator's log
#    line), with restart.backoff.initial 10ms. Kills are spaced by more
#    than restart.window (1s here), so each is an isolated crash and
#    waits the initial backoff, not a grown one. Median and max.
# 2. Failures under load: wrk (WRK_CONNECTIONS connections, keep-alive)
#    on /api/hello while worker-2 is killed LOAD_KILLS (10) times, one
#    second apart. Prints wrk's failed requests (socket errors and
#    non-2xx) as a count and a share of all requests, beside the
#    connections the killed workers held at the kills: with keep-alive,
#    at most one request in flight each, so that is an upper bound on the
#    requests in flight on them. Target: failed <= in flight.
#
# The machine may be shared with other work: the numbers are ratios and
# times within one run. Environment: BUILD_DIR (default <repo>/build,
# built Release if missing), KILLS, LOAD_KILLS, WRK_CONNECTIONS (64).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
bench_init bench-supervision

KILLS=${KILLS:-20}
LOAD_KILLS=${LOAD_KILLS:-10}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}

CONFIG='server: { host: 127.0.0.1, port: 0 }
node:
  workers: { count: 2 }
  restart: { policy: on-failure, max_restarts: 5, window: 1s,
             backoff: { initial: 10ms, max: 30s } }
logging: { root: { level: info }, loggers: [ { name: coordinator, level: debug } ] }'

# The pid of the instance's worker-2 now (argv[1] names the slot).
worker_pid() {
    local pid
    for pid in $(pgrep -P "$CORRAL_PID"); do
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q " $1 \?$"; then
            echo "$pid"
            return
        fi
    done
}

# Milliseconds since the epoch of a log line's [ISO8601] timestamp.
line_ms() {
    local stamp
    stamp=$(sed -E 's/^\[([^]]+)\].*/\1/' <<<"$1")
    echo $(( $(date -d "$stamp" +%s%N) / 1000000 ))
}

# Waits for "worker-2 (pid N) is ready" for a pid other than $1; prints the line.
await_ready_line() {
    local old=$1 log=$2 line
    for _ in $(seq 1 400); do
        line=$(grep -E 'worker-2 \(pid [0-9]+\) is ready' "$log" | tail -n 1)
        if [ -n "$line" ] && ! grep -q "(pid $old)" <<<"$line"; then
            echo "$line"
            return
        fi
        sleep 0.025
    done
    die "no replacement became ready"
}

replacement_times() {
    start_corral replace "$CONFIG"
    local log=$TMP/replace/corral.log times=() pid killed ready
    for i in $(seq 1 "$KILLS"); do
        sleep 1.2                       # past the window: an isolated crash
        pid=$(worker_pid worker-2)
        [ -n "$pid" ] || die "no worker-2"
        killed=$(( $(date +%s%N) / 1000000 ))
        kill -9 "$pid"
        ready=$(line_ms "$(await_ready_line "$pid" "$log")")
        times+=( $(( ready - killed )) )
    done
    grep -q 'crash-looping' "$log" && die "the instance saw a crash loop"
    stop_corral
    printf '%s\n' "${times[@]}" >"$TMP/times"
    echo "kill -9 to Ready of the replacement, $KILLS kills (backoff.initial 10ms):"
    echo "  median $(median <"$TMP/times") ms, max $(sort -n "$TMP/times" | tail -n 1) ms"
    echo "  all: $(tr '\n' ' ' <"$TMP/times")"
}

failures_under_load() {
    start_corral load "$CONFIG"
    local duration=$(( LOAD_KILLS + 3 )) in_flight=0 pid connections out
    wrk -t2 -c"$WRK_CONNECTIONS" -d"${duration}s" "$BASE_URL/api/hello" >"$TMP/wrk.out" 2>&1 &
    local wrk_pid=$!
    sleep 1.5
    for i in $(seq 1 "$LOAD_KILLS"); do
        pid=$(worker_pid worker-2)
        [ -n "$pid" ] || die "no worker-2"
        connections=$(ss -Htnp state established "( sport = :$PORT )" | grep -c "pid=$pid," || true)
        in_flight=$(( in_flight + connections ))
        kill -9 "$pid"
        sleep 1
    done
    wait "$wrk_pid" || die "wrk failed: $(cat "$TMP/wrk.out")"
    stop_corral
    out=$(cat "$TMP/wrk.out")
    awk -v in_flight="$in_flight" -v kills="$LOAD_KILLS" '
        /requests in/ { total = $1 }
        /Socket errors:/ { gsub(",", ""); failed += $4 + $6 + $8 + $10 }
        /Non-2xx/ { failed += $5 }
        END {
            printf "wrk on /api/hello with %d kills of worker-2 (%s connections):\n", kills, ENVIRON["WRK_CONNECTIONS"]
            printf "  %d requests, %d failed (%.4f%%); connections on the killed workers at the kills: %d\n",
                   total, failed, total ? 100 * failed / total : 0, in_flight
            printf "  every failure was in flight on a killed worker: %s\n", failed <= in_flight ? "yes" : "NO"
        }' <<<"$out"
    sed 's/^/    wrk: /' <<<"$out" | grep -E 'requests in|Socket errors|Non-2xx|Requests/sec' || true
}

export WRK_CONNECTIONS
echo "bench-supervision: $(nproc) CPUs (shared with other work: times are of this run only)"
replacement_times
failures_under_load
