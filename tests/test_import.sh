#!/usr/bin/env bash
# onerec data import through the command line: the split and every output recomputed by an
# independent Python reference (tests/ref/import_split.py) from a generated fixture
# (tests/ref/import_fixture.py); the same rows as TSV, JSONL and Parquet (written by DuckDB, the
# shape of `data movielens`) give the same files; the next pipeline steps (data convert, baseline
# recif) take the output; bad input fails with the documented messages.
# Prints "test_import_cli: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
expect_eq() { if [ "$2" = "$3" ]; then ok; else bad "$1: got [$2] want [$3]"; fi; }
expect_has() { if grep -qF -- "$3" <<<"$2"; then ok; else bad "$1: [$2] lacks [$3]"; fi; }
duck() { node tests/ref/data_duck.mjs "$@"; }
stat_of() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); [d:=d[k] for k in sys.argv[2:]]; print(d)" "$@"; }
ref() { $PY tests/ref/import_split.py --onerec "$ONEREC" "$@"; }
IMPORT="$ONEREC data import"

$PY tests/ref/import_fixture.py "$tmp" || bad "fixture generator"
L=$tmp/interactions.csv I=$tmp/items.csv

# 1. CSV with ratings: the reference split, raw rows, flags, profiles and captions
out=$($IMPORT --interactions "$L" --items "$I" --out "$tmp/w" --rating-col rating 2>"$tmp/err") || bad "import: $(tail -3 "$tmp/err")"
expect_has "summary on stdout" "$out" "import: 40 users, 59 items, 301 interactions"
err=$(cat "$tmp/err")
expect_has "duplicates reported" "$err" "duplicate (user, item) pairs: 13 later rows dropped"
expect_has "short users reported" "$err" "2 users with fewer than 3 items dropped (3 rows)"
expect_has "items file reported" "$err" "56 rows, 1 not in the split, 1 duplicate ids"
expect_has "items without text reported" "$err" "5 items without text are captioned by their id"
ref --log "$L" --items "$I" --out "$tmp/w" --rating && ok || bad "reference split (csv)"
expect_eq "stats: duplicates" "$(stat_of "$tmp/w/import_stats.json" dropped_rows duplicates)" "13"
expect_eq "stats: items without text" "$(stat_of "$tmp/w/import_stats.json" items_without_text)" "5"
expect_eq "stats: raw rows" "$(stat_of "$tmp/w/import_stats.json" raw_rows)" "120"
expect_has "caption rule" "$($ONEREC parquet cat "$tmp/w/pid2caption.parquet")" '"dense_caption": "Jumanji, \"Part 12\" (1962) — Adventure|Comedy|Thriller"'

# 2. the filters, each against the reference
for args in "--min-rating 2.5 --kcore 2" "--kcore 4 --max-history 3" "--max-history 1"; do
    rm -rf "$tmp/f"
    $IMPORT --interactions "$L" --items "$I" --out "$tmp/f" --rating-col rating $args >/dev/null 2>"$tmp/err" ||
        bad "import $args: $(tail -1 "$tmp/err")"
    ref --log "$L" --items "$I" --out "$tmp/f" --rating $args && ok || bad "reference split ($args)"
    case $args in *kcore*) expect_has "k-core reported" "$(cat "$tmp/err")" "-core dropped" ;; esac
done
expect_has "max-history reported" "$(cat "$tmp/err")" "--max-history 1 cut"

# 3. the same rows as TSV / JSONL / Parquet (DuckDB, typed as data movielens writes them)
duck "COPY (SELECT user_id::BIGINT AS user_id, item_id::BIGINT AS item_id, \"timestamp\"::BIGINT AS \"timestamp\", rating::DOUBLE AS rating FROM read_csv('$L')) TO '$tmp/interactions.parquet' (FORMAT parquet)" \
    "COPY (SELECT item_id::BIGINT AS item_id, title::VARCHAR AS title, year::INTEGER AS year, genres::VARCHAR AS genres FROM read_csv('$I', header=true, quote='\"', escape='\"')) TO '$tmp/items.parquet' (FORMAT parquet)" >/dev/null ||
    bad "duckdb fixture"
for pair in "tsv csv" "jsonl jsonl" "parquet parquet"; do
    set -- $pair
    rm -rf "$tmp/v"
    $IMPORT --interactions "$tmp/interactions.$1" --items "$tmp/items.$2" --out "$tmp/v" --rating-col rating >/dev/null 2>&1 || bad "import .$1"
    for f in sequences onerec_bench_release pid2caption; do
        cmp -s <($ONEREC parquet cat "$tmp/w/$f.parquet") <($ONEREC parquet cat "$tmp/v/$f.parquet") && ok || bad "$f from .$1 differs from .csv"
    done
done

