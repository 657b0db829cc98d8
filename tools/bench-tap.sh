#!/usr/bin/env bash
# bench-tap.sh: the cost of the tap (issue 12).
#  1. GET /api/hello throughput (wrk, 2 workers) with the access log on
#     (http.server.response at debug to a file), and corral's CPU per
#     request (coordinator and workers, all threads, from /proc), with no
#     tap subscriber and with one `corralctl logs -f` subscriber (every
#     access-log line formatted and published). The settings alternate
#     RUNS times and the medians are compared. With BASE_BUILD_DIR set (a
#     build of a commit without the tap, e.g. main before issue 12), that
#     build is a third setting: the cost of the tap with no subscriber
#     against no tap at all. Target: no measurable cost with no subscriber.
#  2. Records/s through the tap to one subscriber: the log_records plugin
#     logs RECORDS records in one worker; `corralctl logs -f --count`
#     counts them; time from the job's start to the subscriber's exit (or
#     TAP_TIMEOUT s; XPUB drops for a subscriber that falls behind its
#     high-water mark, so the count received is printed too).
# It exits 0 when a target is missed (a benchmark, not a test), non-zero
# when a run fails.
#
# Environment (defaults in brackets):
#   BUILD_DIR        build tree with bin/corral and bin/corralctl [<repo>/build]
#   BASE_BUILD_DIR   a build without the tap to compare against [none]
#   DURATION         seconds per wrk run [10]
#   RUNS             alternations [3]
#   RECORDS          records for part 2 [200000]
#   TAP_TIMEOUT      seconds for part 2 at most [60]
#   WRK_THREADS      wrk -t [2]
#   WRK_CONNECTIONS  wrk -c [64]
set -euo pipefail

DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
RECORDS=${RECORDS:-200000}
TAP_TIMEOUT=${TAP_TIMEOUT:-60}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
# shellcheck source=tools/bench-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
bench_init bench-tap
CORRALCTL=$BUILD_DIR/bin/corralctl
[ -x "$CORRALCTL" ] || die "$CORRALCTL is missing (build the corralctl target)"
TAP_CORRAL=$CORRAL
FOLLOWER_PID=

# start_access NAME: 2 workers, the access log to a file
start_access() {
    start_corral "$1" "server: { host: 127.0.0.1, port: 0, balancing: reuseport }
path: { data: $TMP/$1/data }
pid: { file: $TMP/$1/corral.pid }
node: { workers: { count: 2, command: [$TEST_WORKER] } }
logging:
  appenders:
    access: { type: file, fileName: $TMP/$1/access.log }
    console: { type: console }
  root: { appenders: [console], level: info }
  loggers: [ { name: http.server.response, level: debug, appenders: [access] } ]"
}

# follow NAME ARGS...: corralctl logs -f ARGS in the background, to $TMP/NAME.out;
# waits until it says it follows.
follow() {
    local name=$1
    shift
    "$CORRALCTL" --data "$TMP/$CURRENT/data" logs -f "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    FOLLOWER_PID=$!
    await_following "$TMP/$name.err"
}

# await_following FILE: until corralctl says in FILE that it follows
await_following() {
    local line
    line=$(timeout 20 tail -n +1 --pid="$FOLLOWER_PID" -f "$1" | grep -m1 'following the logs') \
        || true
    [ -n "$line" ] || die "corralctl logs -f did not start: $(cat "$1")"
}

stop_follower() {
    kill -TERM "$FOLLOWER_PID" 2>/dev/null || true
    wait "$FOLLOWER_PID" 2>/dev/null || true
    FOLLOWER_PID=
}

# --- 1. HTTP with the access log: no subscriber, one subscriber ------------------

