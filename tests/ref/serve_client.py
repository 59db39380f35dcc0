#!/usr/bin/python3
# HTTP client for the server tests (loopback only, every call bounded by a timeout).
#   serve_client.py PORT post PATH BODY         -> prints "STATUS BODY" (and Retry-After when given);
#                                                  BODY "@FILE" reads it from FILE
#   serve_client.py PORT get PATH               -> the same for GET
#   serve_client.py PORT many FILE [THREADS]    -> FILE has one recommend body per line; posts them all at
#                                                  once from THREADS threads, prints one answer line each,
#                                                  in the file's order
#   serve_client.py PORT cmp REC_TSV BODY       -> posts BODY to /v1/recommend and compares with
#                                                  `onerec recommend` output (pids equal, scores within 5e-5)
#   serve_client.py same A B                    -> two "many" outputs: same pids, scores within 1e-5
import json
import sys
import threading
import urllib.error
import urllib.request

HOST = "127.0.0.1"


def call(port, method, path, body=None, timeout=60):
    if body is not None and body.startswith("@"):
        body = open(body[1:]).read()
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", data=body.encode() if body is not None else None,
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace"), r.headers.get("Retry-After")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace"), e.headers.get("Retry-After")


def items(text):
    return [(it["pid"], it["score"]) for it in json.loads(text)["items"]]


def main():
    a = sys.argv
    if a[1] == "same":
        x = [json.loads(l) for l in open(a[2])]
        y = [json.loads(l) for l in open(a[3])]
        assert len(x) == len(y) and len(x) > 0, (len(x), len(y))
        worst = 0.0
        for u, v in zip(x, y):
            assert [i["pid"] for i in u["items"]] == [i["pid"] for i in v["items"]], (u, v)
            for i, j in zip(u["items"], v["items"]):
                worst = max(worst, abs(i["score"] - j["score"]))
        print(f"{len(x)} answers, max score diff {worst:.2e}")
        sys.exit(0 if worst <= 1e-5 else 1)
    port, op = int(a[1]), a[2]
    if op in ("post", "get"):
        st, body, ra = call(port, op.upper(), a[3], a[4] if op == "post" else None)
        print(st, body, f"Retry-After={ra}" if ra else "")
    elif op == "many":
        bodies = [l.strip() for l in open(a[3]) if l.strip()]
        out = [None] * len(bodies)
        nthreads = int(a[4]) if len(a) > 4 else len(bodies)

        def worker(k):
            for i in range(k, len(bodies), nthreads):
                st, body, _ = call(port, "POST", "/v1/recommend", bodies[i])
                out[i] = body if st == 200 else json.dumps({"status": st, "body": body})

        ts = [threading.Thread(target=worker, args=(k,)) for k in range(nthreads)]
        for t in ts: t.start()
        for t in ts: t.join()
        print("\n".join(out))
    elif op == "cmp":
        rows = [l.split("\t") for l in open(a[3]).read().strip().split("\n")[1:]]
        st, body, _ = call(port, "POST", "/v1/recommend", a[4])
        assert st == 200, (st, body)
        got = items(body)
        want = [(int(r[1]), float(r[3])) for r in rows]
        assert [p for p, _ in got] == [p for p, _ in want], (got, want)
        worst = max(abs(s - t) for (_, s), (_, t) in zip(got, want))
        assert worst <= 5e-5, worst
        print(f"{len(got)} items equal, max score diff {worst:.1e}")


main()
