#!/usr/bin/env bash
# bench-rfc.sh: the Kibana clustering RFC's load test (its section 4),
# reproduced against corral and the peers a Node user would pick instead.
#
# Every setup serves the same route mix, 9 in 10 requests to
# GET /api/realistic (a 20 +- 10 ms "datastore" wait on a timer, then 0.5 ms
# of CPU building a JSON answer) and 1 in 10 to GET /api/hello:
#   corral-classic   corral, node.enabled: false (one process)
#   corral-2/-4      corral with 2 or 4 workers
#   node-cluster-2/-4  tools/peers/app.js under Node's cluster module
#   pm2-2/-4         the same app under PM2 cluster mode (pm2 pinned in
#                    tools/peers/package.json, installed with `npm ci`)
# Each is loaded by tools/openloop (open loop: requests leave on a Poisson
# schedule at a fixed offered rate, latency measured from the scheduled
# time) at several offered rates, given as multiples of one process's
# capacity, which the script measures first (corral-classic's CPU time per
# request at a light load: capacity = 1 CPU / that time). The corral setups
# run twice: with the servers limited to 1 CPU (taskset -c 0) and to 2.
# All setups are started first and stay up; for each rate, each setup is
# loaded in turn, so that a shared machine's changing load weighs on every
# setup at a given rate alike.
#
# Writes $OUT_DIR/bench-rfc.csv (one row per setup and rate) and three
# gnuplot PNGs next to it (tools/bench-rfc.gp), prints a table and the
# issue's targets (PASS or MISS; a MISS is not a failure, a failed run is).
#
# Environment (defaults in brackets):
#   BUILD_DIR      build tree with bin/corral and bin/openloop [<repo>/build]
#   OUT_DIR        where the CSV and PNGs go [<repo>/docs; QUICK: a temp dir]
#   DURATION       measured seconds per rate [6]      WARMUP  seconds [1]
#   DRAIN          seconds to await answers after the last send [3]
#   FACTORS        offered rates as multiples of one process's capacity
#                  [0.25 0.5 0.7 0.85 1 1.25 1.5 1.75 2]
#   RATES          absolute offered rates instead (requests/s)
#   SETUPS         CPUS:SETUP entries, CPUS 1 or 2 [every setup on 2 CPUs,
#                  corral-classic/-2/-4 on 1 CPU too]
#   CONNECTIONS    openloop's connection pool [256]
#   MIX            openloop -p options ["9:/api/realistic 1:/api/hello"]
#   PEERS_DIR      where pm2 is installed [$BUILD_DIR/peers]
#   QUICK=1        a few seconds: 2 rates of 1 s, corral-classic, corral-2
#                  (on 2 CPUs and 1), node-cluster-2 if node is installed;
#                  no PM2 (it needs the npm registry); CI runs this
#
# Usage: tools/bench-rfc.sh            (see docs/benchmarks.md)
set -euo pipefail
# shellcheck source=tools/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    DURATION=${DURATION:-1}; WARMUP=${WARMUP:-0.3}; DRAIN=${DRAIN:-1}
    FACTORS=${FACTORS:-"0.3 0.7"}
    SETUPS=${SETUPS:-"2:corral-classic 2:corral-2 1:corral-2 2:node-cluster-2"}
