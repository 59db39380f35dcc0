"""Fixtures and independent references for the model-free item embeddings (tests/test_embed_text.c).

  captions OUT.tsv N SEED          N topic-structured captions "pid<TAB>caption" (mixed case, |-joined
                                   genres, digits, accents, CJK, an empty one)
  sequences OUT.txt N_ITEMS N_USERS SEED
                                   one user per line: item indices (0..N_ITEMS-1; the last item never occurs)
  tfidf DIR                        DIR/captions.tsv + ours (DIR/tfidf.tsv "row term value", DIR/idf.tsv
                                   "term idf", DIR/s.txt, DIR/u.txt) against scikit-learn's TfidfVectorizer
                                   and numpy's SVD of the dense matrix
  ppmi DIR N_ITEMS WINDOW SHIFT CDS
                                   DIR/sequences.txt + ours (DIR/ppmi.tsv "i j value", DIR/s.txt, DIR/u.txt)
                                   against a dense numpy PPMI and its SVD
The checks print one line of key=value figures; the C test asserts on them.
"""
import random
import re
import sys

import numpy as np

CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")


def words(text):
    """The tokenizer of src/rec/embed_text.h, written from its description."""
    out = []
    for run in re.findall(r"[^\W_]+", text.lower()):
        cur = ""
        for ch in run:
            if CJK.match(ch):
                if cur:
                    out.append(cur)
                    cur = ""
                out.append(ch)
            else:
                cur += ch
        if cur:
            out.append(cur)
    return out


def make_captions(path, n, seed):
    r = random.Random(seed)
    topics = [[f"t{t}w{i}" for i in range(10)] for t in range(8)]
    topics[0] += ["Café", "naïve", "Ünïcode"]
    topics[1] += ["小猫", "美食", "旅行"]
    genres = ["Adventure", "Animation", "Comedy", "Drama", "Sci-Fi", "Film-Noir"]
    styles = ["review of", "Best of", "today's", "by a fan", "HOW TO"]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            t = i % len(topics)
            ws = r.sample(topics[t], r.randint(2, 5))
            if r.random() < 0.3:
                ws.append(r.choice(topics[r.randrange(len(topics))]))
            cap = f"{r.choice(styles)} {' '.join(ws)} ({r.randint(1950, 2020)}) " + "|".join(r.sample(genres, r.randint(1, 3)))
            if i == 5:
                cap = ""
            if i == 6:
                cap = "--- (!) ---"
            f.write(f"{1000 + i}\t{cap}\n")


def make_sequences(path, n_items, n_users, seed):
    r = random.Random(seed)
    groups = 10
    with open(path, "w") as f:
        for _ in range(n_users):
            mine = r.sample(range(groups), 2)
            seq = []
            for _ in range(r.randint(2, 30)):
                g = r.choice(mine) if r.random() < 0.9 else r.randrange(groups)
                # the last item is never drawn: a cold item
                seq.append(r.randrange(g, n_items - 1, groups))
            f.write(" ".join(map(str, seq)) + "\n")


def subspace_figures(u, s, ref_u, ref_s):
    k = len(s)
    sv_rel = float(np.max(np.abs(s - ref_s[:k]) / ref_s[:k]))
    cos = np.linalg.svd(u.T @ ref_u[:, :k], compute_uv=False)
    gap = ref_s[k - 1] / ref_s[k] if len(ref_s) > k else float("inf")
    return f"sv_max_rel={sv_rel:.3e} min_cos={cos.min():.6f} gap={gap:.4f} k={k}"


def load_ours(d):
    return np.loadtxt(f"{d}/u.txt", ndmin=2), np.loadtxt(f"{d}/s.txt", ndmin=1)


def check_tfidf(d):
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = []
    for line in open(f"{d}/captions.tsv", encoding="utf-8"):
        texts.append(line.rstrip("\n").split("\t", 1)[1])
    vec = TfidfVectorizer(tokenizer=words, lowercase=False, token_pattern=None, sublinear_tf=True, smooth_idf=True,
                          norm="l2", dtype=np.float64)
    x = vec.fit_transform(texts).toarray()
    vocab = vec.vocabulary_
    ours = np.zeros_like(x)
    extra = 0
    for line in open(f"{d}/tfidf.tsv", encoding="utf-8"):
        row, term, val = line.rstrip("\n").split("\t")
        if term not in vocab:
            extra += 1
            continue
        ours[int(row), vocab[term]] = float(val)
    idf_diff = 0.0
    n_idf = 0
    for line in open(f"{d}/idf.tsv", encoding="utf-8"):
        term, val = line.rstrip("\n").split("\t")
        n_idf += 1
        if term in vocab:
            idf_diff = max(idf_diff, abs(float(val) - vec.idf_[vocab[term]]))
    ref_u, ref_s, _ = np.linalg.svd(x, full_matrices=False)
    u, s = load_ours(d)
    print(f"terms_ref={len(vocab)} terms_ours={n_idf} unknown_terms={extra} tfidf_max_abs={np.abs(ours - x).max():.3e} "
          f"idf_max_abs={idf_diff:.3e} " + subspace_figures(u, s, ref_u, ref_s))


def check_ppmi(d, n, window, shift, cds):
    c = np.zeros((n, n))
    for line in open(f"{d}/sequences.txt"):
        seq = [int(t) for t in line.split()]
        for p in range(len(seq)):
            end = min(len(seq), p + window + 1) if window > 0 else len(seq)
            for q in range(p + 1, end):
                if seq[p] != seq[q]:
                    c[seq[p], seq[q]] += 1
                    c[seq[q], seq[p]] += 1
    rs = c.sum(axis=1)
    za = (rs[rs > 0] ** cds).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(c * za / (rs[:, None] * rs[None, :] ** cds)) - np.log(shift)
    ref = np.where((c > 0) & (pmi > 0), pmi, 0.0)
    ours = np.zeros_like(ref)
    for line in open(f"{d}/ppmi.tsv"):
        i, j, v = line.split()
        ours[int(i), int(j)] = float(v)
    ref_u, ref_s, _ = np.linalg.svd(ref)
    u, s = load_ours(d)
    print(f"ppmi_max_abs={np.abs(ours - ref).max():.3e} ppmi_nnz_ref={int((ref > 0).sum())} "
          f"ppmi_nnz_ours={int((ours > 0).sum())} " + subspace_figures(u, s, ref_u, ref_s))


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "captions":
        make_captions(a[0], int(a[1]), int(a[2]))
    elif cmd == "sequences":
        make_sequences(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif cmd == "tfidf":
        check_tfidf(a[0])
    elif cmd == "ppmi":
        check_ppmi(a[0], int(a[1]), int(a[2]), float(a[3]), float(a[4]))
    else:
        sys.exit(f"unknown command {cmd}")
