#!/usr/bin/env bash
# Residual k-means speed and quality: ours (onerec sid train) vs faiss 1.7.3 (the reference's
# k-means), same data, same thread count, same settings (3 layers x 1024, 20 iterations, faiss's
# default cap of 256 points per centroid, which 200,000 points do not reach: both use every point).
# Timed: training of all layers including each layer's final assignment (faiss: Kmeans.train +
# index.search per layer). Usage: bench/kmeans.sh [N] [D] [K] [LAYERS] [ITERS] [THREADS]
#        bench/kmeans.sh stream [N] [D]   1M-item Parquet -> Parquet encode: time and peak memory
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = stream ]; then
    N=${2:-1000000}; D=${3:-128}
    make -j2 >/dev/null && make build/bench/kmeans_gen >/dev/null
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    ./build/bench/kmeans_gen "$tmp/x.parquet" "$N" "$D" 4096 3
    echo "input: $N x $D float embeddings, $(du -m "$tmp/x.parquet" | cut -f1) MiB of Parquet (raw floats: $((N * D * 4 >> 20)) MiB)"
    ./build/onerec sid train --embeddings "$tmp/x.parquet" --layers 3 --codebook 1024 --iters 10 \
        --max-points-per-centroid 32 --quiet --out "$tmp/cb.safetensors" | head -2
    ./build/onerec sid encode --codebook "$tmp/cb.safetensors" --embeddings "$tmp/x.parquet" --out "$tmp/p.parquet" \
        >"$tmp/enc.out" 2>/dev/null &
    pid=$!; anon=0; file=0
    # RssAnon is the process's own memory; RssFile is the reader's mmap of the input (page cache)
    while kill -0 $pid 2>/dev/null; do
        a=$(awk '/RssAnon/{print $2}' /proc/$pid/status 2>/dev/null || echo 0)
        f=$(awk '/RssFile/{print $2}' /proc/$pid/status 2>/dev/null || echo 0)
        [ "${a:-0}" -gt $anon ] && anon=$a; [ "${f:-0}" -gt $file ] && file=$f
        sleep 0.2
    done
    wait $pid
    head -2 "$tmp/enc.out"
    echo "encode stream: peak RssAnon=$((anon >> 10)) MiB, RssFile=$((file >> 10)) MiB, output $(du -m "$tmp/p.parquet" | cut -f1) MiB"
    exit 0
fi
N=${1:-200000}; D=${2:-256}; K=${3:-1024}; L=${4:-3}; IT=${5:-20}; T=${6:-2}
PY=/usr/bin/python3
make -j2 >/dev/null
load0=$(cut -d' ' -f1-3 /proc/loadavg)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
$PY tests/ref/km_faiss.py make "$tmp/x.npy" "$N" "$D" --clusters 4096 --seed 7
echo "data: $N x $D float32 (4096 clusters), $L layers x $K codes, $IT iterations, $T threads"
ref=$(OPENBLAS_NUM_THREADS=$T OMP_NUM_THREADS=$T $PY tests/ref/km_faiss.py rq "$tmp/x.npy" "$L" "$K" "$IT" --threads "$T" --seed 42)
echo "$ref"
out=$(OPENBLAS_NUM_THREADS=$T OMP_NUM_THREADS=$T ./build/onerec sid train --embeddings "$tmp/x.npy" --layers "$L" \
      --codebook "$K" --iters "$IT" --seed 42 --threads "$T" --quiet --out "$tmp/cb.safetensors" 2>/dev/null)
echo "$out" | sed 's/^/ours /'
ours_s=$(sed -nE 's/.* seconds=([0-9.]+).*/\1/p' <<<"$out" | head -1)
ours_c=$(sed -nE 's/.* cpu_seconds=([0-9.]+).*/\1/p' <<<"$out" | head -1)
ref_c=$(sed -nE 's/.* cpu_seconds=([0-9.]+).*/\1/p' <<<"$ref")
ours_e=$(sed -nE 's/.*train_rel_error=([0-9.e+-]+).*/\1/p' <<<"$out")
ref_s=$(sed -nE 's/.* seconds=([0-9.]+).*/\1/p' <<<"$ref")
ref_e=$(sed -nE 's/.*rel_error=([0-9.e+-]+).*/\1/p' <<<"$ref")
echo "load average before the runs: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg) (a busy machine slows both)"
awk -v os="$ours_s" -v rs="$ref_s" -v oe="$ours_e" -v re="$ref_e" -v oc="$ours_c" -v rc="$ref_c" 'BEGIN {
    printf "cpu time over all threads: ours=%.2f faiss=%.2f s (cpu ratio %.2f)\n", oc, rc, rc / oc
    printf "relative reconstruction error: ours=%.6f faiss=%.6f (ours/faiss = %.4f; target <= 1.02)\n", oe, re, oe / re
    printf "kmeans ratio=%.2f (ours=%.2f ref=%.2f s)\n", rs / os, os, rs }'
