#!/usr/bin/python3
"""Independent safetensors reference (numpy + torch only; no safetensors package exists here).

  st_ref.py write DIR   writes files for our reader: DIR/py_*.safetensors, DIR/py_sharded/ and, for
                        every tensor, the exact values expected after conversion to f32 in
                        DIR/expect/<file>/<tensor>.f32 (raw little-endian float32), or .raw for
                        integer tensors (the stored bytes).
  st_ref.py check DIR   parses the files our writer made (DIR/c_*.safetensors, DIR/c_sharded/) strictly
                        and checks every stored value against DIR/src/<tensor>.f32 (the f32 input):
                        F32 bit-exact, BF16 bit-exact against torch's .to(torch.bfloat16) (NaN only as
                        NaN: torch itself gives 0x7fc0 or 0xffff by code path), F16
                        bit-exact against numpy's astype(float16) (NaN only as NaN).
Prints one line per problem and exits 1 if there was any; prints "ok N checks" otherwise.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

DT = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "F64": np.float64, "I64": np.int64,
      "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}
problems = []
checks = 0


def bf16_bits(a):
    """f32 array -> bf16 bit patterns (uint16) as torch rounds them."""
    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(torch.bfloat16)
    return t.view(torch.int16).numpy().view(np.uint16)


def bf16_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def write_st(path, tensors, metadata=None, pad=True, reverse_data=False):
    """tensors: list of (name, dtype string, shape, raw bytes)."""
    header, off = {}, 0
    order = list(reversed(tensors)) if reverse_data else tensors
    spans = {}
    for name, dt, shape, raw in order:
        spans[name] = (off, off + len(raw))
        off += len(raw)
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dt, shape, raw in tensors:
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": list(spans[name])}
    h = json.dumps(header).encode()
    if pad:
        h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    elif (8 + len(h)) % 2 == 0:
        h += b" "          # deliberately misalign the data section
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for name, dt, shape, raw in order:
            f.write(raw)


def expect(d, fname, name, arr, ext=".f32"):
    os.makedirs(os.path.join(d, "expect", fname), exist_ok=True)
    with open(os.path.join(d, "expect", fname, name + ext), "wb") as f:
        f.write(np.ascontiguousarray(arr).tobytes())


def cmd_write(d):
    rng = np.random.default_rng(1234)
    os.makedirs(d, exist_ok=True)
    # F32, padded header, data stored in reverse order of the header keys
    a = (np.arange(12, dtype=np.float32) * 0.5 - 1).reshape(3, 4)
    b = rng.standard_normal(5).astype(np.float32)
    s = np.array(3.25, dtype=np.float32)
    e = np.zeros((0, 3), dtype=np.float32)
    ts = [("a", "F32", a.shape, a.tobytes()), ("b", "F32", b.shape, b.tobytes()),
          ("scalar", "F32", (), s.tobytes()), ("empty", "F32", e.shape, e.tobytes())]
    write_st(os.path.join(d, "py_f32.safetensors"), ts, {"format": "pt", "who": "numpy"}, reverse_data=True)
    for n, arr in (("a", a), ("b", b), ("scalar", s), ("empty", e)):
        expect(d, "py_f32", n, arr)
    # BF16 through torch, unpadded header so the data is not even 2-aligned in memory
    w = rng.standard_normal((7, 9)).astype(np.float32) * 10
    wb = bf16_bits(w)
    write_st(os.path.join(d, "py_bf16.safetensors"), [("model.w", "BF16", w.shape, wb.tobytes())], pad=False)
    expect(d, "py_bf16", "model.w", bf16_to_f32(wb))
    # F16 with special values
    h = np.array([0, -0.0, 1, -2.5, 65504, -65504, np.inf, -np.inf, 6e-8, 6.1e-5, 1e-7, 0.1], dtype=np.float16)
    write_st(os.path.join(d, "py_f16.safetensors"), [("h", "F16", h.shape, h.tobytes())])
    expect(d, "py_f16", "h", h.astype(np.float32))
    # F64 and integer tensors
    f64 = rng.standard_normal((2, 3))
    ids = np.array([[1, -2, 3], [2**40, 5, -(2**50)]], dtype=np.int64)
    i32 = np.arange(-3, 3, dtype=np.int32)
    write_st(os.path.join(d, "py_mixed.safetensors"),
             [("f64", "F64", f64.shape, f64.tobytes()), ("ids", "I64", ids.shape, ids.tobytes()),
              ("i32", "I32", i32.shape, i32.tobytes())])
    expect(d, "py_mixed", "f64", f64.astype(np.float32))
    expect(d, "py_mixed", "ids", ids, ".raw")
    expect(d, "py_mixed", "i32", i32, ".raw")
    # sharded dir: two shards plus an index, BF16 like a real checkpoint
    sd = os.path.join(d, "py_sharded")
    os.makedirs(sd, exist_ok=True)
    names = ["model.embed_tokens.weight", "model.layers.0.mlp.up_proj.weight", "model.norm.weight"]
    arrs = [rng.standard_normal((11, 4)).astype(np.float32), rng.standard_normal((6, 4)).astype(np.float32),
            np.ones(4, dtype=np.float32)]
    shard_of = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                "model-00002-of-00002.safetensors"]
    total, wm = 0, {}
    for shard in sorted(set(shard_of)):
        ts = []
        for n, arr, sh in zip(names, arrs, shard_of):
            if sh == shard:
                bits = bf16_bits(arr)
                ts.append((n, "BF16", arr.shape, bits.tobytes()))
                expect(d, "py_sharded", n, bf16_to_f32(bits))
                wm[n] = sh
                total += bits.nbytes
        write_st(os.path.join(sd, shard), ts, {"format": "pt"})
    with open(os.path.join(sd, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": wm}, f, indent=2)
    print("wrote reference files to", d)


def problem(msg):
    problems.append(msg)
    print("PROBLEM:", msg)


def parse_strict(path):
    """Returns ({name: (dtype, shape, bytes)}, metadata) and records format violations."""
    global checks
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    checks += 1
    if (8 + n) % 8:
        problem(f"{path}: header not padded to 8 bytes (8 + {n})")
    hb = raw[8:8 + n]
    if hb.rstrip(b" ") != hb.rstrip():
        problem(f"{path}: header padding is not spaces")
    hdr = json.loads(hb.decode("utf-8"))
    meta = hdr.pop("__metadata__", None)
    data = raw[8 + n:]
    out, spans = {}, []
    for name, e in hdr.items():
        if set(e) != {"dtype", "shape", "data_offsets"}:
            problem(f"{path}: {name}: keys {sorted(e)}")
        b, en = e["data_offsets"]
        numel = int(np.prod(e["shape"])) if e["shape"] else 1
        checks += 1
        if en - b != numel * np.dtype(DT[e["dtype"]]).itemsize:
            problem(f"{path}: {name}: offsets {b},{en} do not match shape {e['shape']} x {e['dtype']}")
        spans.append((b, en))
        out[name] = (e["dtype"], tuple(e["shape"]), data[b:en])
    spans.sort()
    pos = 0
    for b, en in spans:
        checks += 1
        if b != pos:
            problem(f"{path}: data not contiguous at {b} (expected {pos})")
        pos = en
    checks += 1
    if pos != len(data):
        problem(f"{path}: data section is {len(data)} bytes, tensors cover {pos}")
    return out, meta


def check_values(path, name, dt, shape, data, src):
    global checks
    src = src.reshape(shape)
    checks += 1
    if dt == "F32":
        got = np.frombuffer(data, np.uint32)
        ok = np.array_equal(got, src.view(np.uint32).ravel())
    elif dt == "BF16":
        got = np.frombuffer(data, np.uint16)
        want = bf16_bits(src).ravel()
        # NaN only has to stay NaN: torch's own scalar path gives 0x7fc0, its AVX2 path 0xffff
        nan = np.isnan(src.ravel())
        ok = np.array_equal(got[~nan], want[~nan]) and bool(np.all(np.isnan(bf16_to_f32(got[nan]))))
        want[nan] = got[nan]
        if not ok:
            bad = np.nonzero((got != want) | (nan & ~np.isnan(bf16_to_f32(got))))[0][:5]
            problem(f"{path}: {name}: bf16 bits differ from torch at {bad.tolist()}: "
                    f"src {[hex(x) for x in src.view(np.uint32).ravel()[bad]]} "
                    f"ours {[hex(x) for x in got[bad]]} torch {[hex(x) for x in want[bad]]}")
            return
    elif dt == "F16":
        got = np.frombuffer(data, np.uint16)
        with np.errstate(over="ignore"):
            want16 = src.astype(np.float16).ravel()
        nan = np.isnan(want16)
        ok = np.array_equal(got[~nan], want16.view(np.uint16)[~nan]) and \
            bool(np.all(np.isnan(got[nan].view(np.float16))))
        if not ok:
            bad = np.nonzero((got != want16.view(np.uint16)) & ~nan)[0][:5]
            problem(f"{path}: {name}: f16 bits differ from numpy at {bad.tolist()}: "
                    f"ours {[hex(x) for x in got[bad]]} numpy {[hex(x) for x in want16.view(np.uint16)[bad]]}")
            return
    else:
        ok = False
    if not ok:
        problem(f"{path}: {name}: values differ ({dt})")


def load_src(d, name):
    return np.fromfile(os.path.join(d, "src", name + ".f32"), dtype=np.float32)


def cmd_check(d):
    global checks
    for fname in sorted(os.listdir(d)):
        if not (fname.startswith("c_") and fname.endswith(".safetensors")):
            continue
        path = os.path.join(d, fname)
        tensors, meta = parse_strict(path)
        checks += 1
        if not meta or meta.get("format") != "pt":
            problem(f"{path}: __metadata__ lacks format=pt: {meta}")
        for name, (dt, shape, data) in tensors.items():
            check_values(path, name, dt, shape, data, load_src(d, name))
    sd = os.path.join(d, "c_sharded")
    if os.path.isdir(sd):
        idx = json.load(open(os.path.join(sd, "model.safetensors.index.json")))
        shards = sorted(set(idx["weight_map"].values()))
        checks += 1
        if shards != sorted(f for f in os.listdir(sd) if f.endswith(".safetensors")):
            problem(f"{sd}: shard files {os.listdir(sd)} vs index {shards}")
        total, seen = 0, set()
        for i, sh in enumerate(shards):
            checks += 1
            if sh != f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors":
                problem(f"{sd}: shard name {sh}")
            tensors, meta = parse_strict(os.path.join(sd, sh))
            for name, (dt, shape, data) in tensors.items():
                checks += 1
                if idx["weight_map"].get(name) != sh:
                    problem(f"{sd}: {name} is in {sh} but the index says {idx['weight_map'].get(name)}")
                total += len(data)
                seen.add(name)
                check_values(sh, name, dt, shape, data, load_src(d, name))
        checks += 2
        if total != idx["metadata"]["total_size"]:
            problem(f"{sd}: total_size {idx['metadata']['total_size']} != {total}")
        if seen != set(idx["weight_map"]):
            problem(f"{sd}: index names {sorted(set(idx['weight_map']) - seen)} missing from shards")
    if problems:
        sys.exit(1)
    print(f"ok {checks} checks")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        sys.exit(__doc__)
    (cmd_write if sys.argv[1] == "write" else cmd_check)(sys.argv[2])
