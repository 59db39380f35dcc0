#!/usr/bin/env bash
# Residual k-means speed and quality: ours (onerec sid train) vs faiss 1.7.3 (the reference's
# k-means), same data, same thread count, same settings (3 layers x 1024, 20 iterations, faiss's
# default cap of 256 points per centroid, which 200,000 points do not reach: both use every point).
# Timed: training of all layers including each layer's final assignment (faiss: Kmeans.train +
# index.search per layer). Usage: bench/kmeans.sh [N] [D] [K] [LAYERS] [ITERS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}; D=${2:-256}; K=${3:-1024}; L=${4:-3}; IT=${5:-20}; T=${6:-2}
PY=/usr/bin/python3
make -j2 >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
$PY scripts/km_faiss.py make "$tmp/x.npy" "$N" "$D" --clusters 4096 --seed 7
echo "data: $N x $D float32 (4096 clusters), $L layers x $K codes, $IT iterations, $T threads"
ref=$(OPENBLAS_NUM_THREADS=$T OMP_NUM_THREADS=$T $PY scripts/km_faiss.py rq "$tmp/x.npy" "$L" "$K" "$IT" --threads "$T" --seed 42)
echo "$ref"
out=$(OPENBLAS_NUM_THREADS=$T OMP_NUM_THREADS=$T ./build/onerec sid train --embeddings "$tmp/x.npy" --layers "$L" \
      --codebook "$K" --iters "$IT" --seed 42 --threads "$T" --quiet --out "$tmp/cb.safetensors" 2>/dev/null)
echo "$out" | sed 's/^/ours /'
ours_s=$(sed -nE 's/.* seconds=([0-9.]+).*/\1/p' <<<"$out" | head -1)
ours_e=$(sed -nE 's/.*train_rel_error=([0-9.e+-]+).*/\1/p' <<<"$out")
ref_s=$(sed -nE 's/.*seconds=([0-9.]+).*/\1/p' <<<"$ref")
ref_e=$(sed -nE 's/.*rel_error=([0-9.e+-]+).*/\1/p' <<<"$ref")
awk -v os="$ours_s" -v rs="$ref_s" -v oe="$ours_e" -v re="$ref_e" 'BEGIN {
    printf "relative reconstruction error: ours=%.6f faiss=%.6f (ours/faiss = %.4f; target <= 1.02)\n", oe, re, oe / re
    printf "kmeans ratio=%.2f (ours=%.2f ref=%.2f s)\n", rs / os, os, rs }'
