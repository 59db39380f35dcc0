#!/usr/bin/env bash
# onerec train / convert end to end on a tiny Qwen3 and a toy world (tests/ref/train_fixture.py):
# stage 1 freezes every non-itemic parameter bitwise, stage 2 and SFT change all; the held-out
# loss falls in each stage; kill -9 mid-run + --resume_from reproduces the uninterrupted losses
# exactly; event files decode with protobuf; convert writes the bf16 rounding; bad inputs fail
# clearly and never leave a half checkpoint.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source tests/lib.sh
ONEREC=$ROOT/build/onerec
CHECK="$PY $ROOT/tests/ref/train_check.py"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
T=$tmp
# expect CONDITION MESSAGE [FILE]: FILE (checker output, stderr) is shown when the condition fails
expect() { if eval "$1"; then ok; else bad "$2"; [ -n "${3:-}" ] && [ -f "$3" ] && tail -5 "$3"; fi; }

$PY tests/ref/train_fixture.py "$T" >/dev/null || { echo "fixture failed"; echo "test_train_cli: 0 passed, 1 failed"; exit 1; }
cd "$T"
COMMON="--learning_rate 1e-2 --min_lr 1e-3 --num_warmup_steps 2 --micro_batch_size 2 --plot=false"
# eval/loss at step 0 and at the end, from the event files
eval_drop() {
    $CHECK events "$1" | $PY -c 'import json,sys; e=json.load(sys.stdin)["eval/loss"]; print("%.4f -> %.4f" % (e[0][1], e[-1][1])); sys.exit(0 if e[-1][1] < e[0][1] - 0.1 else 1)'
}

# ---- stage 1: LLM frozen, only itemic rows (>= 271) train
$ONEREC train --model_dir model --output_dir s1 --dataset_config pretrain.json --eval_dataset_config pretrain_eval.json \
    $COMMON --plot=true --num_training_steps 20 --save_checkpoint_per_step 10 --freeze_llm --start_optimize_embedding_index 271 \
    >s1.out 2>s1.err || bad "stage 1 run: $(tail -3 s1.err)"
expect '$CHECK frozen model s1/step20 271 >chk1 2>&1' "stage 1 froze non-itemic parameters" chk1
expect 'r=$(eval_drop s1) && echo "stage 1 held-out $r"' "stage 1 held-out loss falls"
expect '[ "$(cat s1/latest)" = step20 ] && [ -f s1/step10/optimizer.safetensors ] && [ -f s1/step20/trainer_state.json ] && [ -f s1/step20/tokenizer.json ]' "checkpoint layout"
expect '[ "$(head -c 4 s1/loss.png | tail -c 3)" = PNG ]' "loss.png plotted"
expect '[ -s s1/stdout.log ] && [ -s s1/stderr.log ] && [ -s s1/args.json ] && grep -Eq "\"freeze_llm\":[[:space:]]*true" s1/args.json' "logs and args.json"
expect '$CHECK events s1 | $PY -c "import json,sys; e=json.load(sys.stdin); need=[\"training/loss\",\"training/itemic_token_loss\",\"training/text_token_loss\",\"training/grad_norm\",\"training/learning_rate\",\"perf/tokens_per_sec\",\"perf/mfu\",\"data_source_loss/RecIF_VideoRec_Pretrain\",\"data_source_loss/RecIF_ItemUnderstand_Pretrain\"]; miss=[k for k in need if k not in e]; print(miss) if miss else None; sys.exit(1 if miss or len(e[\"training/loss\"]) != 20 else 0)"' "event file scalars (protobuf reader)"

# ---- stage 2 from the stage-1 checkpoint: all parameters
$ONEREC train --model_dir s1/step20 --output_dir s2 --dataset_config pretrain.json --eval_dataset_config pretrain_eval.json \
    $COMMON --num_training_steps 20 --save_checkpoint_per_step 20 >s2.out 2>s2.err || bad "stage 2 run: $(tail -3 s2.err)"
