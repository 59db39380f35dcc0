#!/usr/bin/env bash
# onerec serve on a tiny model: /v1/recommend equals `onerec recommend --constrain` for several
# histories and domains, concurrent (batched) answers equal sequential (--max-batch 1) ones, bad
# requests get the right status and the server keeps serving, SIGTERM drains an in-flight request
# and exits 0, and bad command lines exit 1 or 2 with a message. Loopback only; every wait is
# bounded and the trap kills every server this script started.
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
ON=${SERVE_ONEREC:-$PWD/build/onerec}   # SERVE_ONEREC=build-san/onerec: the same under ASan/UBSan
CL="$PY tests/ref/serve_client.py"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
$PY tests/ref/serve_fixture.py "$tmp/fx" || { echo "test_serve_http: 0 passed, 1 failed"; exit 1; }
M=$tmp/fx/model VA=$tmp/fx/pid2sid.jsonl PM=$tmp/fx/product_pid2sid.jsonl

# start NAME flags...: starts a server on a free port; sets PORT and SPID (0 when it did not come up)
start() {
    local name=$1; shift
    "$ON" serve --model "$M" --pid2sid "$VA" --product-pid2sid "$PM" --port 0 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    SPID=$!; pids+=("$SPID"); PORT=""
    for _ in $(seq 100); do
        PORT=$(sed -nE 's#^listening on http://127\.0\.0\.1:([0-9]+)$#\1#p' "$tmp/$name.out")
        [ -n "$PORT" ] && return 0
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
    done
    bad "server $name did not start: $(cat "$tmp/$name.err")"; SPID=0; return 1
}
# stop PID NAME: SIGTERM, then the server must exit 0 with no sanitizer report
stop() {
    kill -TERM "$1"; wait "$1"; local rc=$?
    if [ $rc = 0 ] && ! grep -q "Sanitizer\|runtime error" "$tmp/$2.err"; then ok; else bad "server $2: exit $rc: $(tail -n 5 "$tmp/$2.err")"; fi
}
# status PORT METHOD PATH [BODY] WANT [NEEDLE]
expect_status() {
    local port=$1 m=$2 path=$3 body=$4 want=$5 needle=${6:-}
    local out; out=$($CL "$port" "$m" "$path" "$body" 2>&1)
    if [ "${out%% *}" = "$want" ] && grep -qF -- "$needle" <<<"$out"; then ok; else bad "$m $path $(head -c 120 <<<"$body"): want $want ${needle:+with $needle}, got $(head -c 300 <<<"$out")"; fi
}

start main --max-batch 8 --batch-wait-ms 300 || { echo "test_serve_http: $pass passed, $fail failed"; exit 1; }
P1=$PORT MAIN=$SPID
expect_status "$P1" get /health "" 200 '"status":"ok"'

# ---- 1. answers equal `onerec recommend --constrain`
cmp_rec() {   # BODY recommend-flags... (the server on ${CMP_PORT:-P1}, the model ${CMP_MODEL:-M})
    local body=$1; shift
    "$ON" recommend --model "${CMP_MODEL:-$M}" --pid2sid "$VA" --product-pid2sid "$PM" --constrain "$@" >"$tmp/rec.tsv" 2>/dev/null ||
        { bad "recommend $*"; return; }
    if $CL "${CMP_PORT:-$P1}" cmp "$tmp/rec.tsv" "$body" >"$tmp/cmp.log" 2>&1; then ok; else bad "recommend $* vs $body: $(tail -n 3 "$tmp/cmp.log")"; fi
}
cmp_rec '{"history": [1000, 1001, 1005], "k": 5}' --history 1000,1001,1005 --k 5
cmp_rec '{"history": [1000, 1001, 1005], "k": 5, "exclude_history": true}' --history 1000,1001,1005 --k 5 --exclude-history
cmp_rec '{"history": [1040, 1002, 1017, 1023, 1023, 1030], "k": 12}' --history 1040,1002,1017,1023,1023,1030 --k 12
cmp_rec '{"history": [1003], "k": 40, "domain": "video"}' --history 1003 --k 40
cmp_rec '{"history": [1003, 1004], "others": [1010, 1011], "domain": "ad", "k": 8}' --history 1003,1004 --others 1010,1011 --domain ad --k 8
cmp_rec '{"history": [1007], "others": [5003, 5006], "domain": "product", "k": 6, "exclude_history": true}' \
    --history 1007 --others 5003,5006 --domain product --k 6 --exclude-history

