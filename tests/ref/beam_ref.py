#!/usr/bin/python3
"""PyTorch reference for bench/beam.sh: beam search (width W, N new tokens, beams ranked by
cumulative log-prob) with a KV cache, HF style: the prompt is prefilled once, its cache expanded to
the W beams, and each step reorders the cache with index_select. Same model dir and the same
histories as build/bench/beam_bench. Prints users/s and the sum of the best beams' scores."""
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qwen3_ref import layer_names, read_model_dir, rms, rope_cos_sin, rotate_half  # noqa: E402
import json  # noqa: E402


def step(P, cfg, tokens, pos0, cache):
    """tokens [B, T] appended at positions pos0.. to cache (list of (k, v) [B, nKV, S, D]); returns
    log-probs of the last position [B, V] and the new cache"""
    B, T = tokens.shape
    nH, nKV, D, eps = cfg["n_heads"], cfg["n_kv"], cfg["head_dim"], cfg["eps"]
    x = P["model.embed_tokens.weight"][tokens]
    pos = torch.arange(pos0, pos0 + T)[None].expand(B, T)
    cos, sin = rope_cos_sin(pos, D, cfg["rope_theta"], x.dtype)
    cos, sin = cos[:, None], sin[:, None]
    new = []
    for i in range(cfg["n_layers"]):
        n = layer_names(i)
        h = rms(x, P[n["in_norm"]], eps)
        q = rms((h @ P[n["wq"]].T).view(B, T, nH, D), P[n["q_norm"]], eps).transpose(1, 2)
        k = rms((h @ P[n["wk"]].T).view(B, T, nKV, D), P[n["k_norm"]], eps).transpose(1, 2)
        v = (h @ P[n["wv"]].T).view(B, T, nKV, D).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            k = torch.cat([cache[i][0], k], dim=2)
            v = torch.cat([cache[i][1], v], dim=2)
        new.append((k, v))
        S = k.shape[2]
        rep = nH // nKV
        kk, vv = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        s = q @ kk.transpose(-1, -2) / math.sqrt(D)
        if T > 1:   # causal within the new tokens
            mask = torch.ones(T, S, dtype=torch.bool).tril(S - T)
            s = s.masked_fill(~mask, float("-inf"))
        a = (torch.softmax(s, dim=-1) @ vv).transpose(1, 2).reshape(B, T, nH * D)
        x = x + a @ P[n["wo"]].T
        h = rms(x, P[n["post_norm"]], eps)
        x = x + (torch.nn.functional.silu(h @ P[n["gate"]].T) * (h @ P[n["up"]].T)) @ P[n["down"]].T
    x = rms(x[:, -1], P["model.norm.weight"], eps)
    head = P["model.embed_tokens.weight"] if cfg["tied"] else P["lm_head.weight"]
    return torch.log_softmax(x @ head.T, dim=-1), new


def beam(P, cfg, prompt, W, N):
    lp, cache = step(P, cfg, prompt[None], 0, None)
    V = lp.shape[-1]
    scores, tok = torch.topk(lp[0], W)
    cache = [(k.expand(W, -1, -1, -1).contiguous(), v.expand(W, -1, -1, -1).contiguous()) for k, v in cache]
    seqs = tok[:, None]
    for t in range(1, N):
        lp, cache = step(P, cfg, seqs[:, -1:], len(prompt) + t - 1, cache)
        cand = (scores[:, None] + lp).view(-1)
        scores, idx = torch.topk(cand, W)
        parent, tok = idx // V, idx % V
        cache = [(k.index_select(0, parent), v.index_select(0, parent)) for k, v in cache]
        seqs = torch.cat([seqs.index_select(0, parent), tok[:, None]], dim=1)
    return seqs, scores


def main():
    d, users, W, N, Pn, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    torch.set_num_threads(threads)
    hf = json.load(open(os.path.join(d, "config.json")))
    cfg = dict(n_layers=hf["num_hidden_layers"], n_heads=hf["num_attention_heads"], n_kv=hf["num_key_value_heads"],
               head_dim=hf.get("head_dim", hf["hidden_size"] // hf["num_attention_heads"]), eps=hf["rms_norm_eps"],
               rope_theta=hf["rope_theta"], tied=hf.get("tie_word_embeddings", True))
    P = {k: torch.from_numpy(v.copy()) for k, v in read_model_dir(d).items()}
    V = P["model.embed_tokens.weight"].shape[0]
    total, checksum = 0.0, 0.0
    with torch.no_grad():
        for u in range(users + 1):   # user 0 warms up
            prompt = torch.tensor([(i * 7919 + u * 104729) % V for i in range(Pn)])
            t0 = time.time()
            _, scores = beam(P, cfg, prompt, W, N)
            if u:
                total += time.time() - t0
                checksum += scores[0].item()
    print(f"ref users_per_s={users / total:.3f} top_score_sum={checksum:.4f}")


if __name__ == "__main__":
    main()
