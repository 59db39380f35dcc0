#!/usr/bin/env bash
# Safety of outputs (README "Safety of outputs"): no command removes a path it did not create
# (init / convert onto a file or a directory of someone else's refuse without --force, and --force
# replaces that one path and nothing beside it); a failed run leaves nothing it created; two
# writers of one output dir: the second exits 1 at once naming the first's pid, the first finishes
# intact; temporaries of runs killed with -9 are removed on the next start there, those of live
# processes and names that only look alike are not.
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
ON=$PWD/build/onerec
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
check() { if eval "$2"; then ok; else bad "$1"; fi; }
# a PID that is certainly dead: a finished child of this shell
dead_pid() { sh -c 'exit 0' & wait $!; echo $!; }

$PY tests/ref/train_fixture.py "$tmp" >/dev/null || { echo "fixture failed"; echo "test_outputs: 0 passed, 1 failed"; exit 1; }
cd "$tmp"

# ---- 1. never remove what we did not create
echo x >notes.txt
$ON convert --checkpoint model --out notes.txt >/dev/null 2>e1
check "convert onto a file: exit 1, file kept" '[ $? = 1 ] && grep -q "notes.txt already exists (use --force" e1 && [ "$(cat notes.txt)" = x ]'
$ON init --config model/config.json --out notes.txt >/dev/null 2>e2
check "init onto a file: exit 1, file kept" '[ $? = 1 ] && grep -q "already exists" e2 && [ "$(cat notes.txt)" = x ]'
mkdir mine && echo important >mine/a.txt && echo also >mine.partial
$ON init --config model/config.json --out mine >/dev/null 2>e3
check "init onto a dir of other files: exit 1, files kept" '[ $? = 1 ] && [ "$(cat mine/a.txt)" = important ] && ! ls -d mine.tmp.* 2>/dev/null'
$ON convert --checkpoint model --out mine/ >/dev/null 2>e4
check "convert onto a dir: exit 1, files kept" '[ $? = 1 ] && [ "$(cat mine/a.txt)" = important ]'
$ON convert --checkpoint model --out mine --force >/dev/null 2>e5
check "convert --force replaces that dir and nothing beside it" \
    '[ $? = 0 ] && [ -f mine/config.json ] && [ ! -e mine/a.txt ] && [ "$(cat mine.partial)" = also ] && ! ls -d mine.tmp.* mine.old.* 2>/dev/null'
$ON init --config model/config.json --out notes.txt --force >/dev/null 2>e6
check "init --force replaces a file by the model dir" '[ $? = 0 ] && [ -f notes.txt/model.safetensors ]'
$ON init --config model/config.json --out fresh/deeper/m >/dev/null 2>e7
check "init into missing parents" '[ $? = 0 ] && [ -f fresh/deeper/m/config.json ]'

# ---- 11. a failed run removes what it created, and only that
$ON eval --model model --data nosuch --out ev1 >/dev/null 2>e8
check "failed eval leaves no --out" '[ $? = 1 ] && [ ! -e ev1 ]'
mkdir ev2 && echo keep >ev2/mine.txt
$ON eval --model model --data nosuch --out ev2 >/dev/null 2>e9
check "failed eval keeps an existing --out and its files" '[ $? = 1 ] && [ "$(cat ev2/mine.txt)" = keep ]'
$ON train --model_dir model --output_dir tr1/run --dataset_config bad_key.json >/dev/null 2>e10
check "failed train leaves no log dir (nor the parent it made)" '[ $? = 1 ] && [ ! -e tr1 ] && grep -q max_lenght e10'
$ON init --config nosuch.json --out never/m >/dev/null 2>e11
check "failed init leaves no parent dirs" '[ $? = 1 ] && [ ! -e never ]'

# ---- 2. one writer per output dir
COMMON="--model_dir model --dataset_config pretrain.json --learning_rate 1e-3 --micro_batch_size 2 --plot=false"
$ON train $COMMON --output_dir run --num_training_steps 600 --save_checkpoint_per_step 300 >run.out 2>run.err &
first=$!
for _ in $(seq 1 1000); do grep -q "pid $first" run/.onerec.lock 2>/dev/null && break; sleep 0.01; done
t0=$(date +%s%N)
$ON train $COMMON --output_dir run --num_training_steps 2 >second.out 2>second.err
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "second writer: exit 1 at once (${ms} ms), naming the holder" \
    '[ $rc = 1 ] && grep -q "run is in use by pid $first (onerec train)" second.err && [ $ms -lt 5000 ]'