else
    DURATION=${DURATION:-6}; WARMUP=${WARMUP:-1}; DRAIN=${DRAIN:-3}
    FACTORS=${FACTORS:-"0.25 0.5 0.7 0.85 1 1.25 1.5 1.75 2"}
    SETUPS=${SETUPS:-"2:corral-classic 2:corral-2 2:corral-4 2:node-cluster-2 2:node-cluster-4
                      2:pm2-2 2:pm2-4 1:corral-classic 1:corral-2 1:corral-4"}
fi
CONNECTIONS=${CONNECTIONS:-256}
MIX=${MIX:-"9:/api/realistic 1:/api/hello"}
TARGET_FACTOR=0.7       # the issue's targets: one process loaded to ~70%

bench_init bench-rfc gnuplot taskset
# every pm2 command gets a PM2_HOME of this run's, never the user's ~/.pm2
export PM2_HOME=$TMP/pm2
PEERS=$ROOT/tools/peers
PEERS_DIR=${PEERS_DIR:-$BUILD_DIR/peers}
OPENLOOP=$BUILD_DIR/bin/openloop
[ -x "$OPENLOOP" ] || cmake --build "$BUILD_DIR" --target openloop >&2
if [ "$QUICK" = 1 ]; then OUT_DIR=${OUT_DIR:-$TMP/out}; else OUT_DIR=${OUT_DIR:-$ROOT/docs}; fi
mkdir -p "$OUT_DIR"
CSV=$OUT_DIR/bench-rfc.csv
CLK_TCK=$(getconf CLK_TCK)
MIX_OPTIONS=()
for route in $MIX; do MIX_OPTIONS+=(-p "$route"); done

# --- The servers under test ----------------------------------------------------
# Every setup is started once and stays up for the whole run: the rates are
# the outer loop, so that the setups' runs at one rate are minutes apart at
# most and a shared machine's load changes weigh on all of them alike. An
# idle setup costs the others nothing but memory. start_setup ENTRY records
# the process whose children are the workers (PID_OF) and the URL (URL_OF);
# stop_setups ends them all, by PID.

declare -A PID_OF URL_OF
STARTED=()
PM2_HOMES=()
SERVER_PID=
SETUP=

start_corral_setup() {     # NAME WORKERS (0: classic)
    local node="enabled: false, workers: { command: [$TEST_WORKER] }"
    [ "$2" -eq 0 ] || node="enabled: true, workers: { count: $2, command: [$TEST_WORKER] }"
    start_corral "$1" "server: { host: 127.0.0.1, port: 0, balancing: shared }
path: { data: $TMP/$1/data }
pid: { file: $TMP/$1/corral.pid }
node: { $node, shutdown_timeout: 5s }
logging: { root: { level: info } }"
    SERVER_PID=$CORRAL_PID
    CORRAL_PID=         # several at once: stop_setups stops them
}

start_node_cluster() {     # NAME WORKERS
    local log=$TMP/$1.log line
    : >"$log"           # before tail follows it: the child may open it later
    # shellcheck disable=SC2086  # a command prefix
    WORKERS=$2 PORT=0 ${BENCH_LAUNCHER:-} node "$PEERS/cluster.js" </dev/null >>"$log" 2>&1 &
    SERVER_PID=$!
    line=$(timeout 20 tail -n +1 --pid="$SERVER_PID" -f "$log" | grep -m1 -E '^ready ') || true
    if [ -z "$line" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true     # not in PID_OF yet
        sed 's/^/    /' "$log" >&2
        die "$1: node cluster did not start"
    fi
    BASE_URL=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' <<<"$line")
}

install_pm2() {
    if [ -x "$PEERS_DIR/node_modules/.bin/pm2" ] \
        && cmp -s "$PEERS/package-lock.json" "$PEERS_DIR/package-lock.json"; then
        return 0
    fi
    log "bench-rfc: npm ci (pinned pm2) in $PEERS_DIR"
    mkdir -p "$PEERS_DIR"
    cp "$PEERS/package.json" "$PEERS/package-lock.json" "$PEERS_DIR/"
    npm ci --prefix "$PEERS_DIR" --no-audit --no-fund >&2
}

start_pm2() {              # NAME WORKERS
    local home=$TMP/pm2-$1 port i
    PM2_HOMES+=("$home")
    port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1",
                    () => { console.log(s.address().port); s.close(); })')
    # shellcheck disable=SC2086  # the daemon inherits the CPU limit
    PM2_HOME=$home WORKERS=$2 PORT=$port ${BENCH_LAUNCHER:-} "$PEERS_DIR/node_modules/.bin/pm2" \
        start "$PEERS/ecosystem.config.js" </dev/null >"$TMP/$1.log" 2>&1 \
        || { sed 's/^/    /' "$TMP/$1.log" >&2; die "$1: pm2 start failed"; }
    SERVER_PID=$(cat "$home/pm2.pid") || die "$1: pm2 left no $home/pm2.pid"
    # ready when every instance has logged that it listens (20 s at most)
    for ((i = 0; i < 200; i++)); do
        [ "$(cat "$home"/logs/peer-out*.log 2>/dev/null | grep -c '^listening')" -ge "$2" ] \
            && break
        sleep 0.1
    done
    [ "$i" -lt 200 ] || die "$1: pm2's instances did not listen in time"
    BASE_URL=http://127.0.0.1:$port
}

# pm2 kill on each PM2_HOME this script made, then its daemon and the
# daemon's children by PID if they are still there
stop_pm2_homes() {
    local home pid children
    for home in "${PM2_HOMES[@]}"; do
        [ -f "$home/pm2.pid" ] || continue
        pid=$(cat "$home/pm2.pid")
        children=$(pgrep -P "$pid" || true)
        PM2_HOME=$home "$PEERS_DIR/node_modules/.bin/pm2" kill >/dev/null 2>&1 || true
        for pid in $pid $children; do
            if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
        done
    done
    PM2_HOMES=()
}

# stop_setups: SIGTERM to each server this script started (corral must
# exit 0), then the PM2 homes
stop_setups() {
    local entry
    for entry in "${!PID_OF[@]}"; do
        case $entry in
            *corral-*) CORRAL_PID=${PID_OF[$entry]}; stop_corral ;;
            *:pm2-*) ;;
            *) kill -TERM "${PID_OF[$entry]}" 2>/dev/null || true
               wait "${PID_OF[$entry]}" 2>/dev/null || true ;;
        esac
        unset "PID_OF[$entry]"
    done
    stop_pm2_homes
}