expect '$CHECK changed s1/step20 s2/step20 >chk2 2>&1' "stage 2 changes every tensor" chk2
expect 'r=$(eval_drop s2) && echo "stage 2 held-out $r"' "stage 2 held-out loss falls"

# ---- SFT (Chat, assistant-only loss, think pattern) from stage 2
$ONEREC train --model_dir s2/step20 --output_dir sft --dataset_config sft.json --eval_dataset_config sft_eval.json \
    $COMMON --num_training_steps 20 --save_checkpoint_per_step 20 >sft.out 2>sft.err || bad "SFT run: $(tail -3 sft.err)"
expect '$CHECK changed s2/step20 sft/step20 >chk3 2>&1' "SFT changes every tensor" chk3
expect 'r=$(eval_drop sft) && echo "SFT held-out $r"' "SFT held-out loss falls"

# ---- the same packed batches through a PyTorch loop (qwen3_ref.py + AdamW + clip + LambdaLR)
$ONEREC train --model_dir model --output_dir ref --dataset_config pretrain.json $COMMON --gradient_accumulation_steps 2 \
    --num_training_steps 8 --dump_batches ref.dump >/dev/null 2>ref.err || bad "run with --dump_batches"
$PY $ROOT/tests/ref/train_ref_loop.py model ref.dump --length 128 --micro 2 --accum 2 --steps 8 --lr 1e-2 --min_lr 1e-3 \
    --warmup 2 --pad 266 >ref.out 2>&1 || bad "reference loop"
expect 'paste <(grep "^step " ref/stdout.log) <(grep "^step " ref.out) | awk "{ d = \$4 - \$(NF - 2); g = \$10 - \$NF; if (d < 0) d = -d; if (g < 0) g = -g; if (d > 1e-5 * \$4 || g > 1e-4 * \$10) bad++; k++ } END { exit (bad || k != 8) }"' "steps equal PyTorch on the same batches" ref.out

# ---- the same SFT rows as Parquet shards (onerec data shard): identical losses
$ONEREC data shard --out pqsft --rows 60 sft/part-0000*.jsonl >/dev/null 2>pq.err || bad "data shard to parquet"
sed 's|sft/file_list.json|pqsft/file_list.json|' sft.json >sft_pq.json
for f in jsonl pq; do
    cfgf=$([ $f = pq ] && echo sft_pq.json || echo sft.json)
    $ONEREC train --model_dir model --output_dir "src_$f" --dataset_config $cfgf $COMMON --num_training_steps 5 \
        --save_checkpoint_per_step 5 >/dev/null 2>"src_$f.err" || bad "SFT from $f: $(tail -2 "src_$f.err")"
done
expect '[ -f pqsft/part-00000-of-00004.parquet ] && diff <(grep "^step " src_jsonl/stdout.log | cut -d" " -f1-4) <(grep "^step " src_pq/stdout.log | cut -d" " -f1-4) >/dev/null' "Parquet shards train exactly as the same JSONL rows"

# ---- convert: bf16 shards + index + tokenizer
$ONEREC convert --checkpoint sft --out hf --shard_gb 0.0001 >conv.out 2>conv.err || bad "convert: $(tail -3 conv.err)"
expect '[ -f hf/model.safetensors.index.json ] && [ -f hf/model-00001-of-00002.safetensors ] && [ -f hf/config.json ] && [ -f hf/tokenizer.json ]' "convert layout"
expect '$CHECK bf16 sft/step20 hf >chk4 2>&1' "convert writes the bf16 rounding" chk4

