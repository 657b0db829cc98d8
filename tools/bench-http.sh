#!/usr/bin/env bash
# bench-http.sh: HTTP throughput and latency of corral in three setups:
# classic mode (node.enabled: false, one worker exec'd in place), clustered
# with 1 worker and clustered with 2 workers, each running the test worker
# (corral-test-worker: the reference worker's plugins and the test routes).
# Each setup is loaded with wrk on two routes: GET /api/hello (the hello
# plugin's tiny reply: measures per-request overhead) and GET
# /api/cpu?work=$CPU_WORK (fixed CPU work per request: measures how well
# workers use the cores). It prints req/s, p50
# and p99 per setup and route, where the machine's CPU time went (corral,
# wrk, the rest, steal, idle), each worker's share, the clustered/classic
# throughput ratios and the targets (cpu route: 2 workers >= 1.8x classic,
# 1 worker >= 0.97x classic).
#
# Then the cost of your own worker (docs/worker-protocol.md), one worker
# each, on its tiny route beside the C worker's clustered-1 row:
# uv-1, examples/libuv-worker (libcorral driven by libuv's loop, built
# against an install of $BUILD_DIR in a temporary prefix), on /uv/hello; and
# python-1, examples/python-worker, on /py/hello.
#
# wrk runs on the same machine as corral and competes with it for the CPUs;
# read the numbers with that in mind (the output says how much CPU wrk used).
# It exits 0 when a target is missed (a benchmark, not a test) and non-zero
# when a run fails (corral does not start, wrk fails, socket errors, non-2xx).
#
# Environment (defaults in brackets):
#   BUILD_DIR        build tree with bin/corral and bin/corral-test-worker
#                    [<repo>/build; built if missing]
#   DURATION         seconds per measured wrk run [10]
#   WARMUP           seconds of discarded wrk load before each run, 0 = none [2]
#   WRK_THREADS      wrk -t [2]
#   WRK_CONNECTIONS  wrk -c [64]
#   CPU_WORK         rounds per /api/cpu request [175000: about 0.5 ms of CPU on
#                    the 2-CPU EPYC VM of docs/benchmarks.md, ~2.9 ns a round]
#   READY_TIMEOUT    seconds to wait for corral to be ready [10]
#   OWN_WORKERS      1: also the libuv and Python workers; 0: not [1]
#
# Usage: tools/bench-http.sh            (see docs/benchmarks.md)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
CPU_WORK=${CPU_WORK:-175000}
READY_TIMEOUT=${READY_TIMEOUT:-10}
OWN_WORKERS=${OWN_WORKERS:-1}

# corral must not tell a supervising systemd about our instances
unset NOTIFY_SOCKET

log() { printf '%s\n' "$*" >&2; }
die() { log "bench-http: $*"; exit 1; }

# --- Tools and binaries ------------------------------------------------------

if ! command -v wrk >/dev/null 2>&1; then
    log "bench-http: installing wrk"
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y wrk >&2
    elif command -v sudo >/dev/null 2>&1; then
        sudo apt-get install -y wrk >&2
    else
        die "wrk is missing and neither root nor sudo is available to install it"
    fi
fi

CORRAL=$BUILD_DIR/bin/corral
# the test worker (tests/plugins/): /api/hello and the test route /api/cpu
TEST_WORKER=$BUILD_DIR/bin/corral-test-worker
if [ ! -x "$CORRAL" ] || [ ! -x "$TEST_WORKER" ]; then
    log "bench-http: building $BUILD_DIR"
    # a tree that is configured already keeps its own build type
    if [ -f "$BUILD_DIR/CMakeCache.txt" ]; then
        cmake -S "$ROOT" -B "$BUILD_DIR" >&2
    else
        cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >&2
    fi
    cmake --build "$BUILD_DIR" -j"$(nproc)" >&2
fi
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
[ -n "$BUILD_TYPE" ] || BUILD_TYPE="default (RelWithDebInfo)"

# --- One corral at a time ----------------------------------------------------

CORRAL_PID=
TMP=

