#!/usr/bin/env bash
# Bad inputs across the commands, one table row each: the exit code (2: bad flags, 1: bad input,
# 0 where the right answer is to go on), a phrase the message must contain, and an output that
# must not be left behind. At the end: no temporary anywhere, and the files the rows aimed at
# (someone's notes, a dir of someone's files, the model) are byte-for-byte as before.
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
ON=$PWD/build/onerec ROOT=$PWD
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
$PY tests/ref/train_fixture.py "$tmp" >/dev/null || { echo "fixture failed"; echo "test_bad_inputs: 0 passed, 1 failed"; exit 1; }
cd "$tmp"

# the fixtures the rows are bad with
echo x >notes.txt
mkdir mine && echo important >mine/a.txt
cp -r model trunc && truncate -s 1000 trunc/model.safetensors
cp -r model badcfg && echo '{' >badcfg/config.json
cp -r model absurd && printf '\377\377\377\377\377\377\377\177rest' >absurd/model.safetensors
echo '{"hidden_size": 64}' >short.json
: >empty.json
echo '1 2 3' >seqs.txt
# held: a dir whose lock this shell holds (fd 9), with a recorded holder
mkdir held && echo "pid 4242 (onerec test)" >held/.onerec.lock
exec 9>>held/.onerec.lock && flock -n 9 || bad "cannot take the lock of held"
# a world as JSON lines, one copy with a caption of invalid UTF-8, one with a pid given two SIDs
$ON synth --out wj --users 20 --format jsonl >/dev/null 2>&1 || bad "synth wj"
$ON data convert --raw wj --out cj >/dev/null 2>&1 || bad "data convert cj"
cp -r wj wbad && sed -i '1s/.*/{"pid":1,"dense_caption":"caf\xe9 latin-1"}/' wbad/pid2caption.jsonl
cp -r wj wdup && head -n 1 wj/video_ad_pid2sid.jsonl | sed 's/"sid":\[[0-9]*/"sid":[99/' >>wdup/video_ad_pid2sid.jsonl
node "$ROOT/tests/ref/bad_tables.cjs" dup-embeddings dup.parquet || bad "dup.parquet"
$ON sid train --embeddings dup.parquet --out cbd.safetensors --layers 2 --codebook 2 >/dev/null 2>&1 || bad "cbd"
cp -r model m100 && sed -i 's/"num_hidden_layers": *[0-9]*/"num_hidden_layers": 100/' m100/config.json
: >empty.txt
echo '{"messages": [{"role": "user", "content": 5}]}' >chat5.jsonl
echo '{"task": "video", "pred": 5, "answer": "<s_a_1><s_b_2><s_c_3>"}' >pred5.jsonl
echo '{"task": "vidoe", "pred": "<s_a_1><s_b_2><s_c_3>", "answer": "<s_a_1><s_b_2><s_c_3>"}' >typo.jsonl
printf 'user_id,item_id,timestamp\n1,10,1\n1,11,2\n1,12,3\n' >log.csv
# the newer commands' bad inputs: CSV logs, an R database that is not one, item text not in UTF-8
printf 'user_id,item_id,timestamp\n1,"10,2\n' >openq.csv
printf 'user_id,item_id,timestamp\n1,10,1\n1,x7,2\n' >nonnum.csv
printf 'user,item_id,timestamp\n1,10,1\n' >nocol.csv
printf 'item_id,title\n10,"caf\xe9"\n11,b\n12,c\n' >latin1.csv
printf 'user_id,item_id,timestamp\n1,10,1\n1,11,2\n1,12,3\n1,13\n' >short_row.csv
printf 'garbage' >bad.rdx && printf 'garbage' >bad.rdb
# temporaries of a dead run (its pid is gone) beside outputs the rows write: each must be removed
dead=$(bash -c 'echo $$')
for f in r.json ev.md e2.parquet seg.parquet; do : >"$f.tmp.$dead"; done
mkdir "ml.tmp.$dead"
sums() { find notes.txt mine model held -type f -print0 | sort -z | xargs -0 md5sum; }
sums >sums.before

