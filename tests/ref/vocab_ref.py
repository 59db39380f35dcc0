#!/usr/bin/python3
"""Independent checks for `onerec vocab expand` and `onerec embed` (numpy/torch, no onerec code).

make OUT [--vocab N --hidden C --layers L --heads H --kv K --head-dim D --ffn F --untied
          --dtype bf16|f32 --tokenizer-dir DIR --seed S]
    a random Qwen3 HF dir: config.json, model.safetensors (written by hand here), the tokenizer
    files of --tokenizer-dir, generation_config.json and chat_template.jinja (to see them copied).
check BASE OUT --layers L --codebook K --init mean|hf [--noise X]
    reads both dirs' safetensors with numpy and checks: rows of old tokens bitwise equal, new rows
    = mean of the old rows (the rule's statistics) within the noise, vocab_size aligned, the
    tokenizer.json / tokenizer_config.json entries (ids, order, flags), the other files copied.
    Then loads OUT into the PyTorch reference (tests/ref/qwen3_ref.py) and scores a sequence of
    itemic tokens: the loss must be finite. Prints "ok" or raises.
embed MODEL IDS OURS
    IDS: JSON list of token-id lists; OURS: JSON [[pid, [floats]], ...] (our embeddings, in the same
    order). The reference embedding is the final-norm hidden state of the last token of each
    sequence (one plain forward per sequence, float64), L2-normalised; prints the largest
    difference and fails above 1e-4.
bench MODEL IDS BATCH THREADS
    PyTorch fp32 embedding throughput, HF-style padded batches (bench/embed.sh).
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def bf16_bits(a):
    """f32 array -> bf16 bit patterns (round to nearest even)"""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def write_safetensors(path, tensors, dtype):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, a in tensors.items():
        b = bf16_bits(a).tobytes() if dtype == "bf16" else np.ascontiguousarray(a, np.float32).tobytes()
        header[name] = {"dtype": "BF16" if dtype == "bf16" else "F32", "shape": list(a.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors_dir(d):
    """name -> (dtype string, shape, raw bytes)"""
    files = []
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        files = sorted(set(json.load(open(idx))["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    out = {}
    for fn in files:
        raw = open(os.path.join(d, fn), "rb").read()
        n = int.from_bytes(raw[:8], "little")
        h = json.loads(raw[8:8 + n])
        base = 8 + n
        for name, t in h.items():
            if name == "__metadata__":
                continue
            b, e = t["data_offsets"]
            assert name not in out, f"{name} in two shards"
            out[name] = (t["dtype"], t["shape"], raw[base + b:base + e])
    return out


def to_f32(dtype, shape, raw):
    if dtype == "F32":
        return np.frombuffer(raw, np.float32).reshape(shape)
    if dtype == "BF16":
        return (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(shape)
    if dtype == "F16":
        return np.frombuffer(raw, np.float16).astype(np.float32).reshape(shape)
    raise ValueError(dtype)


def make(argv):
    import argparse
    import shutil
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    for k, v in dict(vocab=151936, hidden=64, layers=1, heads=2, kv=1, head_dim=32, ffn=128, seed=1).items():
        ap.add_argument("--" + k.replace("_", "-"), type=int, default=v)
    ap.add_argument("--untied", action="store_true")
    ap.add_argument("--dtype", default="bf16")
    ap.add_argument("--tokenizer-dir", required=True)
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    C, Q, K = a.hidden, a.heads * a.head_dim, a.kv * a.head_dim

    def rnd(*s):
        return (rng.standard_normal(s, dtype=np.float32) * 0.02).astype(np.float32)

    T = {"model.embed_tokens.weight": rnd(a.vocab, C)}
    # a distinct mean per dimension, so "new row == mean of old rows" is a real check
    T["model.embed_tokens.weight"] += np.linspace(-0.05, 0.05, C, dtype=np.float32)
    for i in range(a.layers):
        p = f"model.layers.{i}."
        T[p + "input_layernorm.weight"] = 1 + rnd(C)
        T[p + "self_attn.q_proj.weight"] = rnd(Q, C)
        T[p + "self_attn.k_proj.weight"] = rnd(K, C)
        T[p + "self_attn.v_proj.weight"] = rnd(K, C)
        T[p + "self_attn.q_norm.weight"] = 1 + rnd(a.head_dim)
        T[p + "self_attn.k_norm.weight"] = 1 + rnd(a.head_dim)
        T[p + "self_attn.o_proj.weight"] = rnd(C, Q)
        T[p + "post_attention_layernorm.weight"] = 1 + rnd(C)
        T[p + "mlp.gate_proj.weight"] = rnd(a.ffn, C)
        T[p + "mlp.up_proj.weight"] = rnd(a.ffn, C)
        T[p + "mlp.down_proj.weight"] = rnd(C, a.ffn)
    T["model.norm.weight"] = 1 + rnd(C)
    if a.untied:
        T["lm_head.weight"] = rnd(a.vocab, C) - np.linspace(-0.03, 0.03, C, dtype=np.float32)
    write_safetensors(os.path.join(a.out, "model.safetensors"), T, a.dtype)
    cfg = {"architectures": ["Qwen3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
           "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": a.head_dim, "hidden_act": "silu",
           "hidden_size": C, "initializer_range": 0.02, "intermediate_size": a.ffn,
           "max_position_embeddings": 40960, "max_window_layers": a.layers, "model_type": "qwen3",
           "num_attention_heads": a.heads, "num_hidden_layers": a.layers, "num_key_value_heads": a.kv,
           "rms_norm_eps": 1e-06, "rope_scaling": None, "rope_theta": 1000000, "sliding_window": None,
           "tie_word_embeddings": not a.untied, "torch_dtype": "bfloat16" if a.dtype == "bf16" else "float32",
           "transformers_version": "4.51.0", "use_cache": True, "use_sliding_window": False,
           "vocab_size": a.vocab}
    json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=2)
    json.dump({"bos_token_id": 151643, "eos_token_id": [151645, 151643], "do_sample": True, "temperature": 0.6},
              open(os.path.join(a.out, "generation_config.json"), "w"), indent=2)
    with open(os.path.join(a.out, "chat_template.jinja"), "w") as f:
        f.write("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}")
    for fn in ("tokenizer.json", "tokenizer_config.json"):
        src = os.path.join(a.tokenizer_dir, fn)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(a.out, fn))


def itemic_names(L, K):
    return [f"<s_{chr(97 + l)}_{i}>" for l in range(L) for i in range(K)] + ["<|sid_begin|>", "<|sid_end|>"]


def check(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--codebook", type=int, default=8192)
    ap.add_argument("--init", default="mean")
    ap.add_argument("--noise", type=float, default=3.1622776601683795e-5)
    ap.add_argument("--align", type=int, default=256)
    a = ap.parse_args(argv)
    bcfg = json.load(open(os.path.join(a.base, "config.json")))
    ocfg = json.load(open(os.path.join(a.out, "config.json")))
    btok = json.load(open(os.path.join(a.base, "tokenizer.json")))
    otok = json.load(open(os.path.join(a.out, "tokenizer.json")))
    old_len = max(max(btok["model"]["vocab"].values()), max(t["id"] for t in btok["added_tokens"])) + 1
    names = itemic_names(a.layers, a.codebook)
    new_len = old_len + len(names)
    old_vocab = bcfg["vocab_size"]
    want_vocab = -(-max(new_len, old_vocab) // a.align) * a.align
    assert ocfg["vocab_size"] == want_vocab, (ocfg["vocab_size"], want_vocab)
    for k, v in bcfg.items():
        if k not in ("vocab_size", "torch_dtype"):
            assert ocfg.get(k) == v, f"config key {k} changed: {v} -> {ocfg.get(k)}"
    # tokenizer.json: the old added tokens unchanged, then the new ones in order, non-special
    assert otok["added_tokens"][:len(btok["added_tokens"])] == btok["added_tokens"]
    new = otok["added_tokens"][len(btok["added_tokens"]):]
    assert [t["content"] for t in new] == names
    assert [t["id"] for t in new] == list(range(old_len, new_len))
    assert all(not t["special"] and t["normalized"] and not t["lstrip"] and not t["rstrip"] for t in new)
    assert otok["model"]["vocab"] == btok["model"]["vocab"] and otok["model"]["merges"] == btok["model"]["merges"]
    # tokenizer_config.json: added_tokens_decoder extended, chat template and the rest kept
    if os.path.exists(os.path.join(a.base, "tokenizer_config.json")):
        btc = json.load(open(os.path.join(a.base, "tokenizer_config.json")))
        otc = json.load(open(os.path.join(a.out, "tokenizer_config.json")))
        for k, v in btc.items():
            if k != "added_tokens_decoder":
                assert otc[k] == v, f"tokenizer_config key {k} changed"
        dec = otc["added_tokens_decoder"]
        for k, v in btc.get("added_tokens_decoder", {}).items():
            assert dec[k] == v
        for i, n in enumerate(names):
            e = dec[str(old_len + i)]
            assert e == {"content": n, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False,
                         "special": False}, e
    for fn in os.listdir(a.base):
        if fn.endswith((".json", ".jinja", ".txt")) and fn not in ("config.json", "tokenizer.json",
                                                                    "tokenizer_config.json"):
            assert open(os.path.join(a.base, fn), "rb").read() == open(os.path.join(a.out, fn), "rb").read(), fn
    # weights
    B, O = read_safetensors_dir(a.base), read_safetensors_dir(a.out)
    assert set(B) == set(O), (set(B) ^ set(O))
    for name, (dt, shape, raw) in B.items():
        odt, oshape, oraw = O[name]
        assert odt == dt, (name, dt, odt)
        if name in ("model.embed_tokens.weight", "lm_head.weight"):
            C = shape[1]
            assert oshape == [want_vocab, C], (name, oshape)
            es = len(raw) // (shape[0] * C)
            keep = old_len if a.init == "mean" else old_vocab
            assert oraw[:keep * C * es] == raw[:keep * C * es], f"{name}: old rows changed"
            w = to_f32(dt, shape, raw).astype(np.float64)
            stat = w[:keep]
            mean, sd = stat.mean(0), stat.std(0)
            nw = to_f32(odt, oshape, oraw).astype(np.float64)[keep:]
            ulp = np.abs(mean) * (2.0 ** -8 if dt == "BF16" else 2.0 ** -23)
            err = np.abs(nw - mean)
            tol = 6 * a.noise * sd + ulp + 1e-12
            assert (err <= tol).all(), f"{name}: new rows off the mean by up to {(err - tol).max()}"
            if a.noise > 0 and dt == "F32":
                z = (nw - mean) / (a.noise * sd)
                assert abs(z.std() - 1) < 0.05 and abs(z.mean()) < 0.05, (z.mean(), z.std())
        else:
            assert oshape == shape and oraw == raw, f"{name} changed"
    # the PyTorch reference loads the expanded model and scores itemic tokens
    import torch
    from qwen3_ref import forward
    P = {n: torch.from_numpy(to_f32(*O[n]).astype(np.float64)) for n in O}
    cfg = dict(dim=ocfg["hidden_size"], n_layers=ocfg["num_hidden_layers"], n_heads=ocfg["num_attention_heads"],
               n_kv=ocfg["num_key_value_heads"], head_dim=ocfg["head_dim"], eps=ocfg["rms_norm_eps"],
               rope_theta=ocfg["rope_theta"], tied=ocfg["tie_word_embeddings"])
    ids = torch.tensor([[new_len - 2, old_len + 340 % a.codebook, new_len - 1, 9707, new_len - 2]])
    logits = forward(P, cfg, ids, torch.arange(ids.shape[1])[None], torch.zeros_like(ids))
    assert logits.shape[-1] == want_vocab and torch.isfinite(logits).all()
    loss = torch.nn.functional.cross_entropy(logits[0, :-1], ids[0, 1:])
    assert torch.isfinite(loss)
    print(f"ok old_len={old_len} new_len={new_len} vocab_size={want_vocab} loss={loss.item():.4f}")


def embed(argv):
    import torch
    from qwen3_ref import forward
    model, ids_path, ours_path = argv
    cfgj = json.load(open(os.path.join(model, "config.json")))
    W = read_safetensors_dir(model)
    P = {n: torch.from_numpy(to_f32(*W[n]).astype(np.float64)) for n in W}
    C = cfgj["hidden_size"]
    # identity head: forward() then returns the final-norm hidden states themselves
    P["lm_head.weight"] = torch.eye(C, dtype=torch.float64)
    cfg = dict(dim=C, n_layers=cfgj["num_hidden_layers"], n_heads=cfgj["num_attention_heads"],
               n_kv=cfgj["num_key_value_heads"], head_dim=cfgj.get("head_dim", C // cfgj["num_attention_heads"]),
               eps=cfgj["rms_norm_eps"], rope_theta=cfgj["rope_theta"], tied=False)
    seqs = json.load(open(ids_path))
    ours = json.load(open(ours_path))
    assert len(ours) == len(seqs), (len(ours), len(seqs))
    worst = 0.0
    for seq, (pid, emb) in zip(seqs, ours):
        t = torch.tensor([seq])
        h = forward(P, cfg, t, torch.arange(len(seq))[None], torch.zeros_like(t))[0, -1]
        ref = (h / h.norm()).numpy()
        e = np.array(emb, dtype=np.float64)
        assert e.shape == ref.shape, (pid, e.shape, ref.shape)
        assert abs(np.linalg.norm(e) - 1) < 1e-5, (pid, np.linalg.norm(e))
        worst = max(worst, float(np.abs(e - ref).max()))
    print(f"ok items={len(seqs)} dim={C} max_abs_diff={worst:.3g}")
    assert worst < 1e-4, worst


def bench(argv):
    """bench MODEL IDS BATCH THREADS: tokens/s of the embedding forward in PyTorch fp32 the way HF
    batches it (each batch padded to its longest text, padding masked out), identity head."""
    import time
    import torch
    from qwen3_ref import forward
    model, ids_path, batch, threads = argv[0], argv[1], int(argv[2]), int(argv[3])
    torch.set_num_threads(threads)
    cfgj = json.load(open(os.path.join(model, "config.json")))
    W = read_safetensors_dir(model)
    P = {n: torch.from_numpy(to_f32(*W[n]).copy()) for n in W}
    C = cfgj["hidden_size"]
    P["lm_head.weight"] = torch.eye(C)
    cfg = dict(dim=C, n_layers=cfgj["num_hidden_layers"], n_heads=cfgj["num_attention_heads"],
               n_kv=cfgj["num_key_value_heads"], head_dim=cfgj.get("head_dim", C // cfgj["num_attention_heads"]),
               eps=cfgj["rms_norm_eps"], rope_theta=cfgj["rope_theta"], tied=False)
    seqs = json.load(open(ids_path))
    ntok, t0 = 0, time.time()
    with torch.no_grad():
        for s in range(0, len(seqs), batch):
            chunk = seqs[s:s + batch]
            T = max(len(q) for q in chunk)
            tok = torch.zeros(len(chunk), T, dtype=torch.int64)
            seg = torch.ones(len(chunk), T, dtype=torch.int64)   # padding: its own segment
            for i, q in enumerate(chunk):
                tok[i, :len(q)] = torch.tensor(q)
                seg[i, :len(q)] = 0
                ntok += len(q)
            pos = torch.arange(T)[None].expand(len(chunk), T)
            h = forward(P, cfg, tok, pos, seg)
            last = torch.tensor([len(q) - 1 for q in chunk])
            e = h[torch.arange(len(chunk)), last]
            e = e / e.norm(dim=-1, keepdim=True)
    dt = time.time() - t0
    print(f"ref items={len(seqs)} tokens={ntok} seconds={dt:.2f} tokens_per_s={ntok / dt:.1f}")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "make":
        make(sys.argv[2:])
    elif cmd == "check":
        check(sys.argv[2:])
    elif cmd == "embed":
        embed(sys.argv[2:])
    elif cmd == "bench":
        bench(sys.argv[2:])
    else:
        sys.exit(__doc__)