# ---- kill -9 mid-run, resume: the same losses as the uninterrupted run
RUN="--model_dir model --dataset_config pretrain.json $COMMON --max_length 256 --num_training_steps 60 --save_checkpoint_per_step 4"
$ONEREC train $RUN --output_dir full >/dev/null 2>&1 || bad "uninterrupted run"
$ONEREC train $RUN --output_dir cut >/dev/null 2>&1 &
pid=$!
# kill between two checkpoints: once step 6 is logged (the checkpoint of step 4 exists)
for _ in $(seq 1 3000); do [ "$(grep -c '^step ' cut/stdout.log 2>/dev/null)" -ge 6 ] 2>/dev/null && break; sleep 0.01; done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
killed_at=$(grep -c '^step ' cut/stdout.log)
expect '[ "$killed_at" -lt 60 ] && [ "$killed_at" -ge 4 ]' "killed mid-run (after $killed_at of 60 steps)"
$ONEREC train $RUN --output_dir cut --resume_from cut >/dev/null 2>cut.err || bad "resume: $(tail -3 cut.err)"
losses() { grep '^step ' "$1" | awk '{ line[$2] = $1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "$10" "$11" "$12 } END { for (s = 1; s <= 60; s++) print line[s] }'; }
expect 'diff <(losses full/stdout.log) <(losses cut/stdout.log) >resume.diff' "resumed losses equal the uninterrupted run" resume.diff
expect '[ -z "$(ls -a cut | grep partial)" ] && [ "$(cat cut/latest)" = step60 ]' "no partial checkpoint left"
expect 'cmp -s full/step60/model.safetensors cut/step60/model.safetensors' "resumed final weights are bitwise equal"

# ---- gradient checkpointing: the same steps, bitwise, from recomputed activations
GC="--model_dir model --dataset_config pretrain.json $COMMON --max_length 256 --num_training_steps 6 --save_checkpoint_per_step 6"
$ONEREC train $GC --output_dir keep >/dev/null 2>&1 || bad "run keeping activations"
$ONEREC train $GC --output_dir recomp --enable_gradient_checkpointing >/dev/null 2>recomp.err || bad "checkpointed run: $(tail -3 recomp.err)"
expect 'diff <(grep "^step " keep/stdout.log | cut -d" " -f1-12) <(grep "^step " recomp/stdout.log | cut -d" " -f1-12) >gc.diff' "checkpointed losses equal the normal run" gc.diff
expect 'cmp -s keep/step6/model.safetensors recomp/step6/model.safetensors' "checkpointed weights are bitwise equal"

# ---- bad inputs
expect '! $ONEREC train --model_dir model --output_dir b1 --dataset_config bad_key.json 2>e1 && grep -q "unknown key \"max_lenght\"" e1' "bad dataset config key" e1
expect '! $ONEREC train --model_dir model --output_dir b2 --dataset_config too_long.json 2>e2 && grep -q "no trainable tokens" e2' "no trainable tokens" e2
expect '! $ONEREC train --model_dir model --output_dir model/config.json/out --dataset_config pretrain.json 2>e3 && grep -q "output dir" e3' "unwritable output dir" e3
expect '! $ONEREC train --model_dir nowhere --output_dir b4 --dataset_config pretrain.json 2>e4 && grep -q "nowhere" e4' "missing model dir" e4
$ONEREC train --model_dir model --output_dir nan --dataset_config pretrain.json --micro_batch_size 2 --plot=false \
    --learning_rate 1e30 --min_lr 1e30 --num_warmup_steps 0 --max_grad_norm 0 --num_training_steps 10 --save_checkpoint_per_step 1 >/dev/null 2>e5
rc=$?
expect '[ $rc != 0 ] && grep -q "not finite" e5 && grep -q "last good checkpoint is nan/step" e5' "NaN loss stops with the last good checkpoint" e5
good=$(cat nan/latest 2>/dev/null)
expect '[ -n "$good" ] && [ -f "nan/$good/model.safetensors" ] && ! ls -a nan | grep -q partial' "NaN: the last good checkpoint is complete ($good)"
echo "test_train_cli: $pass passed, $fail failed"
[ $fail = 0 ]
