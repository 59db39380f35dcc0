#!/usr/bin/python3
"""Writes a small interaction log and item table in the shape `onerec data movielens` produces
(user_id, item_id, timestamp, rating; item_id, title, year, genres) with the cases `data import`
must handle: rows out of time order, equal timestamps inside a user, duplicate (user, item) pairs,
users with fewer than 3 items, titles that need RFC 4180 quoting, log items missing from the items
file, items-file rows that are not in the log, a duplicate items-file row.

    import_fixture.py DIR [--seed 7]
writes DIR/interactions.{csv,tsv,jsonl} and DIR/items.{csv,jsonl} (the same rows in each format).
"""
import csv
import json
import random
import sys

GENRES = ["Action", "Adventure", "Animation", "Comedy", "Drama", "Horror", "Romance", "Thriller"]


def make(seed):
    rnd = random.Random(seed)
    rows = []
    n_items = 60
    for u in range(1, 41):
        uid = 1000 + u * 7
        n = rnd.randint(3, 14)
        t0 = 800000000 + rnd.randint(0, 10**7)
        items = rnd.sample(range(1, n_items + 1), n)
        t = t0
        for k, it in enumerate(items):
            if k == 0 or rnd.random() > 0.35:   # about a third share the previous timestamp
                t += rnd.randint(1, 5000)
            rows.append([uid, it * 3, t, rnd.choice([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5])])
        if u % 5 == 0:   # a later duplicate of the user's first item
            first = rows[-n]
            rows.append([uid, first[1], t + 100, 1.0])
        if u % 8 == 0:   # a duplicate with the same timestamp: the first in the file stays
            last = list(rows[-1])
            rows.append([uid, last[1], last[2], 2.5 if last[3] != 2.5 else 3.0])
    for uid, n in ((5, 2), (6, 1)):   # users that leave-one-out cannot use
        for k in range(n):
            rows.append([uid, 3 * (k + 1), 900000000 + k, 4.0])
    rnd.shuffle(rows)
    used = sorted({r[1] for r in rows})
    items = []
    for it in used:
        if it % 11 == 0:
            continue   # no text for this item
        title = rnd.choice(["Toy Story", "Heat", "Sabrina", "Casino"]) + " " + str(it)
        if it % 4 == 0:
            title = 'Jumanji, "Part %d"' % it   # comma and quotes: needs quoting
        g = "|".join(sorted(rnd.sample(GENRES, rnd.randint(1, 3))))
        items.append([it, title, 1950 + it % 50, g])
    items.append([999, "Not In The Log", 2001, "Drama"])
    items.append([items[0][0], "A second row for the same id", 1999, "Horror"])
    rnd.shuffle(items)
    return rows, items


def write(path, header, rows, fmt):
    with open(path, "w", newline="") as f:
        if fmt == "jsonl":
            for r in rows:
                f.write(json.dumps(dict(zip(header, r))) + "\n")
            return
        w = csv.writer(f, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\r\n" if fmt == "csv" else "\n")
        w.writerow(header)
        w.writerows(rows)


def main():
    out = sys.argv[1]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 7
    rows, items = make(seed)
    for fmt in ("csv", "tsv", "jsonl"):
        write("%s/interactions.%s" % (out, fmt), ["user_id", "item_id", "timestamp", "rating"], rows, fmt)
    for fmt in ("csv", "jsonl"):
        write("%s/items.%s" % (out, fmt), ["item_id", "title", "year", "genres"], items, fmt)


if __name__ == "__main__":
    main()