# shellcheck disable=SC2317  # run by the trap
cleanup() {
    local status=$?
    if [ -n "$CORRAL_PID" ] && kill -0 "$CORRAL_PID" 2>/dev/null; then
        kill -TERM "$CORRAL_PID" 2>/dev/null || true
        wait "$CORRAL_PID" 2>/dev/null || true
    fi
    if [ -n "$TMP" ]; then rm -rf "$TMP"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-http.XXXXXX")
BASE_URL=

# start_corral SETUP: writes the config, starts corral and waits for the log
# line that says it is serving; sets CORRAL_PID and BASE_URL.
start_corral() {
    local setup=$1 dir=$TMP/$1 node pattern line
    mkdir -p "$dir"
    case $setup in
        classic)     node="enabled: false, workers: { command: [$TEST_WORKER] }" ;;
        clustered-1) node="enabled: true, workers: { count: 1, command: [$TEST_WORKER] }" ;;
        clustered-2) node="enabled: true, workers: { count: 2, command: [$TEST_WORKER] }" ;;
        uv-1)        node="enabled: true, workers: { count: 1, command: [$TMP/own/uv-worker] }" ;;
        python-1)    node="enabled: true, workers: { count: 1, command: [/usr/bin/python3,
                           $ROOT/examples/python-worker/worker.py], env: { PYTHONPATH: $ROOT/clients/python } }" ;;
        *) die "unknown setup $setup" ;;
    esac
    # level info: the readiness line is logged at info; corral logs nothing
    # per request at info, so this costs nothing during the runs
    cat >"$dir/corral.yml" <<EOF
server: { host: 127.0.0.1, port: 0, balancing: shared }
path: { data: $dir/data }
pid: { file: $dir/corral.pid }
node: { $node, shutdown_timeout: 5s }
logging: { root: { level: info } }
EOF
    : >"$dir/corral.log"
    "$CORRAL" -c "$dir/corral.yml" </dev/null >>"$dir/corral.log" 2>&1 &
    CORRAL_PID=$!
    if [ "$setup" = classic ]; then
        pattern='serving http://127\.0\.0\.1:[0-9]+ \(classic mode'
    else
        pattern='ready: [0-9]+ workers serving http://127\.0\.0\.1:[0-9]+'
    fi
    # tail ends when grep has its line, when corral exits, or at the timeout
    line=$(timeout "$READY_TIMEOUT" tail -n +1 --pid="$CORRAL_PID" -f "$dir/corral.log" \
           | grep -m1 -E "$pattern") || true
    if [ -z "$line" ]; then
        log "bench-http: $setup: corral did not become ready in ${READY_TIMEOUT}s; its log:"
        sed 's/^/    /' "$dir/corral.log" >&2
        return 1
    fi
    BASE_URL=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' <<<"$line")
}

# probe_keepalive SETUP: one HTTP/1.1 request on a plain connection; records
# whether the server keeps the connection open (wrk reuses connections only
# then; otherwise every request is a new TCP connection, which costs both
# sides far more CPU than the request itself)
probe_keepalive() {
    local setup=$1 port=${BASE_URL##*:} fd line headers=""
    KEEPALIVE[$setup]="unknown"
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 0
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' "$(path_of "$setup" hello)" >&"$fd"
    while IFS= read -r -t 5 line <&"$fd"; do
        line=${line%$'\r'}
        [ -n "$line" ] || break
        headers+="$line"$'\n'
    done
    exec {fd}<&-
    if grep -qi '^connection: *close' <<<"$headers"; then
        KEEPALIVE[$setup]="no (Connection: close)"
    elif grep -q '^HTTP/1\.1 200' <<<"$headers"; then
        KEEPALIVE[$setup]="yes"
    fi
}

# stop_corral: SIGTERM to the PID we started, then wait for it to exit.
stop_corral() {
    local status=0
    [ -n "$CORRAL_PID" ] || return 0
    kill -TERM "$CORRAL_PID" 2>/dev/null || true
    wait "$CORRAL_PID" || status=$?
    CORRAL_PID=
    return "$status"
}

# --- CPU accounting ----------------------------------------------------------

CLK_TCK=$(getconf CLK_TCK)

# ticks PID: utime+stime of a process in clock ticks (0 if it is gone)
ticks() {
    local stat
    local -a f
    read -r stat 2>/dev/null <"/proc/$1/stat" || { echo 0; return; }
    read -r -a f <<<"${stat##*) }"      # the fields after "pid (comm) "
    echo $(( f[11] + f[12] ))
}

# server_pids: corral's PID and its children's (the workers)
server_pids() {
    local stat path
    local -a f
    echo "$CORRAL_PID"
    for path in /proc/[0-9]*/stat; do
        { read -r stat <"$path"; } 2>/dev/null || continue
        read -r -a f <<<"${stat##*) }"
        if [ "${f[1]}" = "$CORRAL_PID" ]; then
            path=${path#/proc/}
            echo "${path%/stat}"
        fi
    done | sort -n
}

# children_seconds FILE: the children's user+sys seconds from a `times` dump
children_seconds() {
    sed -n 2p "$1" | awk '{
        s = 0
        for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); s += p[1] * 60 + p[2] }
        printf "%.3f", s }'
}

