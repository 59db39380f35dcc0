#!/usr/bin/python3
# Independent SASRec reference (PyTorch autograd, float64) for tests/test_baseline.c:
#   eval_sasrec_ref.py CONFIG.json PARAMS.f32 OUT.f64
# CONFIG: {"items", "dim", "layers", "heads", "maxlen", "B", "T", "ids": [B*(T+1)]} (-1 = padding);
# PARAMS: the flat float32 parameter array in src/eval/sasrec.c's layout. Writes float64
# [loss, grad...] to OUT.
import json, sys
import numpy as np
import torch

cfg = json.load(open(sys.argv[1]))
V, d, L, H, B, T = cfg["items"], cfg["dim"], cfg["layers"], cfg["heads"], cfg["B"], cfg["T"]
flat = torch.tensor(np.fromfile(sys.argv[2], dtype=np.float32).astype(np.float64), requires_grad=True)
pos = 0
def take(*shape):
    global pos
    n = int(np.prod(shape))
    t = flat[pos:pos + n].view(*shape)
    pos += n
    return t
E = take(V, d); P = take(cfg["maxlen"], d)
layers = []
for _ in range(L):
    names = ["ln1g", "ln1b", "wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo", "ln2g", "ln2b", "w1", "b1", "w2", "b2"]
    layers.append({n: take(d, d) if n[0] == "w" else take(d) for n in names})
lnfg = take(d); lnfb = take(d)
assert pos == flat.numel(), (pos, flat.numel())

def ln(x, g, b):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + 1e-5) * g + b

ids = torch.tensor(cfg["ids"]).view(B, T + 1)
inp, tgt = ids[:, :T], ids[:, 1:].clone()
tgt[inp < 0] = -1
x = torch.where((inp >= 0).unsqueeze(-1), E[inp.clamp(min=0)] + P[:T].unsqueeze(0), torch.zeros(B, T, d, dtype=torch.float64))
dh = d // H
causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
for p in layers:
    h = ln(x, p["ln1g"], p["ln1b"])
    q = (h @ p["wq"].T + p["bq"]).view(B, T, H, dh).transpose(1, 2)
    k = (h @ p["wk"].T + p["bk"]).view(B, T, H, dh).transpose(1, 2)
    v = (h @ p["wv"].T + p["bv"]).view(B, T, H, dh).transpose(1, 2)
    s = (q @ k.transpose(-1, -2)) / dh ** 0.5
    s = s.masked_fill(~causal, float("-inf"))
    o = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, d)
    x = x + o @ p["wo"].T + p["bo"]
    h2 = ln(x, p["ln2g"], p["ln2b"])
    x = x + torch.relu(h2 @ p["w1"].T + p["b1"]) @ p["w2"].T + p["b2"]
logits = ln(x, lnfg, lnfb) @ E.T
mask = tgt >= 0
loss = torch.nn.functional.cross_entropy(logits[mask], tgt[mask])
loss.backward()
np.concatenate([[loss.item()], flat.grad.numpy()]).astype(np.float64).tofile(sys.argv[3])
