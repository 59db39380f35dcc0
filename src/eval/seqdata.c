#include "eval/seqdata.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "base/rng.h"
#include "eval/topk.h"

int seq_set_init(seq_set *s) {
    memset(s, 0, sizeof *s);
    s->cap_seq = 16;
    s->offsets = mem_calloc((size_t)s->cap_seq + 1, sizeof *s->offsets);
    return s->offsets ? 0 : ERR_FAIL;
}

void seq_set_free(seq_set *s) {
    free(s->items);
    free(s->offsets);
    memset(s, 0, sizeof *s);
}

int seq_set_append(seq_set *s, const int32_t *items, int64_t n) {
    int64_t used = s->offsets[s->nseq];
    if (used + n > s->cap_items) {
        int64_t nc = s->cap_items ? s->cap_items : 256;
        while (nc < used + n) nc *= 2;
        int32_t *ni = mem_realloc(s->items, (size_t)nc * sizeof *ni);
        if (!ni) return ERR_FAIL;
        s->items = ni;
        s->cap_items = nc;
    }
    if (s->nseq + 1 > s->cap_seq) {
        int64_t nc = 2 * s->cap_seq;
        int64_t *no = mem_realloc(s->offsets, (size_t)(nc + 1) * sizeof *no);
        if (!no) return ERR_FAIL;
        s->offsets = no;
        s->cap_seq = nc;
    }
    for (int64_t i = 0; i < n; i++) {
        if (items[i] < 0) return err_set("sequence %lld: negative item id %d", (long long)s->nseq, items[i]);
        if (items[i] >= s->nitems) s->nitems = items[i] + 1;
    }
    if (n) memcpy(s->items + used, items, (size_t)n * sizeof *items);
    s->offsets[++s->nseq] = used + n;
    return 0;
}

int eval_set_init(eval_set *e) {
    if (seq_set_init(&e->hist)) return ERR_FAIL;
    if (seq_set_init(&e->target)) {
        seq_set_free(&e->hist);
        return ERR_FAIL;
    }
    return 0;
}

void eval_set_free(eval_set *e) {
    seq_set_free(&e->hist);
    seq_set_free(&e->target);
}

// ---- text files -------------------------------------------------------------------------------

// Parses the ids of one line segment [p, end) into *buf; returns the count or ERR_FAIL.
static int64_t parse_ids(const char *p, const char *end, int32_t **buf, int64_t *cap, const char *path,
                         int64_t line) {
    int64_t n = 0;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
        if (p >= end) break;
        char *e;
        errno = 0;
        long long v = strtoll(p, &e, 10);
        if (e == p || e > end || (e < end && *e != ' ' && *e != '\t' && *e != '\r') || errno || v < 0 ||
            v > INT32_MAX)
            return err_set("%s:%lld: expected non-negative item ids, got \"%.20s\"", path, (long long)line, p);
        if (n == *cap) {
            int64_t nc = *cap ? 2 * *cap : 64;
            int32_t *nb = mem_realloc(*buf, (size_t)nc * sizeof *nb);
            if (!nb) return ERR_FAIL;
            *buf = nb;
            *cap = nc;
        }
        (*buf)[n++] = (int32_t)v;
        p = e;
    }
    return n;
}

// Reads path line by line; with `eval`, each line is split at '|' into history and targets.
static int read_lines(const char *path, seq_set *a, seq_set *b) {
    char *text;
    size_t size;
    if (file_read_all(path, &text, &size)) return ERR_FAIL;
    int32_t *buf = NULL;
    int64_t cap = 0, line = 0;
    int rc = 0;
    for (char *p = text; *p && !rc;) {
        char *nl = strchr(p, '\n');
        char *end = nl ? nl : p + strlen(p);
        line++;
        const char *q = p;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q < end && *q != '#') {
            const char *bar = memchr(p, '|', (size_t)(end - p));
            if (b && !bar) rc = err_set("%s:%lld: missing \"|\" between history and targets", path, (long long)line);
            if (!b && bar) rc = err_set("%s:%lld: unexpected \"|\" in a sequence file", path, (long long)line);
            if (!rc) {
                const char *mid = b ? bar : end;
                int64_t n = parse_ids(p, mid, &buf, &cap, path, line);
                if (n < 0 || seq_set_append(a, buf, n)) rc = ERR_FAIL;
                if (!rc && b) {
                    n = parse_ids(bar + 1, end, &buf, &cap, path, line);
                    if (n < 0 || seq_set_append(b, buf, n)) rc = ERR_FAIL;
                }
            }
        }
        p = nl ? nl + 1 : end;
    }
    free(buf);
    free(text);
    return rc;
}

