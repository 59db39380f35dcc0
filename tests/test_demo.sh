#!/usr/bin/env bash
# The whole pipeline end to end at the smoke size (a few steps per stage): every stage runs, the
# report and results are written, a second run skips every stage, and bad flags fail cleanly.
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
check() { if eval "$2"; then ok; else bad "$1"; fi; }
out=$tmp/demo
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 build/onerec demo --out "$out" --size smoke > "$out.log" 2>&1
rc=$?
check "demo exits 0" "[ $rc = 0 ]"
[ $rc = 0 ] || tail -20 "$out.log"
check "report written" "[ -s $out/report.md ]"
check "every stage marked done" "[ \$(ls $out/.done | wc -l) -ge 27 ]"
check "results have the model stages and baselines" \
  "/usr/bin/python3 -c \"import json,sys; r=json.load(open('$out/results.json')); sys.exit(0 if all(s in r for s in ['rl','sft','distill','stage2','popularity','sasrec','oracle']) else 1)\""
check "constrained beams name only real items" \
  "/usr/bin/python3 -c \"import json,sys; r=json.load(open('$out/results.json'))['rl_constrained']; sys.exit(0 if all(r[t]['invalid_beam_rate'] == 0 for t in ['video','ad','product']) else 1)\""
check "the report lists the commands" "grep -q 'onerec rl --algo grpo' $out/report.md"
check "RL logged its reward" "grep -q '\"reward\"' $out/runs/rl/stdout.log"
check "the stage-1 finding is scored on the held-out set" "grep -q 'held-out itemic-token loss [0-9.]* -> [0-9.]*, text-token loss [0-9.]* -> ' $out/report.md"
# the held-out split, pooled, is the trainer's own held-out loss of the same rows (before stage 1)
build/onerec train --model_dir "$out/models/base_itemic" --output_dir "$out/heldout_check" --dataset_config "$out/config/pretrain.json" \
  --eval_dataset_config "$out/config/heldout.json" --eval_rows 64 --num_training_steps 1 --learning_rate 1e-9 --min_lr 0 > /dev/null 2>&1
check "held-out itemic/text losses pool to the trainer's eval loss" "/usr/bin/python3 -c \"
import re,sys
m=re.search(r'held-out itemic-token loss ([0-9.]+) -> [0-9.]+, text-token loss ([0-9.]+) -> [0-9.]+ \\(([0-9]+) itemic and ([0-9]+) text', open('$out/report.md').read())
li,lt,ni,nt=float(m[1]),float(m[2]),int(m[3]),int(m[4])
ev=float(open('$out/heldout_check/eval.tsv').readline().split()[1])
sys.exit(0 if ni > 0 and nt > 0 and abs((li*ni+lt*nt)/(ni+nt)-ev) < 2e-3 else 1)\""
check "plots" "[ -s $out/plots/loss_sft.png ] || [ -s $out/plots/loss_sft.dat ]"
# the commands a user runs on the demo's models
sft="$out/runs/sft/step4"; rl="$out/runs/rl/step2"
build/onerec generate --model "$sft" --chat '[{"role":"user","content":"hi"}]' --max-new 4 > "$out.gen" 2>&1
check "generate a chat" "[ \$? = 0 ]"
build/onerec test-model --model "$sft" --max-new 4 > "$out.tm" 2>&1
check "test-model runs the 4 default cases" "[ \$(grep -c '^== ' $out.tm) = 4 ]"
build/onerec recommend --model "$rl" --history "1,2,3" --pid2sid "$out/sid/video_ad_pid2sid.parquet" --k 5 --constrain > "$out.rec" 2>/dev/null
check "recommend: 5 real items" "[ \$(tail -n +2 $out.rec | awk '\$2 >= 0' | wc -l) = 5 ]"
build/onerec eval --model "$rl" --data "$out/data/benchmark" --out "$out/e2" --tasks nosuch > /dev/null 2> "$out.err"
check "eval: unknown task is an error" "[ \$? = 2 ] && grep -q 'unknown task' $out.err"
build/onerec eval --model "$rl" --data "$out/data/benchmark" --out "$out/exh" --tasks video,product --constrain --exclude-history \
    --max-samples 3 > /dev/null 2>&1
