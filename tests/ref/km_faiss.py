#!/usr/bin/python3
"""Reference residual k-means with faiss (the k-means the reference system uses), and data making.

  km_faiss.py make OUT.npy N D [--clusters C] [--seed S]     clustered float32 data
  km_faiss.py rq IN.npy LAYERS K ITERS [--seed S] [--threads T] [--codes OUT.npy] [--max-ppc M]
      trains layer by layer on the residual (faiss.Kmeans, then a search to assign), prints
      "faiss seconds=... rel_error=... mse=..." on stdout.
  km_faiss.py check IN.npy CODES.npy CENTROIDS.npy        relative error of given codes / codebook
"""
import os
import sys
import time


def arg(flag, default):
    if flag in sys.argv:
        i = sys.argv.index(flag)
        v = sys.argv[i + 1]
        del sys.argv[i:i + 2]
        return type(default)(v)
    return default


def make(out, n, d, clusters, seed):
    import numpy as np
    rng = np.random.default_rng(seed)
    # two-level structure: topics, sub-topics inside them, then item noise (like caption embeddings)
    top = rng.normal(size=(max(1, clusters // 16), d)).astype(np.float32)
    sub = top[rng.integers(0, top.shape[0], clusters)] + 0.5 * rng.normal(size=(clusters, d)).astype(np.float32)
    lab = rng.integers(0, clusters, n)
    x = sub[lab] + 0.25 * rng.normal(size=(n, d)).astype(np.float32)
    np.save(out, x.astype(np.float32))


def rq(path, layers, k, iters, seed, threads, codes_out, max_ppc):
    if threads > 0:
        os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
        os.environ["OMP_NUM_THREADS"] = str(threads)
    import numpy as np
    import faiss
    if threads > 0:
        faiss.omp_set_num_threads(threads)
    x = np.load(path).astype(np.float32)
    n, d = x.shape
    t0 = time.time()
    c0 = time.process_time()
    resid = x.copy()
    codes = np.zeros((n, layers), dtype=np.int32)
    cents = []
    for l in range(layers):
        km = faiss.Kmeans(d, k, niter=iters, seed=seed + l, verbose=False, max_points_per_centroid=max_ppc)
        km.train(resid)
        _, idx = km.index.search(resid, 1)
        codes[:, l] = idx[:, 0]
        resid -= km.centroids[idx[:, 0]]
        cents.append(km.centroids.copy())
    dt = time.time() - t0
    cpu = time.process_time() - c0
    se = float((resid.astype(np.float64) ** 2).sum())
    sx = float((x.astype(np.float64) ** 2).sum())
    if codes_out:
        np.save(codes_out, codes)
        np.save(codes_out.replace(".npy", "_centroids.npy"), np.stack(cents))
    print("faiss seconds=%.3f cpu_seconds=%.3f rel_error=%.6f mse=%.6f" % (dt, cpu, se / sx, se / (n * d)))


def check(path, codes_path, cents_path):
    import numpy as np
    x = np.load(path).astype(np.float64)
    codes = np.load(codes_path)
    c = np.load(cents_path).astype(np.float64)
    rec = np.zeros_like(x)
    for l in range(codes.shape[1]):
        rec += c[l][codes[:, l]]
    se = ((x - rec) ** 2).sum()
    print("check rel_error=%.6f mse=%.6f" % (se / (x ** 2).sum(), se / x.size))


def main():
    seed = arg("--seed", 42)
    threads = arg("--threads", 0)
    clusters = arg("--clusters", 4096)
    codes_out = arg("--codes", "")
    max_ppc = arg("--max-ppc", 256)
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), clusters, seed)
    elif cmd == "rq":
        rq(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), seed, threads, codes_out, max_ppc)
    elif cmd == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