# 4. the pipeline's next steps take the output: convert (en, SIDs for the fixture items) and the baselines
mkdir -p "$tmp/s"
$ONEREC parquet cat "$tmp/w/pid2caption.parquet" | $PY -c '
import json, sys
for k, line in enumerate(sys.stdin):
    print(json.dumps({"pid": json.loads(line)["pid"], "sid": [k % 4, k // 4 % 4, k // 16]}))' >"$tmp/s/video_ad_pid2sid.jsonl"
out=$($ONEREC data convert --raw "$tmp/w" --out "$tmp/c" --lang en --sid-dir "$tmp/s" 2>"$tmp/err") || bad "convert: $(tail -3 "$tmp/err")"
expect_has "convert counts split 2" "$out" "users 120 (train 40, test 40, other split 40, unreadable 0)"
expect_has "no items without SID" "$out" "dropped: 0 item references without SID"
expect_eq "video benchmark: one test item per user" "$(stat_of "$tmp/c/convert_stats.json" benchmark_rows video)" "40"
expect_eq "no ad samples" "$(stat_of "$tmp/c/convert_stats.json" rows RecIF_AdRec)" "0"
expect_has "english prompts" "$($ONEREC parquet cat "$tmp/c/benchmark/video/video_test.parquet" --limit 1)" "<|sid_begin|>"
out=$($ONEREC baseline recif --raw "$tmp/w/onerec_bench_release.parquet" --epochs 2 2>"$tmp/err") || bad "baseline recif: $(tail -3 "$tmp/err")"
expect_has "baselines on video" "$out" "| video | recall@32 |"
expect_has "label_pred AUC" "$out" "| label_pred | auc |"
expect_has "empty ad domain skipped" "$(cat "$tmp/err")" "ad: no items in this domain: skipped"

# 5. without ratings: every row a positive (longview 1), no AUC, still consumable
$IMPORT --interactions "$L" --items "$I" --out "$tmp/n" >/dev/null 2>&1 || bad "import without ratings"
ref --log "$L" --items "$I" --out "$tmp/n" && ok || bad "reference split (no ratings)"
expect_has "profile without ratings" "$($ONEREC parquet cat "$tmp/n/onerec_bench_release.parquet" --limit 1)" "The user has interacted with"
out=$($ONEREC baseline recif --raw "$tmp/n/onerec_bench_release.parquet" --no-sasrec 2>"$tmp/err") || bad "baseline recif without ratings: $(tail -2 "$tmp/err")"
expect_has "no AUC with one class" "$(cat "$tmp/err")" "have the same label: no AUC"

# 6. bad input, each with its message (exit 1) or usage error (exit 2)
printf 'user_id,item,timestamp\n1,2,3\n' >"$tmp/nocol.csv"
expect_fail "nocol.csv has no column \"item_id\" (--item-col); its columns are: user_id, item, timestamp" $IMPORT --interactions "$tmp/nocol.csv" --out "$tmp/b1"
printf 'user_id,item_id,timestamp\n1,2,3\n1,x7,4\n' >"$tmp/nonnum.csv"
expect_fail "nonnum.csv: line 3, column item_id: \"x7\" is not an integer" $IMPORT --interactions "$tmp/nonnum.csv" --out "$tmp/b2"
: >"$tmp/empty.csv"
expect_fail "empty.csv is empty (no header line)" $IMPORT --interactions "$tmp/empty.csv" --out "$tmp/b3"
printf 'user_id,item_id,timestamp\n' >"$tmp/header.csv"
expect_fail "header.csv has no data rows" $IMPORT --interactions "$tmp/header.csv" --out "$tmp/b3"
printf 'user_id,item_id,timestamp\n1,1,1\n1,2,2\n2,1,1\n2,1,5\n2,2,3\n' >"$tmp/short.csv"
expect_fail "nothing left to split: no user has 3 or more items after the filters (5 rows read; dropped: 0 below --min-rating, 1 duplicates, 0 by the K-core, 2 users left with fewer than 3 items)" \
    $IMPORT --interactions "$tmp/short.csv" --out "$tmp/b4"
[ ! -e "$tmp/b4" ] && ok || bad "a failed import left its output dir"
expect_fail "unknown file type (expected a .csv, .tsv, .jsonl or .parquet file)" $IMPORT --interactions "$tmp/log.dat" --out "$tmp/b5"
# timestamps out of order in the file, and equal times: sorted by (time, item id)
printf 'user_id,item_id,timestamp\n9,5,30\n9,7,10\n9,3,20\n9,1,20\n' >"$tmp/order.csv"
$IMPORT --interactions "$tmp/order.csv" --out "$tmp/o" >/dev/null 2>&1 || bad "import order.csv"
expect_eq "sorted by (time, item id)" "$($ONEREC parquet cat "$tmp/o/sequences.parquet")" '{"user_id": 9, "train": [7, 1], "valid": 3, "test": 5}'
expect_eq "no items file: captions are ids" "$(stat_of "$tmp/o/import_stats.json" items_without_text)" "4"
printf 'item_id,title,year,genres\n7,"Caf\xe9",1999,Drama\n' >"$tmp/latin1.csv"
expect_fail "latin1.csv: line 2, column title: invalid UTF-8" $IMPORT --interactions "$tmp/order.csv" --items "$tmp/latin1.csv" --out "$tmp/b6"
expect_fail "exists and is not empty (--force" $IMPORT --interactions "$tmp/order.csv" --out "$tmp/o"
$IMPORT --interactions "$tmp/order.csv" --out "$tmp/o" --force >/dev/null 2>&1 && ok || bad "--force"
$IMPORT --interactions "$L" --out "$tmp/b7" --min-rating 3 >/dev/null 2>&1; expect_eq "--min-rating without --rating-col" "$?" "2"
$IMPORT --out "$tmp/b7" >/dev/null 2>&1; expect_eq "missing --interactions" "$?" "2"
$IMPORT --interactions "$tmp/nocol.csv" --out "$tmp/b1" >/dev/null 2>&1; expect_eq "bad input exit code" "$?" "1"
$ONEREC data import --help | grep -q -- "--kcore" && ok || bad "data import --help"

echo "test_import_cli: $pass passed, $fail failed"
[ $fail = 0 ]