# --- wrk ---------------------------------------------------------------------

# to_ms VALUE: wrk's 123.45us / 1.23ms / 1.02s / 1.5m as milliseconds
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.3f", n }'
}

declare -A RPS P50 P99 SRV WRKCPU OTHER STEAL IDLE USREQ SPLIT FAIL KEEPALIVE
FAILED=0

# measure SETUP ROUTE PATH
measure() {
    local setup=$1 route=$2 url=$BASE_URL$3 out=$TMP/$1-$2.wrk
    local -a pids before after stat0 stat1
    local i rc=0 line t0 t1 wall

    if [ "$WARMUP" -gt 0 ]; then
        wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WARMUP}s" "$url" >"$out.warmup" 2>&1 || true
    fi

    mapfile -t pids < <(server_pids)
    for i in "${!pids[@]}"; do before[i]=$(ticks "${pids[i]}"); done
    read -r -a stat0 </proc/stat
    times >"$TMP/times0"
    t0=$EPOCHREALTIME
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${DURATION}s" --latency "$url" >"$out" 2>&1 || rc=$?
    t1=$EPOCHREALTIME
    times >"$TMP/times1"
    read -r -a stat1 </proc/stat
    for i in "${!pids[@]}"; do after[i]=$(ticks "${pids[i]}"); done
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')

    log "--- $setup $route: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s --latency $url"
    sed 's/^/    /' "$out" >&2

    RPS[$setup,$route]=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    P50[$setup,$route]=; P99[$setup,$route]=
    line=$(awk '$1 == "50%" { print $2 }' "$out")
    if [ -n "$line" ]; then P50[$setup,$route]=$(to_ms "$line"); fi
    line=$(awk '$1 == "99%" { print $2 }' "$out")
    if [ -n "$line" ]; then P99[$setup,$route]=$(to_ms "$line"); fi

    # CPU: all of corral (coordinator + workers), wrk, and the workers' split
    local total=0 split="" n=${#pids[@]} w
    # cpus TICKS: clock ticks over the run as CPUs busy on average
    cpus() { awk -v t="$1" -v hz="$CLK_TCK" -v d="$wall" 'BEGIN { printf "%.2f", t / hz / d }'; }
    for i in "${!pids[@]}"; do total=$(( total + after[i] - before[i] )); done
    SRV[$setup,$route]=$(cpus "$total")
    WRKCPU[$setup,$route]=$(awk -v a="$(children_seconds "$TMP/times0")" \
        -v b="$(children_seconds "$TMP/times1")" -v d="$wall" 'BEGIN { printf "%.2f", (b - a) / d }')
    # the whole machine, from /proc/stat's cpu line: user nice system idle
    # iowait irq softirq steal. other: busy time that is neither corral's
    # nor wrk's (other processes, kernel threads, interrupts that hit no
    # task); steal: time the hypervisor gave to other guests
    local busy=$(( stat1[1] + stat1[2] + stat1[3] + stat1[6] + stat1[7]
                   - stat0[1] - stat0[2] - stat0[3] - stat0[6] - stat0[7] ))
    OTHER[$setup,$route]=$(awk -v b="$(cpus "$busy")" -v c="${SRV[$setup,$route]}" \
        -v w="${WRKCPU[$setup,$route]}" 'BEGIN { o = b - c - w; printf "%.2f", (o > 0 ? o : 0) }')
    STEAL[$setup,$route]=$(cpus $(( stat1[8] - stat0[8] )))
    IDLE[$setup,$route]=$(cpus $(( stat1[4] + stat1[5] - stat0[4] - stat0[5] )))
    # corral's CPU time per request, whatever the CPUs it could get
    USREQ[$setup,$route]=$(awk -v t="$total" -v hz="$CLK_TCK" \
        -v r="$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$out")" \
        'BEGIN { if (r + 0 > 0) printf "%.1f", t / hz / r * 1e6; else print "-" }')
    if [ "$n" -gt 2 ]; then        # coordinator + 2 or more workers
        local wtotal=0
        for ((i = 1; i < n; i++)); do wtotal=$(( wtotal + after[i] - before[i] )); done
        for ((i = 1; i < n; i++)); do
            w=$(( wtotal > 0 ? 100 * (after[i] - before[i]) / wtotal : 0 ))
            split+="${split:+/}$w"
        done
    fi
    SPLIT[$setup,$route]=${split:--}

    # failures: wrk's status, errors it reports, no numbers
    local errors
    errors=$(grep -E 'Socket errors:|Non-2xx or 3xx responses:' "$out" || true)
    if [ "$rc" -ne 0 ] || [ -n "$errors" ] || [ -z "${RPS[$setup,$route]}" ] \
        || [ -z "${P50[$setup,$route]}" ] || [ -z "${P99[$setup,$route]}" ]; then
        log "bench-http: FAILED $setup $route (wrk status $rc)${errors:+: }$errors"
        FAILED=1
        FAIL[$setup,$route]=1
        [ -n "${RPS[$setup,$route]}" ] || RPS[$setup,$route]=0
    fi
}

