#!/usr/bin/python3
# PyTorch reference of `onerec train` over the SAME packed batches (written by --dump_batches):
# the hand-written Qwen3 of tests/ref/qwen3_ref.py, the global-batch token-mean loss with gradient
# accumulation, clip_grad_norm_, torch.optim.AdamW and a LambdaLR warmup + cosine schedule.
# Prints one line per step ("step N loss L grad_norm G") and the throughput of steps 2.. as
# "ref tokens_per_s=X" (tokens = non-padding tokens, as the trainer counts them).
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qwen3_ref import forward  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("model_dir")
ap.add_argument("dump")
ap.add_argument("--length", type=int, required=True)
ap.add_argument("--micro", type=int, default=1)
ap.add_argument("--accum", type=int, default=1)
ap.add_argument("--steps", type=int, required=True)
ap.add_argument("--lr", type=float, default=2e-4)
ap.add_argument("--min_lr", type=float, default=1e-4)
ap.add_argument("--warmup", type=int, default=0)
ap.add_argument("--total", type=int, default=None)
ap.add_argument("--clip", type=float, default=1.0)
ap.add_argument("--pad", type=int, default=-1, help="padding token id (excluded from the token count)")
ap.add_argument("--threads", type=int, default=1)
a = ap.parse_args()
torch.set_num_threads(a.threads)

hf = json.load(open(os.path.join(a.model_dir, "config.json")))
cfg = dict(dim=hf["hidden_size"], n_layers=hf["num_hidden_layers"], n_heads=hf["num_attention_heads"],
           n_kv=hf["num_key_value_heads"], head_dim=hf.get("head_dim", hf["hidden_size"] // hf["num_attention_heads"]),
           eps=hf["rms_norm_eps"], rope_theta=hf["rope_theta"], tied=hf.get("tie_word_embeddings", True))
raw = open(os.path.join(a.model_dir, "model.safetensors"), "rb").read()
(n,) = struct.unpack_from("<Q", raw, 0)
hdr = json.loads(raw[8:8 + n])
P = {}
for name, t in hdr.items():
    if name == "__metadata__":
        continue
    b, e = t["data_offsets"]
    assert t["dtype"] == "F32", "reference loop expects an fp32 model dir"
    P[name] = torch.tensor(np.frombuffer(raw[8 + n + b:8 + n + e], dtype="<f4").reshape(t["shape"]).copy(),
                           requires_grad=True)
params = list(P.values())
decay = [p for k, p in P.items()]
opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
total = a.total or a.steps
r = a.min_lr / a.lr


def f(step):
    if step < a.warmup:
        return step / max(1, a.warmup)
    p = min(1.0, (step - a.warmup) / max(1, total - a.warmup))
    return r + (1 - r) * 0.5 * (1 + math.cos(math.pi * p))


sched = torch.optim.lr_scheduler.LambdaLR(opt, f)
L, rows = a.length, a.micro * a.accum
dump = np.fromfile(a.dump, dtype=np.int32).reshape(-1, 4, L)
times, toks = [], 0
for s in range(a.steps):
    batch = torch.from_numpy(dump[s * rows:(s + 1) * rows].astype(np.int64))   # [rows, 4, L]
    ids, labels, pos, seg = batch[:, 0], batch[:, 1], batch[:, 2], batch[:, 3]
    ntrain = int((labels >= 0).sum())
    ntok = int((ids != a.pad).sum()) if a.pad >= 0 else rows * L
    t0 = time.time()
    opt.zero_grad()
    total_nll = 0.0
    for m in range(a.accum):
        sl = slice(m * a.micro, (m + 1) * a.micro)
        logits = forward(P, cfg, ids[sl], pos[sl], seg[sl])
        y = labels[sl]
        mask = y >= 0
        nll = -torch.log_softmax(logits[mask], dim=-1).gather(1, y[mask][:, None]).sum()
        (nll / ntrain).backward()
        total_nll += nll.item()
    gn = float(torch.nn.utils.clip_grad_norm_(params, a.clip if a.clip > 0 else float("inf")))
    opt.step()
    sched.step()
    dt = time.time() - t0
    if s:
        times.append(dt)
        toks += ntok
    print("step %d loss %.9g grad_norm %.9g" % (s + 1, total_nll / ntrain, gn), flush=True)
if times:
    print("ref tokens_per_s=%.1f" % (toks / sum(times)))
