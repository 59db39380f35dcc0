#!/usr/bin/env bash
# onerec embed --method tfidf|cooc|mix through the command: DuckDB writes the captions Parquet and
# reads our output back; on a small synthetic world the vectors must find the planted topics (a
# nearest neighbour of the same topic), the output feeds `onerec sid train/encode`; bad input gets
# exit 2 (flags) or 1 (data) with a message and leaves no file. Prints "test_embed_text_cli: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2

expect_exit() {   # code needle cmd...
    local code=$1 needle=$2; shift 2
    local out; out=$("$@" 2>&1); local rc=$?
    [ "$rc" = "$code" ] && grep -qF -- "$needle" <<<"$out" && ok || bad "$*: exit $rc (want $code), output: $out"
}

# captions with a null, an empty, a Unicode and two identical ones
cat > "$tmp/captions.json" <<'EOF'
[[11, "Toy Story (1995) Adventure|Animation|Children|Comedy|Fantasy"],
 [12, "Jumanji (1995) Adventure|Children|Fantasy"],
 [13, "Grumpier Old Men (1995) Comedy|Romance"],
 [14, "Heat (1995) Action|Crime|Thriller"],
 [15, null],
 [16, ""],
 [17, "Amélie (2001) Comedy|Romance"],
 [18, "千与千寻 (2001) Animation|Fantasy"],
 [19, "Heat (1995) Action|Crime|Thriller"],
 [20, "GoldenEye (1995) Action|Adventure|Thriller"]]
EOF
node tests/ref/vocab_embed_ref.js captions "$tmp/c.parquet" "$tmp/captions.json" || bad "DuckDB captions"
out=$($ONEREC embed --method tfidf --input "$tmp/c.parquet" --out "$tmp/t.parquet" --dim 4 2>"$tmp/err") ||
    { bad "embed tfidf"; cat "$tmp/err"; }
echo "$out" | tr '\n' ' '; echo
grep -q "^items: 10$" <<<"$out" && grep -q "^dim: 4$" <<<"$out" && grep -q "^empty_captions: 2$" <<<"$out" && ok ||
    bad "tfidf summary"
node tests/ref/vocab_embed_ref.js read "$tmp/t.parquet" "$tmp/t.json" || bad "DuckDB cannot read the tfidf output"
$PY - "$tmp/t.json" <<'EOF' && ok || bad "tfidf vectors"
import json, sys
import numpy as np
rows = json.load(open(sys.argv[1]))
assert [r[0] for r in rows] == list(range(11, 21)), rows
x = np.array([r[1] for r in rows])
assert x.shape == (10, 4) and np.allclose((x * x).sum(1), 1, atol=1e-6)
assert np.allclose(x[3], x[8])                   # the same caption, the same vector
assert not np.allclose(x[4], x[5])               # null and empty: distinct fallbacks (seeded by pid)
assert x[3] @ x[9] > x[3] @ x[7], (x[3] @ x[9], x[3] @ x[7])   # Heat is nearer GoldenEye than the anime
EOF

# a small world: the vectors must know the planted topics
$ONEREC synth --out "$tmp/w" --lang en --users 600 --videos 300 --ads 100 --products 100 >/dev/null 2>&1 || bad synth
W=$tmp/w
for f in video_ad product; do $ONEREC parquet cat "$W/${f}_pid2sid.parquet"; done >"$tmp/planted.jsonl"
test_users=$(grep -o '"test_users":[^,]*' "$W/world.json" | grep -o '[0-9]*')
for m in tfidf cooc mix; do
    args=(--method "$m" --input "$W/pid2caption.parquet" --dim 16)
    [ "$m" != tfidf ] && args+=(--raw "$W/onerec_bench_release.parquet")
    out=$($ONEREC embed "${args[@]}" --out "$tmp/$m.parquet" 2>"$tmp/err") || { bad "embed $m"; cat "$tmp/err"; }
    echo "$m: $(tr '\n' ' ' <<<"$out")"
    grep -q "^items: 500$" <<<"$out" && ok || bad "$m: items"
    if [ "$m" != tfidf ]; then
        grep -q "^skipped_users: $test_users$" <<<"$out" && grep -q "^unknown_pids: 0$" <<<"$out" && ok ||
            bad "$m: the $test_users test users must be skipped"
    fi
    node tests/ref/vocab_embed_ref.js read "$tmp/$m.parquet" "$tmp/$m.json" || bad "DuckDB cannot read the $m output"
    # share of items whose nearest other item (cosine) has their planted topic
    $PY - "$tmp/$m.json" "$tmp/planted.jsonl" "$m" <<'EOF' || bad "$m: nearest neighbours"
