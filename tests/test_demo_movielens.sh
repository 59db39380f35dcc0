#!/usr/bin/env bash
# The MovieLens demo end to end at the smoke size (a few steps per stage): every stage runs, the
# report, results.json (HR/NDCG per system, held-out English loss per stage) and each system's
# per-user item lists are written; a second run skips every stage.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
out="$tmp/demo"
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $ONEREC demo --dataset movielens --size smoke --out "$out" > "$tmp/log" 2>&1
rc=$?
[ $rc = 0 ] && ok || { bad "demo exits $rc"; tail -20 "$tmp/log"; }
[ -s "$out/report.md" ] && ok || bad "no report"
$PY - "$out" <<'PYEOF' && ok || bad "results.json lacks a system's hr@10/ndcg@10 or a stage's English loss"
import json, sys
r = json.load(open(sys.argv[1] + "/results.json"))
systems = ["popularity", "item_knn", "sasrec", "stage2", "sft", "distill"]
ok = all(0 <= r[s]["movielens"]["hr@10"] <= 1 and 0 <= r[s]["movielens"]["ndcg@10"] <= r[s]["movielens"]["hr@10"] for s in systems)
ok &= all(r[s]["english"]["heldout_text_loss"] > 0 for s in ["base", "stage2", "sft", "distill"])
sys.exit(0 if ok else 1)
PYEOF
for s in popularity item_knn sasrec stage2 sft distill; do
    [ -s "$out/predictions/$s/pred_movielens.jsonl" ] && ok || bad "no predictions of $s"
done
grep -q "onerec data import --interactions" "$out/report.md" && ok || bad "the report lists the commands"
$ONEREC demo --dataset movielens --size smoke --out "$out" > "$tmp/log2" 2>&1 && ok || bad "second run failed"
[ "$(grep -c 'already complete' "$tmp/log2")" -ge 25 ] && ok || bad "second run did not skip the stages"
expect_fail "must be synthetic or movielens" $ONEREC demo --dataset nosuch --out "$tmp/x"
echo "test_demo_movielens: $pass passed, $fail failed"
[ $fail = 0 ]
