#!/usr/bin/env bash
# The whole pipeline end to end at the smoke size (a few steps per stage): every stage runs, the
# report and results are written, a second run skips every stage, and bad flags fail cleanly.
set -u
cd "$(dirname "$0")/.."
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
out=$(mktemp -d /tmp/onerec_demo_test.XXXXXX)
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 build/onerec demo --out "$out" --size smoke > "$out.log" 2>&1
rc=$?
check "demo exits 0" "[ $rc = 0 ]"
[ $rc = 0 ] || tail -20 "$out.log"
check "report written" "[ -s $out/report.md ]"
check "every stage marked done" "[ \$(ls $out/.done | wc -l) -ge 25 ]"
check "results have the model stages and baselines" \
  "/usr/bin/python3 -c \"import json,sys; r=json.load(open('$out/results.json')); sys.exit(0 if all(s in r for s in ['rl','sft','distill','stage2','popularity','sasrec','oracle']) else 1)\""
check "the report lists the commands" "grep -q 'onerec rl --algo grpo' $out/report.md"
check "RL logged its reward" "grep -q '\"reward\"' $out/runs/rl/stdout.log"
check "plots" "[ -s $out/plots/loss_sft.png ] || [ -s $out/plots/loss_sft.dat ]"
OMP_NUM_THREADS=1 build/onerec demo --out "$out" --size smoke > "$out.log2" 2>&1
check "a second run skips every stage" "[ \$(grep -c 'already complete' $out.log2) -ge 25 ]"
build/onerec demo --size huge --out "$out/x" > /dev/null 2> "$out.err"
check "bad size is an error" "[ \$? = 1 ] && grep -q 'size must be' $out.err"
rm -rf "$out" "$out.log" "$out.log2" "$out.err"
echo "test_demo: $pass passed, $fail failed"
