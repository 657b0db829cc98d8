#!/usr/bin/env bash
# bench-scale.sh: what an idle instance costs as the worker count grows.
# For each count in COUNTS, an instance of that many idle workers (no
# requests at all) reporting every INTERVAL:
#   - start -> ready: from launching corral to its "ready: N workers" line,
#     and the CPU time all its processes used until then (the time depends
#     on the machine's load, the CPU much less);
#   - after SETTLE seconds, over WINDOW seconds: the coordinator's CPU and
#     all workers' CPU (time on a CPU of every thread, from
#     /proc/PID/task/*/schedstat: utime+stime count in 10 ms ticks, too
#     coarse for 0.05% of a CPU), as a share of one CPU, in total and per
#     worker; the wake-ups of each worker's loop thread per second (its
#     schedstat run count);
#   - the coordinator's RSS (VmRSS, and RssAnon: its private part), the
#     workers' PSS together, /api/stats' size and the time one takes;
#   - SIGTERM -> exit, and that nothing is left (processes, the runtime
#     directory, the PID file).
# Targets: each idle worker under 0.05% of a CPU; the coordinator's CPU per
# worker flat (not growing with the count); 256 workers ready in under 5 s;
# the coordinator's RSS at 4 workers <= 8.1 MB.
# The machine may be shared with other work: CPU time is the process's
# own, but wake-up latencies and start times stretch under load (the load
# average is printed). Prints numbers; exits 0 when a target is missed (a
# benchmark, not a test), non-zero when a run fails.
#
# Environment (defaults in brackets):
#   BUILD_DIR   build tree with bin/corral [<repo>/build; built (Release) if missing]
#   COUNTS      worker counts [4 16 64 128 256]
#   INTERVAL    node.status.interval [1s]
#   SETTLE      seconds between ready and the window [3]
#   WINDOW      seconds measured [20]
set -euo pipefail

COUNTS=${COUNTS:-4 16 64 128 256}
INTERVAL=${INTERVAL:-1s}
SETTLE=${SETTLE:-3}
WINDOW=${WINDOW:-20}
READY_TIMEOUT=${READY_TIMEOUT:-120}
# shellcheck source=tools/bench-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
bench_init bench-scale curl

now_ns() { date +%s%N; }

# Nanoseconds on a CPU so far, every thread of the processes given.
cpu_ns() {
    local pid file run rest sum=0
    for pid in "$@"; do
        for file in /proc/"$pid"/task/*/schedstat; do
            read -r run rest <"$file" 2>/dev/null || continue
            sum=$(( sum + run ))
        done
    done
    echo "$sum"
}

# Times the loop threads (each process's first thread) were put on a CPU.
wakeups() {
    local pid run wait count sum=0
    for pid in "$@"; do
        read -r run wait count <"/proc/$pid/schedstat" || continue
        sum=$(( sum + count ))
    done
    echo "$sum"
}

kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }

pss_kb() {
    local pid sum=0 value
    for pid in "$@"; do
        value=$(awk '$1 == "Pss:" { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null) || value=0
        sum=$(( sum + ${value:-0} ))
    done
    echo "$sum"
}

# measure COUNT: prints one row of the table.
measure() {
    local count=$1 dir=$TMP/w$1 started ready workers coordinator_before workers_before
    local wakeups_before coordinator_used workers_used woken rss anon pss stats_bytes
    local stats_ms stopping stopped left start_cpu
    started=$(now_ns)
    start_corral "w$count" "server: { host: 127.0.0.1, port: 0 }
path: { data: $dir/data }
pid: { file: $dir/corral.pid }
node:
  workers: { count: $count, command: [$TEST_WORKER] }
  status: { interval: $INTERVAL }
  shutdown_timeout: 60s
logging: { root: { level: info } }"
    ready=$(now_ns)
    workers=$(pgrep -P "$CORRAL_PID" | tr '\n' ' ')
    # shellcheck disable=SC2086  # lists of pids
    [ "$(wc -w <<<"$workers")" -eq "$count" ] || die "$count: $(wc -w <<<"$workers") workers running"
    # shellcheck disable=SC2086
    start_cpu=$(cpu_ns "$CORRAL_PID" $workers)
    sleep "$SETTLE"
    coordinator_before=$(cpu_ns "$CORRAL_PID")
    # shellcheck disable=SC2086
    workers_before=$(cpu_ns $workers)
    # shellcheck disable=SC2086
    wakeups_before=$(wakeups $workers)
    sleep "$WINDOW"
    coordinator_used=$(( $(cpu_ns "$CORRAL_PID") - coordinator_before ))
    # shellcheck disable=SC2086
    workers_used=$(( $(cpu_ns $workers) - workers_before ))
    # shellcheck disable=SC2086
    woken=$(( $(wakeups $workers) - wakeups_before ))
    rss=$(kb "$CORRAL_PID" VmRSS)
    anon=$(kb "$CORRAL_PID" RssAnon)
    # shellcheck disable=SC2086
    pss=$(pss_kb $workers)
    local t0 t1
    t0=$(now_ns)
    stats_bytes=$(curl -sf "$BASE_URL/api/stats" | wc -c) || die "$count: GET /api/stats failed"
    t1=$(now_ns)
    stats_ms=$(( (t1 - t0) / 1000000 ))
    stopping=$(now_ns)
    stop_corral
    stopped=$(now_ns)
    left=0
    for pid in $workers; do
        if kill -0 "$pid" 2>/dev/null; then left=$(( left + 1 )); fi
    done
    [ -z "$(find "$dir" -maxdepth 1 -type d -name 'corral.*')" ] \
        || die "$count: the runtime directory is left behind"
    [ -e "$dir/corral.pid" ] && die "$count: the PID file is left behind"
    [ "$left" -eq 0 ] || die "$count: $left workers are left running"
    awk -v n="$count" -v w="$WINDOW" -v c="$coordinator_used" -v wu="$workers_used" \
        -v wk="$woken" -v rss="$rss" -v anon="$anon" -v pss="$pss" -v sb="$stats_bytes" \
        -v sms="$stats_ms" -v up=$(( ready - started )) -v down=$(( stopped - stopping )) \
        -v sc="$start_cpu" 'BEGIN {
        cpu = 100 * c / 1e9 / w; wcpu = 100 * wu / 1e9 / w
        printf "%7d %8.3f %10.5f %8.2f %10.4f %9.2f %7.1f %8.1f %9.1f %9d %6d %7.2f %7.2f %7.2f\n",
               n, cpu, cpu / n, wcpu, wcpu / n, wk / n / w, rss / 1024, anon / 1024,
               pss / 1024, sb, sms, up / 1e9, sc / 1e9, down / 1e9
    }'
}

echo "== $INTERVAL reports, idle workers; CPU in % of one CPU over ${WINDOW}s (after ${SETTLE}s)"
echo "workers coordCPU coord/wkr  wkrsCPU   per-wkr wake/s/w  rss MB  anon MB wkrs PSS  stats B  st ms ready s   CPU s  stop s"
for count in $COUNTS; do
    measure "$count"
done
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (shared machine: other work runs too)"
echo "targets: per-wkr < 0.05; coord/wkr flat; 256 ready < 5 s; rss at 4 workers <= 8.1 MB"
