#!/usr/bin/env bash
# Beam search for recommendation, ours vs a PyTorch implementation with a KV cache, on the same
# random Qwen3 (hidden 512, 4 layers, 8/4 heads, head_dim 64, FFN 1536, vocab 151,936 tied) and
# the same 512-token histories: width 32, 3 new tokens, users/s with the same thread count.
# Usage: bench/beam.sh [THREADS] [USERS]    Last line: beam ratio=R (ours=X ref=Y users/s)
set -eu
cd "$(dirname "$0")/.."
THREADS=${1:-2}
USERS=${2:-10}
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
make -s -j2 all bench >/dev/null
dir=$(mktemp -d /tmp/onerec_beam.XXXXXX)
cat > "$dir/config.json" <<'JSON'
{"model_type": "qwen3", "hidden_size": 512, "intermediate_size": 1536, "num_hidden_layers": 4,
 "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 64, "vocab_size": 151936,
 "max_position_embeddings": 4096, "tie_word_embeddings": true, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6}
JSON
build/onerec init --config "$dir/config.json" --out "$dir/model" --seed 1 --dtype F32 2>/dev/null
ours=$(build/bench/beam_bench "$dir/model" "$USERS" 32 3 512)
ref=$(/usr/bin/python3 tests/ref/beam_ref.py "$dir/model" "$USERS" 32 3 512 "$THREADS")
echo "$ours"
echo "$ref"
o=$(sed -E 's/.*users_per_s=([0-9.]+).*/\1/' <<<"$ours")
r=$(sed -E 's/.*users_per_s=([0-9.]+).*/\1/' <<<"$ref")
so=$(sed -E 's/.*top_score_sum=([-0-9.]+).*/\1/' <<<"$ours")
sr=$(sed -E 's/.*top_score_sum=([-0-9.]+).*/\1/' <<<"$ref")
echo "best-beam score sums: ours $so, reference $sr (same model, same histories)"
rm -rf "$dir"
echo "beam ratio=$(awk -v a="$o" -v b="$r" 'BEGIN { printf "%.2f", a / b }') (ours=$o ref=$r users/s)"
