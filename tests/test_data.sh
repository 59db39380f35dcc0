#!/usr/bin/env bash
# onerec synth / data convert / shard / prepare through the command line, with DuckDB (npm) as the
# independent reader: the documented schema, the benchmark answers joined back to the raw rows,
# bad input counted and reported. Prints "test_data_cli: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
T=$tmp
expect_eq() { if [ "$2" = "$3" ]; then ok; else bad "$1: got [$2] want [$3]"; fi; }
expect_has() { if grep -qF -- "$3" <<<"$2"; then ok; else bad "$1: [$2] lacks [$3]"; fi; }
duck() { node tests/ref/data_duck.mjs "$@"; }

$ONEREC synth --out "$T/w" --users 300 --test-frac 0.2 >"$T/synth.out" 2>"$T/synth.err" || bad "synth failed: $(tail -3 "$T/synth.err")"
expect_has "synth prints the oracle" "$(cat "$T/synth.out")" "oracle R@32"
E=.parquet; [ -f "$T/w/onerec_bench_release.parquet" ] || E=.jsonl
if [ $E = .parquet ]; then R="read_parquet"; FMT="FORMAT parquet"; else R="read_json_auto"; FMT="FORMAT json"; fi
RAW="$R('$T/w/onerec_bench_release$E')"

# 1. the documented schema, read by DuckDB
schema=$(duck "SELECT string_agg(column_name || ':' || column_type, ',') FROM (DESCRIBE SELECT * FROM $RAW)")
for col in uid split:INTEGER hist_video_pid:BIGINT[] hist_video_longview hist_video_not_interested target_video_pid:BIGINT[] \
    target_video_forward hist_ad_pid:BIGINT[] target_ad_pid hist_longview_video_list hist_goods_pid target_goods_pid \
    inter_user_profile_with_sid:VARCHAR inter_keyword_to_items:VARCHAR reco_gsu_caption:VARCHAR reco_target_caption:VARCHAR reco_cot:VARCHAR; do
    if [ $E = .jsonl ]; then col=${col/split:INTEGER/split}; fi
    expect_has "raw column $col" "$schema" "$col"
done
expect_eq "raw rows" "$(duck "SELECT count(*), count(DISTINCT uid) FROM $RAW")" "[[300,300]]"
expect_eq "flags aligned with pids" "$(duck "SELECT count(*) FROM $RAW WHERE len(hist_video_like) <> len(hist_video_pid) OR len(target_video_not_interested) <> len(target_video_pid)")" "[[0]]"
expect_eq "side files" "$(duck "SELECT (SELECT count(*) FROM $R('$T/w/pid2caption$E')), (SELECT count(*) FROM $R('$T/w/video_ad_pid2sid$E')) + (SELECT count(*) FROM $R('$T/w/product_pid2sid$E')), (SELECT min(len(sid)) FROM $R('$T/w/video_ad_pid2sid$E')), (SELECT min(len(embedding)) FROM $R('$T/w/video_ad_embeddings$E'))")" "[[1600,1600,3,32]]"
expect_has "pid2caption schema" "$(duck "SELECT string_agg(column_name || ':' || column_type, ',') FROM (DESCRIBE SELECT * FROM $R('$T/w/pid2caption$E'))")" "dense_caption:VARCHAR"

# 2. convert; the benchmark answers joined back to the raw rows by DuckDB
$ONEREC data convert --raw "$T/w" --out "$T/c" >"$T/conv.out" 2>"$T/conv.err" || bad "convert failed: $(tail -3 "$T/conv.err")"
B="$R('$T/c/benchmark/video/video_test$E')"
expect_eq "video answers = target_video_pid[:10]" \
    "$(duck "SELECT count(*), count(*) FILTER (WHERE CAST(json_extract(b.metadata, '\$.answer_pid') AS BIGINT[]) = r.target_video_pid[1:10]) FROM $B b JOIN $RAW r ON r.uid = CAST(json_extract(b.metadata, '\$.uid') AS BIGINT)")" \
    "$(duck "SELECT count(*), count(*) FROM $RAW WHERE split = 1")"
