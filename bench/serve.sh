#!/usr/bin/env bash
# onerec serve under load, on loopback only: ApacheBench (Debian apache2-utils) posts the same
# /v1/recommend body (a 20-item history, k 10) at 1, 4 and 16 concurrent clients, a bounded
# number of requests each, against the server with batching (--max-batch 16) and without
# (--max-batch 1); then the cost of one `onerec recommend` process for the same history.
# Model: a random Qwen3 with itemic tokens (hidden 256, 4 layers, 32,768 vocab; tests/ref/serve_fixture.py),
# or MODEL=dir PID2SID=file HISTORY="pid,pid,..." to use another (e.g. the demo's runs/rl/step2).
# Usage: bench/serve.sh [THREADS] [REQUESTS_PER_CLIENT]   (LEVELS="1 4 16 64" adds 64 clients)
# One model thread by default: on a shared 2-core machine two OpenMP threads wait on each other.
# Last line: serve ratio=R, requests/s at 16 clients batched over the same with --max-batch 1.
set -eu
cd "$(dirname "$0")/.."
THREADS=${1:-1}
PER=${2:-2}
LEVELS=${LEVELS:-1 4 16}
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
command -v ab >/dev/null || { echo "bench/serve.sh needs ab (Debian apache2-utils)"; exit 1; }
nice -n 19 make -s -j2 all >/dev/null
dir=$(mktemp -d /tmp/onerec_serve_bench.XXXXXX)
spid=""
trap '[ -n "$spid" ] && kill -9 $spid 2>/dev/null; rm -rf "$dir"' EXIT
if [ -z "${MODEL:-}" ]; then
    /usr/bin/python3 tests/ref/serve_fixture.py "$dir/fx" --dim 256 --layers 4 --heads 4 --kv 2 --head_dim 64 --vocab 32768
    MODEL=$dir/fx/model PID2SID=$dir/fx/pid2sid.jsonl
    HISTORY=$(seq -s, 1000 1019)
fi
echo "{\"history\": [$HISTORY], \"k\": 10}" >"$dir/body.json"

# start FLAGS...: a server on a free loopback port -> $port, $spid
start() {
    nice -n 19 build/onerec serve --model "$MODEL" --pid2sid "$PID2SID" --port 0 --threads "$THREADS" "$@" \
        >"$dir/serve.out" 2>"$dir/serve.err" &
    spid=$!; port=""
    for _ in $(seq 300); do
        port=$(sed -nE 's#^listening on http://127\.0\.0\.1:([0-9]+)$#\1#p' "$dir/serve.out")
        [ -n "$port" ] && return 0
        sleep 0.1
    done
    echo "the server did not start: $(cat "$dir/serve.err")"; exit 1
}
stop() { kill -TERM "$spid"; wait "$spid" || true; spid=""; }

# load NAME C: ab at concurrency C; prints a row, sets rps_NAME_C
load() {
    local name=$1 c=$2 n=$(($2 * PER))
    [ "$n" -lt 8 ] && n=8
    timeout 300 nice -n 19 ab -q -s 120 -n "$n" -c "$c" -p "$dir/body.json" -T application/json \
        "http://127.0.0.1:$port/v1/recommend" >"$dir/ab.txt" 2>&1 || { cat "$dir/ab.txt"; exit 1; }
    local rps p50 p99 failed
    rps=$(awk '/^Requests per second/ {print $4}' "$dir/ab.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$dir/ab.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$dir/ab.txt")
    # ab counts a body whose length differs from the first one's as failed ("Length": took_ms varies)
    failed=$(sed -nE 's/.*\(Connect: ([0-9]+), Receive: ([0-9]+), Length: [0-9]+, Exceptions: ([0-9]+)\).*/\1 \2 \3/p' "$dir/ab.txt" |
             awk '{print $1 + $2 + $3}')
    non2xx=$(awk '/^Non-2xx responses/ {print $3}' "$dir/ab.txt")
    printf "%-10s %8d %9d %10.2f %8d %8d %7s\n" "$name" "$c" "$n" "$rps" "$p50" "$p99" "$((${failed:-0} + ${non2xx:-0}))"
    eval "rps_${name//-/_}_$c=$rps"
}

echo "model $MODEL, $THREADS threads, $PER requests per client"
printf "%-10s %8s %9s %10s %8s %8s %7s\n" server clients requests "req/s" "p50 ms" "p99 ms" failed
for mb in 16 1; do
    name=batch-$mb
    [ $mb = 1 ] && name=nobatch
    start --max-batch "$mb" --max-queue 256
    for c in $LEVELS; do load "$name" "$c"; done
    [ $mb = 16 ] && grep -E '^onerec_(batch_requests_(sum|count)|tokens_per_second) ' <(curl -s "http://127.0.0.1:$port/metrics") | tr '\n' ' ' && echo
    stop
done
t0=$(date +%s.%N)
for _ in 1 2 3; do nice -n 19 build/onerec recommend --model "$MODEL" --pid2sid "$PID2SID" --history "$HISTORY" --k 10 --constrain >/dev/null 2>&1; done
t1=$(date +%s.%N)
echo "onerec recommend (a process per request, model load included): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) / 3 * 1000 }') ms per request"
echo "16 clients over 1 client (batched): $(awk -v a="$rps_batch_16_16" -v b="$rps_batch_16_1" 'BEGIN { printf "%.2f", a / b }')"
echo "serve ratio=$(awk -v a="$rps_batch_16_16" -v b="$rps_nobatch_16" 'BEGIN { printf "%.2f", a / b }') (batched $rps_batch_16_16 vs --max-batch 1 $rps_nobatch_16 req/s at 16 clients)"
