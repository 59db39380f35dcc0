#!/usr/bin/python3
"""Writes a tiny R lazy-load database (PREFIX.rdx + PREFIX.rdb) from the format's description,
with nothing but struct, zlib and gzip: the fixture of tests/test_rdata.c and tests/test_rdata.sh.

  rdata_fixture.py PREFIX            the good database
  rdata_fixture.py PREFIX --check    ... and read it back with Debian's python3-rdata (the
                                     independent reader), asserting the values below
  rdata_fixture.py PREFIX --raw DIR  ... and each object's uncompressed serialization as DIR/NAME.xdr
  rdata_fixture.py PREFIX --bad KIND a broken variant: zlib-truncated, zlib-corrupt, xdr-truncated,
                                     wrong-magic, rdx-garbage, rdx-not-index

Objects (the values tests/test_rdata.c expects):
  df      data.frame, 5 rows, compact row.names c(NA, -5):
            id    integer  1, -2, NA, 2147483647, 0
            score double   0.5, -1.25e10, NA, Inf, -0
            name  character "alpha", NA, "", "café" (UTF-8 flag), "naïve" (latin1 flag: bytes na\\xefve)
            flag  logical  TRUE, FALSE, NA, TRUE, FALSE
            kind  factor   y, x, NA, y, z   (levels x, y, z)
  words   character: "It is a truth", "universally acknowledged", NA, "ﬁn — “quoted”"  (version 2)
  seq     ALTREP compact_intseq 1:10
  nested  list(a = 7L, b = list(c = "deep"))
"""
import gzip
import struct
import sys
import zlib

NA_INT = -(2 ** 31)
NA_REAL = struct.unpack(">d", bytes.fromhex("7ff00000000007a2"))[0]
NILVALUE, SYMSXP, LISTSXP, CHARSXP, LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP, REFSXP, ALTREP = (
    254, 1, 2, 9, 10, 13, 14, 16, 19, 255, 238)
UTF8, LATIN1, ASCII = 8, 4, 64


def flags(t, levels=0, obj=False, attr=False, tag=False):
    return t | levels << 12 | obj << 8 | attr << 9 | tag << 10


class Writer:
    """One serialization: the XDR stream and its reference table (symbols only, here)."""

    def __init__(self, version):
        self.b = bytearray(b"X\n")
        self.syms = {}
        self.int(version)
        self.int(0x040101)                             # written by R 4.1.1
        self.int(0x030500 if version == 3 else 0x020300)
        if version == 3:
            self.int(5)
            self.b += b"UTF-8"

    def int(self, v):
        self.b += struct.pack(">i", v)

    def chars(self, s, enc=None):
        if s is None:
            self.int(flags(CHARSXP))
            self.int(-1)
            return
        raw = s.encode("latin-1") if enc == "latin1" else s.encode("utf-8")
        lev = LATIN1 if enc == "latin1" else ASCII if raw.isascii() else UTF8
        self.int(flags(CHARSXP, lev))
        self.int(len(raw))
        self.b += raw

    def sym(self, name):
        if name in self.syms:                          # a reference, its index packed in the flags
            self.int(self.syms[name] << 8 | REFSXP)
            return
        self.int(SYMSXP)
        self.chars(name)
        self.syms[name] = len(self.syms) + 1

    def attrs(self, pairs):
        for name, value in pairs:
            self.int(flags(LISTSXP, tag=True))
            self.sym(name)
            self.value(value)
        self.int(NILVALUE)

    def value(self, v):
        kind, data, attrs = v[0], v[1], v[2] if len(v) > 2 else []
        obj = any(name == "class" for name, _ in attrs)
        if kind == "intseq":                           # ALTREP: (class, package, type), state, attributes
            self.int(ALTREP)
            self.int(flags(LISTSXP))
            self.sym("compact_intseq")
            self.int(flags(LISTSXP))
            self.sym("base")
            self.int(flags(LISTSXP))
            self.value(("int", [INTSXP]))
            self.int(NILVALUE)
            self.value(("real", [float(data[0]), float(data[1]), 1.0]))
            self.int(NILVALUE)
            return
        t = {"int": INTSXP, "lgl": LGLSXP, "real": REALSXP, "str": STRSXP, "list": VECSXP}[kind]
        self.int(flags(t, obj=obj, attr=bool(attrs)))
        self.int(len(data))
        for x in data:
            if kind in ("int", "lgl"):
                self.int(NA_INT if x is None else int(x))
            elif kind == "real":
                self.b += struct.pack(">d", NA_REAL if x is None else x)
            elif kind == "str":
                self.chars(*x) if isinstance(x, tuple) else self.chars(x)
            else:
                self.value(x)
        if attrs:
            self.attrs(attrs)


def names(*n):
    return ("names", ("str", list(n)))


