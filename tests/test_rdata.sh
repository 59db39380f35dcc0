#!/usr/bin/env bash
# onerec data movielens / rtext on the real Debian R packages (the data cache scripts/setup.sh
# fills), checked against Debian's python3-rdata (tests/ref/rdata_real_ref.py); --force and
# atomic output; broken databases (tests/ref/rdata_fixture.py --bad) through the command line:
# exit 1, a message naming the file and offset, nothing left behind.
# Prints "test_rdata_cli: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
expect_eq() { if [ "$2" = "$3" ]; then ok; else bad "$1: got [$2] want [$3]"; fi; }
expect_has() { if grep -qF -- "$3" <<<"$2"; then ok; else bad "$1: [$2] lacks [$3]"; fi; }
# cmd must exit with status 1 and print needle on stderr
expect_exit1() {
    local what=$1 needle=$2; shift 2
    local err; err=$("$@" 2>&1 >/dev/null); local rc=$?
    expect_eq "$what: exit status" "$rc" 1
    expect_has "$what: message" "$err" "$needle"
}
REF="$PY tests/ref/rdata_real_ref.py"
CACHE=${ONEREC_DATA_CACHE:-data-cache}
ML=$CACHE/r-cran-dslabs/usr/lib/R/site-library/dslabs/data/Rdata
JA=$CACHE/r-cran-janeaustenr/usr/lib/R/site-library/janeaustenr/data/Rdata

if [ ! -f "$ML.rdx" ] || [ ! -f "$JA.rdx" ]; then
    bad "the data cache is missing ($ML.rdx, $JA.rdx): run \`bash scripts/setup.sh\` from the repository root"
else
    # 1. MovieLens: every rating and every movie, against python3-rdata
    out=$($ONEREC data movielens --out "$tmp/ml" 2>"$tmp/ml.err"); rc=$?
    expect_eq "movielens exit status" "$rc" 0
    expect_has "movielens summary" "$out" "movielens: 100004 ratings, 671 users, 9066 movies"
    $ONEREC parquet cat "$tmp/ml/interactions.parquet" >"$tmp/interactions.jsonl"
    $ONEREC parquet cat "$tmp/ml/items.parquet" >"$tmp/items.jsonl"
    want=$($REF movielens "$ML"); got=$($REF ours "$tmp")
    expect_eq "movielens: counts, sums, first/last titles and genres, full content" "$got" "$want"
    expect_has "reference summary" "$want" '"rows": 100004'
    expect_eq "items rows" "$($ONEREC parquet count "$tmp/ml/items.parquet")" 9066
    schema=$($ONEREC parquet schema "$tmp/ml/interactions.parquet")
    for c in user_id item_id timestamp; do expect_has "interactions $c int64" "$schema" "$c"; done
    expect_eq "items ordered by item_id" "$(head -c 200 "$tmp/items.jsonl" | head -n 1)" \
        '{"item_id": 1, "title": "Toy Story", "year": 1995, "genres": "Adventure|Animation|Children|Comedy|Fantasy"}'
    expect_has "untitled movies: null title and year" "$(grep -F '"item_id": 108548,' "$tmp/items.jsonl")" '"title": null, "year": null'

    # 2. an existing output dir: refused when not empty; --force replaces our two files only
    expect_exit1 "non-empty --out" "is not empty" $ONEREC data movielens --out "$tmp/ml"
    echo keep >"$tmp/ml/notes.txt"
    : >"$tmp/ml/items.parquet"
    $ONEREC data movielens --out "$tmp/ml" --force >/dev/null 2>&1 && ok || bad "--force failed"
    expect_eq "--force keeps other files" "$(cat "$tmp/ml/notes.txt")" keep
    expect_eq "--force replaced items.parquet" "$($ONEREC parquet count "$tmp/ml/items.parquet" 2>&1)" 9066
    mkdir "$tmp/empty"
    $ONEREC data movielens --out "$tmp/empty" >/dev/null 2>&1 && ok || bad "an empty --out dir was refused"
    expect_eq "no temporary dirs left" "$(ls "$tmp" | grep -c '\.tmp\.')" 0

    # 3. text: Jane Austen and trump_tweets$text, as .txt and .parquet, against python3-rdata
    expect_has "--list" "$($ONEREC data rtext --db janeaustenr --list)" "prideprejudice"
    for spec in "janeaustenr emma" "janeaustenr persuasion" "dslabs trump_tweets text"; do
        set -- $spec
        col=${3:-}
        prefix=$JA; [ "$1" = dslabs ] && prefix=$ML
        $ONEREC data rtext --db "$1" --object "$2" ${col:+--column "$col"} --out "$tmp/t.txt" >/dev/null 2>&1 || bad "rtext $spec .txt"
        $ONEREC data rtext --db "$1" --object "$2" ${col:+--column "$col"} --out "$tmp/t.parquet" >"$tmp/t.out" 2>&1 || bad "rtext $spec .parquet"
        $ONEREC parquet cat "$tmp/t.parquet" >"$tmp/t.jsonl"
        expect_eq "rtext $spec" "$($REF ourtext "$tmp/t.txt" "$tmp/t.jsonl")" "$($REF text "$prefix" "$2" $col)"
    done
    expect_has "rtext summary" "$(cat "$tmp/t.out")" "rtext: 20761 lines"
    expect_exit1 "a data frame without --column" "name the text column with --column" \
        $ONEREC data rtext --db dslabs --object movielens --out "$tmp/x.txt"
    expect_exit1 "a numeric column" "movielens\$rating is double, not text" \
        $ONEREC data rtext --db dslabs --object movielens --column rating --out "$tmp/x.txt"
