#!/usr/bin/python3
"""An independent reference for `onerec data import`: recomputes the documented rules from the CSV
files (csv module, plain Python) and compares every output file of the import, read back through
`onerec parquet cat`:
  rows with rating < min-rating dropped; duplicate (user, item) pairs keep the earliest (equal
  times: the first in the file); iterated K-core (here: whole rounds, removal all at once); order per
  user (timestamp, item_id); users with < 3 items dropped; leave-one-out; --max-history on train.
  Raw rows: split 0 = train[:-1] -> train[-1], 1 = train + valid -> test, 2 = train -> valid; flags
  from the rating (longview >= 4, like >= 4.5, not_interested <= 2; no ratings: longview only);
  profiles count the training items and name only training items.
  Captions: title (year) — genres, empty values left out; no text: the id; duplicate item rows:
  the first.

    import_split.py --onerec build/onerec --log L.csv [--items I.csv] --out W [--rating]
                    [--min-rating R] [--kcore K] [--max-history N]
Prints "import_split: ok, N users" or the first difference (exit 1).
"""
import argparse
import csv
import json
import re
import subprocess
import sys


def cat(onerec, path):
    out = subprocess.run([onerec, "parquet", "cat", path], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def reference_split(a):
    with open(a.log, newline="") as f:
        rows = list(csv.DictReader(f))
    events = []
    for n, r in enumerate(rows):
        rating = float(r["rating"]) if a.rating else None
        if a.min_rating is not None and rating < a.min_rating:
            continue
        events.append((int(r["user_id"]), int(r["item_id"]), int(r["timestamp"]), n, rating))
    first = {}
    for e in events:   # earliest time, then first in the file
        key = (e[0], e[1])
        if key not in first or (e[2], e[3]) < (first[key][2], first[key][3]):
            first[key] = e
    events = list(first.values())
    if a.kcore > 1:
        while True:
            uc, ic = {}, {}
            for e in events:
                uc[e[0]] = uc.get(e[0], 0) + 1
                ic[e[1]] = ic.get(e[1], 0) + 1
            kept = [e for e in events if uc[e[0]] >= a.kcore and ic[e[1]] >= a.kcore]
            if len(kept) == len(events):
                break
            events = kept
    per_user = {}
    for e in events:
        per_user.setdefault(e[0], []).append(e)
    split = {}
    for u, ev in per_user.items():
        ev.sort(key=lambda e: (e[2], e[1]))
        if len(ev) < 3:
            continue
        split[u] = ev
    return split


def flags(a, rating):
    if not a.rating:
        return [1, 0, 0, 0, 0]
    return [int(rating >= 4), int(rating >= 4.5), 0, 0, int(rating <= 2)]


def captions(a, used):
    caps = {}
    if a.items:
        with open(a.items, newline="") as f:
            for r in csv.DictReader(f):
                i = int(r["item_id"])
                if i in used and i not in caps:
                    cap = ""
                    for v in (r["title"], r["year"], r["genres"]):   # empty values are left out
                        if not v:
                            continue
                        if not cap:
                            cap = v
                        else:
                            cap += " (%s)" % v if re.fullmatch(r"-?\d+", v) else " \u2014 " + v
                    if cap:
                        caps[i] = cap
    return {i: caps.get(i, str(i)) for i in used}


def fail(msg):
    print("import_split: " + msg)
    sys.exit(1)


def check_raw(a, split, raw):
    names = ["longview", "like", "follow", "forward", "not_interested"]
    by_user = {}
    for r in raw:
        by_user.setdefault(r["uid"], {})[r["split"]] = r
    if sorted(by_user) != sorted(split):
        fail("raw table users differ")
    for u, ev in split.items():
        train, valid, test = ev[:-2], ev[-2], ev[-1]
        full_train = train
        if a.max_history:
            train = train[-a.max_history:]
        want = {0: (train[:-1], train[-1]), 1: (train + [valid], test), 2: (train, valid)}
        for s, (hist, tgt) in want.items():
            r = by_user[u].get(s)
            if r is None:
                fail("user %d has no split-%d row" % (u, s))
            if r["hist_video_pid"] != [e[1] for e in hist] or r["target_video_pid"] != [tgt[1]]:
                fail("user %d split %d: hist/target differ" % (u, s))
            for k, name in enumerate(names):
                if r["hist_video_" + name] != [flags(a, e[4])[k] for e in hist] or \
                        r["target_video_" + name] != [flags(a, tgt[4])[k]]:
                    fail("user %d split %d: %s flags differ" % (u, s, name))
            if r["hist_longview_video_list"] != [e[1] for e in hist if flags(a, e[4])[0]]:
                fail("user %d split %d: hist_longview_video_list differs" % (u, s))
            p = r["inter_user_profile_with_sid"]
            m = re.match(r"The user has (rated|interacted with) (\d+) items", p)
            if not m or int(m.group(2)) != len(full_train):
                fail("user %d: profile does not count the %d training items: %s" % (u, len(full_train), p))
            named = {int(x) for x in re.findall(r"<pid:(-?\d+)>", p)}
            if not named <= {e[1] for e in full_train}:
                fail("user %d: profile names items outside training (leak): %s" % (u, p))
            if r["hist_ad_pid"] or r["target_ad_pid"] or r["hist_goods_pid"] or r["target_goods_pid"]:
                fail("user %d: ad/goods lists are not empty" % u)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onerec", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--items")
    ap.add_argument("--out", required=True)
    ap.add_argument("--rating", action="store_true")
    ap.add_argument("--min-rating", type=float)
    ap.add_argument("--kcore", type=int, default=0)
    ap.add_argument("--max-history", type=int, default=0)
    a = ap.parse_args()
    split = reference_split(a)
    seq = cat(a.onerec, a.out + "/sequences.parquet")
    want = []
    for u in sorted(split):
        ev = split[u]
        train = [e[1] for e in ev[:-2]]
        if a.max_history:
            train = train[-a.max_history:]
        want.append({"user_id": u, "train": train, "valid": ev[-2][1], "test": ev[-1][1]})
    if seq != want:
        for g, w in zip(seq, want):
            if g != w:
                fail("sequences differ: got %s want %s" % (g, w))
        fail("sequences: %d users, want %d" % (len(seq), len(want)))
    check_raw(a, split, cat(a.onerec, a.out + "/onerec_bench_release.parquet"))
    used = {e[1] for ev in split.values() for e in ev}
    caps = captions(a, used)
    got = {r["pid"]: r["dense_caption"] for r in cat(a.onerec, a.out + "/pid2caption.parquet")}
    if got != caps:
        diff = [(i, got.get(i), caps.get(i)) for i in sorted(set(got) | set(caps)) if got.get(i) != caps.get(i)]
        fail("pid2caption differs (pid, got, want): %s" % diff[:3])
    print("import_split: ok, %d users" % len(split))


if __name__ == "__main__":
    main()