def objects():
    df = ("list", [
        ("int", [1, -2, None, 2147483647, 0]),
        ("real", [0.5, -1.25e10, None, float("inf"), -0.0]),
        ("str", ["alpha", None, "", "café", ("naïve", "latin1")]),
        ("lgl", [1, 0, None, 1, 0]),
        ("int", [2, 1, None, 2, 3], [("levels", ("str", ["x", "y", "z"])), ("class", ("str", ["factor"]))]),
    ], [names("id", "score", "name", "flag", "kind"), ("row.names", ("int", [None, -5])),
        ("class", ("str", ["data.frame"]))])
    words = ("str", ["It is a truth", "universally acknowledged", None, "ﬁn — “quoted”"])
    nested = ("list", [("int", [7]), ("list", [("str", ["deep"])], [names("c")])], [names("a", "b")])
    return [("df", df, 3), ("words", words, 2), ("seq", ("intseq", [10, 1]), 3), ("nested", nested, 3)]


def serialize(value, version):
    w = Writer(version)
    w.value(value)
    return bytes(w.b)


def record(data, bad=None, name=None):
    if bad == "wrong-magic" and name == "df":
        data = b"Y\n" + data[2:]
    if bad == "xdr-truncated" and name == "df":
        data = data[:len(data) - 30]
    z = zlib.compress(data, 9)
    if bad == "zlib-truncated" and name == "df":
        z = z[:len(z) // 2]
    if bad == "zlib-corrupt" and name == "df":
        z = z[:-4] + bytes(b ^ 0xFF for b in z[-4:])   # the Adler-32 trailer
    return struct.pack(">I", len(data)) + z


def write(prefix, bad=None):
    rdb = bytearray()
    index = []
    for name, value, version in objects():
        rec = record(serialize(value, version), bad, name)
        index.append((name, ("int", [len(rdb), len(rec)])))
        rdb += rec
    idx = ("list", [("list", [v for _, v in index], [names(*[n for n, _ in index])]), ("list", []), ("lgl", [1])],
           [names("variables", "references", "compressed")])
    if bad == "rdx-not-index":
        idx = ("str", ["not", "an", "index"])
    rdx = gzip.compress(serialize(idx, 3), mtime=0)
    if bad == "rdx-garbage":
        rdx = b"this is not an R index\n"
    with open(prefix + ".rdb", "wb") as f:
        f.write(rdb)
    with open(prefix + ".rdx", "wb") as f:
        f.write(rdx)


def check(prefix):
    """The fixture read by python3-rdata must hold the documented values."""
    import math
    import rdata
    from rdata.parser._parser import parse_rdata_binary

    idx = rdata.conversion.convert(parse_rdata_binary(memoryview(gzip.decompress(open(prefix + ".rdx", "rb").read()))))
    got = {}
    for name, (off, ln) in idx["variables"].items():
        with open(prefix + ".rdb", "rb") as f:
            f.seek(int(off))
            rec = f.read(int(ln))
        raw = zlib.decompress(rec[4:])
        assert len(raw) == struct.unpack(">I", rec[:4])[0]
        # rdata 0.5 expands compact_intseq with np.arange(start, length): one short; read its state
        parsed = parse_rdata_binary(memoryview(raw), expand_altrep=name != "seq")
        got[name] = parsed.object if name == "seq" else rdata.conversion.convert(parsed)
    df = got["df"]
    assert list(df.columns) == ["id", "score", "name", "flag", "kind"], df.columns
    # rdata 0.5 leaves NA_integer_ as its bit pattern in integer columns
    assert [None if math.isnan(x) or x == NA_INT else int(x) for x in df["id"]] == [1, -2, None, 2147483647, 0], df["id"]
    sc = list(df["score"])
    assert sc[0] == 0.5 and sc[1] == -1.25e10 and math.isnan(sc[2]) and sc[3] == math.inf and sc[4] == 0 and math.copysign(1, sc[4]) < 0
    assert list(df["name"])[:1] == ["alpha"] and df["name"][1] is None and list(df["name"])[2:] == ["", "café", "naïve"], df["name"]
    assert list(df["kind"].cat.categories) == ["x", "y", "z"]
    assert [None if isinstance(x, float) else x for x in df["kind"]] == ["y", "x", None, "y", "z"], df["kind"]
    assert len(df) == 5
    # rdata 0.5 reads logicals as Python bools, so NA (INT_MIN) comes back True
    assert list(df["flag"]) == [True, False, True, True, False], df["flag"]
    assert got["words"] == ["It is a truth", "universally acknowledged", None, "ﬁn — “quoted”"], got["words"]
    st = got["seq"].value[1].value
    assert list(st) == [10.0, 1.0, 1.0], st
    assert got["nested"] == {"a": [7], "b": {"c": ["deep"]}}, got["nested"]
    print("rdata_fixture: python3-rdata reads the fixture as documented")


if __name__ == "__main__":
    prefix = sys.argv[1]
    bad = sys.argv[sys.argv.index("--bad") + 1] if "--bad" in sys.argv else None
    write(prefix, bad)
    if "--raw" in sys.argv:
        d = sys.argv[sys.argv.index("--raw") + 1]
        for name, value, version in objects():
            with open(f"{d}/{name}.xdr", "wb") as f:
                f.write(serialize(value, version))
    if "--check" in sys.argv:
        check(prefix)
