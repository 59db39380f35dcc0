#!/usr/bin/env bash
# MovieLens through the pipeline's first steps, against independent references: `data movielens`
# from the data cache (scripts/setup.sh), `data import` with its leave-one-out split, and the
# popularity baseline's HR@K / NDCG@K and top-50 lists recomputed by tests/ref/pop_loo.py over the
# split that `onerec parquet cat` prints. Prints "test_movielens: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
if ! $ONEREC data movielens --out "$tmp/ml" > "$tmp/ml.out" 2>&1; then
    bad "data movielens: $(tail -2 "$tmp/ml.out") (run bash scripts/setup.sh for the data cache)"
    echo "test_movielens: $pass passed, $fail failed"; exit 1
fi
$ONEREC data import --interactions "$tmp/ml/interactions.parquet" --items "$tmp/ml/items.parquet" --rating-col rating \
    --out "$tmp/w" > "$tmp/imp.out" 2>&1 && ok || bad "data import: $(tail -2 "$tmp/imp.out")"
$ONEREC baseline recif --raw "$tmp/w/onerec_bench_release.parquet" --no-sasrec --k 5,10,20 --video-task movielens \
    --predictions "$tmp/pred" --results "$tmp/r.json" > "$tmp/b.out" 2>&1 && ok || bad "baseline recif: $(tail -2 "$tmp/b.out")"
ref=$($ONEREC parquet cat "$tmp/w/sequences.parquet" | $PY tests/ref/pop_loo.py "$tmp/ref_pred.jsonl" 5 10 20)
ours=$($PY -c "
import json; r=json.load(open('$tmp/r.json'))['popularity']['movielens']
print(' '.join('hr@%d=%.6f ndcg@%d=%.6f' % (k, r['pass@%d' % k], k, r['ndcg@%d' % k]) for k in (5, 10, 20)))")
[ -n "$ref" ] && [ "$ref" = "$ours" ] && ok || bad "popularity HR/NDCG: ours [$ours] reference [$ref]"
$PY - "$tmp/pred/popularity/pred_movielens.jsonl" "$tmp/ref_pred.jsonl" <<'PYEOF' && ok || bad "popularity top-50 lists differ"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = {r["user_id"]: r["items"] for r in map(json.loads, open(sys.argv[2]))}
sys.exit(0 if len(a) == 671 == len(b) and all(r["items"] == b[r["user_id"]] for r in a) else 1)
PYEOF
# 671 users, one test item each, every list 50 real movies none of which the user has seen
$PY - "$tmp/pred/item_knn/pred_movielens.jsonl" "$tmp/ml/items.parquet" <<'PYEOF' && ok || bad "item_knn lists: not 50 unseen movies per user"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if len(rows) == 671 and all(len(r["items"]) == 50 and len(set(r["items"])) == 50 for r in rows) else 1)
PYEOF
echo "test_movielens: $pass passed, $fail failed"
[ $fail = 0 ]
