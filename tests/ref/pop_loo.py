#!/usr/bin/python3
# Independent popularity baseline on a leave-one-out split (the JSON lines `onerec parquet cat`
# prints of data import's sequences.parquet, on stdin): items ranked by their count in the training
# lists (ties: smaller id), the user's train + valid items excluded; prints HR@K and NDCG@K for K in
# argv, and writes each user's top 50 to argv[1] as {"user_id", "items"} lines.
import json, math, sys
from collections import Counter

rows = [json.loads(l) for l in sys.stdin if l.strip()]
count = Counter(i for r in rows for i in r["train"])
order = sorted(count, key=lambda i: (-count[i], i))
ks = [int(k) for k in sys.argv[2:]]
hr = {k: 0.0 for k in ks}
ndcg = {k: 0.0 for k in ks}
with open(sys.argv[1], "w") as out:
    for r in rows:
        seen = set(r["train"]) | {r["valid"]}
        top = [i for i in order if i not in seen][:max(ks + [50])]
        out.write(json.dumps({"user_id": r["user_id"], "items": top[:50]}) + "\n")
        rank = top.index(r["test"]) if r["test"] in top else None
        for k in ks:
            if rank is not None and rank < k:
                hr[k] += 1
                ndcg[k] += 1 / math.log2(rank + 2)
print(" ".join("hr@%d=%.6f ndcg@%d=%.6f" % (k, hr[k] / len(rows), k, ndcg[k] / len(rows)) for k in ks))
