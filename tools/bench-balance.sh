#!/usr/bin/env bash
# bench-balance.sh: how evenly keep-alive connections spread over the
# workers, in both balancing modes, every trial on a fresh instance.
#   1. the share of requests served by the busier of 2 workers (0.50 is
#      even, 1.00 is one worker serving everything) under wrk's keep-alive
#      connections on the cpu route, for `shared` (the default) and
#      `reuseport`, at each connection count, TRIALS trials each; read
#      from /api/stats (each worker's requests, and its open and accepted
#      connections when the build reports them); target: <= 0.55 in every
#      trial of the default mode;
#   2. the cpu route's throughput with 2 workers (default mode) over
#      classic mode, at each connection count, RATIO_TRIALS trials each
#      (classic and clustered alternate, both fresh); target: >= 1.85x in
#      every trial;
#   3. the coordinator's accept path on short connections (a new
#      connection per request, GET /api/hello): connections/s, and the CPU
#      per connection of the coordinator (which accepts and hands over in
#      `shared`) and of the workers, for both modes, SHORT_TRIALS each.
# Every trial is printed. The machine is shared and wrk runs on it too:
# the ratios are measured within one trial, side by side. Exits 0 even
# when a target is missed (a benchmark, not a test), non-zero when a run
# fails.
#
# Environment (defaults in brackets):
#   BUILD_DIR      build tree with bin/corral [<repo>/build; built if missing]
#   CONNECTIONS    wrk -c values [4 16 64]
#   TRIALS         fresh instances per cell of the share table [6]
#   RATIO_TRIALS   fresh classic/clustered pairs per connection count [5]
#   DURATION       seconds per wrk run [3]
#   CPU_WORK       rounds per /api/cpu request [175000]
#   MODES          balancing modes of the share table [shared reuseport]
#   SHORT_TRIALS   fresh instances per mode for 3. [3]
set -euo pipefail

CONNECTIONS=${CONNECTIONS:-4 16 64}
TRIALS=${TRIALS:-6}
RATIO_TRIALS=${RATIO_TRIALS:-5}
DURATION=${DURATION:-3}
CPU_WORK=${CPU_WORK:-175000}
MODES=${MODES:-shared reuseport}
SHORT_TRIALS=${SHORT_TRIALS:-3}
# shellcheck source=tools/bench-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
bench_init bench-balance
command -v jq >/dev/null || die "jq is missing (apt-get install jq)"

# start_instance NAME MODE|classic
start_instance() {
    local node="workers: { count: 2, command: [$TEST_WORKER] }, status: { interval: 100ms }"
    [ "$2" != classic ] || node="enabled: false, workers: { command: [$TEST_WORKER] }"
    start_corral "$1" "server: { host: 127.0.0.1, port: 0, balancing: ${2/classic/shared} }
path: { data: $TMP/$1/data }
node: { $node, shutdown_timeout: 5s }
logging: { root: { level: info } }"
}

# wrk_run CONNECTIONS: wrk on the cpu route; prints "REQUESTS REQ_PER_S".
wrk_run() {
    local threads=$(( $1 < 2 ? $1 : 2 )) out
    out=$(wrk -t"$threads" -c"$1" -d"${DURATION}s" "$BASE_URL/api/cpu?work=$CPU_WORK") \
        || die "wrk failed"
    grep -q 'Non-2xx\|Socket errors' <<<"$out" && die "wrk saw errors: $out"
    awk '/requests in/ { n = $1 } /^Requests\/sec:/ { rate = $2 } END { print n, rate }' <<<"$out"
}

# worker_stats REQUESTS: /api/stats once the workers' reports count at
# least REQUESTS requests (reports come every 100 ms).
worker_stats() {
    local stats deadline=$(( SECONDS + 10 ))
    while :; do
        stats=$(curl -sf "$BASE_URL/api/stats") || die "GET /api/stats failed"
        [ "$(jq '[.workers[].requests.total] | add' <<<"$stats")" -ge "$1" ] && break
        [ $SECONDS -lt $deadline ] || die "/api/stats never counted $1 requests"
    done
    printf '%s' "$stats"
}

# share_trial MODE CONNECTIONS: prints "SHARE  per-worker requests (open/accepted)".
share_trial() {
    local requests rate stats
    start_instance "share-$1-$2" "$1"
    read -r requests rate < <(wrk_run "$2")
    stats=$(worker_stats "$requests")
    stop_corral
    jq -r '[.workers[] | .requests.total] as $r | ($r | add) as $sum
        | "\(($r | max) / $sum) " + ([.workers | to_entries[]
        | "\(.key)=\(.value.requests.total)(\(.value.connections.open // "-")/\(.value.connections.accepted // "-"))"]
        | join(" "))' <<<"$stats" | awk '{ $1 = sprintf("%.2f", $1); print }'
}