# shellcheck disable=SC2317  # run by the trap
cleanup() {
    local status=$? entry
    for entry in "${!PID_OF[@]}"; do
        [[ $entry == *:pm2-* ]] || kill -TERM "${PID_OF[$entry]}" 2>/dev/null || true
    done
    for entry in "${!PID_OF[@]}"; do
        [[ $entry == *:pm2-* ]] || wait "${PID_OF[$entry]}" 2>/dev/null || true
    done
    stop_pm2_homes
    (exit "$status")
    bench_cleanup
}
trap cleanup EXIT

start_setup() {            # CPUS:SETUP (after use_cpus)
    local setup=${1#*:} workers=${1##*-}
    case $setup in
        *corral-classic) start_corral_setup "$setup-$CPUS" 0 ;;
        corral-*) start_corral_setup "$setup-$CPUS" "$workers" ;;
        node-cluster-*) start_node_cluster "$setup-$CPUS" "$workers" ;;
        pm2-*) start_pm2 "$setup-$CPUS" "$workers" ;;
        *) die "unknown setup $setup" ;;
    esac
    PID_OF[$1]=$SERVER_PID
    URL_OF[$1]=$BASE_URL
}

use_cpus() {               # 1 or 2: the servers' CPUs from now on
    CPUS=$1
    case $1 in
        1) BENCH_LAUNCHER="taskset -c 0" ;;
        2) BENCH_LAUNCHER="taskset -c 0,1" ;;
        *) die "SETUPS: CPUS must be 1 or 2, not $1" ;;
    esac
}