# ---- 2. concurrent requests (batched) answer as sequential ones (--max-batch 1)
$PY - "$tmp/bodies.jsonl" <<'P'
import json, random, sys
R = random.Random(7)
with open(sys.argv[1], "w") as f:
    for i in range(12):
        dom = ["video", "ad", "product"][i % 3]
        b = {"history": [1000 + R.randrange(48) for _ in range(1 + R.randrange(20))], "k": R.choice([3, 10, 32, 50]),
             "domain": dom, "exclude_history": bool(i % 2)}
        if dom == "ad": b["others"] = [1000 + R.randrange(48) for _ in range(R.randrange(5))]
        if dom == "product": b["others"] = [5000 + 3 * R.randrange(16) for _ in range(1 + R.randrange(5))]
        f.write(json.dumps(b) + "\n")
P
$CL "$P1" many "$tmp/bodies.jsonl" >"$tmp/batched.jsonl" 2>"$tmp/many.err" || bad "concurrent requests: $(tail -n 3 "$tmp/many.err")"
start seq --max-batch 1 && P2=$PORT && {
    $CL "$P2" many "$tmp/bodies.jsonl" 1 >"$tmp/seq.jsonl" 2>"$tmp/many.err" || bad "sequential requests"
    if $CL 0 same "$tmp/batched.jsonl" "$tmp/seq.jsonl" >"$tmp/same.log" 2>&1; then ok; else bad "batched != sequential: $(tail -n 3 "$tmp/same.log")"; fi
    stop "$SPID" seq
}
# the 12 requests really were decoded together: some step held more than one request
$CL "$P1" get /metrics >"$tmp/metrics.txt"
$PY - "$tmp/metrics.txt" <<'P' && ok || bad "no batched step in /metrics: $(grep batch_requests "$tmp/metrics.txt")"
import re, sys
t = open(sys.argv[1]).read()
s = float(re.search(r"onerec_batch_requests_sum (\S+)", t)[1]); n = float(re.search(r"onerec_batch_requests_count (\S+)", t)[1])
one = float(re.search(r'onerec_batch_requests_bucket\{le="1"\} (\S+)', t)[1])
sys.exit(0 if n > one and s > n else 1)
P

# ---- 3. /v1/score agrees with the beams' scores; /v1/generate answers
REC=$($CL "$P1" post /v1/recommend '{"history": [1000, 1001, 1005], "k": 3}')
SC=$($CL "$P1" post /v1/score '{"history": [1000, 1001, 1005], "items": [1005, 1007, 1004]}')
$PY - "${REC#200 }" "${SC#200 }" <<'P' && ok || bad "score vs recommend: $REC / $SC"
import json, sys
r = json.loads(sys.argv[1])["items"]; s = {i["pid"]: i["logprob"] for i in json.loads(sys.argv[2])["items"]}
sys.exit(0 if all(abs(i["score"] - s[i["pid"]]) < 1e-4 for i in r) else 1)
P
expect_status "$P1" post /v1/generate '{"prompt": "hello", "max_new": 4}' 200 '"text":'
expect_status "$P1" post /v1/generate '{"chat": [{"role": "user", "content": "hi"}], "max_new": 3, "temperature": 0.8, "seed": 3}' 200 '"text":'