L="$R('$T/c/benchmark/label_pred/label_pred_test$E')"
expect_eq "label_pred labels = longview flags" \
    "$(duck "SELECT count(*) FILTER (WHERE CAST(json_extract(l.metadata, '\$.label') AS INT) <> r.target_video_longview[list_position(r.target_video_pid, CAST(json_extract(l.metadata, '\$.pid') AS BIGINT))]) FROM $L l JOIN $RAW r ON r.uid = CAST(json_extract(l.metadata, '\$.uid') AS BIGINT)")" "[[0]]"
expect_eq "training rows come from split 0" \
    "$(duck "SELECT count(*) FROM $R('$T/c/sft/video_rec$E')")" "$(duck "SELECT count(*) FROM $RAW WHERE split = 0")"
expect_eq "chat messages are system/user/assistant" \
    "$(duck "SELECT DISTINCT json_extract_string(messages, '\$[0].role') || json_extract_string(messages, '\$[2].role') FROM $R('$T/c/sft/ad_rec$E')")" '[["systemassistant"]]'
expect_eq "sources" "$(duck "SELECT DISTINCT source FROM $R('$T/c/pretrain/video_rec$E')")" '[["RecIF_VideoRec_Pretrain"]]'
[ -f "$T/c/benchmark/sid2pid.json" ] && ok || bad "no sid2pid.json"
for t in video ad product label_pred interactive label_cond item_understand rec_reason; do
    [ -f "$T/c/benchmark/$t/${t}_test$E" ] && ok || bad "no benchmark $t"
done

