#!/usr/bin/env bash
# tools/bench-bus.sh: the broadcast bus through real workers (docs/architecture.md
# section 2). Starts corral (Release build) with 2 workers and the debug
# route, then measures:
#   throughput  worker-1 broadcasts N messages of 100 bytes (send_to_self),
#               every worker counts them; messages/s = N / (time from the
#               first send to the last delivery in the slower worker).
#               Target: >= 300,000 messages/s.
#   latency     worker-1 broadcasts at 1,000 messages/s, each payload
#               stamped with CLOCK_MONOTONIC; worker-2 records the delay.
#               Target: p99 <= 300 us.
# Usage: tools/bench-bus.sh [messages (default 200000)] [latency messages (default 5000)]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build-bench"
MESSAGES=${1:-200000}
LATENCY_MESSAGES=${2:-5000}
RUNS=3

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" >/dev/null

DIR=$(mktemp -d "${TMPDIR:-/tmp}/corral-bench-bus.XXXXXX")
cat > "$DIR/corral.yml" <<YAML
server: { host: 127.0.0.1, port: 0 }
path: { data: ./data }
node:
  workers: { count: 2 }
  debug_routes: true
logging: { root: { level: info } }
YAML
XDG_RUNTIME_DIR="$DIR" "$BUILD/bin/corral" -c "$DIR/corral.yml" > "$DIR/corral.log" 2>&1 &
PID=$!
cleanup() {
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT

for _ in $(seq 1 300); do
    grep -q "ready: 2 workers" "$DIR/corral.log" && break
    kill -0 "$PID" 2>/dev/null || { cat "$DIR/corral.log"; exit 1; }
    sleep 0.1       # a script polling a log file, not a test
done
PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$DIR/corral.log" | head -1)

api() { curl -sf --max-time 600 "http://127.0.0.1:$PORT/api/debug/node?$1"; }

# CPU time (ticks) of the coordinator and its workers, all threads: the
# cost per message does not depend on what else loads the machine.
cpu_ticks() {
    local total=0 pid
    for pid in "$PID" $(cat "/proc/$PID/task/$PID/children"); do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$total"
}
TICK_US=$((1000000 / $(getconf CLK_TCK)))

echo "bus throughput: 2 workers, 100-byte payloads, $MESSAGES messages per run"
for run in $(seq 1 $RUNS); do
    api "action=on&plugin=probe-a&type=bulk$run&record=count" >/dev/null
    ticks=$(cpu_ticks)
    started=$(api "action=broadcast&worker=1&plugin=probe-a&type=bulk$run&count=$MESSAGES&size=100&self=1" \
              | jq '.replies[0].result.started_ns')
    received=$(api "action=received")
    cpu_us=$(( ($(cpu_ticks) - ticks) * TICK_US ))
    echo "$received" | jq -r --argjson started "$started" --arg type "bulk$run" \
        --argjson n "$MESSAGES" --arg run "$run" --argjson cpu_us "$cpu_us" '
        [.replies[].result.handlers[] | select(.type == $type)] as $h
        | ($h | map(.last_ns) | max) as $last
        | "  run \($run): \(($n / (($last - $started) / 1e9)) | floor) messages/s delivered to every worker"
          + " (counts: \($h | map(.count) | join(", "))); CPU of corral and its workers:"
          + " \($cpu_us / $n * 1000 | round / 1000) us per message"'
done

echo "bus latency worker-1 -> worker-2: $LATENCY_MESSAGES messages at 1,000 messages/s, 100-byte payloads"
api "action=on&worker=2&plugin=probe-a&type=latency&record=latency" >/dev/null
api "action=broadcast&worker=1&plugin=probe-a&type=latency&count=$LATENCY_MESSAGES&size=100&stamp=1&rate=1000" >/dev/null
api "action=received&worker=2" | jq -r '
    .replies[0].result.handlers[] | select(.type == "latency") | .latency_us
    | "  p50 \(.p50 * 10 | round / 10) us, p99 \(.p99 * 10 | round / 10) us, max \(.max | round) us (\(.count) messages)"'
# The same topology in bare libzmq (sender, relay, subscriber: three
# processes on ipc), to tell corral's cost from the machine's.
"$BUILD/bin/zmq_floor" "$DIR" "$LATENCY_MESSAGES" 1000
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
