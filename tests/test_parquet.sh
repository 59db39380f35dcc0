#!/usr/bin/env bash
# Parquet against independent readers/writers: DuckDB-written fixtures (every codec, pages v1/v2,
# lists with nulls and empties, dict/plain strings, struct, map, delta/byte-stream-split encodings)
# and a hyparquet-writer file must read exactly as DuckDB/hyparquet read them; files we write must
# read back in DuckDB and hyparquet exactly as generated. Also the CLI and its error messages.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
source tests/lib.sh
ONEREC=$BUILD/onerec
REF="node tests/ref/pq_ref.cjs"
check() { local what=$1; shift; if "$@" >"$tmp/out" 2>&1; then ok; else bad "$what"; tail -n 5 "$tmp/out"; fi; }

# fixtures from the references, and ours (with the JSON lines they must read as)
$REF gen-duckdb "$tmp/duck" >/dev/null || bad "DuckDB fixture generation"
$REF gen-hyparquet "$tmp/hy.parquet" || bad "hyparquet-writer fixture"
"$BUILD/tests/test_parquet" --write-fixtures "$tmp/ours" || bad "writing our fixtures"
: >"$tmp/batch"
# 1. DuckDB fixtures: our `cat` equals DuckDB's rows
for f in "$tmp"/duck/duck_*.parquet; do
    if "$ONEREC" parquet cat "$f" >"$f.ours.jsonl" 2>"$tmp/err"; then echo "duckdb $f $f.ours.jsonl" >>"$tmp/batch"
    else bad "$(basename "$f"): $(cat "$tmp/err")"; fi