# ---- 4. bad requests: the right status, a message naming the field, and the server goes on
expect_status "$P1" post /v1/recommend '{"history": [1000,' 400 'not valid JSON'
expect_status "$P1" post /v1/recommend '[1, 2]' 400 'must be a JSON object'
expect_status "$P1" post /v1/recommend '{"history": [1000], "domain": "music"}' 400 '"field":"domain"'
expect_status "$P1" post /v1/recommend '{"history": []}' 400 '"history\" is empty'
expect_status "$P1" post /v1/recommend '{"k": 3}' 400 '"field":"history"'
$PY -c "print('{\"history\": [' + ','.join(['1000'] * 4097) + ']}')" >"$tmp/long.json"
expect_status "$P1" post /v1/recommend "@$tmp/long.json" 400 'more than 4096'
expect_status "$P1" post /v1/recommend '{"history": [1000, 77]}' 400 'unknown pid 77'
expect_status "$P1" post /v1/recommend '{"history": [1000], "others": [1001], "domain": "product"}' 400 '"field":"others"'
expect_status "$P1" post /v1/recommend '{"history": [1000], "k": 0}' 400 '"field":"k"'
expect_status "$P1" post /v1/recommend '{"history": [1000], "k": 100000}' 400 '"field":"k"'
expect_status "$P1" post /v1/recommend '{"history": [1000], "k": 2.5}' 400 '"field":"k"'
expect_status "$P1" post /v1/recommend '{"history": ["x"]}' 400 'not an integer pid'
expect_status "$P1" post /v1/score '{"history": [1000]}' 400 '"field":"items"'
expect_status "$P1" post /v1/generate '{"max_new": 3}' 400 'exactly one of'
expect_status "$P1" post /v1/generate '{"prompt": "x", "top_p": 3}' 400 '"field":"top_p"'
expect_status "$P1" post /v1/generate '{"chat": [{"role": 3}]}' 400 '"field":"chat"'
expect_status "$P1" get /v1/recommend "" 405 'use POST'
expect_status "$P1" post /health '{}' 405 'use GET'
expect_status "$P1" get /nowhere "" 404 'no such endpoint'
expect_status "$P1" post /admin/reload '{}' 404 'no such endpoint'   # only with --admin
$PY -c "print('{\"history\": [' + ','.join(['1000'] * 60000) + ']}')" >"$tmp/huge.json"
expect_status "$P1" post /v1/recommend "@$tmp/huge.json" 413 'larger than'
# the same without a declared length (chunked): 413 too
curl -s -o "$tmp/chunked.txt" -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary "@$tmp/huge.json" \
    "http://127.0.0.1:$P1/v1/recommend" >"$tmp/chunked.code" 2>/dev/null
[ "$(cat "$tmp/chunked.code")" = 413 ] && ok || bad "chunked huge body: $(cat "$tmp/chunked.code")"
expect_status "$P1" get /health "" 200 'ok'
cmp_rec '{"history": [1000, 1001, 1005], "k": 5}' --history 1000,1001,1005 --k 5
m=$($CL "$P1" get /metrics)
grep -q 'onerec_requests_total{path="/v1/recommend",status="400"} 1[0-9]' <<<"$m" && ok || bad "metrics count the 400s"
# a full queue: 503 with Retry-After
start full --max-queue 0 && {
    expect_status "$PORT" post /v1/recommend '{"history": [1000]}' 503 'Retry-After=1'
    stop "$SPID" full
}

# a request over --timeout-ms: 504, and the server goes on
start slow --timeout-ms 1 && {
    expect_status "$PORT" post /v1/generate '{"prompt": "hello", "max_new": 300, "temperature": 1}' 504 'timed out'
    expect_status "$PORT" post /v1/recommend '{"history": [1000], "k": 200}' 504 'timed out'
    expect_status "$PORT" get /health "" 200 'ok'
    stop "$SPID" slow
}