rows=0; good=0
# row EXIT PHRASE LEFT cmd...: exits EXIT, prints PHRASE ("" when exit 0 is the point), leaves no LEFT ("-": none)
row() {
    local want=$1 phrase=$2 left=$3 why=""; shift 3
    rows=$((rows + 1))
    local out; out=$(timeout 120 "$@" 2>&1); local rc=$?
    [ "$rc" = "$want" ] || why="exit $rc, not $want"
    [ -z "$phrase" ] || grep -qF -- "$phrase" <<<"$out" || why="$why; no \"$phrase\""
    [ "$left" = - ] || [ ! -e "$left" ] || why="$why; $left left behind"
    if [ -z "$why" ]; then ok; good=$((good + 1)); else bad "$*: $why: $(head -c 400 <<<"$out")"; fi
}
# memory-bounded, so that an unbounded request fails instead of eating the machine
SMALL=(bash -c 'ulimit -v 4000000; exec "$@"' _)

# ---- the issue's cases: outputs of others are never removed, failed runs leave nothing
row 1 "notes.txt already exists (use --force" - $ON convert --checkpoint model --out notes.txt
row 1 "notes.txt already exists (use --force" - $ON init --config model/config.json --out notes.txt
row 1 "mine already exists (use --force" - $ON init --config model/config.json --out mine
row 1 "mine already exists (use --force" - $ON vocab expand --model model --out mine --layers 2 --codebook 4
row 1 "notes.txt exists and is not a directory" - $ON synth --out notes.txt --users 20
row 1 "notes.txt exists and is not a directory" - $ON data convert --raw nowhere --out notes.txt
row 1 "mine is a directory: give a file name" - $ON data text --out mine sft/part-00000-of-00004.jsonl
row 1 "nowhere/sid2pid.json is missing" ev $ON eval --model model --data nowhere --out ev
row 1 'unknown key "max_lenght"' tr $ON train --model_dir model --output_dir tr --dataset_config bad_key.json
row 1 "nowhere" rl1 $ON rl --model model --data nowhere.jsonl --out rl1
row 1 "nowhere" d1 $ON distill --student model --teacher model --data nowhere.jsonl --out d1
row 1 "held is in use by pid 4242 (onerec test)" - $ON eval --model model --data nowhere --out held
row 1 "held is in use by pid 4242 (onerec test)" - $ON train --model_dir model --output_dir held --dataset_config pretrain.json
# generate: padding rows of the embedding (vocab 384 > 321 tokenizer ids) are never sampled or beamed
row 0 "" - $ON generate --model model --prompt hello --temperature 2 --max-new 30 --seed 3
row 0 "" - $ON generate --model model --prompt hello --temperature 5 --top-k 0 --max-new 60 --seed 11
row 0 "" - $ON generate --model model --prompt hello --beam 16 --beam-steps 3
# generate: an absurd length is capped by the model's context, said on stderr
row 0 "max_new 100000000: capped to 4094" - "${SMALL[@]}" $ON generate --model model --prompt hi --max-new 100000000
row 0 "beam_steps 100000000: capped to" - "${SMALL[@]}" $ON generate --model model --prompt hi --beam 2 --beam-steps 100000000

# ---- flags (exit 2)
row 2 'unknown flag "--bogus"' i1 $ON init --config model/config.json --out i1 --bogus
row 2 "missing required flag --config" i1 $ON init --out i1
row 2 'unknown command "nosuch"' - $ON nosuch
row 2 '--num_training_steps: cannot read "abc"' t1 $ON train --model_dir model --output_dir t1 --dataset_config pretrain.json --num_training_steps abc
row 2 "give exactly one of --prompt and --chat" - $ON generate --model model
row 2 "--max-new >= 0" - $ON generate --model model --prompt hi --max-new -5
row 2 "--beam in 0..256" - $ON generate --model model --prompt hi --beam 300
row 2 "--shard-mb -1: must be >= 0" i2 $ON init --config model/config.json --out i2 --shard-mb -1
row 2 "--exclude-history needs --constrain" ev2 $ON eval --model model --data nowhere --out ev2 --exclude-history
row 2 "no input tables given" sh1 $ON data shard --out sh1