# select_setup CPUS:SETUP: what measure and await_idle work on
select_setup() {
    CPUS=${1%%:*}
    SETUP=${1#*:}
    SERVER_PID=${PID_OF[$1]}
    BASE_URL=${URL_OF[$1]}
}

server_pids() { echo "$SERVER_PID $(pgrep -P "$SERVER_PID" | tr '\n' ' ')"; }

# await_idle: after a rate past saturation the server still works off what
# it had queued; the next rate starts once the server's processes use less
# than a tenth of a CPU (30 s at most)
await_idle() {
    local i before pids
    pids=$(server_pids)
    for ((i = 0; i < 100; i++)); do
        # shellcheck disable=SC2086  # a list of pids
        before=$(all_ticks $pids)
        sleep 0.3
        # shellcheck disable=SC2086
        [ $(( $(all_ticks $pids) - before )) -le $(( CLK_TCK * 3 / 100 )) ] && return 0
    done
    log "bench-rfc: $SETUP did not become idle in 30 s"
}

# --- One measured run ----------------------------------------------------------

declare -A ROW
# measure RATE: openloop at RATE against BASE_URL; sets ROW[key] from its
# key=value line, plus the server's CPUs and CPU time per served request
measure() {
    local out pids before used_ticks wall t0 pair
    pids=$(server_pids)
    # shellcheck disable=SC2086
    before=$(all_ticks $pids)
    t0=$EPOCHREALTIME
    out=$("$OPENLOOP" -r "$1" -d "$DURATION" -w "$WARMUP" -t "$DRAIN" -c "$CONNECTIONS" \
          "${MIX_OPTIONS[@]}" "$BASE_URL") || die "$SETUP: openloop failed at $1 requests/s"
    # shellcheck disable=SC2086
    used_ticks=$(( $(all_ticks $pids) - before ))
    wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
    ROW=()
    for pair in $out; do ROW[${pair%%=*}]=${pair#*=}; done
    for key in offered sent ok http_errors transport_errors timeouts served answered \
               p50 p75 p95 p99 max lag_p99 loadgen_cpu; do
        [[ ${ROW[$key]:-} =~ ^[0-9]+(\.[0-9]+)?$ ]] \
            || die "$SETUP: openloop's output has no number for $key: $out"
    done
    ROW[server_cpu]=$(awk -v t="$used_ticks" -v hz="$CLK_TCK" -v w="$wall" \
                      'BEGIN { printf "%.2f", t / hz / w }')
    # the CPU of the whole run over every response of it
    ROW[us_per_req]=$(awk -v t="$used_ticks" -v hz="$CLK_TCK" -v n="${ROW[answered]}" \
        'BEGIN { if (n > 0) printf "%.0f", t / hz / n * 1e6; else print 0 }')
}

# --- Calibration: one process's capacity ----------------------------------------

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED_AT=$(date -u '+%Y-%m-%d %H:%M UTC')
log "bench-rfc: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), load average $LOAD_START"
if [ -z "${RATES:-}" ]; then
    use_cpus 2
    start_setup 2:calibration-corral-classic
    select_setup 2:calibration-corral-classic
    measure "$( [ "$QUICK" = 1 ] && echo 50 || echo 200 )"
    stop_setups
    [ "${ROW[us_per_req]}" -gt 0 ] || die "calibration measured no CPU time"
    CAPACITY=$(( 1000000 / ROW[us_per_req] ))
    log "bench-rfc: corral-classic uses ${ROW[us_per_req]} us of CPU per request: one process serves at most ~$CAPACITY requests/s"
    RATES=
    for factor in $FACTORS; do RATES+=" $(awk -v f="$factor" -v c="$CAPACITY" 'BEGIN { printf "%.0f", f * c }')"; done
    TARGET_RATE=$(awk -v f="$TARGET_FACTOR" -v c="$CAPACITY" 'BEGIN { printf "%.0f", f * c }')
else
    CAPACITY=
    TARGET_RATE=
fi
read -r -a RATE_LIST <<<"$RATES"

# --- The runs ------------------------------------------------------------------

HAVE_NODE=0; command -v node >/dev/null 2>&1 && HAVE_NODE=1
HAVE_PM2=0
if [ "$QUICK" != 1 ] && [ "$HAVE_NODE" = 1 ] && [[ $SETUPS == *pm2-* ]]; then
    if command -v npm >/dev/null 2>&1 && install_pm2; then HAVE_PM2=1
    else log "bench-rfc: pm2 could not be installed: the pm2 setups are skipped"; fi
fi

SKIPPED=()
for entry in $SETUPS; do
    setup=${entry#*:}
    if { [[ $setup == node-* ]] && [ "$HAVE_NODE" = 0 ]; } || { [[ $setup == pm2-* ]] && [ "$HAVE_PM2" = 0 ]; }; then
        SKIPPED+=("$entry")
        continue
    fi
    use_cpus "${entry%%:*}"
    start_setup "$entry"
    STARTED+=("$entry")
    : >"$TMP/rows-${entry/:/-}"
done
log "bench-rfc: serving: ${STARTED[*]}"

for rate in "${RATE_LIST[@]}"; do
    for entry in "${STARTED[@]}"; do
        select_setup "$entry"
        await_idle
        measure "$rate"
        log "bench-rfc: $CPUS CPU $SETUP $rate/s: p50 ${ROW[p50]} p95 ${ROW[p95]} p99 ${ROW[p99]} ms, served ${ROW[served]}/s, errors $(( ROW[http_errors] + ROW[transport_errors] )), timeouts ${ROW[timeouts]}"
        workers=${SETUP##*-}; [ "$workers" = classic ] && workers=1
        echo "$CPUS,$SETUP,$workers,${ROW[offered]},${ROW[sent]},${ROW[ok]},${ROW[http_errors]},${ROW[transport_errors]},${ROW[timeouts]},${ROW[served]},${ROW[p50]},${ROW[p75]},${ROW[p95]},${ROW[p99]},${ROW[max]},${ROW[lag_p99]},${ROW[loadgen_cpu]},${ROW[server_cpu]},${ROW[us_per_req]}" \
            >>"$TMP/rows-${entry/:/-}"
    done
done
stop_setups

# one setup's rows together, so that the plots draw each as one line
echo "cpus,setup,workers,offered_rps,sent,ok,http_errors,transport_errors,timeouts,served_rps,p50_ms,p75_ms,p95_ms,p99_ms,max_ms,lag_p99_ms,loadgen_cpu,server_cpu,server_us_per_req" >"$CSV"
for entry in "${STARTED[@]}"; do cat "$TMP/rows-${entry/:/-}" >>"$CSV"; done

# --- Plots ---------------------------------------------------------------------

setups_in_csv() {          # CPUS [PATTERN]: the setups measured on CPUS CPUs
    awk -F, -v c="$1" -v p="${2:-.}" 'NR > 1 && $1 == c && $2 ~ p && !seen[$2]++ { printf "%s ", $2 }' "$CSV"
}
MACHINE="machine: $(nproc) vCPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
gnuplot -e "csv='$CSV'; out='$OUT_DIR'; machine='$MACHINE'; setups='$(setups_in_csv 2)';
            corral='$(setups_in_csv 2 '^corral')'; corral1='$(setups_in_csv 1 '^corral')'" \
    "$ROOT/tools/bench-rfc.gp" || die "gnuplot failed"
PNGS=(bench-rfc-setups.png bench-rfc-compare.png)
[ -z "$(setups_in_csv 2 '^corral')$(setups_in_csv 1 '^corral')" ] || PNGS+=(bench-rfc-classic-2-4.png)
for png in "${PNGS[@]}"; do
    if [ ! -s "$OUT_DIR/$png" ] || [ ! "$OUT_DIR/$png" -nt "$CSV" ]; then die "gnuplot wrote no $OUT_DIR/$png"; fi
done

# --- Report --------------------------------------------------------------------

echo
echo "corral RFC load test: $MACHINE; started $STARTED_AT"
echo "load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mix: $MIX; open loop (Poisson arrivals), ${DURATION}s measured per rate after ${WARMUP}s, ${DRAIN}s drain, $CONNECTIONS connections at most"
[ -z "$CAPACITY" ] || echo "one process's capacity: ~$CAPACITY requests/s (corral-classic's CPU per request); rates: ${RATE_LIST[*]}"
[ ${#SKIPPED[@]} -eq 0 ] || echo "skipped (node or pm2 not available): ${SKIPPED[*]}"
echo "latencies in ms from each request's scheduled time; errors: non-2xx + transport; srv: the server's CPUs; us/req: its CPU per answered request"
echo
fmt='%-4s %-15s %7s %7s %6s %6s %9s %9s %9s %9s %7s %5s %6s\n'
# shellcheck disable=SC2059
printf "$fmt" cpus setup offered served errors t/outs p50 p75 p95 p99 lag srv us/req
awk -F, -v fmt="$fmt" 'NR > 1 { printf fmt, $1, $2, $4, $10, $7 + $8, $9, $11, $12, $13, $14, $16, $18, $19 }' "$CSV"
echo
echo "written: $CSV$(printf ", $OUT_DIR/%s" "${PNGS[@]}")"

# value CPUS SETUP RATE COLUMN: one cell of the CSV
value() { awk -F, -v c="$1" -v s="$2" -v r="$3" -v k="$4" 'NR > 1 && $1 == c && $2 == s && $4 + 0 == r + 0 { print $k }' "$CSV"; }
verdict() { awk "BEGIN { print (($1) ? \"PASS\" : \"MISS\") }"; }
if [ -n "$TARGET_RATE" ] && [ -n "$(value 2 corral-2 "$TARGET_RATE" 11)" ] \
    && [ -n "$(value 2 corral-classic "$TARGET_RATE" 11)" ]; then
    c50=$(value 2 corral-classic "$TARGET_RATE" 11); c95=$(value 2 corral-classic "$TARGET_RATE" 13)
    t50=$(value 2 corral-2 "$TARGET_RATE" 11); t95=$(value 2 corral-2 "$TARGET_RATE" 13)
    echo "targets at $TARGET_RATE requests/s (~70% of one process), 2 CPUs:"
    printf '  corral-2 p50 %s ms vs classic %s ms: %s lower, target >= 20%%  %s\n' "$t50" "$c50" \
        "$(awk -v a="$t50" -v b="$c50" 'BEGIN { printf "%.0f%%", 100 * (1 - a / b) }')" "$(verdict "$t50 <= 0.8 * $c50")"
    printf '  corral-2 p95 %s ms vs classic %s ms: %s lower, target >= 40%%  %s\n' "$t95" "$c95" \
        "$(awk -v a="$t95" -v b="$c95" 'BEGIN { printf "%.0f%%", 100 * (1 - a / b) }')" "$(verdict "$t95 <= 0.6 * $c95")"
fi
for peer in node-cluster-2 pm2-2; do
    [ -n "$(value 2 "$peer" "${RATE_LIST[0]}" 13)" ] || continue
    worse='' compared=0
    for rate in "${RATE_LIST[@]}"; do
        ours=$(value 2 corral-2 "$rate" 13); theirs=$(value 2 "$peer" "$rate" 13)
        if [ -z "$ours" ] || [ -z "$theirs" ]; then continue; fi
        compared=$((compared + 1))
        [ "$(verdict "$ours < $theirs")" = PASS ] || worse+=" $rate"
    done
    [ "$compared" -gt 0 ] || continue
    printf '  corral-2 p95 below %s p95 at every rate (%d rates): %s\n' "$peer" "$compared" \
        "$([ -z "$worse" ] && echo PASS || echo "MISS (not at:$worse)")"
done
