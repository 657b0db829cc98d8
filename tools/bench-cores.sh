#!/usr/bin/env bash
# bench-cores.sh: corral against nginx and Node's cluster on as many cores
# as the machine has, every setup side by side in one run (issue 24's
# table): for each worker count, corral `shared`, corral `reuseport`,
# nginx (`return 200`, worker_processes N) and Node cluster
# (tools/peers/cluster.js) on
#   keep-alive   wrk on a tiny route: req/s and CPU per request
#   new conn     the same with `Connection: close`: conn/s and CPU per connection
#   cpu route    a fixed amount of CPU work per request (corral's /api/cpu,
#                app.js's /api/cpu): N workers / one classic process
# CPU is each server's own, all its processes and threads, read from /proc
# before and after each run. With 4 CPUs or more, the servers are pinned to
# the first half of the CPUs and wrk to the second (taskset); with fewer,
# they share (compare CPU per request, not req/s, then). Every round is
# printed; a CSV and a plot go to OUT_DIR.
#
#   tools/bench-cores.sh                 run here (builds a Release tree if missing)
#   tools/bench-cores.sh --bundle DIR    copy the Release binaries, wrk, nginx,
#                                        node and every shared library they need
#                                        but glibc's into DIR with a runner
#                                        (DIR/run), for a machine that has none
#                                        of the packages: `DIR/run` there
#
# Environment (defaults in brackets):
#   BUILD_DIR     build tree with bin/corral [<repo>/build; Release, built if missing]
#   WORKERS       worker counts ["1 2 4 ..." up to the server CPUs]
#   ROUNDS        rounds of each measurement [2]
#   DURATION      seconds per measured wrk run [5], after a 1 s warm-up
#   CONNECTIONS   wrk -c for keep-alive and new connections [32 on <= 2 CPUs, else 256]
#   CPU_WORK      rounds per cpu-route request [175000]
#   SETUPS        which setups ["shared reuseport nginx node"]
#   OUT_DIR       where the CSV and plot go [<tmp>/bench-cores, kept]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# --- The bundle -------------------------------------------------------------------

# Every shared library `binary` needs but the C library's own.
non_glibc_libs() {
    ldd "$1" | awk '/=> \// { print $3 }' \
        | grep -vE '/(libc|libm|libdl|libpthread|librt|libresolv|libutil)\.so|/ld-linux'
}

