#!/usr/bin/python3
# Independent checks for tests/test_train_cli.sh, written against the formats (not our code):
#   frozen BASE CKPT FIRST    stage 1: every tensor but embedding/lm_head rows >= FIRST is bitwise
#                             equal to BASE; trainable rows changed
#   changed BASE CKPT         every tensor changed
#   events DIR                decode every TensorBoard event file in DIR with protobuf (Event /
#                             Summary built from a descriptor), verify both masked crc32c of every
#                             record; print {tag: [[step, value], ...]} as JSON
#   bf16 CKPT HF              HF's tensors are CKPT's f32 rounded to bf16 (nearest even)
import glob
import json
import os
import struct
import sys

import numpy as np


def load_dir(d):
    files = sorted(glob.glob(os.path.join(d, "*.safetensors")))
    files = [f for f in files if not f.endswith("optimizer.safetensors")]
    out = {}
    for fn in files:
        raw = open(fn, "rb").read()
        (n,) = struct.unpack_from("<Q", raw, 0)
        hdr = json.loads(raw[8:8 + n])
        base = 8 + n
        for name, t in hdr.items():
            if name == "__metadata__":
                continue
            b, e = t["data_offsets"]
            buf = raw[base + b:base + e]
            if t["dtype"] == "F32":
                a = np.frombuffer(buf, dtype="<f4")
            elif t["dtype"] == "BF16":
                a = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
            else:
                raise SystemExit("unexpected dtype " + t["dtype"])
            out[name] = (t["dtype"], a.reshape(t["shape"]))
    return out


def frozen(base, ckpt, first):
    a, b = load_dir(base), load_dir(ckpt)
    bad, moved = [], 0
    for name, (_, x) in a.items():
        y = b[name][1]
        if name in ("model.embed_tokens.weight", "lm_head.weight"):
            if not np.array_equal(x[:first].view(np.uint32), y[:first].view(np.uint32)):
                bad.append(name + " rows < %d" % first)
            moved += int((x[first:] != y[first:]).any(axis=1).sum())
        elif not np.array_equal(x.view(np.uint32), y.view(np.uint32)):
            bad.append(name)
    if bad or moved == 0:
        print("FAIL changed:", bad[:5], "trainable rows moved:", moved)
        sys.exit(1)
    print("OK frozen; %d trainable rows moved" % moved)


def changed(base, ckpt):
    a, b = load_dir(base), load_dir(ckpt)
    same = [n for n, (_, x) in a.items() if np.array_equal(x, b[n][1])]
    if same:
        print("FAIL unchanged:", same[:5])
        sys.exit(1)
    print("OK all %d tensors changed" % len(a))


def event_pb():
    from google.protobuf import descriptor_pb2, descriptor_pool
    try:
        from google.protobuf import message_factory
    except ImportError:
        message_factory = None
    fd = descriptor_pb2.FileDescriptorProto(name="ev.proto", package="t", syntax="proto3")
    F = descriptor_pb2.FieldDescriptorProto
    v = fd.message_type.add(name="Value")
    v.field.add(name="tag", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    v.field.add(name="simple_value", number=2, type=F.TYPE_FLOAT, label=F.LABEL_OPTIONAL)
    s = fd.message_type.add(name="Summary")
    s.field.add(name="value", number=1, type=F.TYPE_MESSAGE, type_name=".t.Value", label=F.LABEL_REPEATED)
    e = fd.message_type.add(name="Event")
    e.field.add(name="wall_time", number=1, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    e.field.add(name="step", number=2, type=F.TYPE_INT64, label=F.LABEL_OPTIONAL)
    e.field.add(name="file_version", number=3, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    e.field.add(name="summary", number=5, type=F.TYPE_MESSAGE, type_name=".t.Summary", label=F.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    d = pool.FindMessageTypeByName("t.Event")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(d)
    return message_factory.MessageFactory(pool).GetPrototype(d)


def events(d):
    import crc32c

    def masked(b):
        c = crc32c.crc32c(b)
        return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    Event = event_pb()
    out = {}
    files = sorted(glob.glob(os.path.join(d, "events.out.tfevents.*")))
    if not files:
        raise SystemExit("no event files in " + d)
    for fn in files:
        raw = open(fn, "rb").read()
        off, first = 0, True
        while off < len(raw):
            (n,) = struct.unpack_from("<Q", raw, off)
            (hc,) = struct.unpack_from("<I", raw, off + 8)
            if hc != masked(raw[off:off + 8]):
                raise SystemExit("%s: bad length crc at %d" % (fn, off))
            data = raw[off + 12:off + 12 + n]
            (dc,) = struct.unpack_from("<I", raw, off + 12 + n)
            if dc != masked(data):
                raise SystemExit("%s: bad data crc at %d" % (fn, off))
            ev = Event()
            ev.ParseFromString(data)
            if first and ev.file_version != "brain.Event:2":
                raise SystemExit("%s: first record is not file_version brain.Event:2" % fn)
            first = False
            for v in ev.summary.value:
                out.setdefault(v.tag, []).append([ev.step, v.simple_value])
            off += 16 + n
    print(json.dumps(out))


def bf16(ckpt, hf):
    a, b = load_dir(ckpt), load_dir(hf)
    if set(a) != set(b):
        raise SystemExit("FAIL tensor names differ")
    for name, (_, x) in a.items():
        dt, y = b[name]
        u = x.astype("<f4").view(np.uint32).astype(np.uint64)
        r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint32) << 16   # round to nearest even
        if dt != "BF16" or not np.array_equal(r.view(np.float32), y):
            raise SystemExit("FAIL " + name)
    print("OK %d tensors are the bf16 rounding" % len(a))


cmd = sys.argv[1]
if cmd == "frozen":
    frozen(sys.argv[2], sys.argv[3], int(sys.argv[4]))
elif cmd == "changed":
    changed(sys.argv[2], sys.argv[3])
elif cmd == "events":
    events(sys.argv[2])
elif cmd == "bf16":
    bf16(sys.argv[2], sys.argv[3])
else:
    raise SystemExit("unknown check " + cmd)
