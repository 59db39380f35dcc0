#!/usr/bin/python3
"""Independent TensorBoard event-file reader/writer on Debian's python3-protobuf and python3-crc32c.

The Event / Summary messages are declared at run time with descriptor_pb2 (field numbers as in
tensorflow/core/util/event.proto and summary.proto), so no protoc or TensorFlow is needed.

  tfevents_read.py FILE          verifies both CRCs of every record, decodes every Event with
                                 protobuf and prints JSON: {"file_version": ..., "records": N,
                                 "scalars": [[step, tag, value, wall_time], ...]}; exit 1 on any
                                 damaged record (message on stderr)
  tfevents_read.py --write FILE  writes a reference file (protobuf serialisation, crc32c masking)
                                 with the scalars listed in REF below plus non-scalar values
"""
import json
import math
import struct
import sys

import crc32c
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto


def build_messages():
    fd = descriptor_pb2.FileDescriptorProto(name="tfevents_ref.proto", package="ref", syntax="proto3")
    summary = fd.message_type.add(name="Summary")
    value = summary.nested_type.add(name="Value")
    value.field.add(name="node_name", number=7, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    value.field.add(name="tag", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    value.field.add(name="simple_value", number=2, type=F.TYPE_FLOAT, label=F.LABEL_OPTIONAL, oneof_index=0)
    value.field.add(name="obsolete_old_style_histogram", number=3, type=F.TYPE_BYTES, label=F.LABEL_OPTIONAL,
                    oneof_index=0)
    value.oneof_decl.add(name="value")
    summary.field.add(name="value", number=1, type=F.TYPE_MESSAGE, type_name=".ref.Summary.Value",
                      label=F.LABEL_REPEATED)
    event = fd.message_type.add(name="Event")
    event.field.add(name="wall_time", number=1, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    event.field.add(name="step", number=2, type=F.TYPE_INT64, label=F.LABEL_OPTIONAL)
    event.field.add(name="file_version", number=3, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL, oneof_index=0)
    event.field.add(name="summary", number=5, type=F.TYPE_MESSAGE, type_name=".ref.Summary",
                    label=F.LABEL_OPTIONAL, oneof_index=0)
    event.oneof_decl.add(name="what")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    factory = message_factory.MessageFactory(pool)
    return (factory.GetPrototype(pool.FindMessageTypeByName("ref.Event")),
            factory.GetPrototype(pool.FindMessageTypeByName("ref.Summary")))


Event, Summary = build_messages()


def masked(data):
    c = crc32c.crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read(path):
    raw = open(path, "rb").read()
    off, out, fv, records = 0, [], None, 0
    while off < len(raw):
        if len(raw) - off < 12:
            sys.exit(f"{path}: truncated header at {off}")
        head = raw[off:off + 8]
        (n,) = struct.unpack("<Q", head)
        (lc,) = struct.unpack("<I", raw[off + 8:off + 12])
        if lc != masked(head):
            sys.exit(f"{path}: length crc mismatch at {off}")
        data = raw[off + 12:off + 12 + n]
        if len(data) != n or len(raw) < off + 16 + n:
            sys.exit(f"{path}: truncated record at {off}")
        (dc,) = struct.unpack("<I", raw[off + 12 + n:off + 16 + n])
        if dc != masked(data):
            sys.exit(f"{path}: data crc mismatch at {off}")
        ev = Event()
        ev.ParseFromString(data)
        if records == 0:
            fv = ev.file_version
        for v in ev.summary.value:
            if v.WhichOneof("value") == "simple_value":
                x = v.simple_value
                out.append([ev.step, v.tag, x if math.isfinite(x) else repr(x), ev.wall_time])
        records += 1
        off += 16 + n
    return {"file_version": fv, "records": records, "scalars": out}


# step, tag, value: what --write stores (the C test expects exactly these back)
REF = [(0, "loss/train", 2.5), (1, "loss/train", 2.25), (1, "lr", 1e-4), (1 << 40, "ndcg@10/é", 0.125),
       (-3, "neg/step", -7.0), (7, "inf", float("inf"))]


def write(path):
    with open(path, "wb") as f:
        def rec(ev):
            data = ev.SerializeToString()
            head = struct.pack("<Q", len(data))
            f.write(head + struct.pack("<I", masked(head)) + data + struct.pack("<I", masked(data)))
        rec(Event(wall_time=1700000000.5, file_version="brain.Event:2"))
        for i, (step, tag, val) in enumerate(REF):
            ev = Event(wall_time=1700000001.0 + i, step=step)
            ev.summary.value.add(tag=tag, simple_value=val, node_name="n")
            if i == 2:   # a non-scalar value in the same summary must be skipped
                ev.summary.value.add(tag="histo", obsolete_old_style_histogram=b"\x01\x02")
            rec(ev)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        write(sys.argv[2])
    elif len(sys.argv) == 2:
        print(json.dumps(read(sys.argv[1]), ensure_ascii=False))
    else:
        sys.exit(__doc__)