# ---- inputs (exit 1, the message names the file and what is wrong)
row 1 "nowhere.parquet: cannot open" - $ON parquet schema nowhere.parquet
row 1 "model: a directory, not a Parquet file" - $ON parquet schema model
row 1 "notes.txt: 2 bytes is too short for Parquet" - $ON parquet head notes.txt
row 1 "trunc/model.safetensors: header length 2664 runs past the end of the file" - $ON score --model trunc
row 1 "absurd/model.safetensors: header length" - $ON score --model absurd
row 1 "badcfg/config.json: invalid JSON" - $ON generate --model badcfg --prompt hi
row 1 'short.json: missing key "intermediate_size"' i3 $ON init --config short.json --out i3
row 1 "empty.json: invalid JSON near byte 0" i4 $ON init --config empty.json --out i4
row 1 "--chat: invalid JSON" - $ON generate --model model --chat '[{'
row 1 "model is a directory, not a file" - $ON eval --predictions model
row 1 "model is a directory, not a file" tok.json $ON tokenizer train --input model --vocab-size 300 --out tok.json
row 1 "nowhere.json: No such file" - $ON tokenizer encode --tokenizer nowhere.json
row 1 "embeddings: file model: a directory, not a Parquet file" cb.safetensors $ON sid train --embeddings model --out cb.safetensors
row 1 "codebook: notes.txt: truncated" p.parquet $ON sid encode --codebook notes.txt --embeddings notes.txt --out p.parquet
row 1 "nowhere.parquet: cannot open" e.parquet $ON embed --model model --input nowhere.parquet --out e.parquet
row 1 "nowhere: no video_ad_pid2sid" c1 $ON data convert --raw nowhere --out c1
row 1 "nowhere.parquet: cannot open" sh2 $ON data shard --out sh2 nowhere.parquet
row 1 "nowhere: no sft/video_rec" rl2 $ON data prepare rl --in nowhere --out rl2
row 1 "nowhere.jsonl: cannot open" tx.txt $ON data text --out tx.txt nowhere.jsonl
row 1 "world: users, videos, ads and products must all be at least 1" s1 $ON synth --out s1 --users 0
row 1 "model dir nowhere does not exist" v1 $ON vocab expand --model nowhere --out v1
row 1 "nowhere: no such file" c2 $ON convert --checkpoint nowhere --out c2
row 1 "trunc/model.safetensors: header length" t2 $ON train --model_dir trunc --output_dir t2 --dataset_config pretrain.json
row 1 "dataset config: cannot open nowhere.json" t3 $ON train --model_dir model --output_dir t3 --dataset_config nowhere.json
row 1 "nowhere: no such file" - $ON test-model --model nowhere
row 1 "notes.txt: not a baseline file" - $ON baseline eval --model notes.txt --test seqs.txt
row 1 "nowhere: No such file" b.bin $ON baseline train --train nowhere --out b.bin
row 1 "nowhere.parquet: cannot open" - $ON recommend --model model --history 1,2 --pid2sid nowhere.parquet
row 1 '"99999" is not a token id in [0, 384)' - bash -c "echo '99999 1' | $ON score --model model"

