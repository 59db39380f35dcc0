#!/usr/bin/env bash
# Trainer throughput: `onerec train` vs a PyTorch loop (tests/ref/train_ref_loop.py: the hand-written
# Qwen3 of tests/ref/qwen3_ref.py, AdamW, clipping, schedule) over the SAME packed batches, on a
# Qwen3-shaped model (hidden 512, 4 layers, 8 q / 4 kv heads, head_dim 64, FFN 1536, vocabulary
# 151,936 tied) with 4 rows x 256 tokens per step, both on the same thread count.
# EXTRA="--enable_gradient_checkpointing" (or other train flags) goes to ours only; our peak RSS is printed.
# Last line: trainer ratio=R (ours=X ref=Y tokens/s)
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
STEPS=${STEPS:-6}
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
make -j"$(nproc)" >/dev/null
T=$(mktemp -d /tmp/onerec_bench_trainer.XXXXXX)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 tests/ref/train_fixture.py "$T" --dim 512 --layers 4 --heads 8 --kv 4 --head_dim 64 --ffn 1536 \
    --vocab 151936 --rows 400 >/dev/null
# long pretraining samples so the rows are full: 256-token rows
cat >"$T/bench.json" <<JSON
{"name": "chat_completion_parquet", "sources": "pretrain/file_list.json", "max_length": 256,
 "max_sample_length": 256, "num_epochs": 100, "cut_to_pad": 1, "local_shuffle_buffer_size": 0}
JSON
/usr/bin/time -f "%M" -o "$T/rss" build/onerec train ${EXTRA:-} --model_dir "$T/model" --output_dir "$T/out" --dataset_config "$T/bench.json" --micro_batch_size 4 \
    --num_training_steps "$STEPS" --num_warmup_steps 0 --learning_rate 1e-4 --min_lr 1e-5 --save_checkpoint_per_step 1000 \
    --plot=false --dump_batches "$T/batches.bin" >/dev/null 2>"$T/ours.err"
# ours: non-padding tokens over the wall time of steps 2.. (the first step allocates)
ours=$(grep '^step ' "$T/out/stdout.log" | awk 'NR > 1 { tok += $14; t += $14 / $16 } END { printf "%.1f", tok / t }')
ref=$(/usr/bin/python3 tests/ref/train_ref_loop.py "$T/model" "$T/batches.bin" --length 256 --micro 4 --steps "$STEPS" \
      --lr 1e-4 --min_lr 1e-5 --pad 266 --threads "$THREADS" | tee "$T/ref.out" | sed -n 's/^ref tokens_per_s=//p')
echo "ours: peak RSS $(($(cat "$T/rss") / 1024)) MiB ${EXTRA:-}"
echo "losses (ours | reference):"
paste <(grep '^step ' "$T/out/stdout.log" | cut -d' ' -f2,4) <(grep '^step ' "$T/ref.out" | cut -d' ' -f4)
awk -v o="$ours" -v r="$ref" 'BEGIN { printf "trainer ratio=%.2f (ours=%s ref=%s tokens/s)\n", o / r, o, r }'