none_runs=() one_runs=() base_runs=()
for run in $(seq 1 "$RUNS"); do
    if [ -n "${BASE_BUILD_DIR:-}" ]; then
        CORRAL=$BASE_BUILD_DIR/bin/corral
        CURRENT=base; start_access base
        base_runs+=("$(wrk_cpu_run)")
        stop_corral
        CORRAL=$TAP_CORRAL
    fi
    CURRENT=none; start_access none
    none_runs+=("$(wrk_cpu_run)")
    stop_corral
    CURRENT=one; start_access one
    follow one-subscriber
    one_runs+=("$(wrk_cpu_run)")
    lines=$(wc -l <"$TMP/one-subscriber.out")
    stop_follower
    stop_corral
    echo "http run $run: no subscriber ${none_runs[-1]% *} req/s (${none_runs[-1]#* } us CPU/request)," \
         "one subscriber ${one_runs[-1]% *} req/s (${one_runs[-1]#* } us CPU/request, $lines lines received)" \
         "${base_runs:+, without the tap ${base_runs[-1]% *} req/s (${base_runs[-1]#* } us CPU/request)}"
done
col() { printf '%s\n' "${@:2}" | cut -d' ' -f"$1" | median; }
none=$(col 1 "${none_runs[@]}"); none_cpu=$(col 2 "${none_runs[@]}")
one=$(col 1 "${one_runs[@]}"); one_cpu=$(col 2 "${one_runs[@]}")
echo "http /api/hello medians (access log on): no subscriber $none req/s, $none_cpu us CPU/request;" \
     "one logs -f subscriber $one req/s, $one_cpu us CPU/request" \
     "($(awk -v a="$none_cpu" -v b="$one_cpu" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }')% CPU)"
if [ -n "${BASE_BUILD_DIR:-}" ]; then
    base=$(col 1 "${base_runs[@]}"); base_cpu=$(col 2 "${base_runs[@]}")
    cost=$(awk -v a="$base_cpu" -v b="$none_cpu" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }')
    echo "without the tap: $base req/s, $base_cpu us CPU/request: the tap with no subscriber costs $cost% CPU"
    if awk -v a="$base_cpu" -v b="$none_cpu" 'BEGIN { exit !((b - a) * 100 / a <= 3) }'; then
        echo "http: target met (no measurable cost with no subscriber: within 3%)"
    else
        echo "http: target MISSED (no measurable cost with no subscriber: within 3%)"
    fi
fi

# --- 2. Records per second through the tap ----------------------------------------

CURRENT=records
start_corral records "server: { host: 127.0.0.1, port: 0 }
path: { data: $TMP/records/data }
pid: { file: $TMP/records/corral.pid }
node: { workers: { count: 1, command: [$TEST_WORKER] } }
logging: { root: { level: info } }"
"$CORRALCTL" --data "$TMP/records/data" logs -f --level info --logger demo.records \
    --count "$RECORDS" >"$TMP/records.out" 2>"$TMP/records.err" &
FOLLOWER_PID=$!
await_following "$TMP/records.err"
# the subscription is live once a probe record comes through
for _ in $(seq 200); do
    curl -s -o /dev/null "$BASE_URL/api/log?count=1&level=info"
    [ -s "$TMP/records.out" ] && break
    sleep 0.05
done
[ -s "$TMP/records.out" ] || die "the subscriber never saw a record"
start_ns=$(date +%s%N)
curl -s -o /dev/null "$BASE_URL/api/log?count=$RECORDS&level=info&chunk=5000"
# until the subscriber has them all, or nothing came for 2 s (the rest
# was dropped), or TAP_TIMEOUT: the end is the last line's arrival
received=0 end_ns=$start_ns quiet=0
deadline=$(( start_ns + TAP_TIMEOUT * 1000000000 ))
while kill -0 "$FOLLOWER_PID" 2>/dev/null && [ "$quiet" -lt 20 ] \
      && [ "$(date +%s%N)" -lt "$deadline" ]; do
    sleep 0.1
    now=$(wc -l <"$TMP/records.out")
    if [ "$now" -gt "$received" ]; then
        received=$now end_ns=$(date +%s%N) quiet=0
    else
        quiet=$(( quiet + 1 ))
    fi
done
kill -0 "$FOLLOWER_PID" 2>/dev/null || end_ns=$(date +%s%N)
received=$(wc -l <"$TMP/records.out")
stop_follower
stop_corral
seconds=$(awk -v a="$start_ns" -v b="$end_ns" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
echo "tap: $received of $RECORDS records to one subscriber in ${seconds}s =" \
     "$(awk -v n="$received" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }') records/s"
echo "load while measuring: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (a machine shared with other work)"
