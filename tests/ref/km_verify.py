#!/usr/bin/python3
"""Independent check of `onerec sid train/encode` output with numpy.

  km_verify.py X.npy CODEBOOK.safetensors PID2SID.tsv LAYERS K
Reads the safetensors file by hand (u64 header length, JSON header, raw f32), checks its shape and
metadata, re-encodes every item greedily layer by layer in float64, and compares with the SIDs in
the .tsv (pid = row number). Prints "verify rel_error=... mismatches=N near_ties=M" and exits 1 on
a real mismatch.
"""
import json
import re
import struct
import sys

import numpy as np


def main():
    xp, cbp, tsv, layers, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    x = np.load(xp).astype(np.float64)
    raw = open(cbp, "rb").read()
    (hl,) = struct.unpack("<Q", raw[:8])
    hdr = json.loads(raw[8:8 + hl])
    meta = hdr.get("__metadata__", {})
    t = hdr["centroids"]
    assert t["dtype"] == "F32", t
    assert t["shape"] == [layers, k, x.shape[1]], t["shape"]
    assert meta.get("layers") == str(layers) and meta.get("codebook_size") == str(k), meta
    b, e = t["data_offsets"]
    c = np.frombuffer(raw[8 + hl + b:8 + hl + e], dtype="<f4").reshape(layers, k, x.shape[1]).astype(np.float64)
    pat = re.compile(r"<s_([a-z])_(\d+)>")
    codes = np.zeros((x.shape[0], layers), dtype=np.int64)
    seen = 0
    for line in open(tsv):
        pid, sid = line.rstrip("\n").split("\t")
        assert sid.startswith("<|sid_begin|>") and sid.endswith("<|sid_end|>"), sid
        digits = pat.findall(sid)
        assert [d[0] for d in digits] == [chr(97 + l) for l in range(layers)], sid
        codes[int(pid)] = [int(d[1]) for d in digits]
        seen += 1
    assert seen == x.shape[0], (seen, x.shape[0])
    r = x.copy()
    mism = ties = 0
    for l in range(layers):
        d2 = (r ** 2).sum(1)[:, None] + (c[l] ** 2).sum(1)[None, :] - 2 * r @ c[l].T
        best = d2.argmin(1)
        got = codes[:, l]
        diff = np.nonzero(best != got)[0]
        for i in diff:
            # float32 GEMM vs float64: accept the other code only when it is as close
            if d2[i, got[i]] <= d2[i, best[i]] * (1 + 1e-4) + 1e-6:
                ties += 1
            else:
                mism += 1
        r -= c[l][got]
    rel = (r ** 2).sum() / (x ** 2).sum()
    print("verify rel_error=%.6f mismatches=%d near_ties=%d" % (rel, mism, ties))
    sys.exit(1 if mism else 0)


if __name__ == "__main__":
    main()