done
# 2. hyparquet-writer file (DELTA_BYTE_ARRAY, DELTA_BINARY_PACKED, list<string>, dictionary)
"$ONEREC" parquet cat "$tmp/hy.parquet" >"$tmp/hy.ours.jsonl" && echo "hyparquet $tmp/hy.parquet $tmp/hy.ours.jsonl" >>"$tmp/batch" || bad "cat hy.parquet"
if "$ONEREC" parquet schema "$tmp/hy.parquet" | grep -q "encodings=DELTA_BYTE_ARRAY"; then ok; else bad "hyparquet file lacks DELTA_BYTE_ARRAY"; fi
# 3. files we write: DuckDB, hyparquet and we read exactly the generated values
for f in "$tmp"/ours/*.parquet; do
    exp=${f%.parquet}.expected.jsonl
    echo "duckdb $f $exp" >>"$tmp/batch"
    echo "hyparquet $f $exp" >>"$tmp/batch"
    "$ONEREC" parquet cat "$f" >"$f.ours.jsonl" && echo "lines $f.ours.jsonl $exp" >>"$tmp/batch" || bad "cat $f"
done
# statistics: DuckDB prunes row groups with them, so filtered counts must match the rows
for f in "$tmp"/ours/*.parquet; do echo "stats $f" >>"$tmp/batch"; done
t0=$SECONDS; $REF batch <"$tmp/batch" >"$tmp/batch.out" 2>&1; echo "batch: $((SECONDS - t0))s"
n_ok=$(grep -c '^ok ' "$tmp/batch.out"); n_lines=$(wc -l <"$tmp/batch")
pass=$((pass + n_ok)); fail=$((fail + n_lines - n_ok))
grep -v '^ok ' "$tmp/batch.out" | head -n 20
# every encoding and codec the issue names appears in some DuckDB fixture
all_schema=$(for f in "$tmp"/duck/duck_*.parquet; do "$ONEREC" parquet schema "$f" 2>/dev/null; done)
for e in PLAIN PLAIN_DICTIONARY RLE_DICTIONARY DELTA_BINARY_PACKED DELTA_LENGTH_BYTE_ARRAY BYTE_STREAM_SPLIT; do
    if grep -q "encodings=.*\b$e\b" <<<"$all_schema"; then ok; else bad "no DuckDB fixture uses $e"; fi
done
for c in UNCOMPRESSED SNAPPY GZIP ZSTD LZ4_RAW; do
    if grep -q "codec=$c " <<<"$all_schema"; then ok; else bad "no DuckDB fixture uses codec $c"; fi
done
# BROTLI is read when libbrotlidec.so.1 is installed (compared above); otherwise a clear error
if ! "$ONEREC" parquet cat "$tmp/duck/duck_brotli.parquet" >/dev/null 2>"$tmp/err"; then
    grep -q "duck_brotli.parquet, row group 0, column id: BROTLI pages need libbrotlidec" "$tmp/err" && ok || bad "brotli message: $(cat "$tmp/err")"
fi
# a codec number we do not know: a message naming file, row group and column
python3 - "$tmp/duck/duck_zstd_v1.parquet" "$tmp/badcodec.parquet" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
n = int.from_bytes(d[-8:-4], 'little')
foot = d[-8 - n:-8]
# column id's ColumnMetaData: path_in_schema ["id"] (list header 0x18, length 2, "id") is followed by
# codec, field 4 (header 0x15, zigzag 0x0c = ZSTD): make it 3 (LZO)
i = foot.find(b'\x18\x02id\x15\x0c')
assert i >= 0
foot[i + 5] = 0x06
d[-8 - n:-8] = foot
open(sys.argv[2], 'wb').write(d)
PY
"$ONEREC" parquet cat "$tmp/badcodec.parquet" >/dev/null 2>"$tmp/err" && bad "LZO accepted" || { grep -q "badcodec.parquet, row group 0, column id: unsupported compression codec LZO" "$tmp/err" && ok || bad "LZO message: $(cat "$tmp/err")"; }

# 4. CLI
f=$tmp/duck/duck_zstd_v1.parquet
[ "$("$ONEREC" parquet count "$f")" = 5000 ] && ok || bad "count"
[ "$("$ONEREC" parquet head "$f" | wc -l)" = 10 ] && ok || bad "head default 10 rows"
[ "$("$ONEREC" parquet cat "$f" --limit 3 --offset 4990 | wc -l)" = 3 ] && ok || bad "cat --limit --offset"
out=$("$ONEREC" parquet cat "$f" --columns l64,id --limit 3 | tail -n 1)
[ "$out" = '{"l64": [2, 1000005], "id": 2}' ] && ok || bad "projection: $out"
"$ONEREC" parquet schema "$f" | grep -q "l64 *list<int64?>" && ok || bad "schema shows list<int64?>"
"$ONEREC" parquet cat "$f" --columns nope >/dev/null 2>"$tmp/err" && bad "missing column accepted" || { grep -q "no column 'nope'" "$tmp/err" && ok || bad "missing column message: $(cat "$tmp/err")"; }
"$ONEREC" parquet cat /nonexistent.parquet >/dev/null 2>"$tmp/err" && bad "missing file accepted" || { grep -q "nonexistent.parquet" "$tmp/err" && ok || bad "missing file message"; }
head -c 100 "$f" >"$tmp/trunc.parquet"
"$ONEREC" parquet count "$tmp/trunc.parquet" >/dev/null 2>"$tmp/err" && bad "truncated accepted" || { grep -q "trunc.parquet: bad magic" "$tmp/err" && ok || bad "truncated message: $(cat "$tmp/err")"; }
"$ONEREC" parquet frob "$f" >/dev/null 2>&1 && bad "unknown subcommand accepted" || ok
"$ONEREC" parquet --help | grep -q "schema|head|count|cat" && ok || bad "--help"
# nested lists are refused with the column named; the other columns still read
node -e "
const {DuckDBInstance} = require('./tools/npm/node_modules/@duckdb/node-api');
(async () => { const c = await (await DuckDBInstance.create(':memory:')).connect();
  await c.run(\"COPY (SELECT 1 AS id, [[1,2],[3]] AS nested) TO '$tmp/nested.parquet' (FORMAT parquet)\"); })();" || bad "nested fixture"
"$ONEREC" parquet cat "$tmp/nested.parquet" --columns nested >/dev/null 2>"$tmp/err" && bad "nested list accepted" || { grep -q "column nested: unsupported type.*nested list" "$tmp/err" && ok || bad "nested message: $(cat "$tmp/err")"; }
[ "$("$ONEREC" parquet cat "$tmp/nested.parquet")" = '{"id": 1}' ] && ok || bad "cat skips the nested column"

echo "test_parquet_sh: $pass passed, $fail failed"
[ "$fail" = 0 ]
