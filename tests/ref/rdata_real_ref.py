#!/usr/bin/python3
"""Independent side of tests/test_rdata.sh: Debian's python3-rdata reads R lazy-load databases,
and the same summaries are computed from our outputs (`onerec parquet cat` JSON lines), so the
shell test compares two JSON documents.

  rdata_real_ref.py movielens PREFIX        summary of the data frame `movielens` (python3-rdata)
  rdata_real_ref.py ours DIR                the same summary from DIR's interactions/items JSON lines
                                            (DIR/interactions.jsonl, DIR/items.jsonl)
  rdata_real_ref.py text PREFIX OBJ [COL]   the text of a character vector / column, as `data rtext`
                                            writes it: {"n", "na", "sha256_txt", "values_sha256"}
  rdata_real_ref.py ourtext F.txt F.jsonl   the same from our .txt and the parquet cat of our .parquet
"""
import gzip
import hashlib
import json
import math
import struct
import sys
import warnings
import zlib

warnings.filterwarnings("ignore")


def index(prefix):
    """{name: (offset, length)} of a lazy-load DB's .rdx, read by python3-rdata."""
    import rdata
    from rdata.parser._parser import parse_rdata_binary
    idx = rdata.conversion.convert(parse_rdata_binary(memoryview(gzip.decompress(open(prefix + ".rdx", "rb").read()))))
    return {name: (int(v[0]), int(v[1])) for name, v in idx["variables"].items()}


def read_object(prefix, name):
    import rdata
    from rdata.parser._parser import parse_rdata_binary
    off, ln = index(prefix)[name]
    with open(prefix + ".rdb", "rb") as f:
        f.seek(off)
        rec = f.read(ln)
    raw = zlib.decompress(rec[4:])
    assert len(raw) == struct.unpack(">I", rec[:4])[0], "record length"
    return rdata.conversion.convert(parse_rdata_binary(memoryview(raw)))


def na(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def summary(rows):
    """rows: (user, movie, timestamp, rating, title, year, genres) in frame order."""
    first = {}
    for r in rows:
        first.setdefault(r[1], r)
    h_int = hashlib.sha256()
    for u, m, t, rating, *_ in rows:
        h_int.update(f"{u}\t{m}\t{t}\t{rating!r}\n".encode())
    h_items = hashlib.sha256()
    for m in sorted(first):
        r = first[m]
        h_items.update(json.dumps([m, r[4], r[5], r[6]], ensure_ascii=False).encode() + b"\n")
    ends = [(r[4], r[6]) for r in rows[:3] + rows[-3:]]
    return {
        "rows": len(rows), "sum_user": sum(r[0] for r in rows), "sum_movie": sum(r[1] for r in rows),
        "sum_rating": sum(r[3] for r in rows), "sum_timestamp": sum(r[2] for r in rows),
        "users": len({r[0] for r in rows}), "movies": len(first),
        "first_last_3_title_genres": ends, "interactions_sha256": h_int.hexdigest(), "items_sha256": h_items.hexdigest(),
    }


def movielens(prefix):
    df = read_object(prefix, "movielens")
    cols = [df[c].tolist() for c in ("userId", "movieId", "timestamp", "rating", "title", "year", "genres")]
    # rdata 0.5 leaves NA_integer_ (year of a few untitled movies) as its bit pattern
    rows = [(int(u), int(m), int(t), float(r), na(ti), None if na(y) is None or y == -2 ** 31 else int(y), na(g))
            for u, m, t, r, ti, y, g in zip(*cols)]
    return summary(rows)


def ours(d):
    items = {}
    for line in open(d + "/items.jsonl", encoding="utf-8"):
        it = json.loads(line)
        items[it["item_id"]] = it
    rows = []
    for line in open(d + "/interactions.jsonl", encoding="utf-8"):
        x = json.loads(line)
        it = items[x["item_id"]]
        rows.append((x["user_id"], x["item_id"], x["timestamp"], float(x["rating"]), it["title"], it["year"], it["genres"]))
    return summary(rows)


def text_summary(values):
    txt = "".join(("" if v is None else v.replace("\r", " ").replace("\n", " ")) + "\n" for v in values)
    return {"n": len(values), "na": sum(v is None for v in values),
            "sha256_txt": hashlib.sha256(txt.encode("utf-8")).hexdigest(),
            "values_sha256": hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()}


def text(prefix, obj, col=None):
    o = read_object(prefix, obj)
    v = o[col] if col else o
    return text_summary([na(x) for x in list(v)])


def ourtext(txt, jsonl):
    values = [json.loads(line)["text"] for line in open(jsonl, encoding="utf-8")]
    s = text_summary(values)
    s["sha256_txt"] = hashlib.sha256(open(txt, "rb").read()).hexdigest()
    return s


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    out = {"movielens": movielens, "ours": ours, "text": text, "ourtext": ourtext}[mode](*args)
    print(json.dumps(out, ensure_ascii=False, sort_keys=True))