check "eval --constrain --exclude-history: real items only" \
  "/usr/bin/python3 -c \"import json,sys; r=json.load(open('$out/exh/results.json'))['model']; sys.exit(0 if all(r[t]['invalid_beam_rate'] == 0 for t in ['video','product']) else 1)\""
check "eval: items_video.jsonl, one line per user, every item a real pid, ndcg beside recall" "/usr/bin/python3 -c \"
import json,sys
rows=[json.loads(l) for l in open('$out/exh/items_video.jsonl')]
pids=set(json.load(open('$out/data/benchmark/sid2pid.json')) and [p for v in json.load(open('$out/data/benchmark/sid2pid.json')).values() for p in v])
r=json.load(open('$out/exh/results.json'))['model']['video']
sys.exit(0 if len(rows) == 3 and all(isinstance(x['user_id'], int) and x['items'] and set(x['items']) <= pids for x in rows) and 'pid_ndcg@32' in r else 1)\""
build/onerec eval --model "$rl" --data "$out/data/benchmark" --out "$out/exh2" --tasks video --exclude-history > /dev/null 2> "$out.err"
check "eval: --exclude-history without --constrain is refused" "[ \$? = 2 ] && grep -q 'needs --constrain' $out.err"
build/onerec rl --model "$sft" --data "$out/rl/train.parquet" --out "$out/rlx" --steps 1 --width 2 --prompts 1 --exclude-history \
    > /dev/null 2> "$out.err"
check "rl: --exclude-history without --constrain is refused" "[ \$? = 2 ] && grep -q 'needs --constrain' $out.err"
build/onerec rl --model "$sft" --data /nonexistent.parquet --out "$out/rl2" --steps 1 --width 2 --prompts 1 > /dev/null 2> "$out.err"
check "rl: missing data names the file" "[ \$? = 1 ] && grep -q nonexistent $out.err"
# resume: 2 steps with a checkpoint at 1, then continue to 3 from the output dir
build/onerec rl --model "$sft" --data "$out/rl/train.parquet" --out "$out/rl3" --steps 2 --width 4 --prompts 1 --save-every 1 > /dev/null 2>&1
build/onerec rl --model "$sft" --data "$out/rl/train.parquet" --out "$out/rl3" --steps 3 --width 4 --prompts 1 --save-every 1 --resume-from "$out/rl3" > /dev/null 2>&1
check "rl resumes from its latest checkpoint" "[ -d $out/rl3/step3 ] && [ \$(grep -c '\"step\": 3' $out/rl3/stdout.log) = 1 ]"
# the same rl (sampled reasoning, KL) and distill with the same seed on 2 threads, twice: the same
# weights and the same logged numbers (the times aside)
for i in 1 2; do
    OMP_NUM_THREADS=2 build/onerec rl --model "$sft" --data "$out/rl/train.parquet" --out "$out/rr$i" --steps 2 --width 16 \
        --prompts 4 --max-think 6 --kl-coef 0.01 --lr 1e-3 --seed 5 --reward prefix \
        --constrain "$out/sid/video_ad_pid2sid.parquet" > /dev/null 2>&1
    OMP_NUM_THREADS=2 build/onerec distill --student "$sft" --teacher "$out/runs/base/step4" --data "$out/distill/train.parquet" \
        --out "$out/dd$i" --steps 2 --prompts 2 --max-new 8 --lr 1e-3 --seed 5 > /dev/null 2>&1
    sed -E 's/"[a-z_]+_s": [0-9.]+//g' "$out/rr$i/stdout.log" > "$out/rr$i.log"
    sed -E 's/"[a-z_]+_s": [0-9.]+//g' "$out/dd$i/stdout.log" > "$out/dd$i.log"
done
# (the smoke model's prefix rewards differ within a group, so the runs do update the weights)
check "rl twice with one seed: identical weights and logs" \
  "grep -q '\"skipped\": 0' $out/rr1.log && cmp -s $out/rr1/step2/model.safetensors $out/rr2/step2/model.safetensors && cmp -s $out/rr1.log $out/rr2.log"
