#!/usr/bin/env bash
# Semantic-ID quality of model-free item embeddings on the synthetic world: for each embedding
# source (onerec embed --method tfidf|cooc|mix, and the world's own planted-structure embeddings),
# `sid train --codebook K --layers 3` + `sid encode --dedup none`, then the SID collision rate and
# how well the level-1 codes recover the planted topics (NMI, purity; bench/embed_quality.py).
# Not part of `make test`. usage: bench/embed_quality.sh [DIR=/tmp/embq] [CODEBOOK=32] [-- extra embed flags]
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-/tmp/embq}; K=${2:-32}
shift $(($# < 2 ? $# : 2)); [ "${1:-}" = -- ] && shift
EXTRA=("$@")
O=./build/onerec
PY=/usr/bin/python3
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
make -s -j2 build/onerec
W=$D/world
[ -f "$W/world.json" ] || $O synth --out "$W" --lang en >/dev/null 2>&1
for f in video_ad product; do $O parquet cat "$W/${f}_pid2sid.parquet" >"$D/$f.planted.jsonl"; done
# the world's own embeddings are two files (video+ad, product): one table for one codebook
if [ ! -f "$D/synth.parquet" ]; then
    cat <($O parquet cat "$W/video_ad_embeddings.parquet") <($O parquet cat "$W/product_embeddings.parquet") >"$D/synth.jsonl"
    node tests/ref/km_parquet.cjs from-jsonl "$D/synth.jsonl" "$D/synth.parquet" float
fi
C=(--input "$W/pid2caption.parquet")
R=(--raw "$W/onerec_bench_release.parquet")
quality() {   # name embeddings.parquet
    $O sid train --embeddings "$2" --codebook "$K" --layers 3 --quiet --out "$D/$1.cb.safetensors" >/dev/null 2>&1
    local enc; enc=$($O sid encode --codebook "$D/$1.cb.safetensors" --embeddings "$2" --dedup none --out "$D/$1.tsv" 2>/dev/null)
    local coll; coll=$(sed -nE 's/^before_dedup: collision_rate=([0-9.]+) unique_sids=([0-9]+).*/collision_rate=\1 unique_sids=\2/p' <<<"$enc")
    printf "%-8s %s %s\n" "$1" "$coll" "$($PY bench/embed_quality.py "$D"/*.planted.jsonl -- "$D/$1.tsv")"
}
embed() {   # name flags...
    local name=$1; shift
    local t0=$SECONDS
    $O embed "$@" "${EXTRA[@]}" --out "$D/$name.parquet" >"$D/$name.out" 2>/dev/null
    echo "# $name: $(grep -E '^(dim|words|pairs|cold_items|seconds):' "$D/$name.out" | tr '\n' ' ')"
    quality "$name" "$D/$name.parquet"
}
echo "world: $(grep -o '"users":[^,]*' "$W/world.json" | head -1), codebook $K x 3, ${EXTRA[*]:-default flags}"
embed tfidf --method tfidf "${C[@]}"
embed tfidf_rp --method tfidf --projection random "${C[@]}"
embed cooc --method cooc "${C[@]}" "${R[@]}"
embed cooc_w10 --method cooc --window 10 "${C[@]}" "${R[@]}"
embed mix --method mix "${C[@]}" "${R[@]}"
embed mix_a03 --method mix --alpha 0.3 "${C[@]}" "${R[@]}"
quality synth "$D/synth.parquet"
