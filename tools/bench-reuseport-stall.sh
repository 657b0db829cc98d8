#!/usr/bin/env bash
# bench-reuseport-stall.sh: what happens to new connections while one
# worker stops accepting (SIGSTOP stands for a hung event loop), with
# balancing shared and reuseport.
#   With shared, every worker accepts from one queue: the others take the
#   connections. With reuseport, the kernel hashes each new connection to
#   one worker's socket, whether or not that worker accepts: about 1/N of
#   them wait in the stopped worker's queue. They are not lost (the
#   coordinator holds every worker's socket); they are answered when the
#   worker runs again, so they wait exactly as long as it is stopped.
# For each mode it sends REQUESTS requests, each on a new connection,
# while worker 2 of WORKERS is stopped; counts those not answered within
# WAIT_S seconds; then resumes the worker after STOP_S seconds in all and
# reports how long the waiting ones took.
#
# Environment (defaults in brackets):
#   BUILD_DIR  build tree with bin/corral [<repo>/build; built (Release) if missing]
#   WORKERS    [2]   REQUESTS [100]   WAIT_S [1]   STOP_S [5]
set -euo pipefail

WORKERS=${WORKERS:-2}
REQUESTS=${REQUESTS:-100}
WAIT_S=${WAIT_S:-1}
STOP_S=${STOP_S:-5}
# shellcheck source=tools/bench-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
bench_init bench-reuseport-stall

# run MODE: prints "MODE: H of N hung; the hung ones answered after MIN..MAX s"
run() {
    local mode=$1 worker times hung
    start_corral "$mode" "server: { host: 127.0.0.1, port: 0, balancing: $mode }
path: { data: $TMP/$mode/data }
node: { workers: { count: $WORKERS, command: [$TEST_WORKER] } }"
    worker=$(pgrep -P "$CORRAL_PID" | sort -n | sed -n 2p)
    [ -n "$worker" ] || die "no second worker"
    kill -STOP "$worker"
    for i in $(seq "$REQUESTS"); do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time $((STOP_S + 30)) \
             "$BASE_URL/api/hello?i=$i" >"$TMP/$mode/curl.$i" &
    done
    sleep "$STOP_S"             # the stop being measured, not synchronisation
    kill -CONT "$worker"
    wait $(jobs -p | grep -v "^$CORRAL_PID$") 2>/dev/null || true
    times=$(cat "$TMP/$mode"/curl.* | awk '$1 == 200 { print $2 }')
    [ "$(wc -l <<<"$times")" -eq "$REQUESTS" ] || die "$mode: not every request was answered"
    hung=$(awk -v w="$WAIT_S" '$1 > w' <<<"$times" | sort -n)
    if [ -z "$hung" ]; then
        echo "$mode: 0 of $REQUESTS requests waited more than ${WAIT_S} s"
    else
        echo "$mode: $(wc -l <<<"$hung") of $REQUESTS requests waited more than ${WAIT_S} s" \
             "(worker 2 of $WORKERS stopped for ${STOP_S} s): answered after" \
             "$(head -1 <<<"$hung")..$(tail -1 <<<"$hung") s"
    fi
    stop_corral
}

run shared
run reuseport