# --- Your own workers ----------------------------------------------------------

# build_own_workers: the libuv example against an install of $BUILD_DIR,
# into $TMP/own (the Python worker runs on clients/python as it is)
build_own_workers() {
    local own=$TMP/own
    mkdir -p "$own"
    cmake --install "$BUILD_DIR" --prefix "$own/prefix" >/dev/null \
        && PKG_CONFIG_PATH=$(dirname "$(find "$own/prefix" -name corral.pc | head -n1)") \
           make -s -C "$ROOT/examples/libuv-worker" OUT="$own" >&2
}

# --- Runs --------------------------------------------------------------------

SETUPS=(classic clustered-1 clustered-2)
ROUTES=(hello cpu)
declare -A ROUTE_PATH=([hello]=/api/hello [cpu]="/api/cpu?work=$CPU_WORK")
# the tiny route of each worker program; only that one for your own workers
declare -A HELLO_PATH=([uv-1]=/uv/hello [python-1]=/py/hello)
if [ "$OWN_WORKERS" = 1 ]; then
    if build_own_workers; then
        SETUPS+=(uv-1 python-1)
    else
        log "bench-http: cannot build the libuv and Python workers (libuv1-dev, protobuf-compiler,"
        log "            python3-zmq, python3-protobuf: ./tools/dev test installs them)"
        FAILED=1
    fi
fi
routes_of() { if [ -n "${HELLO_PATH[$1]:-}" ]; then echo hello; else echo "${ROUTES[@]}"; fi; }
path_of() { if [ -n "${HELLO_PATH[$1]:-}" ]; then echo "${HELLO_PATH[$1]}"; else echo "${ROUTE_PATH[$2]}"; fi; }

log "bench-http: $CORRAL (build type $BUILD_TYPE), $(nproc) CPUs, wrk on the same machine"
for setup in "${SETUPS[@]}"; do
    if ! start_corral "$setup"; then
        FAILED=1
        stop_corral || true
        for route in $(routes_of "$setup"); do RPS[$setup,$route]=0; FAIL[$setup,$route]=1; done
        continue
    fi
    probe_keepalive "$setup"
    for route in $(routes_of "$setup"); do
        measure "$setup" "$route" "$(path_of "$setup" "$route")"
    done
    if ! stop_corral; then
        log "bench-http: $setup: corral exited with an error on SIGTERM; its log:"
        sed 's/^/    /' "$TMP/$setup/corral.log" >&2
        FAILED=1
    fi