# ---- reload (--admin): another model (another shape) swapped in while requests run, then SIGHUP back
$PY tests/ref/serve_fixture.py "$tmp/fx2" --dim 32 >/dev/null || bad "second fixture"
M2=$tmp/fx2/model
start admin --admin --max-batch 4 && PA=$PORT APID=$SPID && {
    expect_status "$PA" post /admin/reload '{"model": "/nowhere/model"}' 400 '"field":"model"'
    expect_status "$PA" post /admin/reload '{"model": 3}' 400 '"field":"model"'
    $CL "$PA" many "$tmp/bodies.jsonl" >"$tmp/during.jsonl" 2>&1 &
    MANY=$!
    expect_status "$PA" post /admin/reload "{\"model\": \"$M2\"}" 200 "\"model\":\"$M2\""
    wait "$MANY"
    [ "$(grep -c '"items"' "$tmp/during.jsonl")" = 12 ] && ok || bad "requests during a reload: $(grep -v '"items"' "$tmp/during.jsonl" | head -c 300)"
    expect_status "$PA" get /health "" 200 "\"model\":\"$M2\""
    CMP_PORT=$PA CMP_MODEL=$M2 cmp_rec '{"history": [1000, 1001, 1005], "k": 5}' --history 1000,1001,1005 --k 5
    kill -HUP "$APID"
    back=0
    for _ in $(seq 100); do h=$($CL "$PA" get /health); [[ $h == *"\"model\":\"$M\""* ]] && { back=1; break; }; sleep 0.05; done
    [ $back = 1 ] && ok || bad "SIGHUP did not reload --model: $h"
    CMP_PORT=$PA cmp_rec '{"history": [1000, 1001, 1005], "k": 5}' --history 1000,1001,1005 --k 5
    stop "$APID" admin
}

# ---- 5. SIGTERM: an in-flight request finishes (200), then the server exits 0
( $CL "$P1" post /v1/generate '{"prompt": "hello there", "max_new": 400, "temperature": 1, "seed": 1}' >"$tmp/inflight.txt" ) &
CLIENT=$!
seen=0
for _ in $(seq 200); do m=$($CL "$P1" get /metrics); [[ $m == *"onerec_inflight_requests 2"* ]] && { seen=1; break; }; sleep 0.01; done
[ $seen = 1 ] && ok || bad "the generate request was not in flight at SIGTERM"
kill -TERM "$MAIN"
wait "$CLIENT"
grep -q '^200 ' "$tmp/inflight.txt" && ok || bad "in-flight request during SIGTERM: $(head -c 200 "$tmp/inflight.txt")"
for _ in $(seq 100); do kill -0 "$MAIN" 2>/dev/null || break; sleep 0.1; done
wait "$MAIN"; rc=$?
[ "$rc" = 0 ] && ! grep -q "Sanitizer\|runtime error" "$tmp/main.err" && ok || bad "serve exit $rc after SIGTERM: $(tail -n 3 "$tmp/main.err")"
grep -q "finishing in-flight requests" "$tmp/main.err" && ok || bad "no drain message"

# ---- 6. bad command lines
expect_fail "model dir" "$ON" serve --model "$tmp/nowhere" --pid2sid "$VA" --port 0
echo '{"pid": 1, "sid": [1, 2]}' >"$tmp/bad.jsonl"
expect_fail "SIDs must have 3 codes" "$ON" serve --model "$M" --pid2sid "$tmp/bad.jsonl" --port 0
expect_fail "nowhere.parquet" "$ON" serve --model "$M" --pid2sid "$tmp/nowhere.parquet" --port 0
start busy && {
    expect_fail "Address already in use" "$ON" serve --model "$M" --pid2sid "$VA" --port "$PORT"
    stop "$SPID" busy
}
expect_fail "not an IPv4 or IPv6 address" "$ON" serve --model "$M" --pid2sid "$VA" --host localhost.invalid --port 0
"$ON" serve --model "$M" --pid2sid "$VA" --port 0 --max-batch 0 >/dev/null 2>&1; [ $? = 1 ] && ok || bad "--max-batch 0 exit"
"$ON" serve --model "$M" --bogus >/dev/null 2>&1; [ $? = 2 ] && ok || bad "unknown flag exit 2"
"$ON" serve --model "$M" --pid2sid "$VA" --port 0 --max-body-kb 0 >/dev/null 2>&1; [ $? = 2 ] && ok || bad "--max-body-kb 0 exit 2"
echo "test_serve_http: $pass passed, $fail failed"