bundle() {
    local dir=$1 root build binary
    root=$(cd "$HERE/.." && pwd)
    build=${BUILD_DIR:-$root/build-bench}
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j"$(nproc)" >/dev/null
    mkdir -p "$dir/bin" "$dir/lib" "$dir/tools/peers"
    for binary in "$build"/bin/corral "$build"/bin/corral-*worker*; do
        cp "$binary" "$dir/bin/"
    done
    for binary in wrk nginx node; do
        command -v "$binary" >/dev/null || { echo "bench-cores: $binary is missing" >&2; exit 1; }
        cp "$(command -v "$binary")" "$dir/bin/"
    done
    for binary in "$dir"/bin/*; do
        non_glibc_libs "$binary"
    done | sort -u | while read -r lib; do cp -L "$lib" "$dir/lib/"; done
    cp "$HERE/bench-cores.sh" "$HERE/bench-lib.sh" "$dir/tools/"
    cp "$HERE/peers/app.js" "$HERE/peers/cluster.js" "$dir/tools/peers/"
    cat >"$dir/run" <<'EOF'
#!/usr/bin/env bash
# run: tools/bench-cores.sh on the binaries and libraries beside it.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export LD_LIBRARY_PATH=$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PATH=$here/bin:$PATH BUILD_DIR=$here
exec "$here/tools/bench-cores.sh" "$@"
EOF
    chmod +x "$dir/run"
    echo "bench-cores: bundle in $dir ($(du -sh "$dir" | cut -f1)); run $dir/run"
}

if [ "${1:-}" = "--bundle" ]; then
    [ -n "${2:-}" ] || { echo "usage: $0 --bundle DIR" >&2; exit 64; }
    bundle "$2"
    exit 0
fi

# --- The machine ------------------------------------------------------------------

# shellcheck source=tools/bench-lib.sh
. "$HERE/bench-lib.sh"
bench_init bench-cores wrk nginx node

CPUS=$(nproc)
if [ "$CPUS" -ge 4 ]; then
    SERVER_CPUS=$(( CPUS / 2 ))
    SERVER_SET="0-$(( SERVER_CPUS - 1 ))"
    LOAD_SET="$SERVER_CPUS-$(( CPUS - 1 ))"
    SERVER_PIN=(taskset -c "$SERVER_SET")
    LOAD_PIN=(taskset -c "$LOAD_SET")
    LOAD_THREADS=$(( CPUS - SERVER_CPUS ))
else
    SERVER_CPUS=$CPUS
    SERVER_PIN=()
    LOAD_PIN=()
    LOAD_THREADS=1
fi
if [ -z "${WORKERS:-}" ]; then
    WORKERS=1
    n=2
    while [ "$n" -le "$SERVER_CPUS" ]; do WORKERS="$WORKERS $n"; n=$(( n * 2 )); done
    [ "$(( n / 2 ))" -eq "$SERVER_CPUS" ] || WORKERS="$WORKERS $SERVER_CPUS"
fi
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-5}
if [ "$CPUS" -le 2 ]; then CONNECTIONS=${CONNECTIONS:-32}; else CONNECTIONS=${CONNECTIONS:-256}; fi
CPU_WORK=${CPU_WORK:-175000}
SETUPS=${SETUPS:-shared reuseport nginx node}
OUT_DIR=${OUT_DIR:-${TMPDIR:-/tmp}/bench-cores}
mkdir -p "$OUT_DIR"
CSV=$OUT_DIR/bench-cores.csv
echo "setup,workers,test,round,rate_per_s,cpu_us_per_op" >"$CSV"

# The reference worker serves /api/hello; /api/cpu is a test route, in the
# test worker where the tree builds one.
WORKER_COMMAND=
for candidate in "$BUILD_DIR/bin/corral-test-worker"; do
    [ -x "$candidate" ] && WORKER_COMMAND="command: [$candidate], "
done

SERVER_PID=
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
trap 'stop_server; bench_cleanup' EXIT

# wait_for_line LOG PATTERN: the first line of LOG matching PATTERN, while
# SERVER_PID lives (READY_TIMEOUT s at most).
wait_for_line() {
    timeout "${READY_TIMEOUT:-30}" tail -n +1 --pid="$SERVER_PID" -f "$1" | grep -m1 -E "$2" || true
}

# start SETUP N: starts one server with N workers (N = 0: one classic
# process); sets SERVER_PID and BASE_URL.
start() {
    local setup=$1 workers=$2 dir=$TMP/$1-$2 line
    mkdir -p "$dir"
    : >"$dir/log"
    case $setup in
    shared|reuseport|classic)
        local node="enabled: true, workers: { ${WORKER_COMMAND}count: $workers }"
        [ "$setup" = classic ] && node="enabled: false, workers: { ${WORKER_COMMAND}count: 1 }"
        cat >"$dir/corral.yml" <<EOF
server: { host: 127.0.0.1, port: 0, balancing: ${setup/classic/shared} }
path: { data: $dir/data }
node: { $node }
logging: { root: { level: info } }
EOF
        XDG_RUNTIME_DIR=$dir "${SERVER_PIN[@]}" "$CORRAL" -c "$dir/corral.yml" \
            </dev/null >>"$dir/log" 2>&1 &
        SERVER_PID=$!
        line=$(wait_for_line "$dir/log" 'ready: [0-9]+ workers serving http://[0-9.:]+|serving http://[0-9.:]+ \(classic mode')
        ;;
    nginx)
        local port
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
               || echo $(( 20000 + RANDOM % 20000 )))
        cat >"$dir/nginx.conf" <<EOF
worker_processes $workers;
pid $dir/nginx.pid;
error_log stderr warn;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/body; proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi; uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
    keepalive_requests 1000;
    server {
        listen 127.0.0.1:$port reuseport;
        default_type application/json;
        location /api/hello { return 200 '{"message":"hello"}'; }
    }
}
EOF
        "${SERVER_PIN[@]}" nginx -e stderr -p "$dir" -c "$dir/nginx.conf" >>"$dir/log" 2>&1 &
        SERVER_PID=$!
        local tries=0
        until [ "$(pgrep -c -P "$SERVER_PID" || true)" -ge "$workers" ] \
              && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
            tries=$(( tries + 1 ))
            [ "$tries" -lt 300 ] || break
            sleep 0.1       # nginx says nothing when it is ready: poll the port
        done
        line="http://127.0.0.1:$port"
        ;;
    node|node-classic)
        local count=$workers
        [ "$setup" = node-classic ] && count=1
        WORKERS=$count "${SERVER_PIN[@]}" node "$HERE/peers/cluster.js" >>"$dir/log" 2>&1 &
        SERVER_PID=$!
        line=$(wait_for_line "$dir/log" 'ready [0-9]+ workers http://[0-9.:]+')
        ;;
    esac
    BASE_URL=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' <<<"$line" || true)
    [ -n "$BASE_URL" ] || { sed 's/^/    /' "$dir/log" >&2; die "$setup with $workers: did not start"; }
}

# The server's processes: the one started and its descendants.
server_pids() {
    local pids=$SERVER_PID next=$SERVER_PID
    while [ -n "$next" ]; do
        # shellcheck disable=SC2086
        next=$(pgrep -d ' ' -P "$(tr ' ' ',' <<<"$next")" || true)
        pids="$pids $next"
    done
    echo "$pids"
}

# measure PATH CONNECTIONS [wrk options...]: "RATE CPU_US_PER_OP" over
# DURATION s after a 1 s warm-up.
measure() {
    local path=$1 connections=$2 out pids before used_us
    shift 2
    "${LOAD_PIN[@]}" wrk -t"$LOAD_THREADS" -c"$connections" -d1s "$@" "$BASE_URL$path" >/dev/null 2>&1 || true
    pids=$(server_pids)
    # shellcheck disable=SC2086
    before=$(all_ticks $pids)
    out=$("${LOAD_PIN[@]}" wrk -t"$LOAD_THREADS" -c"$connections" -d"${DURATION}s" "$@" "$BASE_URL$path") \
        || die "wrk failed"
    # shellcheck disable=SC2086
    used_us=$(( ($(all_ticks $pids) - before) * 1000000 / $(getconf CLK_TCK) ))
    grep -q 'Non-2xx' <<<"$out" && die "wrk saw errors on $BASE_URL$path: $out"
    awk -v used="$used_us" '/requests in/ { n = $1 } /^Requests\/sec:/ { rate = $2 }
        END { printf "%.0f %.2f\n", rate, (n > 0 ? used / n : 0) }' <<<"$out"
}

record() {       # record SETUP WORKERS TEST ROUND "RATE CPU"
    local rate cpu
    read -r rate cpu <<<"$5"
    printf '%-10s %3s workers  %-10s round %s: %10s /s  %8s us CPU each\n' "$1" "$2" "$3" "$4" "$rate" "$cpu"
    echo "$1,$2,$3,$4,$rate,$cpu" >>"$CSV"
}

log "bench-cores: $CPUS CPUs; servers on ${SERVER_SET:-all} ($SERVER_CPUS), wrk -t$LOAD_THREADS on ${LOAD_SET:-all};" \
    "workers: $WORKERS; $ROUNDS rounds of ${DURATION}s; -c$CONNECTIONS"

cpu_path="/api/cpu?work=$CPU_WORK"
for round in $(seq 1 "$ROUNDS"); do
    # the cpu route's single process: corral classic and one Node process
    for setup in classic node-classic; do
        case "$setup: $SETUPS " in
        classic:*" shared "*|classic:*" reuseport "*|node-classic:*" node "*) ;;
        *) continue ;;
        esac
        start "$setup" 0
        record "$setup" 1 cpu "$round" "$(measure "$cpu_path" 64)"
        stop_server
    done
    for workers in $WORKERS; do
        for setup in $SETUPS; do
            start "$setup" "$workers"
            record "$setup" "$workers" keepalive "$round" "$(measure /api/hello "$CONNECTIONS")"
            record "$setup" "$workers" newconn "$round" \
                "$(measure /api/hello "$CONNECTIONS" -H 'Connection: close')"
            if [ "$setup" != nginx ] && [ "$setup" != reuseport ]; then
                record "$setup" "$workers" cpu "$round" "$(measure "$cpu_path" 64)"
            fi
            stop_server
        done
    done
done

# --- Summary: medians, ratios to nginx in the same run ---------------------------

echo
echo "medians over $ROUNDS rounds (CPU per request or per connection; ratio to nginx's):"
awk -F, 'NR > 1 { key = $1 "," $2 "," $3; rate[key] = rate[key] " " $5; cpu[key] = cpu[key] " " $6; keys[key] = 1 }
    function median(list,   v, n, i, j, t) {
        n = split(list, v, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    END {
        for (key in keys) { split(key, k, ","); r[key] = median(rate[key]); c[key] = median(cpu[key]) }
        for (key in keys) {
            split(key, k, ",")
            if (k[3] == "cpu") continue
            anchor = "nginx," k[2] "," k[3]
            ratio = (anchor in c && c[anchor] > 0) ? sprintf("%.2fx", c[key] / c[anchor]) : "-"
            printf "  %-10s %3d workers %-10s %10.0f /s %8.2f us  %s\n", k[1], k[2], k[3], r[key], c[key], ratio
        }
        for (key in keys) {
            split(key, k, ",")
            if (k[3] != "cpu" || k[1] ~ /classic/) continue
            base = (k[1] == "node" ? "node-classic" : "classic") ",1,cpu"
            if (base in r && r[base] > 0)
                printf "  cpu route  %-10s %3d workers: %.2fx one classic process (target >= %.2f)\n",
                       k[1], k[2], r[key] / r[base], 0.97 * k[2]
        }
    }' "$CSV" | sort

if command -v gnuplot >/dev/null 2>&1; then
    for test in keepalive newconn; do
        for setup in $SETUPS; do
            awk -F, -v s="$setup" -v t="$test" '$1 == s && $3 == t { print $2, $6 }' "$CSV" \
                | sort -n >"$OUT_DIR/$setup-$test.dat"
        done
    done
    plots=
    for setup in $SETUPS; do
        plots="$plots '$OUT_DIR/$setup-keepalive.dat' using 1:2 with linespoints title '$setup keep-alive',"
        plots="$plots '$OUT_DIR/$setup-newconn.dat' using 1:2 with linespoints title '$setup new conn',"
    done
    gnuplot <<EOF
set terminal png size 900,500
set output '$OUT_DIR/bench-cores.png'
set xlabel 'workers'
set ylabel 'server CPU per request or connection (us)'
set key outside
set logscale x 2
plot ${plots%,}
EOF
fi
echo "CSV: $CSV${plots:+; plot: $OUT_DIR/bench-cores.png}"
