#!/usr/bin/env bash
# The test command: set-up (Debian + npm references), build, the whole suite, then the same suite
# under ASan/UBSan (C tests only) and the bounded fuzz runs. Closing line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2} OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
log=$(mktemp)
status=0
make -j"$(nproc)" test 2>&1 | tee "$log" || status=1
if [ "${ONEREC_SKIP_SAN:-0}" != 1 ]; then
    echo "== ASan/UBSan build of the C tests =="
    make -j"$(nproc)" SAN=1 test 2>&1 | tee -a "$log" || status=1
fi
# bounded fuzz runs (tests/fuzz/run_fuzz_*.sh), one pass/fail each in the totals; each script has
# its own default length (60 s for parquet and safetensors, 40 + 10 for the tokenizer and its trainer,
# 15 for rdata, 10 for the configs and CSV); FUZZ_SECONDS, when set, is given to every one
if [ "${ONEREC_SKIP_FUZZ:-0}" != 1 ]; then
    for f in tests/fuzz/run_fuzz_*.sh; do
        [ -f "$f" ] || continue
        echo "== $f =="
        # each script exits 0 when the fuzzer ran its time without a finding
        out=$(bash "$f" ${FUZZ_SECONDS:+"$FUZZ_SECONDS"} 2>&1)
        frc=$?
        tail -n 12 <<<"$out"
        if [ $frc = 0 ]; then echo "$(basename "$f" .sh): passed"; echo "1 passed, 0 failed" >>"$log"
        else echo "$(basename "$f" .sh): FAILED (exit $frc)"; echo "0 passed, 1 failed" >>"$log"; status=1; fi
    done
fi
# totals over all runs
p=0; f=0
while read -r a b; do p=$((p + a)); f=$((f + b)); done < <(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | sed -E 's/([0-9]+) passed, ([0-9]+) failed/\1 \2/')
rm -f "$log"
[ $status != 0 ] && [ $f = 0 ] && f=1
echo "$p passed, $f failed"
[ $f = 0 ]