kill -0 $first 2>/dev/null && still=1 || still=0
check "the first was still running when refused" '[ $still = 1 ]'
$ON rl --model model --data pretrain/part-00000-of-00004.jsonl --out run --steps 1 >/dev/null 2>rl.err
check "rl into the same dir is refused too" '[ $? = 1 ] && grep -q "pid $first" rl.err'
wait $first
check "the first finishes intact" '[ $? = 0 ] && [ "$(cat run/latest)" = step600 ] && [ -f run/step600/trainer_state.json ] && [ "$(grep -c "^step " run/stdout.log)" = 600 ]'
# every dir-writing command takes the lock (held here by this shell, fd 9, with a recorded holder)
mkdir held && echo "pid 4242 (onerec test)" >held/.onerec.lock
exec 9>>held/.onerec.lock && flock -n 9 || bad "cannot take the lock of held"
for cmd in "synth --out held --users 50" "data convert --raw nosuch --out held" "data shard --out held sft/part-00000-of-00004.jsonl" \
           "baseline world --out held --items 50 --users 20" "eval --model model --data nosuch --out held" \
           "distill --student model --teacher model --data x --out held" "demo --out held --size smoke"; do
    $ON $cmd >/dev/null 2>lk.err
    check "locked: $cmd" '[ $? = 1 ] && grep -q "held is in use by pid 4242 (onerec test)" lk.err'
done
check "a refused writer writes nothing" '[ "$(ls -A held)" = .onerec.lock ]'
exec 9>&-

# ---- 3. temporaries of killed runs
$ON synth --out W --users 3000 >/dev/null 2>&1 || bad "synth"
$ON data convert --raw W --out C >/dev/null 2>conv.err &
victim=$!
for _ in $(seq 1 2000); do [ -n "$(find C -name "*.tmp.$victim" 2>/dev/null | head -1)" ] && break; sleep 0.005; done
kill -9 $victim 2>/dev/null; wait $victim 2>/dev/null
left=$(find C -name "*.tmp.$victim" | wc -l)
check "kill -9 left temporaries ($left)" '[ "$left" -gt 0 ]'
live=$$; dead=$(dead_pid)
touch "C/other.tmp.$live" "C/user.tmp.notes" "C/benchmark.tmp.${dead}x"
mkdir -p C/deep/er && touch "C/deep/er/t.parquet.tmp.$dead"
$ON data convert --raw W --out C >/dev/null 2>conv2.err
check "the next run there removes them" '[ $? = 0 ] && [ -z "$(find C -name "*.tmp.$victim")" ] && [ ! -e "C/deep/er/t.parquet.tmp.$dead" ]'
check "a live process's temporary and look-alikes stay" '[ -e "C/other.tmp.$live" ] && [ -e C/user.tmp.notes ] && [ -e "C/benchmark.tmp.${dead}x" ]'
check "the removal is reported" 'grep -q "which no longer runs" conv2.err'
mkdir U && touch "U/theirs.tmp.$dead"
$ON baseline world --out U --items 50 --users 20 >/dev/null 2>&1
check "a dir onerec never wrote before keeps look-alikes" '[ $? = 0 ] && [ -e "U/theirs.tmp.$dead" ] && [ -s U/train.txt ]'
# a killed replace-mode output (vocab expand / init / convert: OUT.tmp.PID beside OUT)
mkdir "m2.tmp.$dead" "m2x.tmp.$dead" && head -c 100000 /dev/zero >"m2.tmp.$dead/model.safetensors"
$ON init --config model/config.json --out m2 >/dev/null 2>&1
check "init removes its dead temporary, not another output's" '[ $? = 0 ] && [ ! -e "m2.tmp.$dead" ] && [ -d "m2x.tmp.$dead" ]'
# a single-file output
touch "p.parquet.tmp.$dead" "p.parquet.tmp.$live"
$ON data prepare distill --out p.parquet --rows 5 sft/part-00000-of-00004.jsonl >/dev/null 2>&1
check "a file output removes its dead temporary" '[ $? = 0 ] && [ -s p.parquet ] && [ ! -e "p.parquet.tmp.$dead" ] && [ -e "p.parquet.tmp.$live" ]'
$ON data text --out W sft/part-00000-of-00004.jsonl >/dev/null 2>e12
check "a file output onto a directory: exit 1, dir kept" '[ $? = 1 ] && grep -q "W is a directory" e12 && [ -f W/world.json ]'

echo "test_outputs: $pass passed, $fail failed"
[ "$fail" = 0 ]