import json, sys
import numpy as np
rows = json.load(open(sys.argv[1]))
topic = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    topic[r["pid"]] = r["sid"][0]
x = np.array([r[1] for r in rows])
assert np.allclose((x * x).sum(1), 1, atol=1e-5)
s = x @ x.T
np.fill_diagonal(s, -2)
nn = s.argmax(1)
t = np.array([topic[r[0]] for r in rows])
share = (t[nn] == t).mean()
want = {"tfidf": 0.3, "cooc": 0.8, "mix": 0.8}[sys.argv[3]]   # chance: about 0.05
print(f"  {sys.argv[3]}: nearest neighbour of the same topic for {share:.3f} of items (want > {want})")
sys.exit(0 if share > want else 1)
EOF
    [ $? = 0 ] && ok
done
grep -q "^dim: 32$" <<<"$out" && ok || bad "mix: two halves of 16"
$ONEREC sid train --embeddings "$tmp/cooc.parquet" --layers 3 --codebook 8 --quiet --out "$tmp/cb.safetensors" \
    >/dev/null 2>"$tmp/err" && ok || { bad "sid train on cooc embeddings"; cat "$tmp/err"; }
$ONEREC sid encode --codebook "$tmp/cb.safetensors" --embeddings "$tmp/cooc.parquet" --out "$tmp/p.parquet" \
    >/dev/null 2>"$tmp/err" && [ -f "$tmp/p.parquet" ] && ok || { bad "sid encode on cooc embeddings"; cat "$tmp/err"; }
# cooc without captions: the items of the training rows
out=$($ONEREC embed --method cooc --raw "$W/onerec_bench_release.parquet" --dim 8 --window 5 --out "$tmp/c2.parquet" 2>/dev/null) &&
    grep -q "^cold_items: 0$" <<<"$out" && ok || bad "cooc without --input: $out"

# bad input: flags exit 2, data exit 1, no output file either way
R=(--raw "$W/onerec_bench_release.parquet")
expect_exit 2 "--method knn: want model, tfidf, cooc or mix" $ONEREC embed --method knn --input "$tmp/c.parquet" --out "$tmp/x.parquet"
expect_exit 2 "--dim 0: must be at least 1" $ONEREC embed --method tfidf --input "$tmp/c.parquet" --out "$tmp/x.parquet" --dim 0
expect_exit 2 "--method cooc needs the interactions (--raw)" $ONEREC embed --method cooc --input "$tmp/c.parquet" --out "$tmp/x.parquet"
expect_exit 2 "--method mix needs the captions (--input)" $ONEREC embed --method mix "${R[@]}" --out "$tmp/x.parquet"
expect_exit 2 "--alpha 2: must be in [0, 1]" $ONEREC embed --method mix --input "$tmp/c.parquet" "${R[@]}" --alpha 2 --out "$tmp/x.parquet"
expect_exit 2 "--projection pca: want svd or random" $ONEREC embed --method tfidf --input "$tmp/c.parquet" --projection pca --out "$tmp/x.parquet"
expect_exit 2 "--model is for --method model, not tfidf" $ONEREC embed --method tfidf --model "$tmp" --input "$tmp/c.parquet" --out "$tmp/x.parquet"
expect_exit 2 "--method model needs --model and --input" $ONEREC embed --input "$tmp/c.parquet" --out "$tmp/x.parquet"
expect_exit 1 "--dim 11: must be at most the number of items (10)" $ONEREC embed --method tfidf --input "$tmp/c.parquet" --out "$tmp/x.parquet" --dim 11
expect_exit 1 "missing: caption (choose the columns with --id-column and --text-column)" \
    $ONEREC embed --method tfidf --input "$tmp/c.parquet" --text-column caption --out "$tmp/x.parquet"
node tests/ref/km_parquet.cjs sql "$tmp/empty.parquet" "SELECT 1::BIGINT AS pid, 'x' AS dense_caption WHERE false" || bad "fixture"
expect_exit 1 "empty.parquet: no rows" $ONEREC embed --method tfidf --input "$tmp/empty.parquet" --out "$tmp/x.parquet"
expect_exit 1 "interactions $tmp/none.parquet" $ONEREC embed --method cooc --raw "$tmp/none.parquet" --out "$tmp/x.parquet"
node tests/ref/km_parquet.cjs sql "$tmp/far.parquet" "SELECT (90000 + i)::BIGINT AS pid, 'x' AS dense_caption FROM range(5) t(i)" || bad "fixture"
expect_exit 1 "no two known items co-occur" $ONEREC embed --method cooc --input "$tmp/far.parquet" "${R[@]}" --dim 4 --out "$tmp/x.parquet"
[ -e "$tmp/x.parquet" ] && bad "an output file was left by a failed run" || ok

echo "test_embed_text_cli: $pass passed, $fail failed"