int seq_file_read(const char *path, seq_set *out) {
    if (seq_set_init(out)) return ERR_FAIL;
    if (read_lines(path, out, NULL)) {
        seq_set_free(out);
        return ERR_FAIL;
    }
    return 0;
}

int eval_file_read(const char *path, eval_set *out) {
    if (eval_set_init(out)) return ERR_FAIL;
    if (read_lines(path, &out->hist, &out->target)) {
        eval_set_free(out);
        return ERR_FAIL;
    }
    return 0;
}

static void write_ids(FILE *f, const int32_t *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) fprintf(f, i ? " %d" : "%d", x[i]);
}

int seq_file_write(const char *path, const seq_set *s) {
    afile af;
    if (afile_open(&af, path)) return ERR_FAIL;
    for (int64_t i = 0; i < s->nseq; i++) {
        write_ids(af.fp, seq_at(s, i), seq_len(s, i));
        fputc('\n', af.fp);
    }
    return afile_commit(&af);
}

int eval_file_write(const char *path, const eval_set *e) {
    afile af;
    if (afile_open(&af, path)) return ERR_FAIL;
    for (int64_t i = 0; i < e->hist.nseq; i++) {
        write_ids(af.fp, seq_at(&e->hist, i), seq_len(&e->hist, i));
        fputs(" | ", af.fp);
        write_ids(af.fp, seq_at(&e->target, i), seq_len(&e->target, i));
        fputc('\n', af.fp);
    }
    return afile_commit(&af);
}

// ---- Markov world -----------------------------------------------------------------------------

int markov_world_init(markov_world *w, int32_t nitems, int32_t branch, double jump, double zipf,
                      uint64_t seed) {
    memset(w, 0, sizeof *w);
    if (nitems < 2 || branch < 1 || branch >= nitems || jump < 0 || jump > 1 || zipf < 0)
        return err_set("markov world: need nitems >= 2, 1 <= branch < nitems, jump in [0,1], zipf >= 0 "
                       "(got %d, %d, %g, %g)", nitems, branch, jump, zipf);
    w->nitems = nitems;
    w->branch = branch;
    w->jump = jump;
    w->zipf = zipf;
    w->horizon = 1;
    w->succ = mem_alloc((size_t)nitems * (size_t)branch * sizeof *w->succ);
    w->succ_p = mem_alloc((size_t)branch * sizeof *w->succ_p);
    w->pop = mem_alloc((size_t)nitems * sizeof *w->pop);
    w->pop_cdf = mem_alloc((size_t)nitems * sizeof *w->pop_cdf);
    if (!w->succ || !w->succ_p || !w->pop || !w->pop_cdf) {
        markov_world_free(w);
        return ERR_FAIL;
    }
    rng r;
    rng_seed(&r, seed);
    // popularity: Zipf over a random permutation, so popular ids are scattered
    uint32_t *perm = mem_alloc((size_t)nitems * sizeof *perm);
    if (!perm) {
        markov_world_free(w);
        return ERR_FAIL;
    }
    for (int32_t i = 0; i < nitems; i++) perm[i] = (uint32_t)i;
    rng_shuffle_u32(&r, perm, (size_t)nitems);
    double z = 0;
    for (int32_t i = 0; i < nitems; i++) z += w->pop[perm[i]] = pow(i + 1.0, -zipf);
    double c = 0;
    for (int32_t i = 0; i < nitems; i++) w->pop_cdf[i] = c += w->pop[i] /= z;
    free(perm);
    double zs = 0;
    for (int32_t j = 0; j < branch; j++) zs += w->succ_p[j] = 1.0 / (j + 1.0);
    for (int32_t j = 0; j < branch; j++) w->succ_p[j] /= zs;
    // successors: distinct items other than i, uniformly drawn (so they are not the popular ones)
    for (int32_t i = 0; i < nitems; i++) {
        int32_t *s = w->succ + (size_t)i * branch;
        for (int32_t j = 0; j < branch; j++) {
            int32_t x;
            int dup;
            do {
                x = (int32_t)rng_below(&r, (uint64_t)nitems);
                dup = x == i;
                for (int32_t t = 0; t < j && !dup; t++) dup = s[t] == x;
            } while (dup);
            s[j] = x;
        }
    }
    return 0;
}