check "distill twice with one seed: identical weights and logs" \
  "[ -s $out/dd1.log ] && cmp -s $out/dd1/step2/model.safetensors $out/dd2/step2/model.safetensors && cmp -s $out/dd1.log $out/dd2.log"
OMP_NUM_THREADS=2 build/onerec rl --model "$sft" --data "$out/rl/train.parquet" --out "$out/rr3" --steps 2 --width 16 \
    --prompts 4 --max-think 6 --kl-coef 0.01 --lr 1e-3 --seed 6 --reward prefix \
    --constrain "$out/sid/video_ad_pid2sid.parquet" > /dev/null 2>&1
check "rl: another seed gives other weights (other prompts, other reasoning)" \
  "[ -d $out/rr3/step2 ] && ! cmp -s $out/rr1/step2/model.safetensors $out/rr3/step2/model.safetensors"
build/onerec rl --model "$sft" --data "$out/rl/train.parquet" --out "$out/rs" --steps 1 --width 4 --prompts 2 --group samples > /dev/null 2>&1
check "rl --group samples runs" "[ -d $out/rs/step1 ]"
build/onerec rl --model "$sft" --data "$out/rl/train.parquet" --out "$out/rs2" --steps 1 --width 4 --prompts 1 --group samples \
    --max-think 4 > /dev/null 2> "$out.err"
check "rl: sampled groups with a reasoning budget are refused" "[ \$? = 1 ] && grep -q 'need --max-think 0' $out.err"
build/onerec eval --model "$sft" --data "$out/data/benchmark" --out "$out/ej" --tasks rec_reason,item_understand --max-samples 2 --judge "$sft" > /dev/null 2>&1
check "eval --judge scores the text tasks with a judge model" \
  "/usr/bin/python3 -c \"import json,sys; r=json.load(open('$out/ej/results.json'))['model']; sys.exit(0 if 1 <= r['rec_reason']['judge'] <= 5 and 0 <= r['item_understand']['judge'] <= 1 and 'judge_unparsable' in r['rec_reason'] else 1)\""
# distillation refuses a teacher whose base vocabulary differs from the student's
head -c 20000 README.md > "$out.txt"
mkdir -p "$out/othertok"
build/onerec tokenizer train --input "$out.txt" --vocab-size 300 --out "$out/othertok/tokenizer.json" > /dev/null 2>&1
printf '{"model_type":"qwen3","hidden_size":16,"intermediate_size":32,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"head_dim":8,"vocab_size":320,"max_position_embeddings":512,"tie_word_embeddings":true,"rope_theta":10000.0,"rms_norm_eps":1e-6}' > "$out/other.json"
build/onerec init --config "$out/other.json" --out "$out/other" --tokenizer "$out/othertok" > /dev/null 2>&1
build/onerec distill --student "$sft" --teacher "$out/other" --data "$out/distill/train.parquet" --out "$out/d2" --steps 1 > /dev/null 2> "$out.err"
check "distill: a teacher with another vocabulary is refused" "[ \$? = 1 ] && grep -q 'different base vocabularies' $out.err"
rm -f "$out.txt"
for algo in dapo gpg ppo; do
    build/onerec rl --algo $algo --model "$sft" --data "$out/rl/train.parquet" --out "$out/rl_$algo" --steps 1 --width 4 --prompts 2 > /dev/null 2> "$out.err"
    check "rl --algo $algo runs" "[ \$? = 0 ] && [ -d $out/rl_$algo/step1 ]"
done
rm -f "$out.gen" "$out.tm" "$out.rec"
OMP_NUM_THREADS=1 build/onerec demo --out "$out" --size smoke > "$out.log2" 2>&1
check "a second run skips every stage" "[ \$(grep -c 'already complete' $out.log2) -ge 25 ]"
build/onerec demo --size huge --out "$out/x" > /dev/null 2> "$out.err"
check "bad size is an error" "[ \$? = 2 ] && grep -q 'size must be' $out.err"
rm -rf "$out" "$out.log" "$out.log2" "$out.err"
echo "test_demo: $pass passed, $fail failed"
