#!/usr/bin/python3
# An independent SASRec (PyTorch, float32) trained and scored on a leave-one-out split, to check that
# onerec's C SASRec is not a handicapped baseline. Input on stdin: the JSON lines `onerec parquet cat`
# prints of data import's sequences.parquet ({user_id, train, valid, test}). The model is the one
# docs/eval.md describes for ours: item + learned position embeddings, pre-LayerNorm blocks (causal
# multi-head attention with biases, ReLU FFN of width dim), final LayerNorm, logits tied to the item
# embedding, full-softmax cross-entropy at every position, Adam (0.9, 0.98), no dropout; training
# windows cut from each sequence's end into chunks of maxlen + 1 items overlapping by one. Scored
# like ours: the last maxlen items of train + valid, every item ranked, the user's items excluded.
#   sasrec_train_ref.py [--epochs 20 --dim 64 --layers 2 --heads 1 --maxlen 50 --batch 64 --lr 1e-3 --seed 1]
# Prints "hr@5=... ndcg@5=... hr@10=... ndcg@10=... hr@20=... ndcg@20=..." and the seconds.
import argparse, json, math, sys, time
import torch

ap = argparse.ArgumentParser()
for k, v in dict(epochs=20, dim=64, layers=2, heads=1, maxlen=50, batch=64, seed=1).items():
    ap.add_argument("--" + k, type=int, default=v)
ap.add_argument("--lr", type=float, default=1e-3)
a = ap.parse_args()
torch.manual_seed(a.seed)
rows = [json.loads(l) for l in sys.stdin if l.strip()]
items = sorted({i for r in rows for i in r["train"] + [r["valid"], r["test"]]})
dense = {p: k + 1 for k, p in enumerate(items)}   # 0 = padding
V = len(items) + 1
T = a.maxlen

class Block(torch.nn.Module):
    def __init__(s, d, h):
        super().__init__()
        s.ln1, s.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        s.att = torch.nn.MultiheadAttention(d, h, batch_first=True)
        s.ff = torch.nn.Sequential(torch.nn.Linear(d, d), torch.nn.ReLU(), torch.nn.Linear(d, d))
    def forward(s, x, mask):
        y = s.ln1(x)
        x = x + s.att(y, y, y, attn_mask=mask, need_weights=False)[0]
        return x + s.ff(s.ln2(x))

class SASRec(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.E = torch.nn.Embedding(V, a.dim)
        s.P = torch.nn.Embedding(T, a.dim)
        s.blocks = torch.nn.ModuleList([Block(a.dim, a.heads) for _ in range(a.layers)])
        s.lnf = torch.nn.LayerNorm(a.dim)
        torch.nn.init.normal_(s.E.weight, std=0.1)   # N(0, 1) embeddings give tied logits of ~30 nats
        torch.nn.init.normal_(s.P.weight, std=0.1)
    def forward(s, ids):   # ids [B, t] (0 = padding at the end)
        t = ids.shape[1]
        x = s.E(ids) + s.P(torch.arange(t))[None]
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
        for b in s.blocks:
            x = b(x, mask)
        return s.lnf(x) @ s.E.weight.T

m = SASRec()
opt = torch.optim.Adam(m.parameters(), lr=a.lr, betas=(0.9, 0.98))
wins = []
for r in rows:
    s = [dense[i] for i in r["train"]]
    end = len(s)
    while end >= 2:
        wins.append(s[max(0, end - (T + 1)):end])
        end -= T
t0 = time.time()
for e in range(a.epochs):
    perm = torch.randperm(len(wins)).tolist()
    tot = 0.0
    for b0 in range(0, len(wins), a.batch):
        ws = [wins[i] for i in perm[b0:b0 + a.batch]]
        tm = max(len(w) for w in ws) - 1
        x = torch.zeros(len(ws), tm, dtype=torch.long)
        y = torch.full((len(ws), tm), -100, dtype=torch.long)
        for k, w in enumerate(ws):
            x[k, :len(w) - 1] = torch.tensor(w[:-1])
            y[k, :len(w) - 1] = torch.tensor(w[1:])
        loss = torch.nn.functional.cross_entropy(m(x).reshape(-1, V), y.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += loss.item()
    print("epoch %d loss %.4f" % (e + 1, tot / math.ceil(len(wins) / a.batch)), file=sys.stderr)
ks = (5, 10, 20)
hr = dict.fromkeys(ks, 0.0)
nd = dict.fromkeys(ks, 0.0)
with torch.no_grad():
    for r in rows:
        h = [dense[i] for i in r["train"] + [r["valid"]]]
        sc = m(torch.tensor([h[-T:]]))[0, -1]
        sc[0] = -math.inf
        sc[torch.tensor(h)] = -math.inf
        rank = int((sc > sc[dense[r["test"]]]).sum())
        for k in ks:
            if rank < k:
                hr[k] += 1
                nd[k] += 1 / math.log2(rank + 2)
n = len(rows)
print(" ".join("hr@%d=%.4f ndcg@%d=%.4f" % (k, hr[k] / n, k, nd[k] / n) for k in ks), "seconds=%.0f" % (time.time() - t0))
