#!/usr/bin/python3
# Test fixture for the trainer: a tiny Qwen3 HF model dir (random weights, a byte-level BPE
# tokenizer.json with the Qwen3 special tokens and a small itemic vocabulary) and a toy
# recommendation world written as training tables (.jsonl rows in the unified format): Segments
# pretraining samples, Chat SFT samples, held-out files and dataset configs.
# usage: train_fixture.py OUT_DIR [--layers N] [--dim N] [--rows N]
import argparse
import json
import os
import random
import struct

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--dim", type=int, default=64)
ap.add_argument("--rows", type=int, default=240, help="training rows per table")
ap.add_argument("--codes", type=int, default=16, help="codes per SID layer")
ap.add_argument("--untied", action="store_true")
ap.add_argument("--heads", type=int, default=4)
ap.add_argument("--kv", type=int, default=2)
ap.add_argument("--head_dim", type=int, default=16)
ap.add_argument("--ffn", type=int, default=0, help="0: 2 x dim")
ap.add_argument("--vocab", type=int, default=0, help="embedding rows (0: the tokenizer's, aligned to 64)")
args = ap.parse_args()
out = args.out
os.makedirs(out, exist_ok=True)


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


# ---- tokenizer: 256 byte tokens + a few merges, then the added tokens
b2u = bytes_to_unicode()
vocab = {b2u[b]: b for b in range(256)}
merges = []
for pair in ["Ġ t", "Ġ a", "h e", "i n", "Ġt he", "e r", "o n", "Ġ s", "Ġ i", "r e"]:
    a, b = pair.split(" ")
    if a in vocab and b in vocab and a + b not in vocab:
        vocab[a + b] = len(vocab)
        merges.append([a, b])
specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
C = args.codes
itemic = [f"<s_{l}_{i}>" for l in "abc" for i in range(C)] + ["<|sid_begin|>", "<|sid_end|>"]
added = []
nid = len(vocab)
for t in specials:
    added.append({"id": nid, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True})
    nid += 1