# ---- issue 21, defects 6-11: refused with the reason, not turned into silent damage
row 1 "pid 1: dense_caption has invalid UTF-8 at byte 3" c3 $ON data convert --raw wbad --out c3
row 1 "pid 1 appears twice" c4 $ON data convert --raw wdup --out c4
row 1 "dup.parquet: pid 3 appears twice (rows 2 and 4)" dp.parquet $ON sid encode --codebook cbd.safetensors --embeddings dup.parquet --out dp.parquet --dedup balance
row 2 "--test-size -5: must be >= 0" rl3 $ON data prepare rl --in cj --out rl3 --test-size -5
row 1 "leaves no training rows" rl4 $ON data prepare rl --in cj --out rl4 --test-size 100000000
row 2 "--start_optimize_embedding_index 100000: must be below the model's vocabulary (384 rows)" t4 $ON train --model_dir model --output_dir t4 --dataset_config pretrain.json --freeze_llm --start_optimize_embedding_index 100000
row 1 "config.json declares 100 layers (num_hidden_layers) but the weights have no model.layers.2" v2 $ON vocab expand --model m100 --out v2 --layers 2 --codebook 4
row 1 "line 1: message 0: content must be a string" - bash -c "$ON tokenizer chat --tokenizer model/tokenizer.json <chat5.jsonl"
row 0 "tokE.json: 261 tokens, not the 300 asked for" - $ON tokenizer train --input empty.txt --vocab-size 300 --out tokE.json
row 1 '"pred"/"answer" must be SID strings or integers' - $ON eval --predictions pred5.jsonl
row 1 'unknown task "vidoe"' - $ON eval --predictions typo.jsonl
row 2 "--width -3: must be in 1..256" ev3 $ON eval --model model --data nowhere --out ev3 --width -3
row 2 "--beam in 0..256" - $ON generate --model model --prompt hi --beam -4
row 2 "--temperature -1: must be >= 0" - $ON generate --model model --prompt hi --temperature -1
row 2 "--top-p -1: must be in (0, 1]" - $ON generate --model model --prompt hi --top-p -1
row 2 "--temperature -1: must be >= 0" rl7 $ON rl --model model --data cj/sft/video_rec.jsonl --out rl7 --temperature -1
row 2 "--std -1: must be >= 0" i5 $ON init --config model/config.json --out i5 --std -1
row 2 "--max_length -5: must be >= 0" t5 $ON train --model_dir model --output_dir t5 --dataset_config pretrain.json --max_length -5
row 2 "--offset -3: must be >= 0" - $ON parquet head dup.parquet --offset -3
row 1 "model/model.safetensors is a weights file: give the model directory" - $ON generate --model model/model.safetensors --prompt hi
sed 's/"vocab_size": *384/"vocab_size": 300/' model/config.json >cfg300.json
$ON init --config cfg300.json --out small --tokenizer model >/dev/null 2>&1 || bad "init small"
row 1 "the tokenizer has 321 tokens but the embedding only 300 rows" - $ON generate --model small --prompt hi
row 2 "--k 768: must be in 1..256" - $ON recommend --model model --history 1,2 --pid2sid wj/video_ad_pid2sid.jsonl --k 768
row 2 "--history is empty" - $ON recommend --model model --history "" --pid2sid wj/video_ad_pid2sid.jsonl
row 0 "beams were not SIDs and were left out" - $ON recommend --model model --history 1,2 --pid2sid wj/video_ad_pid2sid.jsonl
out=$($ON recommend --model model --history 1,2 --pid2sid wj/video_ad_pid2sid.jsonl 2>/dev/null)
grep -q -- '-1>' <<<"$out" && bad "recommend printed a code -1: $out" || ok
# one usage status from the library: a flag's value out of its range or choices exits 2 everywhere
row 2 "--dtype f8: use bf16, f16 or f32" c5 $ON convert --checkpoint model --out c5 --dtype f8
row 2 '--format must be parquet or jsonl (got "csv")' s3 $ON synth --out s3 --users 20 --format csv
row 2 '--format must be parquet or jsonl (got "csv")' c6 $ON data convert --raw wj --out c6 --format csv
row 2 'unknown RL algorithm "nosuch"' rl5 $ON rl --model model --data cj/sft/video_rec.jsonl --out rl5 --algo nosuch
row 2 "unknown dedup mode 'nosuch'" dq.parquet $ON sid encode --codebook cbd.safetensors --embeddings dup.parquet --out dq.parquet --dedup nosuch
row 2 "--shard-mb -1: must be >= 0" v3 $ON vocab expand --model model --out v3 --layers 2 --codebook 4 --shard-mb -1
row 2 'unknown baseline "nosuch"' b2.bin $ON baseline train --train seqs.txt --kind nosuch --out b2.bin
# a missing table is said to be missing, whatever its name ends with
row 1 "nowhere: cannot open" rl6 $ON rl --model model --data nowhere --out rl6
row 1 "nowhere: cannot open" d2 $ON distill --student model --teacher model --data nowhere --out d2
# --force replaces the output, never what the command reads
row 2 "--out model holds the input model" - $ON convert --checkpoint model --out model --force
row 2 "--out model holds the input model/config.json" - $ON init --config model/config.json --out model --force
row 2 "--out model holds the input model" - $ON vocab expand --model model --out model --layers 2 --codebook 4 --force
row 2 "--out . holds the input log.csv" - $ON data import --interactions log.csv --out . --force
# the outdir rules in the newer commands: locks, and a dead run's temporaries cleaned (checked below)
row 1 "held is in use by pid 4242 (onerec test)" - $ON data import --interactions log.csv --out held
row 1 "" - $ON eval --predictions typo.jsonl --results r.json --markdown ev.md
row 1 "nowhere.parquet: cannot open" e2.parquet $ON embed --method tfidf --input nowhere.parquet --out e2.parquet
row 1 "nowhere.txt" seg.parquet $ON data segments --out seg.parquet nowhere.txt
row 1 "nowhere" ml $ON data movielens --db nowhere --out ml

