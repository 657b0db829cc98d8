# bench-lib.sh: what the benchmark scripts share, sourced by them: a
# Release build if there is none, a temporary directory, starting and
# stopping one corral instance at a time (and stopping it on any exit),
# corral's CPU time and medians.
#
# bench_init NAME [TOOL...]: call first; NAME prefixes messages; the
# TOOLs (default: wrk curl) must be installed. Uses BUILD_DIR (default
# <repo>/build). Sets ROOT, CORRAL, TMP, and TEST_WORKER: the test worker
# (tests/plugins/: the reference worker's plugins and the test routes,
# /api/cpu, /api/wait, /api/log, the debug routes...), which every
# benchmark names in node.workers.command.

log() { printf '%s\n' "$*" >&2; }
die() { log "$BENCH_NAME: $*"; exit 1; }

bench_init() {
    BENCH_NAME=$1
    ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    BUILD_DIR=${BUILD_DIR:-$ROOT/build}
    shift
    unset NOTIFY_SOCKET
    local tool tools=("$@")
    [ $# -gt 0 ] || tools=(wrk curl)
    for tool in "${tools[@]}"; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (apt-get install $tool)"
    done
    CORRAL=$BUILD_DIR/bin/corral
    TEST_WORKER=$BUILD_DIR/bin/corral-test-worker
    if [ ! -x "$CORRAL" ] || [ ! -x "$TEST_WORKER" ]; then
        log "$BENCH_NAME: building $BUILD_DIR (Release)"
        cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >&2
        cmake --build "$BUILD_DIR" -j"$(nproc)" >&2
    fi
    CORRAL_PID=
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/$BENCH_NAME.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# shellcheck disable=SC2317  # run by the trap
bench_cleanup() {
    local status=$?
    if [ -n "$CORRAL_PID" ] && kill -0 "$CORRAL_PID" 2>/dev/null; then
        kill -TERM "$CORRAL_PID" 2>/dev/null || true
        wait "$CORRAL_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
    exit "$status"
}

# start_corral NAME YAML: corral with config YAML in $TMP/NAME (its
# runtime directory too), run through $BENCH_LAUNCHER if set (for example
# "taskset -c 0"); waits until it is ready (clustered or classic; READY_TIMEOUT
# seconds at most, default 20). Sets CORRAL_PID, PORT, BASE_URL.
start_corral() {
    local dir=$TMP/$1 line
    mkdir -p "$dir"
    printf '%s\n' "$2" >"$dir/corral.yml"
    : >"$dir/corral.log"
    # shellcheck disable=SC2086  # a command prefix, split on purpose
    XDG_RUNTIME_DIR=$dir ${BENCH_LAUNCHER:-} "$CORRAL" -c "$dir/corral.yml" </dev/null >>"$dir/corral.log" 2>&1 &
    CORRAL_PID=$!
    line=$(timeout "${READY_TIMEOUT:-20}" tail -n +1 --pid="$CORRAL_PID" -f "$dir/corral.log" \
           | grep -m1 -E 'ready: [0-9]+ workers serving http://127\.0\.0\.1:[0-9]+|serving http://127\.0\.0\.1:[0-9]+ \(classic mode') || true
    [ -n "$line" ] || { sed 's/^/    /' "$dir/corral.log" >&2; die "$1: corral did not start"; }
    BASE_URL=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' <<<"$line")
    PORT=${BASE_URL##*:}
}

stop_corral() {
    kill -TERM "$CORRAL_PID" 2>/dev/null || true
    wait "$CORRAL_PID" || die "corral exited with status $?"
    CORRAL_PID=
}

# Clock ticks of one process, all its threads (0 once it is gone).
ticks() {
    local stat
    local -a f
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || { echo 0; return; }
    read -r -a f <<<"${stat##*) }"
    echo $(( f[11] + f[12] ))
}

all_ticks() {
    local pid sum=0
    for pid in "$@"; do sum=$(( sum + $(ticks "$pid") )); done
    echo "$sum"
}

# The running instance's processes: the coordinator, then its workers.
corral_pids() {
    echo "$CORRAL_PID $(pgrep -P "$CORRAL_PID" | tr '\n' ' ')"
}

# wrk_cpu_run: a 2 s warm-up, then DURATION s of wrk on /api/hello
# (WRK_THREADS, WRK_CONNECTIONS); prints "REQUESTS_PER_S CPU_US_PER_REQUEST",
# the CPU being corral's (coordinator and workers, all threads).
wrk_cpu_run() {
    local out before pids used_us
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d2s "$BASE_URL/api/hello" >/dev/null 2>&1 || true
    pids=$(corral_pids)
    # shellcheck disable=SC2086  # a list of pids
    before=$(all_ticks $pids)
    out=$(wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${DURATION}s" "$BASE_URL/api/hello") \
        || die "wrk failed"
    # shellcheck disable=SC2086
    used_us=$(( ($(all_ticks $pids) - before) * 1000000 / $(getconf CLK_TCK) ))
    grep -q 'Non-2xx\|Socket errors' <<<"$out" && die "wrk saw errors: $out"
    awk -v used="$used_us" '/requests in/ { n = $1 } /^Requests\/sec:/ { rate = $2 }
        END { printf "%.0f %.2f\n", rate, used / n }' <<<"$out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
