#!/usr/bin/python3
"""Hand-written PyTorch Qwen3 reference for the C model's tests and benchmarks.

Test mode:  qwen3_ref.py check DIR
  reads DIR/case.json (config, tensor table, batch shape, AdamW settings), DIR/params.bin (fp32,
  tensors at the table's offsets) and DIR/batch.bin (int32 tokens, pos, seg, targets, each [B*T]);
  computes in float64: logits, loss (token mean over targets >= 0), every parameter gradient, and
  the losses of `steps` torch.optim.AdamW steps on the same batch. Writes logits.bin (f32 [N,V]),
  grads.bin (f32, the params layout), losses.bin (f64 [1 + steps]).
Score mode: qwen3_ref.py score MODEL_DIR < ids.txt
  reads an HF dir (config.json, model.safetensors or index + shards; F32/BF16 read with numpy) and
  prints per line the log-probability of each token after the first, like `onerec score`.
Corrupt mode: qwen3_ref.py corrupt KIND SRC_DIR DST_DIR  (fixtures for the bad-input tests)
  KIND: missing-tensor, wrong-shape, wrong-dtype, truncated, bad-header, missing-field.
Bench mode: qwen3_ref.py bench --hidden .. (see bench/train_step.sh): tokens/s of a training step
  or a forward pass in fp32 with the given thread count.
The attention mask is built densely ([T, T] per row from the segment ids), independently of the
C code's per-block loops.
"""
import json
import math
import os
import sys
import time

import numpy as np

if sys.argv[1:2] != ["corrupt"]:   # fixtures need no torch (and start faster without it)
    import torch


def layer_names(i):
    p = f"model.layers.{i}."
    return {k: p + v for k, v in dict(
        in_norm="input_layernorm.weight", wq="self_attn.q_proj.weight", wk="self_attn.k_proj.weight",
        wv="self_attn.v_proj.weight", q_norm="self_attn.q_norm.weight", k_norm="self_attn.k_norm.weight",
        wo="self_attn.o_proj.weight", post_norm="post_attention_layernorm.weight",
        gate="mlp.gate_proj.weight", up="mlp.up_proj.weight", down="mlp.down_proj.weight").items()}