fi

# 4. broken databases: exit 1, file and offset named, nothing written
for kind in zlib-truncated:"zlib stream truncated (expected" zlib-corrupt:"corrupt zlib stream at compressed byte" \
    xdr-truncated:"inflated: byte " wrong-magic:"byte 0: bad magic 59 0a" rdx-garbage:".rdx: byte 0: bad magic" \
    rdx-not-index:".rdx: not a lazy-load index"; do
    k=${kind%%:*}
    $PY tests/ref/rdata_fixture.py "$tmp/$k" --bad "$k"
    expect_exit1 "rtext on $k" "${kind#*:}" $ONEREC data rtext --db "$tmp/$k" --object df --column name --out "$tmp/out_$k.txt"
    [ ! -e "$tmp/out_$k.txt" ] && ok || bad "$k: output left behind"
done
expect_has "the record is named" "$($ONEREC data rtext --db "$tmp/wrong-magic" --object df --column name --out "$tmp/o.txt" 2>&1)" \
    "wrong-magic.rdb: record \"df\" at offset 0, inflated: byte 0"
# the fixture itself, read by python3-rdata, holds what tests/test_rdata.c expects of it
$PY tests/ref/rdata_fixture.py "$tmp/good" --check >/dev/null 2>"$tmp/check.err" && ok || bad "fixture check: $(tail -3 "$tmp/check.err")"
expect_exit1 "an absent object" "no object \"movielens\" (it has: df, words, seq, nested)" \
    $ONEREC data movielens --db "$tmp/good" --out "$tmp/mlx"
expect_exit1 "a frame that is not MovieLens" "no column \"movieId\"" \
    $ONEREC data rtext --db "$tmp/good" --object df --column movieId --out "$tmp/mlx.txt"
cp "$tmp/good.rdx" "$tmp/short.rdx"; head -c 300 "$tmp/good.rdb" >"$tmp/short.rdb"
expect_exit1 "a truncated .rdb" "short.rdb: record \"nested\" at offset" \
    $ONEREC data rtext --db "$tmp/short" --object nested --column b --out "$tmp/mlx.txt"
[ ! -e "$tmp/mlx" ] && [ ! -e "$tmp/mlx.txt" ] && ok || bad "output left behind by a failed run"
$ONEREC data rtext --db "$tmp/good" --object words --out "$tmp/words.txt" >/dev/null && ok || bad "rtext on the fixture"
expect_eq "fixture words as text (NA = empty line)" "$(cat "$tmp/words.txt")" "$(printf 'It is a truth\nuniversally acknowledged\n\nﬁn — “quoted”')"

# 5. a missing cache names the command to run; bad flags exit 2
expect_exit1 "missing cache" "run \`bash scripts/setup.sh\`" env ONEREC_DATA_CACHE="$tmp/nocache" $ONEREC data movielens --out "$tmp/nc"
[ ! -e "$tmp/nc" ] && ok || bad "missing cache: output dir created"
$ONEREC data movielens --bogus >/dev/null 2>&1; expect_eq "bad flag exit status" "$?" 2
$ONEREC data rtext --db dslabs >/dev/null 2>&1; expect_eq "rtext without --object exit status" "$?" 2

echo "test_rdata_cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
