#!/usr/bin/env bash
# Parquet read/write throughput, ours vs DuckDB, one thread each, one run, on a RecIF-like table
# (ROWS rows: uid int64, split int32, hist_video_pid list<int64> of ~100, caption and source
# strings; ZSTD). Read = every value of every column; write = from memory to a ZSTD file.
# Last line: "parquet ratio=R (ours=X ref=Y rows/s)" with R = our read rows/s over DuckDB's.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
make -s bench >/dev/null
tmp=$(mktemp -d /tmp/onerec_pq_bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
echo "generating $ROWS rows with DuckDB..." >&2
node bench/pq_bench.cjs make "$tmp/duck.parquet" "$ROWS"
ls -l "$tmp/duck.parquet" >&2
field() { sed -E "s/.*$1=([^ ]+).*/\1/"; }
ref_r=$(node bench/pq_bench.cjs read "$tmp/duck.parquet")
ours_r=$(build/bench/parquet_bench read "$tmp/duck.parquet")
echo "read DuckDB file:  ours $ours_r | duckdb $ref_r"
ref_w=$(node bench/pq_bench.cjs write "$tmp/duck.parquet" "$tmp/ref_out.parquet")
ours_w=$(build/bench/parquet_bench write "$tmp/duck.parquet" "$tmp/ours_out.parquet")
echo "write (ZSTD):      ours $ours_w | duckdb $ref_w"
echo "sizes: ours $(stat -c %s "$tmp/ours_out.parquet") bytes, duckdb $(stat -c %s "$tmp/ref_out.parquet") bytes"
ours_r2=$(build/bench/parquet_bench read "$tmp/ours_out.parquet")
ref_r2=$(node bench/pq_bench.cjs read "$tmp/ours_out.parquet")
echo "read our file:     ours $ours_r2 | duckdb $ref_r2"
cpu_ratio() { awk -v a="$(field cpu <<<"$1")" -v b="$(field cpu <<<"$2")" 'BEGIN { printf "%.2f", b / a }'; }
echo "cpu-time ratios (steadier on a busy machine): read $(cpu_ratio "$ours_r" "$ref_r"), write $(cpu_ratio "$ours_w" "$ref_w")"
rps() { awk -v r="$(field rows <<<"$1")" -v s="$(field seconds <<<"$1")" 'BEGIN { printf "%.0f", r / s }'; }
wr=$(awk -v a="$(rps "$ours_w")" -v b="$(rps "$ref_w")" 'BEGIN { printf "%.2f", a / b }')
echo "write ratio=$wr (ours=$(rps "$ours_w") ref=$(rps "$ref_w") rows/s)"
rr=$(awk -v a="$(rps "$ours_r")" -v b="$(rps "$ref_r")" 'BEGIN { printf "%.2f", a / b }')
echo "parquet ratio=$rr (ours=$(rps "$ours_r") ref=$(rps "$ref_r") rows/s)"
