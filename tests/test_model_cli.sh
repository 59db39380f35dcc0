#!/usr/bin/env bash
# onerec init / score: HF dirs written and read back (single file and shards, F32 and BF16),
# log-probs against the PyTorch reference (tests/ref/qwen3_ref.py score), bad inputs.
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
ON=$ONEREC
T=$tmp

cat >"$T/cfg.json" <<'J'
{"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
 "num_key_value_heads": 2, "head_dim": 24, "vocab_size": 300, "tie_word_embeddings": false,
 "rope_theta": 1000000.0, "rms_norm_eps": 1e-06, "max_position_embeddings": 512, "model_type": "qwen3",
 "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"}
J
printf '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n7\n\n10 20 30\n299 0 5 5 5 5\n' >"$T/ids.txt"

# numbers agree within tol (max abs diff), same line structure
cmp_lp() {
    $PY - "$1" "$2" "$3" <<'P'
import sys
a = open(sys.argv[1]).read().split("\n"); b = open(sys.argv[2]).read().split("\n")
assert len(a) == len(b), (len(a), len(b))
m = 0.0
for x, y in zip(a, b):
    xs, ys = x.split(), y.split()
    assert len(xs) == len(ys), (x, y)
    for u, v in zip(xs, ys): m = max(m, abs(float(u) - float(v)))
print(f"max abs diff {m:.2e}")
sys.exit(0 if m <= float(sys.argv[3]) else 1)
P
}

# 1. init + score (untied, F32) against the reference
if $ON init --config "$T/cfg.json" --out "$T/m" --seed 5 >/dev/null 2>"$T/err" && [ -f "$T/m/model.safetensors" ]; then ok; else bad "init"; cat "$T/err"; fi
$ON score --model "$T/m" <"$T/ids.txt" >"$T/ours.txt" 2>"$T/err" || { bad "score"; cat "$T/err"; }
$PY tests/ref/qwen3_ref.py score "$T/m" <"$T/ids.txt" >"$T/ref.txt"
if cmp_lp "$T/ours.txt" "$T/ref.txt" 1e-4; then ok; else bad "score vs reference"; fi
grep -q "torch_dtype" "$T/m/config.json" && ok || bad "extra config keys kept"
# packing several lines into one pass gives the same numbers as one line per pass
$ON score --model "$T/m" --max-tokens 1 <"$T/ids.txt" >"$T/ours1.txt" 2>/dev/null
if cmp_lp "$T/ours.txt" "$T/ours1.txt" 1e-5; then ok; else bad "packed vs unpacked"; fi

# 2. the same seed gives the same weights; shards and BF16 read back
$ON init --config "$T/cfg.json" --out "$T/ms" --seed 5 --shard-mb 0 >/dev/null 2>&1
$ON init --config "$T/cfg.json" --out "$T/mb" --seed 5 --dtype BF16 >/dev/null 2>&1
cmp -s "$T/m/model.safetensors" "$T/ms/model.safetensors" && ok || bad "init not deterministic"
$PY - "$T/cfg.json" "$T/mshard" <<'P'
import json, sys
c = json.load(open(sys.argv[1])); c["tie_word_embeddings"] = True; c["vocab_size"] = 4096; c["hidden_size"] = 128
json.dump(c, open(sys.argv[1] + ".tied", "w"))
P
$ON init --config "$T/cfg.json.tied" --out "$T/mt" --seed 1 --shard-mb 1 >/dev/null 2>"$T/err"
if [ -f "$T/mt/model.safetensors.index.json" ] && ! grep -q lm_head "$T/mt/model.safetensors.index.json"; then ok; else bad "sharded tied dir"; cat "$T/err"; fi
ls "$T"/mt/model-0000*-of-0000*.safetensors >/dev/null 2>&1 && ok || bad "shard files"
$ON score --model "$T/mt" <"$T/ids.txt" >"$T/ours_t.txt" 2>/dev/null
$PY tests/ref/qwen3_ref.py score "$T/mt" <"$T/ids.txt" >"$T/ref_t.txt"
if cmp_lp "$T/ours_t.txt" "$T/ref_t.txt" 1e-4; then ok; else bad "sharded tied score vs reference"; fi
$ON score --model "$T/mb" <"$T/ids.txt" >"$T/ours_b.txt" 2>/dev/null
$PY tests/ref/qwen3_ref.py score "$T/mb" <"$T/ids.txt" >"$T/ref_b.txt"
if cmp_lp "$T/ours_b.txt" "$T/ref_b.txt" 1e-4; then ok; else bad "bf16 score vs reference"; fi
# untied dirs carry lm_head.weight
$PY - "$T/m/model.safetensors" <<'P' && ok || bad "lm_head.weight in untied dir"
import json, struct, sys
raw = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", raw[:8])[0]; h = json.loads(raw[8:8 + n])
sys.exit(0 if "lm_head.weight" in h and h["__metadata__"]["format"] == "pt" else 1)
P

# 3. bad inputs: clear message naming the file/tensor, non-zero exit, nothing on stdout
check_bad() {   # kind needle
    $PY tests/ref/qwen3_ref.py corrupt "$1" "$T/m" "$T/bad_$1"
    echo "1 2 3" | $ON score --model "$T/bad_$1" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ $rc -ne 0 ] && [ ! -s "$T/out" ] && grep -q -- "$2" "$T/err"; then ok; else bad "$1: rc=$rc $(cat "$T/err")"; fi
}
check_bad missing-tensor 'tensor "model.layers.1.mlp.up_proj.weight" not found'
check_bad wrong-shape 'model.safetensors: tensor "model.layers.1.mlp.up_proj.weight" has shape \[64, 96\], expected \[96, 64\]'
check_bad wrong-dtype 'tensor "model.layers.1.mlp.up_proj.weight" has dtype I32'
check_bad truncated 'model.safetensors.*truncated'
check_bad bad-header 'model.safetensors: broken header JSON'
check_bad missing-field 'config.json.*hidden_size'
# init with a broken config writes nothing
echo '{"hidden_size": 64}' >"$T/broken.json"
if ! $ON init --config "$T/broken.json" --out "$T/never" >"$T/out" 2>"$T/err" && [ ! -e "$T/never" ] && grep -q "broken.json" "$T/err"; then ok; else bad "init broken config"; fi
if ! $ON init --config "$T/cfg.json" --out "$T/never" --tokenizer "$T/nowhere" 2>/dev/null && [ ! -e "$T/never" ]; then ok; else bad "init missing tokenizer"; fi
# bad token ids
if ! echo "1 2 x" | $ON score --model "$T/m" >/dev/null 2>"$T/err" && grep -q 'line 1: "x"' "$T/err"; then ok; else bad "bad id"; fi
if ! echo "1 300" | $ON score --model "$T/m" >/dev/null 2>"$T/err" && grep -q '300' "$T/err"; then ok; else bad "id out of range"; fi
# a tokenizer dir is copied
mkdir -p "$T/tok" && echo '{}' >"$T/tok/tokenizer.json" && echo '{}' >"$T/tok/tokenizer_config.json"
$ON init --config "$T/cfg.json" --out "$T/mtok" --tokenizer "$T/tok" >/dev/null 2>&1
[ -f "$T/mtok/tokenizer.json" ] && [ -f "$T/mtok/tokenizer_config.json" ] && ok || bad "tokenizer copy"

echo "test_model_cli: $pass passed, $fail failed"
[ $fail = 0 ]