def rms(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_cos_sin(pos, D, theta, dtype):
    # float32 angles as in HF's Qwen3RotaryEmbedding, then cast
    inv = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
    ang = pos.float()[..., None] * inv            # [B, T, D/2]
    emb = torch.cat((ang, ang), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def forward(P, cfg, tokens, pos, seg):
    """tokens/pos/seg [B, T] -> logits [B, T, V]"""
    B, T = tokens.shape
    C, nH, nKV, D = cfg["dim"], cfg["n_heads"], cfg["n_kv"], cfg["head_dim"]
    eps = cfg["eps"]
    x = P["model.embed_tokens.weight"][tokens]
    cos, sin = rope_cos_sin(pos, D, cfg["rope_theta"], x.dtype)
    cos, sin = cos[:, None], sin[:, None]       # [B, 1, T, D]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    allowed = causal[None] & (seg[:, :, None] == seg[:, None, :])   # [B, T, T]
    bias = torch.zeros(B, 1, T, T, dtype=x.dtype).masked_fill(~allowed[:, None], float("-inf"))
    for i in range(cfg["n_layers"]):
        n = layer_names(i)
        h = rms(x, P[n["in_norm"]], eps)
        q = (h @ P[n["wq"]].T).view(B, T, nH, D)
        k = (h @ P[n["wk"]].T).view(B, T, nKV, D)
        v = (h @ P[n["wv"]].T).view(B, T, nKV, D)
        q = rms(q, P[n["q_norm"]], eps).transpose(1, 2)
        k = rms(k, P[n["k_norm"]], eps).transpose(1, 2)
        v = v.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = nH // nKV
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        s = q @ k.transpose(-1, -2) / math.sqrt(D) + bias
        a = torch.softmax(s, dim=-1) @ v             # [B, nH, T, D]
        a = a.transpose(1, 2).reshape(B, T, nH * D)
        x = x + a @ P[n["wo"]].T
        h = rms(x, P[n["post_norm"]], eps)
        x = x + (torch.nn.functional.silu(h @ P[n["gate"]].T) * (h @ P[n["up"]].T)) @ P[n["down"]].T
    x = rms(x, P["model.norm.weight"], eps)
    head = P["model.embed_tokens.weight"] if cfg["tied"] else P["lm_head.weight"]
    return x @ head.T


def loss_fn(logits, targets):
    m = targets >= 0
    lp = torch.log_softmax(logits[m], dim=-1)
    return -lp.gather(1, targets[m][:, None]).mean()


def check(d):
    case = json.load(open(os.path.join(d, "case.json")))
    cfg = case["config"]
    flat = np.fromfile(os.path.join(d, "params.bin"), dtype=np.float32)
    B, T = case["B"], case["T"]
    bt = np.fromfile(os.path.join(d, "batch.bin"), dtype=np.int32).reshape(4, B, T)
    tokens, pos, seg, targets = (torch.from_numpy(bt[i].astype(np.int64)) for i in range(4))
    P = {}
    for t in case["tensors"]:
        a = flat[t["offset"]:t["offset"] + int(np.prod(t["shape"]))].reshape(t["shape"])
        P[t["name"]] = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    logits = forward(P, cfg, tokens, pos, seg)
    loss = loss_fn(logits, targets)
    loss.backward()
    logits.detach().float().numpy().tofile(os.path.join(d, "logits.bin"))
    g = np.zeros_like(flat)
    for t in case["tensors"]:
        n = int(np.prod(t["shape"]))
        g[t["offset"]:t["offset"] + n] = P[t["name"]].grad.numpy().reshape(-1)
    g.tofile(os.path.join(d, "grads.bin"))
    losses = [loss.item()]
    ad = case["adamw"]
    opt = torch.optim.AdamW(list(P.values()), lr=ad["lr"], betas=(ad["beta1"], ad["beta2"]), eps=ad["eps"],
                            weight_decay=ad["weight_decay"])
    for _ in range(case["steps"]):
        opt.step()   # uses the gradient of the previous loss
        opt.zero_grad()
        loss = loss_fn(forward(P, cfg, tokens, pos, seg), targets)
        loss.backward()
        losses.append(loss.item())
    np.array(losses, dtype=np.float64).tofile(os.path.join(d, "losses.bin"))


def read_safetensors(path):
    import struct
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    out = {}
    for name, t in hdr.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        buf = raw[8 + n + b:8 + n + e]
        if t["dtype"] == "F32":
            a = np.frombuffer(buf, dtype="<f4")
        elif t["dtype"] == "BF16":
            a = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise SystemExit(f"{path}: {name}: dtype {t['dtype']} not handled by the reference")
        out[name] = a.reshape(t["shape"])
    return hdr, out


def read_model_dir(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) else ["model.safetensors"]
    W = {}
    for f in files:
        W.update(read_safetensors(os.path.join(d, f))[1])
    return W


def score(d):
    hf = json.load(open(os.path.join(d, "config.json")))
    cfg = dict(dim=hf["hidden_size"], n_layers=hf["num_hidden_layers"], n_heads=hf["num_attention_heads"],
               n_kv=hf["num_key_value_heads"], head_dim=hf.get("head_dim", hf["hidden_size"] // hf["num_attention_heads"]),
               eps=hf["rms_norm_eps"], rope_theta=hf["rope_theta"], tied=hf.get("tie_word_embeddings", False))
    P = {k: torch.tensor(v, dtype=torch.float64) for k, v in read_model_dir(d).items()}
    for line in sys.stdin:
        ids = [int(x) for x in line.split()]
        if len(ids) < 2:
            print()
            continue
        t = torch.tensor([ids])
        n = len(ids)
        lg = forward(P, cfg, t, torch.arange(n)[None], torch.zeros(1, n, dtype=torch.int64))[0]
        lp = torch.log_softmax(lg, -1)[torch.arange(n - 1), t[0, 1:]]
        print(" ".join(f"{x:.6f}" for x in lp.tolist()))


def corrupt(kind, src, dst):
    """Copies model dir src to dst with one defect (dst holds config.json + model.safetensors)."""
    import shutil
    import struct
    shutil.copytree(src, dst)
    st = os.path.join(dst, "model.safetensors")
    raw = open(st, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    data = raw[8 + n:]

    def write(h, body):
        hb = json.dumps(h).encode()
        hb += b" " * (-len(hb) % 8)
        open(st, "wb").write(struct.pack("<Q", len(hb)) + hb + body)

    name = "model.layers.1.mlp.up_proj.weight"
    if kind == "missing-tensor":
        del hdr[name]
        write(hdr, data)
    elif kind == "wrong-shape":
        r, c = hdr[name]["shape"]
        hdr[name]["shape"] = [c, r]
        write(hdr, data)
    elif kind == "wrong-dtype":
        b, e = hdr[name]["data_offsets"]
        hdr[name]["dtype"] = "I32"
        write(hdr, data)
    elif kind == "truncated":
        open(st, "wb").write(raw[:len(raw) - 1000])
    elif kind == "bad-header":
        hb = raw[8:8 + n].replace(b'"shape"', b'"shape":', 1)
        open(st, "wb").write(raw[:8] + hb + data)
    elif kind == "missing-field":
        cfg = json.load(open(os.path.join(dst, "config.json")))
        del cfg["hidden_size"]
        json.dump(cfg, open(os.path.join(dst, "config.json"), "w"))
    else:
        raise SystemExit("unknown corruption " + kind)


def bench(argv):
    import argparse
    ap = argparse.ArgumentParser()
    for k, v in dict(hidden=512, layers=4, heads=8, kv=4, head_dim=64, ffn=1536, vocab=151936, batch=4,
                     seq=256, steps=3, threads=2).items():
        ap.add_argument("--" + k.replace("_", "-"), type=int, default=v)
    ap.add_argument("--untied", action="store_true")
    ap.add_argument("--forward-only", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = dict(dim=a.hidden, n_layers=a.layers, n_heads=a.heads, n_kv=a.kv, head_dim=a.head_dim, eps=1e-6,
               rope_theta=1e6, tied=not a.untied)
    C, Q, K = a.hidden, a.heads * a.head_dim, a.kv * a.head_dim
    P = {"model.embed_tokens.weight": torch.randn(a.vocab, C) * 0.02, "model.norm.weight": torch.ones(C)}
    if a.untied:
        P["lm_head.weight"] = torch.randn(a.vocab, C) * 0.02
    for i in range(a.layers):
        n = layer_names(i)
        for key, shape in dict(wq=(Q, C), wk=(K, C), wv=(K, C), wo=(C, Q), gate=(a.ffn, C), up=(a.ffn, C),
                               down=(C, a.ffn)).items():
            P[n[key]] = torch.randn(*shape) * 0.02
        for key, dim in dict(in_norm=C, post_norm=C, q_norm=a.head_dim, k_norm=a.head_dim).items():
            P[n[key]] = torch.ones(dim)
    for p in P.values():
        p.requires_grad_(not a.forward_only)
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, a.vocab, (a.batch, a.seq), generator=g)
    targets = torch.roll(tokens, -1, 1)
    pos = torch.arange(a.seq)[None].expand(a.batch, a.seq)
    seg = torch.zeros(a.batch, a.seq, dtype=torch.int64)
    opt = None if a.forward_only else torch.optim.AdamW(list(P.values()), lr=1e-4, betas=(0.9, 0.95),
                                                         eps=1e-8, weight_decay=0.1)
    times = []
    for s in range(a.steps + 1):
        t0 = time.time()
        if a.forward_only:
            with torch.no_grad():
                loss = loss_fn(forward(P, cfg, tokens, pos, seg), targets)
        else:
            opt.zero_grad()
            loss = loss_fn(forward(P, cfg, tokens, pos, seg), targets)
            loss.backward()
            opt.step()
        if s:   # the first step warms up allocators and thread pools
            times.append(time.time() - t0)
    tps = a.batch * a.seq / sorted(times)[len(times) // 2]   # the median step, as model_bench
    print(f"ref tokens_per_s={tps:.1f} loss={loss.item():.4f}")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "score":
        score(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "corrupt":
        corrupt(*sys.argv[2:])
    elif len(sys.argv) >= 2 and sys.argv[1] == "bench":
        bench(sys.argv[2:])
    else:
        sys.exit(__doc__)
