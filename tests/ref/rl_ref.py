#!/usr/bin/python3
"""Independent PyTorch re-implementation of the post-training advantages and losses (verl style,
padded [batch, length] tensors, autograd for gradients). Reads a JSON case from argv[1] and writes
the results as JSON to argv[2]. Used by tests/test_rl_loss.c."""
import json
import sys

import torch

torch.set_default_dtype(torch.float64)


def padded(flat, offsets):
    n = len(offsets) - 1
    L = max(offsets[i + 1] - offsets[i] for i in range(n))
    out = torch.zeros(n, L)
    for i in range(n):
        seg = flat[offsets[i]:offsets[i + 1]]
        out[i, : len(seg)] = torch.tensor([float(x) for x in seg])
    return out


def unpad(x, offsets):
    flat = []
    for i in range(len(offsets) - 1):
        flat += x[i, : offsets[i + 1] - offsets[i]].tolist()
    return flat


def agg_loss(loss, mask, mode):
    if mode == 0:
        return (loss * mask).sum() / mask.sum()
    if mode == 1:
        tok = mask.sum(-1)
        seq = (loss * mask).sum(-1) / tok.clamp(min=1)
        return seq[tok > 0].mean()
    return (loss * mask).sum(-1).mean()


def grpo_adv(rewards, groups, norm):
    r = torch.tensor([float(x) for x in rewards])
    out = torch.zeros_like(r)
    for g in set(groups):
        idx = [i for i, x in enumerate(groups) if x == g]
        s = r[idx]
        if len(idx) == 1:
            mean, std = torch.tensor(0.0), torch.tensor(1.0)
        else:
            mean, std = s.mean(), s.std()
        out[idx] = (s - mean) / (std + 1e-6) if norm else s - mean
    return out.tolist()


def policy_loss(c):
    off = [int(x) for x in c["offsets"]]
    logp = padded(c["logp"], off).requires_grad_(True)
    old, ref, adv, mask = (padded(c[k], off) for k in ("old_logp", "ref_logp", "adv", "mask"))
    ratio = torch.exp(torch.clamp(logp - old, -20, 20))
    pg1 = -adv * ratio
    pg2 = -adv * torch.clamp(ratio, 1 - c["clip_low"], 1 + c["clip_high"])
    clip1 = torch.maximum(pg1, pg2)
    if c["clip_c"] > 0:
        pg3 = -adv * c["clip_c"]
        pg = torch.where(adv < 0, torch.minimum(pg3, clip1), clip1)
    else:
        pg = clip1
    pg_loss = agg_loss(pg, mask, c["agg"])
    kl = torch.clamp(ref - logp, -20, 20)
    kld = torch.clamp(torch.exp(kl) - kl - 1, -10, 10)
    kl_loss = agg_loss(kld, mask, c["agg"])
    loss = pg_loss + c["kl_coef"] * kl_loss
    loss.backward()
    return {"loss": loss.item(), "pg_loss": pg_loss.item(), "kl": kl_loss.item(),
            "grad": unpad(logp.grad, off)}


def gpg_loss(c):
    off = [int(x) for x in c["offsets"]]
    logp = padded(c["logp"], off).requires_grad_(True)
    adv, mask = padded(c["adv"], off), padded(c["mask"], off)
    loss = agg_loss(-adv * logp, mask, c["agg"])
    loss.backward()
    return {"loss": loss.item(), "grad": unpad(logp.grad, off)}


def value_loss(c):
    off = [int(x) for x in c["offsets"]]
    v = padded(c["values"], off).requires_grad_(True)
    old, ret, mask = padded(c["old_values"], off), padded(c["returns"], off), padded(c["mask"], off)
    vc = old + torch.clamp(v - old, -c["vclip"], c["vclip"])
    loss = 0.5 * agg_loss(torch.maximum((v - ret) ** 2, (vc - ret) ** 2), mask, c["agg"])
    loss.backward()
    return {"loss": loss.item(), "grad": unpad(v.grad, off)}


def gae(c):
    off = [int(x) for x in c["offsets"]]
    rew, val, mask = padded(c["token_rewards"], off), padded(c["values"], off), padded(c["mask"], off)
    n, L = rew.shape
    adv = torch.zeros(n, L)
    for i in range(n):
        last, nextv = 0.0, 0.0
        for t in reversed(range(off[i + 1] - off[i])):
            delta = rew[i, t] + c["gamma"] * nextv - val[i, t]
            last = delta + c["gamma"] * c["lam"] * last
            adv[i, t] = last
            nextv = val[i, t]
    ret = adv + val
    mean = (adv * mask).sum() / mask.sum()
    var = ((adv - mean) ** 2 * mask).sum() / mask.sum()
    var = var * mask.sum() / (mask.sum() - 1)
    white = (adv - mean) * torch.rsqrt(var + 1e-8)
    return {"adv": unpad(white, off), "ret": unpad(ret, off)}


def main():
    c = json.load(open(sys.argv[1]))
    out = {
        "grpo": grpo_adv(c["rewards"], c["groups"], True),
        "grpo_nostd": grpo_adv(c["rewards"], c["groups"], False),
        "policy": policy_loss(c),
        "gpg": gpg_loss(c),
        "value": value_loss(c),
        "gae": gae(c),
    }
    json.dump(out, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