# 3. bad input: a mistyped and a missing column -> one clear error; bad rows -> counted, skipped
duck "COPY (SELECT * EXCLUDE (reco_cot) REPLACE (CAST(split AS VARCHAR) || 'x' AS split) FROM $RAW) TO '$T/bad1.out' ($FMT)" >/dev/null
mkdir -p "$T/bad1" && cp "$T/w"/*pid2sid$E "$T/w/pid2caption$E" "$T/bad1/" && mv "$T/bad1.out" "$T/bad1/onerec_bench_release$E"
msg=$($ONEREC data convert --raw "$T/bad1" --out "$T/cb1" 2>&1 >/dev/null); rc=$?
expect_eq "mistyped column exit code" "$rc" "1"
expect_has "error lists the missing column" "$msg" "missing: reco_cot"
expect_has "error lists the mistyped column" "$msg" "mistyped: split (string, expected int32)"
duck "COPY (SELECT * FROM $RAW UNION ALL SELECT * REPLACE (100000 AS uid, 0 AS split, []::BIGINT[] AS hist_video_pid, []::INT[] AS hist_video_longview, []::INT[] AS hist_video_like, []::INT[] AS hist_video_follow, []::INT[] AS hist_video_forward, []::INT[] AS hist_video_not_interested) FROM $RAW WHERE uid = 1 UNION ALL SELECT * REPLACE (100001 AS uid, 0 AS split, [987654321] || hist_video_pid[2:] AS hist_video_pid) FROM $RAW WHERE uid = 2 UNION ALL SELECT * REPLACE (100002 AS uid, [1] AS hist_video_like) FROM $RAW WHERE uid = 3) TO '$T/bad2.out' ($FMT)" >/dev/null
mkdir -p "$T/bad2" && cp "$T/w"/*pid2sid$E "$T/w/pid2caption$E" "$T/bad2/" && mv "$T/bad2.out" "$T/bad2/onerec_bench_release$E"
out=$($ONEREC data convert --raw "$T/bad2" --out "$T/cb2" 2>"$T/cb2.err"); rc=$?
expect_eq "bad rows do not stop convert" "$rc" "0"
expect_has "unreadable row counted" "$out" "unreadable 1)"
expect_has "unreadable row reported" "$(cat "$T/cb2.err")" "hist_video_like has 1 values"
expect_has "empty history counted" "$out" "1 empty histories"
# the unknown pid is referenced by pretrain video_rec, video_rec and product_rec: 3 references
expect_has "unknown pid counted" "$out" "dropped: 3 item references without SID"

# 4. shard, RL and distillation sets
$ONEREC data shard --out "$T/sh" --rows 1000 --shuffle "$T/c/sft/label_pred$E" "$T/c/sft/video_rec$E" >"$T/sh.out" 2>&1 || bad "shard failed"
n_in=$(duck "SELECT (SELECT count(*) FROM $R('$T/c/sft/label_pred$E')) + (SELECT count(*) FROM $R('$T/c/sft/video_rec$E'))")
expect_eq "shards hold every row" "$(duck "SELECT count(*) FROM $R('$T/sh/part-*$E')")" "$n_in"
expect_eq "shard of 1000 rows" "$(duck "SELECT count(*) FROM $R('$T/sh/part-00000-of-*$E')")" "[[1000]]"
expect_has "file_list.json" "$(cat "$T/sh/file_list.json")" "part-00000-of-0000"
$ONEREC data prepare rl --in "$T/c" --out "$T/rl" --test-size 100 >/dev/null 2>&1 || bad "prepare rl failed"
expect_eq "rl test size" "$(duck "SELECT count(*) FROM $R('$T/rl/test$E')")" "[[100]]"
expect_eq "rl sources" "$(duck "SELECT count(DISTINCT source) FROM $R('$T/rl/*$E')")" "[[5]]"
$ONEREC data prepare distill --out "$T/distill$E" --rows 50 "$T/w/general/general_sft$E" >/dev/null 2>&1 || bad "prepare distill failed"
expect_eq "distill rows" "$(duck "SELECT count(*), count(DISTINCT source) > 0 FROM $R('$T/distill$E')")" "[[50,true]]"

# 5. the command line itself
$ONEREC data convert --help >/dev/null && ok || bad "convert --help"
$ONEREC synth --users x --out "$T/x" >/dev/null 2>&1; expect_eq "bad number exit code" "$?" "2"
msg=$($ONEREC data convert --raw "$T/nowhere" --out "$T/x" 2>&1); expect_eq "missing raw dir exit code" "$?" "1"
expect_has "missing raw dir message" "$msg" "no video_ad_pid2sid.parquet or video_ad_pid2sid.jsonl"

# data segments: every line of the input in exactly one chunk (train or held out, in order), chunks
# of at least --chars, one continuation Chat row per trained chunk; DuckDB reads the tables
for i in $(seq 1 40); do echo "Line $i of the novel, with some words."; [ $((i % 7)) = 0 ] && echo; done > "$T/novel.txt"
out=$($ONEREC data segments --out "$T/seg$E" --test-out "$T/segt$E" --chat-out "$T/segc$E" --chars 120 --prompt-chars 40 \
  --test-frac 0.3 "$T/novel.txt" 2>&1); expect_eq "segments exit" "$?" "0"
expect_has "segments summary" "$out" "45 lines"
joined=$(duck "SELECT string_agg(t, ' ' ORDER BY k) FROM (SELECT CAST(split_part(uuid, '-', -1) AS INT) k,
  json_extract_string(segments, '\$[0].text') t FROM $R('$T/seg$E') UNION ALL SELECT CAST(split_part(uuid, '-', -1) AS INT),
  json_extract_string(segments, '\$[0].text') FROM $R('$T/segt$E'))" | /usr/bin/python3 -c "import json,sys; print(' '.join(json.load(sys.stdin)[0][0].split()))")
want=$(tr -s ' \n' ' ' < "$T/novel.txt")
expect_eq "segments: the chunks, in order, are the text" "$joined" "${want% }"
expect_eq "segments: one chat row per trained chunk" "$(duck "SELECT count(*) FROM $R('$T/segc$E')")" \
  "$(duck "SELECT count(*) FROM $R('$T/seg$E')")"
expect_eq "segments: chat prompts ask to continue" "$(duck "SELECT count(*) FROM $R('$T/segc$E') WHERE messages NOT LIKE '%Continue the text: Line%'")" "[[0]]"
msg=$($ONEREC data segments --out "$T/s2$E" "$T/none.txt" 2>&1); expect_eq "segments: missing input exit" "$?" "1"
expect_has "segments: missing input named" "$msg" "none.txt"
[ ! -e "$T/s2$E" ] && ok || bad "segments: output left after a failure"

echo "test_data_cli: $pass passed, $fail failed"
[ $fail = 0 ]