done

# --- Report ------------------------------------------------------------------

echo
echo "corral HTTP benchmark: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), build type $BUILD_TYPE"
echo "wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s --latency, warm-up ${WARMUP}s, cpu route work=$CPU_WORK"
echo "NOTE: wrk runs on the same $(nproc) CPUs as corral and competes with it for them"
keepalive="keep-alive:"
for setup in "${SETUPS[@]}"; do keepalive+=" $setup ${KEEPALIVE[$setup]:-unknown};"; done
echo "${keepalive%;}"
case $keepalive in
    *"no ("*) echo "NOTE: corral closed the connection after the response, so every wrk request"
              echo "      opens a new TCP connection (connect, accept and close dominate)" ;;
esac
echo "CPU columns are CPUs used on average over the run: corral (coordinator and"
echo "workers), wrk, other (the rest of the machine's busy time: kernel, interrupts,"
echo "other processes), steal (taken by the hypervisor) and idle. us/req: corral's CPU"
echo "time per request. split: each worker's share of the workers' CPU time."
echo
fmt='%-12s %-6s %10s %8s %8s %7s %5s %5s %5s %5s %7s %6s%s\n'
# shellcheck disable=SC2059
printf "$fmt" setup route req/s "p50 ms" "p99 ms" corral wrk other steal idle us/req split ""
for setup in "${SETUPS[@]}"; do
    for route in $(routes_of "$setup"); do
        # shellcheck disable=SC2059
        printf "$fmt" "$setup" "$route" "${RPS[$setup,$route]:-0}" "${P50[$setup,$route]:--}" \
            "${P99[$setup,$route]:--}" "${SRV[$setup,$route]:--}" "${WRKCPU[$setup,$route]:--}" \
            "${OTHER[$setup,$route]:--}" "${STEAL[$setup,$route]:--}" "${IDLE[$setup,$route]:--}" \
            "${USREQ[$setup,$route]:--}" \
            "${SPLIT[$setup,$route]:--}" "${FAIL[$setup,$route]:+  FAILED}"
    done
done

echo
echo "throughput relative to classic:"
# verdict RATIO TARGET: PASS or MISS
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print ((r + 0 >= t + 0) ? "PASS" : "MISS") }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.3f", a / b; else print "0" }'; }
for route in "${ROUTES[@]}"; do
    classic=${RPS[classic,$route]:-0}
    r1=$(ratio "${RPS[clustered-1,$route]:-0}" "$classic")
    r2=$(ratio "${RPS[clustered-2,$route]:-0}" "$classic")
    if [ "$route" = cpu ]; then
        printf '  %-6s clustered-1 / classic = %sx   target >= 0.97x  %s\n' "$route" "$r1" "$(verdict "$r1" 0.97)"
        printf '  %-6s clustered-2 / classic = %sx   target >= 1.80x  %s\n' "$route" "$r2" "$(verdict "$r2" 1.80)"
    else
        printf '  %-6s clustered-1 / classic = %sx   (no target)\n' "$route" "$r1"
        printf '  %-6s clustered-2 / classic = %sx   (no target)\n' "$route" "$r2"
    fi
done

for setup in uv-1 python-1; do
    [ -n "${RPS[$setup,hello]:-}" ] || continue
    r=$(ratio "${RPS[$setup,hello]}" "${RPS[clustered-1,hello]:-0}")
    c=$(awk -v a="${USREQ[$setup,hello]:-0}" -v b="${USREQ[clustered-1,hello]:-0}" \
        'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }')
    printf '  hello  %-11s / clustered-1 = %sx req/s, %sx CPU per request (your own worker)\n' \
        "$setup" "$r" "$c"
done

if [ "$FAILED" -ne 0 ]; then
    echo
    echo "bench-http: some runs FAILED (see above); the numbers are not valid"
    exit 1
fi
exit 0
