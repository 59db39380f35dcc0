#!/usr/bin/env bash
# onerec sid train/encode against faiss 1.7.3 (the reference's k-means) and numpy on the same data;
# bad input through the command. Prints "test_kmeans_faiss: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2

$PY tests/ref/km_faiss.py make "$tmp/x.npy" 20000 64 --clusters 600 --seed 3
ref=$($PY tests/ref/km_faiss.py rq "$tmp/x.npy" 3 128 15 --threads 2 --seed 1) || bad "faiss run"
echo "$ref"
out=$($ONEREC sid train --embeddings "$tmp/x.npy" --layers 3 --codebook 128 --iters 15 --seed 1 --quiet \
      --out "$tmp/cb.safetensors" 2>"$tmp/err") || { bad "sid train"; cat "$tmp/err"; }
echo "$out"
ours_e=$(sed -nE 's/.*train_rel_error=([0-9.e+-]+).*/\1/p' <<<"$out")
ref_e=$(sed -nE 's/.*rel_error=([0-9.e+-]+).*/\1/p' <<<"$ref")
# quality: within 2% of faiss's relative error (ours may be lower)
awk -v o="$ours_e" -v r="$ref_e" 'BEGIN { exit !(o > 0 && r > 0 && o <= r * 1.02) }' && ok ||
    bad "relative error ours=$ours_e faiss=$ref_e (want ours <= 1.02 x faiss)"

# encode, then re-encode independently with numpy from the safetensors file and the .tsv
enc=$($ONEREC sid encode --codebook "$tmp/cb.safetensors" --embeddings "$tmp/x.npy" --out "$tmp/p.tsv" 2>/dev/null) ||
    bad "sid encode"
echo "$enc"
enc_e=$(sed -nE 's/^mse=.* rel_error=([0-9.e+-]+).*/\1/p' <<<"$enc")
ver=$($PY tests/ref/km_verify.py "$tmp/x.npy" "$tmp/cb.safetensors" "$tmp/p.tsv" 3 128) && ok || bad "numpy verify: $ver"
echo "$ver"
ver_e=$(sed -nE 's/.*rel_error=([0-9.e+-]+).*/\1/p' <<<"$ver")
awk -v a="$enc_e" -v b="$ver_e" -v c="$ours_e" 'BEGIN { d = a - b; e = a - c; exit !(d < 1e-5 && d > -1e-5 && e < 1e-5 && e > -1e-5) }' &&
    ok || bad "reported rel_error $enc_e vs numpy $ver_e vs train $ours_e"

# same seed, other thread count: the same codebook bytes
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $ONEREC sid train --embeddings "$tmp/x.npy" --layers 3 --codebook 128 --iters 15 \
    --seed 1 --quiet --threads 1 --out "$tmp/cb1.safetensors" >/dev/null 2>&1
cmp -s "$tmp/cb.safetensors" "$tmp/cb1.safetensors" && ok || bad "1-thread codebook differs from 2-thread codebook"

# dedup modes: digit and balance leave no collision here (3 x 128 codes, 20000 items)
for mode in digit balance; do
    e=$($ONEREC sid encode --codebook "$tmp/cb.safetensors" --embeddings "$tmp/x.npy" --dedup $mode --out "$tmp/$mode.tsv" 2>/dev/null)
    echo "$e" | grep -E "^(before|after)_dedup: collision|^dedup="
    grep -q "^after_dedup: collision_rate=0.000000 unique_sids=20000 " <<<"$e" && ok || bad "dedup $mode left collisions"
done
grep -q "<s_d_" "$tmp/digit.tsv" && ok || bad "digit SIDs have no 4th code"
[ "$(cut -f2 "$tmp/balance.tsv" | sort | uniq -d | wc -l)" = 0 ] && ok || bad "balance output has duplicate SIDs"

# Parquet in and out (fixtures written and read back by DuckDB): the same codebook bytes as from
# .npy, the same SIDs, float and double columns, pid taken from the file
$PY - "$tmp" <<'PYEOF'
import json, sys, numpy as np
t = sys.argv[1]
x = np.load(t + "/x.npy")
with open(t + "/x.jsonl", "w") as f:
    for i, row in enumerate(x):
        f.write(json.dumps({"pid": 5000 + i, "embedding": [float(v) for v in row]}) + "\n")
PYEOF
node tests/ref/km_parquet.cjs from-jsonl "$tmp/x.jsonl" "$tmp/x.parquet" float && node tests/ref/km_parquet.cjs from-jsonl "$tmp/x.jsonl" "$tmp/xd.parquet" double || bad "duckdb fixture"
$ONEREC sid train --embeddings "$tmp/x.parquet" --layers 3 --codebook 128 --iters 15 --seed 1 --quiet \
    --out "$tmp/cbp.safetensors" >/dev/null 2>&1 || bad "sid train from parquet"
