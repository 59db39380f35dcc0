#!/usr/bin/python3
# Independent reference for tests/test_train_optim.c: PyTorch's AdamW, clip_grad_norm_ and a
# LambdaLR warmup+cosine schedule run on the inputs the C test wrote.
# usage: train_ref_adamw.py IN OUT   IN: int32 n, int32 steps, float64 lr, min_lr, int32 warmup,
# total, float32 p0[n], float32 grads[steps][n]; OUT: float32 p[n], then float64 lrs[steps],
# float64 grad norms[steps]
import math
import struct
import sys

import numpy as np
import torch

raw = open(sys.argv[1], "rb").read()
n, steps = struct.unpack_from("<ii", raw, 0)
lr, min_lr = struct.unpack_from("<dd", raw, 8)
warmup, total = struct.unpack_from("<ii", raw, 24)
off = 32
p0 = np.frombuffer(raw, dtype="<f4", count=n, offset=off)
grads = np.frombuffer(raw, dtype="<f4", count=n * steps, offset=off + 4 * n).reshape(steps, n)

# two tensors: one decayed (a weight matrix), one not (a norm weight), as the trainer groups them
k = n // 2
w = torch.nn.Parameter(torch.tensor(p0[:k].copy()))
b = torch.nn.Parameter(torch.tensor(p0[k:].copy()))
opt = torch.optim.AdamW([{"params": [w], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0}],
                        lr=lr, betas=(0.9, 0.95), eps=1e-8)
r = min_lr / lr


def f(step):
    if step < warmup:
        return step / max(1, warmup)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return r + (1 - r) * 0.5 * (1 + math.cos(math.pi * progress))


sched = torch.optim.lr_scheduler.LambdaLR(opt, f)
lrs, norms = [], []
for s in range(steps):
    w.grad = torch.tensor(grads[s, :k].copy())
    b.grad = torch.tensor(grads[s, k:].copy())
    norms.append(float(torch.nn.utils.clip_grad_norm_([w, b], 1.0)))
    lrs.append(opt.param_groups[0]["lr"])
    opt.step()
    sched.step()
out = torch.cat([w.detach(), b.detach()]).numpy().astype("<f4").tobytes()
out += struct.pack("<%dd" % steps, *lrs) + struct.pack("<%dd" % steps, *norms)
open(sys.argv[2], "wb").write(out)