log "bench-balance: $CORRAL, $(nproc) CPUs shared with other work, wrk on the same machine"
echo "== busier worker's share of requests, 2 workers, cpu route work=$CPU_WORK, wrk -d${DURATION}s, a fresh instance per trial"
echo "   (per trial: the share, then each worker's requests (open/accepted connections at the end))"
declare -A SHARES
for mode in $MODES; do
    for c in $CONNECTIONS; do
        for (( t = 1; t <= TRIALS; t++ )); do
            line=$(share_trial "$mode" "$c")
            echo "$mode c=$c trial $t: $line"
            SHARES[$mode,$c]+="${SHARES[$mode,$c]:+ }${line%% *}"
        done
    done
done
echo
printf '| balancing |'; for c in $CONNECTIONS; do printf ' %s connections |' "$c"; done; echo
printf '|---|'; for c in $CONNECTIONS; do printf -- '---|'; done; echo
for mode in $MODES; do
    printf '| `%s` |' "$mode"
    for c in $CONNECTIONS; do printf ' %s |' "${SHARES[$mode,$c]}"; done
    echo
done
worst=$(for c in $CONNECTIONS; do tr ' ' '\n' <<<"${SHARES[shared,$c]:-}"; done | sort -n | tail -1)
[ -z "$worst" ] || echo "target: share <= 0.55 in every trial of shared: worst $worst, $(awk -v w="$worst" 'BEGIN { print (w <= 0.55 ? "met" : "MISSED") }')"

echo
echo "== cpu route: 2 workers (shared) / classic, a fresh pair per trial"
worst=
for c in $CONNECTIONS; do
    ratios=
    for (( t = 1; t <= RATIO_TRIALS; t++ )); do
        start_instance "ratio-classic-$c-$t" classic
        read -r _ classic < <(wrk_run "$c")
        stop_corral
        start_instance "ratio-shared-$c-$t" shared
        read -r _ clustered < <(wrk_run "$c")
        stop_corral
        ratio=$(awk -v a="$clustered" -v b="$classic" 'BEGIN { printf "%.3f", a / b }')
        echo "c=$c trial $t: classic $classic req/s, 2 workers $clustered req/s: ${ratio}x"
        ratios+="${ratios:+ }$ratio"
        worst=$(printf '%s\n' $worst "$ratio" | sort -n | head -1)
    done
    echo "c=$c: $ratios"
done
echo "target: >= 1.85x in every trial: worst ${worst}x, $(awk -v w="$worst" 'BEGIN { print (w >= 1.85 ? "met" : "MISSED") }')"

# short_trial MODE: wrk with "Connection: close" on the tiny route; prints
# "CONNECTIONS_PER_S COORDINATOR_US_PER_CONNECTION WORKERS_US_PER_CONNECTION".
short_trial() {
    local out coordinator workers c0 w0 hz
    start_instance "short-$1-$RANDOM" "$1"
    workers=$(pgrep -P "$CORRAL_PID" | tr '\n' ' ')
    c0=$(ticks "$CORRAL_PID")
    # shellcheck disable=SC2086  # a list of pids
    w0=$(all_ticks $workers)
    out=$(wrk -t2 -c16 -d"${DURATION}s" -H 'Connection: close' "$BASE_URL/api/hello") \
        || die "wrk failed"
    coordinator=$(( $(ticks "$CORRAL_PID") - c0 ))
    # shellcheck disable=SC2086
    workers=$(( $(all_ticks $workers) - w0 ))
    stop_corral
    hz=$(getconf CLK_TCK)
    awk -v c="$coordinator" -v w="$workers" -v hz="$hz" '/requests in/ { n = $1 }
        /^Requests\/sec:/ { rate = $2 }
        END { printf "%.0f %.1f %.1f\n", rate, c / hz / n * 1e6, w / hz / n * 1e6 }' <<<"$out"
}

echo
echo "== short connections (Connection: close, GET /api/hello, wrk -t2 -c16 -d${DURATION}s), 2 workers"
echo "   per trial: connections/s, then CPU per connection of the coordinator and of the workers, in us"
for mode in shared reuseport; do
    for (( t = 1; t <= SHORT_TRIALS; t++ )); do
        echo "$mode trial $t: $(short_trial "$mode")"
    done
done
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