cmp -s "$tmp/cb.safetensors" "$tmp/cbp.safetensors" && ok || bad "parquet-trained codebook differs from the npy one"
awk -F'\t' '{ gsub(/<\|sid_(begin|end)\|>|<s_[a-z]_/, ""); gsub(/>/, ","); sub(/,$/, ""); print ($1 + 5000) "\t" $2 }' "$tmp/p.tsv" | sort >"$tmp/want.tsv"
for f in x xd; do
    $ONEREC sid encode --codebook "$tmp/cb.safetensors" --embeddings "$tmp/$f.parquet" --out "$tmp/$f.pid2sid.parquet" >/dev/null 2>&1 ||
        bad "sid encode $f.parquet"
    node tests/ref/km_parquet.cjs to-tsv "$tmp/$f.pid2sid.parquet" | sort >"$tmp/got.tsv"
    cmp -s "$tmp/want.tsv" "$tmp/got.tsv" && ok || bad "pid2sid from $f.parquet (read by DuckDB) differs from the npy encoding"
done
q() { node tests/ref/km_parquet.cjs sql "$tmp/$1.parquet" "$2" || bad "fixture $1"; }
q mixed "SELECT i::BIGINT AS pid, CASE WHEN i = 7 THEN [1, 2]::FLOAT[] ELSE [1, 2, 3]::FLOAT[] END AS embedding FROM range(100) t(i)"
q empty "SELECT i::BIGINT AS pid, []::FLOAT[] AS embedding FROM range(100) t(i)"
q pnan "SELECT i::BIGINT AS pid, [1, CASE WHEN i = 9 THEN 'nan'::FLOAT ELSE 1 END]::FLOAT[] AS embedding FROM range(100) t(i)"
P="$ONEREC sid train --layers 2 --codebook 4 --iters 2 --out $tmp/o.safetensors --embeddings"
expect_fail "row 7 of 'embedding' has 2 components, row 0 has 3" $P "$tmp/mixed.parquet"
expect_fail "row 0 of 'embedding' is empty" $P "$tmp/empty.parquet"
expect_fail "row 9, component 1 is NaN" $P "$tmp/pnan.parquet"
expect_fail "no column 'emb' (columns: pid, embedding)" $P "$tmp/mixed.parquet" --column emb

# bad input
$PY - "$tmp" <<'PYEOF'
import sys, numpy as np
t = sys.argv[1]
x = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)
y = x.copy(); y[17, 3] = np.nan; np.save(t + "/nan.npy", y)
y = x.copy(); y[5, 0] = np.inf; np.save(t + "/inf.npy", y)
np.save(t + "/zero.npy", np.zeros((300, 0), np.float32))
np.save(t + "/vec.npy", np.zeros(300, np.float32))
np.save(t + "/ints.npy", np.zeros((300, 8), np.int32))
np.save(t + "/small.npy", x)
PYEOF
T="$ONEREC sid train --layers 2 --codebook 64 --iters 2 --out $tmp/o.safetensors --embeddings"
expect_fail "row 17, component 3 is NaN" $T "$tmp/nan.npy"
expect_fail "row 5, component 0 is Inf" $T "$tmp/inf.npy"
expect_fail "dimension is 0" $T "$tmp/zero.npy"
expect_fail "must be 2-D" $T "$tmp/vec.npy"
expect_fail "float32 or float64" $T "$tmp/ints.npy"
expect_fail "300 items cannot fill a codebook of 1024" $ONEREC sid train --codebook 1024 --embeddings "$tmp/small.npy" --out "$tmp/o.safetensors"
expect_fail "No such file" $T "$tmp/missing.npy"
expect_fail "have 8 dims but codebook" $ONEREC sid encode --codebook "$tmp/cb.safetensors" --embeddings "$tmp/small.npy" --out "$tmp/o.tsv"
expect_fail "unknown dedup mode" $ONEREC sid encode --codebook "$tmp/cb.safetensors" --embeddings "$tmp/x.npy" --dedup fancy --out "$tmp/o.tsv"
expect_fail "missing required flag --out" $ONEREC sid train --embeddings "$tmp/x.npy"
[ ! -e "$tmp/o.safetensors" ] && ok || bad "a failed run left an output file"

echo "test_kmeans_faiss: $pass passed, $fail failed"
[ "$fail" = 0 ]
