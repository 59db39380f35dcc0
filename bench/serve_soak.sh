#!/usr/bin/env bash
# Soak: onerec serve on the test's tiny model (tests/ref/serve_fixture.py), loopback only, THREADS
# clients sending mixed good and bad /v1/recommend, /v1/score and /v1/generate requests for SECONDS;
# no good request may fail, and the server's RSS is reported at the start and the end. With
# ONEREC=build-san/onerec (make SAN=1) the server runs under ASan/UBSan and must exit 0 with no report.
# Usage: bench/serve_soak.sh [SECONDS=600] [THREADS=8]
set -eu
cd "$(dirname "$0")/.."
SECONDS_=${1:-600}
THREADS=${2:-8}
ON=${ONEREC:-build/onerec}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
dir=$(mktemp -d /tmp/onerec_serve_soak.XXXXXX)
spid=""
trap '[ -n "$spid" ] && kill -9 $spid 2>/dev/null; rm -rf "$dir"' EXIT
/usr/bin/python3 tests/ref/serve_fixture.py "$dir/fx"
nice -n 19 "$ON" serve --model "$dir/fx/model" --pid2sid "$dir/fx/pid2sid.jsonl" --product-pid2sid "$dir/fx/product_pid2sid.jsonl" \
    --port 0 --max-batch 8 >"$dir/serve.out" 2>"$dir/serve.err" &
spid=$!
for _ in $(seq 300); do grep -q listening "$dir/serve.out" && break; sleep 0.1; done
port=$(sed -nE 's#^listening on http://127\.0\.0\.1:([0-9]+)$#\1#p' "$dir/serve.out")
[ -n "$port" ] || { echo "the server did not start: $(cat "$dir/serve.err")"; exit 1; }
rc=0
nice -n 19 timeout $((SECONDS_ + 300)) /usr/bin/python3 bench/serve_soak.py "$port" "$SECONDS_" "$THREADS" "$spid" || rc=1
kill -TERM "$spid"; wait "$spid" || { echo "the server exited $? after SIGTERM"; rc=1; }
spid=""
if grep -q "Sanitizer\|runtime error" "$dir/serve.err"; then tail -n 20 "$dir/serve.err"; rc=1; fi
echo "serve soak: $([ $rc = 0 ] && echo ok || echo FAILED)"
exit $rc