void markov_world_free(markov_world *w) {
    free(w->succ);
    free(w->succ_p);
    free(w->pop);
    free(w->pop_cdf);
    memset(w, 0, sizeof *w);
}

static int32_t draw_popular(const markov_world *w, rng *r) {
    double u = rng_uniform(r);
    int32_t lo = 0, hi = w->nitems - 1;   // first index with cdf > u
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (w->pop_cdf[mid] > u) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

static int32_t step(const markov_world *w, rng *r, int32_t cur) {
    if (rng_uniform(r) < w->jump) return draw_popular(w, r);
    double u = rng_uniform(r), c = 0;
    for (int32_t j = 0; j < w->branch; j++)
        if (u < (c += w->succ_p[j])) return w->succ[(size_t)cur * w->branch + j];
    return w->succ[(size_t)cur * w->branch + w->branch - 1];
}

int markov_world_sample(const markov_world *w, int64_t nusers, int len, uint64_t seed, seq_set *train,
                        int64_t nusers_eval, int ntarget, eval_set *eval) {
    if (len < 2 || (eval && (ntarget < 1 || ntarget >= len)))
        return err_set("markov world: need len >= 2 and 1 <= ntarget < len (got %d, %d)", len, ntarget);
    int32_t *walk = mem_alloc((size_t)len * sizeof *walk);
    if (!walk) return ERR_FAIL;
    int rc = seq_set_init(train);
    if (!rc && eval) rc = eval_set_init(eval);
    for (int64_t u = 0; u < nusers + (eval ? nusers_eval : 0) && !rc; u++) {
        rng r;
        rng_seed_stream(&r, seed, (uint64_t)u);
        walk[0] = draw_popular(w, &r);
        for (int t = 1; t < len; t++) walk[t] = step(w, &r, walk[t - 1]);
        if (u < nusers) rc = seq_set_append(train, walk, len);
        else {
            rc = seq_set_append(&eval->hist, walk, len - ntarget);
            if (!rc) rc = seq_set_append(&eval->target, walk + len - ntarget, ntarget);
        }
    }
    free(walk);
    // every set spans the whole catalogue, so ids index the same tables everywhere
    train->nitems = w->nitems;
    if (eval) eval->hist.nitems = eval->target.nitems = w->nitems;
    return rc;
}

int markov_world_rank(const markov_world *w, const int32_t *hist, int n, int k, int32_t *out) {
    int32_t N = w->nitems;
    double *v = mem_calloc((size_t)N, sizeof *v), *nv = mem_alloc((size_t)N * sizeof *nv);
    float *acc = mem_calloc((size_t)N, sizeof *acc), *scratch = mem_alloc((size_t)(k > 0 ? k : 1) * sizeof *scratch);
    int rc = ERR_FAIL;
    if (v && nv && acc && scratch) {
        // The state distribution after t steps: v_{t+1} = (1 - jump) v_t S + jump pop (sum v_t = 1).
        if (n > 0) v[hist[n - 1]] = 1;
        else memcpy(v, w->pop, (size_t)N * sizeof *v);
        for (int t = 0; t < w->horizon; t++) {
            for (int32_t i = 0; i < N; i++) nv[i] = w->jump * w->pop[i];
            for (int32_t i = 0; i < N; i++) {
                if (v[i] == 0) continue;
                const int32_t *s = w->succ + (size_t)i * w->branch;
                for (int32_t j = 0; j < w->branch; j++) nv[s[j]] += (1 - w->jump) * v[i] * w->succ_p[j];
            }
            for (int32_t i = 0; i < N; i++) acc[i] += (float)(v[i] = nv[i]);
        }
        rc = topk_f32(out, scratch, acc, N, k);
    }
    free(v);
    free(nv);
    free(acc);
    free(scratch);
    return rc;
}