first_itemic = nid
for t in itemic:
    added.append({"id": nid, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": False})
    nid += 1
ntok = nid
vocab_size = max(args.vocab, (ntok + 63) // 64 * 64)
tok = {
    "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "post_processor": None,
    "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
              "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
              "vocab": vocab, "merges": merges},
}
mdir = os.path.join(out, "model")
os.makedirs(mdir, exist_ok=True)
json.dump(tok, open(os.path.join(mdir, "tokenizer.json"), "w"), ensure_ascii=False)
json.dump({"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}, open(os.path.join(mdir, "tokenizer_config.json"), "w"))

# ---- model
D = args.dim
heads, kv, hd, ffn = args.heads, args.kv, args.head_dim, args.ffn or 2 * D
cfg = {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": D, "intermediate_size": ffn,
       "num_hidden_layers": args.layers, "num_attention_heads": heads, "num_key_value_heads": kv, "head_dim": hd,
       "vocab_size": vocab_size, "max_position_embeddings": 4096, "tie_word_embeddings": not args.untied,
       "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "bos_token_id": first_itemic - 5, "eos_token_id": first_itemic - 3,
       "torch_dtype": "float32", "hidden_act": "silu"}
json.dump(cfg, open(os.path.join(mdir, "config.json"), "w"), indent=1)
rng = np.random.default_rng(5)
tensors = {"model.embed_tokens.weight": rng.standard_normal((vocab_size, D), dtype=np.float32) * 0.02}
for i in range(args.layers):
    p = f"model.layers.{i}."
    tensors[p + "input_layernorm.weight"] = np.ones(D)
    tensors[p + "post_attention_layernorm.weight"] = np.ones(D)
    tensors[p + "self_attn.q_proj.weight"] = rng.normal(0, 0.02, (heads * hd, D))
    tensors[p + "self_attn.k_proj.weight"] = rng.normal(0, 0.02, (kv * hd, D))
    tensors[p + "self_attn.v_proj.weight"] = rng.normal(0, 0.02, (kv * hd, D))
    tensors[p + "self_attn.o_proj.weight"] = rng.normal(0, 0.02, (D, heads * hd))
    tensors[p + "self_attn.q_norm.weight"] = np.ones(hd)
    tensors[p + "self_attn.k_norm.weight"] = np.ones(hd)
    tensors[p + "mlp.gate_proj.weight"] = rng.normal(0, 0.02, (ffn, D))
    tensors[p + "mlp.up_proj.weight"] = rng.normal(0, 0.02, (ffn, D))
    tensors[p + "mlp.down_proj.weight"] = rng.normal(0, 0.02, (D, ffn))
tensors["model.norm.weight"] = np.ones(D)
if args.untied:
    tensors["lm_head.weight"] = rng.normal(0, 0.02, (vocab_size, D))
header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
for name, a in tensors.items():
    b = a.astype("<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(os.path.join(mdir, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

# ---- a toy world: items with SIDs and one-word captions; users walk item chains
R = random.Random(42)
words = ["cats", "dogs", "cooking", "football", "music", "travel", "cars", "games", "dance", "news", "science",
         "fishing", "movies", "art", "books", "kids"]
NI = 48
sid = [(i % C, (i * 5 + 3) % C, (i * 7 + 1) % C) for i in range(NI)]
cap = [words[i % len(words)] for i in range(NI)]


def s(i):
    a, b, c = sid[i]
    return f"<|sid_begin|><s_a_{a}><s_b_{b}><s_c_{c}><|sid_end|>"


def walk(n):
    i = R.randrange(NI)
    seq = [i]
    for _ in range(n - 1):
        i = (i * 3 + 1) % NI if R.random() < 0.9 else R.randrange(NI)
        seq.append(i)
    return seq


def pretrain_row(k):
    if k % 2 == 0:
        i = R.randrange(NI)
        segs = [{"type": "text", "text": f"video {s(i)} shows: {cap[i]} and more {cap[i]}"}]
        src = "RecIF_ItemUnderstand_Pretrain"
    else:
        segs = [{"type": "text", "text": "".join(s(i) for i in walk(8))}]
        src = "RecIF_VideoRec_Pretrain"
    return {"uuid": f"p{k}", "source": src, "metadata": "{}", "messages": "", "segments": json.dumps(segs, ensure_ascii=False)}


def text(t):
    return [{"type": "text", "text": t}]


def sft_row(k):
    seq = walk(6)
    msgs = [{"role": "system", "content": text("You are a recommender.")},
            {"role": "user", "content": text("History: " + "".join(s(i) for i in seq[:5]) + " What next?")},
            {"role": "assistant", "content": text(s(seq[5]))}]
    return {"uuid": f"s{k}", "source": "RecIF_VideoRec", "metadata": "{}", "messages": json.dumps(msgs, ensure_ascii=False), "segments": ""}


def write_table(name, rows, shard):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    files = []
    n = (len(rows) + shard - 1) // shard
    for p in range(n):
        fn = os.path.join(d, f"part-{p:05d}-of-{n:05d}.jsonl")
        with open(fn, "w") as f:
            for r in rows[p * shard:(p + 1) * shard]:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        files.append(os.path.basename(fn))
    json.dump(files, open(os.path.join(d, "file_list.json"), "w"))
    return os.path.join(name, "file_list.json")


def write_config(name, sources, **kw):
    c = {"name": "chat_completion_parquet", "sources": sources, "base_model_dir": "model", "max_length": 128,
         "max_sample_length": 128, "num_epochs": 100, "num_workers": 1, "cut_to_pad": 1, "full_attention": False,
         "local_shuffle_buffer_size": 32, "local_shuffle_random_fetch": 0.0,
         "itemic_id_range": [first_itemic, ntok - 1], "add_think_pattern": False, "only_assistant_loss": True}
    c.update(kw)
    json.dump(c, open(os.path.join(out, name), "w"), indent=1)


write_config("pretrain.json", write_table("pretrain", [pretrain_row(k) for k in range(args.rows)], 60))
write_config("pretrain_eval.json", write_table("pretrain_eval", [pretrain_row(k) for k in range(48)], 48), num_epochs=1)
write_config("sft.json", write_table("sft", [sft_row(k) for k in range(args.rows)], 60), add_think_pattern=True)
write_config("sft_eval.json", write_table("sft_eval", [sft_row(k) for k in range(48)], 48), num_epochs=1, add_think_pattern=True)
# bad inputs
json.dump([], open(os.path.join(out, "empty_list.json"), "w"))
write_config("bad_key.json", "pretrain/file_list.json", max_lenght=5)
write_config("too_long.json", "pretrain/file_list.json", max_sample_length=4)
print(json.dumps({"first_itemic": first_itemic, "ntok": ntok, "vocab_size": vocab_size}))
