"""How well semantic IDs from some item embeddings recover the synthetic world's planted topics.

usage: embed_quality.py PLANTED.jsonl [PLANTED.jsonl ...] -- PID2SID.tsv
  PLANTED: `onerec parquet cat` of the world's *_pid2sid files ({"pid", "sid": [topic, subtopic, rank]})
  PID2SID: `onerec sid encode --out X.tsv` (pid, SID string)
Prints nmi_topic (level-1 code vs topic), nmi_sub (first two codes vs (topic, subtopic)),
purity_topic (share of items whose level-1 code's majority topic is theirs), items.
"""
import json
import re
import sys
from collections import Counter, defaultdict

from sklearn.metrics import normalized_mutual_info_score as nmi

args = sys.argv[1:]
cut = args.index("--")
planted = {}
for path in args[:cut]:
    for line in open(path):
        r = json.loads(line)
        planted[int(r["pid"])] = tuple(r["sid"])
codes = {}
for line in open(args[cut + 1]):
    pid, sid = line.rstrip("\n").split("\t")
    codes[int(pid)] = tuple(int(c) for c in re.findall(r"<s_[a-z]_(\d+)>", sid))
pids = sorted(p for p in codes if p in planted)
if len(pids) != len(codes):
    sys.exit(f"{len(codes) - len(pids)} encoded pids are not in the planted files")
topic = [planted[p][0] for p in pids]
sub = [planted[p][:2] for p in pids]
l1 = [codes[p][0] for p in pids]
l12 = [codes[p][:2] for p in pids]
by_code = defaultdict(Counter)
for c, t in zip(l1, topic):
    by_code[c][t] += 1
purity = sum(cnt.most_common(1)[0][1] for cnt in by_code.values()) / len(pids)
enc = lambda xs: [hash(x) for x in xs]
print(f"items={len(pids)} nmi_topic={nmi(topic, l1):.4f} nmi_sub={nmi(enc(sub), enc(l12)):.4f} purity_topic={purity:.4f}")
