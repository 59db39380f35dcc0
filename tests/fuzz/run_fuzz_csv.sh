#!/usr/bin/env bash
# Bounded libFuzzer run over the CSV/TSV reader of `data import` (src/data/csv.c, target
# tests/fuzz/fuzz_csv.c), clang with ASan + UBSan. usage: tests/fuzz/run_fuzz_csv.sh [SECONDS=10]
# (FUZZ_SECONDS wins). Prints "fuzz_csv: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
source tests/fuzz/lib_fuzz.sh
fuzz_build csv "src/data/csv.c src/base/err.c src/base/mem.c"
fuzz_regress csv
# seeds: byte 0 even = comma, odd = tab
c=$FUZZ_OUT/corpus_csv
mkdir -p "$c"
printf '\000user_id,item_id,timestamp,rating\n1,10,100,4.5\n1,"11",101,3\r\n2,"a ""quoted"", b",5,\n\n' >"$c/seed_csv"
printf '\000\357\273\277id,title,genres\n1,"multi\nline",Comedy|Drama\n2,,\n' >"$c/seed_bom"
printf '\001user_id\titem_id\ttimestamp\n1\t2\t3\n4\t5\t6\n' >"$c/seed_tsv"
fuzz_run csv "$c" "${FUZZ_SECONDS:-${1:-10}}" -max_len=8192