# ---- the newer commands (data import, data movielens, data segments, embed --method)
row 1 "openq.csv: line 3: a quoted field opened on line 2 is never closed" i6 $ON data import --interactions openq.csv --out i6
row 1 'nonnum.csv: line 3, column item_id: "x7" is not an integer' i7 $ON data import --interactions nonnum.csv --out i7
row 1 'nocol.csv has no column "user_id" (--user-col)' i8 $ON data import --interactions nocol.csv --out i8
row 1 "latin1.csv: line 2, column title: invalid UTF-8" i9 $ON data import --interactions log.csv --items latin1.csv --text-cols title --out i9
row 1 "short_row.csv: line 5" i10 $ON data import --interactions short_row.csv --out i10
row 1 "cannot open nowhere.csv" i11 $ON data import --interactions nowhere.csv --out i11
row 2 "--kcore and --max-history must be >= 0" i12 $ON data import --interactions log.csv --out i12 --kcore -1
row 1 "notes.txt exists and is not a directory" - $ON data import --interactions log.csv --out notes.txt
row 1 "mine exists and is not empty" - $ON data import --interactions log.csv --out mine
row 1 'bad.rdx: byte 0: bad magic' ml2 $ON data movielens --db bad --out ml2
row 1 "notes.txt exists and is not a directory" - $ON data movielens --db bad --out notes.txt
row 1 "mine is not empty" - $ON data movielens --db bad --out mine
row 2 "no input text files given" seg2.parquet $ON data segments --out seg2.parquet
row 1 "mine is a directory: give a file name" - $ON data segments --out mine notes.txt
row 2 "--method nosuch: want model, tfidf, cooc or mix" e3.parquet $ON embed --method nosuch --input nowhere.parquet --out e3.parquet
row 2 "--dim 0: must be at least 1" e3.parquet $ON embed --method tfidf --input nowhere.parquet --out e3.parquet --dim 0
row 2 "--alpha 2: must be in [0, 1]" e3.parquet $ON embed --method mix --input a.parquet --raw b.parquet --out e3.parquet --alpha 2
row 2 "--projection pca: want svd or random" e3.parquet $ON embed --method tfidf --input a.parquet --out e3.parquet --projection pca
row 2 "--model is for --method model, not tfidf" e3.parquet $ON embed --method tfidf --model model --input a.parquet --out e3.parquet
row 2 "--method cooc needs the interactions (--raw)" e3.parquet $ON embed --method cooc --out e3.parquet
row 1 "mine is a directory: give a file name" - $ON embed --method tfidf --input dup.parquet --out mine

stray=$(find . -name '*.tmp.*' | head -3)
[ -z "$stray" ] && ok || bad "temporaries left behind: $stray"
sums | cmp -s - sums.before && ok || bad "files the rows aimed at changed"
echo "bad inputs: $rows tried, $good answered well"
echo "test_bad_inputs: $pass passed, $fail failed"
[ "$fail" = 0 ]
