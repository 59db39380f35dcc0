#!/usr/bin/env bash
# Bounded libFuzzer run of the Parquet reader under ASan/UBSan (clang). Seeds: files our writer
# makes (every codec, lists, nulls, dictionaries) and, when node is there, DuckDB's fixtures.
# FUZZ_SECONDS (default 60) bounds the run. Prints "fuzz_parquet: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-60}
out=build/fuzz
mkdir -p "$out"
src="src/base/err.c src/base/mem.c src/base/file.c src/base/log.c src/formats/thrift.c $(ls src/formats/parquet*.c)"
if ! clang -std=c11 -D_GNU_SOURCE -O1 -g -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        tests/fuzz/fuzz_parquet.c $src -o "$out/fuzz_parquet" -lzstd -lsnappy -llz4 -lz -lm 2>"$out/build.log"; then
    cat "$out/build.log"; echo "fuzz_parquet: 0 passed, 1 failed"; exit 1
fi
# inputs the fuzzer once failed on (tests/fuzz/regress/parquet: the reproducers libFuzzer wrote,
# kept as found) must all pass before new fuzzing
for f in tests/fuzz/regress/parquet/*; do
    if ! "$out/fuzz_parquet" "$f" >"$out/regress.log" 2>&1; then
        grep -A25 -m1 "ERROR\|runtime error" "$out/regress.log"; echo "fuzz_parquet: 0 passed, 1 failed ($f)"; exit 1
    fi
done
corpus=$out/corpus_parquet
mkdir -p "$corpus"
make -s build/tests/test_parquet >/dev/null 2>&1 && build/tests/test_parquet --write-fixtures "$out/seeds" small >/dev/null 2>&1
if command -v node >/dev/null && [ -d tools/npm/node_modules/@duckdb ]; then
    PQ_ROWS=150 node tests/ref/pq_ref.cjs gen-duckdb "$out/seeds_duck" >/dev/null 2>&1
    PQ_ROWS=100 node tests/ref/pq_ref.cjs gen-hyparquet "$out/seeds_duck/hyparquet.parquet" >/dev/null 2>&1
fi
# small seeds fuzz faster
rm -rf "$out"/seeds*/*.jsonl
find "$out"/seeds* -name '*.parquet' -size -40k -exec cp {} "$corpus/" \; 2>/dev/null
"$out/fuzz_parquet" "$corpus" -max_total_time="$SECS" -rss_limit_mb=4096 -malloc_limit_mb=4096 -max_len=65536 -artifact_prefix="$out/" \
    -print_final_stats=1 >"$out/fuzz.log" 2>&1
rc=$?
grep -A25 -m1 "ERROR\|runtime error" "$out/fuzz.log"; tail -n 6 "$out/fuzz.log"
if [ $rc = 0 ]; then echo "fuzz_parquet: 1 passed, 0 failed"; else echo "fuzz_parquet: 0 passed, 1 failed"; exit 1; fi
