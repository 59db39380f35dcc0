#!/usr/bin/python3
# Soak client for bench/serve_soak.sh: THREADS clients send a mix of good and bad requests to a
# server on loopback for SECONDS; every good request must answer 200 and every bad one its 4xx.
# usage: serve_soak.py PORT SECONDS THREADS SERVER_PID   (prints counts and RSS; exit 1 on a failure)
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request

port, seconds, nthreads, spid = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
PIDS = list(range(1000, 1048))
PRODUCTS = list(range(5000, 5048, 3))


def rss_kb():
    for line in open(f"/proc/{spid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def call(path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body.encode(), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def good(R):
    dom = R.choice(["video", "ad", "product"])
    b = {"history": R.sample(PIDS, R.randint(1, 30)), "k": R.choice([1, 5, 10, 32, 64]), "domain": dom,
         "exclude_history": R.random() < 0.5}
    if dom == "ad": b["others"] = R.sample(PIDS, R.randint(0, 10))
    if dom == "product": b["others"] = R.sample(PRODUCTS, R.randint(0, 5))
    path = "/v1/score" if R.random() < 0.15 else "/v1/recommend"
    if path == "/v1/score": b["items"] = R.sample(PIDS if dom != "product" else PRODUCTS, 3)
    if R.random() < 0.05: return "/v1/generate", json.dumps({"prompt": "hello", "max_new": 8}), 200
    return path, json.dumps(b), 200


BAD = [('{"history": [1000', 400), ('{"history": []}', 400), ('{"history": [77]}', 400),
       ('{"history": [1000], "k": 0}', 400), ('{"history": [1000], "domain": "x"}', 400), ("[]", 400),
       ('{"history": [1000], "k": "ten"}', 400)]

counts = {"good": 0, "bad": 0, "failed": 0}
lock = threading.Lock()
stop_at = time.time() + seconds


def worker(seed):
    R = random.Random(seed)
    while time.time() < stop_at:
        if R.random() < 0.3:
            body, want = R.choice(BAD)
            path, kind = "/v1/recommend", "bad"
        else:
            path, body, want = good(R)
            kind = "good"
        st, out = call(path, body)
        with lock:
            counts[kind] += 1
            if st != want:
                counts["failed"] += 1
                print(f"FAILED {path} {body[:100]}: {st} {out[:200]}", file=sys.stderr)


time.sleep(0.5)
rss0 = rss_kb()
ts = [threading.Thread(target=worker, args=(i,)) for i in range(nthreads)]
for t in ts: t.start()
for t in ts: t.join()
rss1 = rss_kb()
print(f"soak: {counts['good']} good and {counts['bad']} bad requests in {seconds:.0f} s, {counts['failed']} failed; "
      f"RSS {rss0 / 1024:.1f} MiB at start, {rss1 / 1024:.1f} MiB at the end")
sys.exit(1 if counts["failed"] else 0)
