#!/usr/bin/env bash
# Bad inputs across the commands, one table row each: the exit code (2: bad flags, 1: bad input,
# 0 where the right answer is to go on), a phrase the message must contain, and an output that
# must not be left behind. At the end: no temporary anywhere, and the files the rows aimed at
# (someone's notes, a dir of someone's files, the model) are byte-for-byte as before.
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
ON=$PWD/build/onerec
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
row 1 "nowhere.jsonl: No such file" tx.txt $ON data text --out tx.txt nowhere.jsonl
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

stray=$(find . -name '*.tmp.*' | head -3)
[ -z "$stray" ] && ok || bad "temporaries left behind: $stray"
sums | cmp -s - sums.before && ok || bad "files the rows aimed at changed"
echo "bad inputs: $rows tried, $good answered well"
echo "test_bad_inputs: $pass passed, $fail failed"
[ "$fail" = 0 ]
