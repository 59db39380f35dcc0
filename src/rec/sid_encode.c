// sid encode's passes: codes for every item in chunks of ENC_CHUNK rows, then (balance) a second
// pass over the file for the colliders only, so memory is O(items x layers), never O(items x dim).
#include "rec/sid_encode.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"

#define ENC_CHUNK 16384

// Re-reads the colliding rows' last-layer residuals (into rs [cnt, d]) by a second file pass.
static int balance_gather(float *rs, embsrc *s, const rq_codebook *cb, const int64_t *idx, int64_t cnt) {
    int L = cb->layers, d = cb->d;
    float *x = mem_alloc(sizeof(float) * (size_t)ENC_CHUNK * d);
    float *rp = mem_alloc(sizeof(float) * (size_t)ENC_CHUNK * d);
    float *err = mem_alloc(sizeof(float) * ENC_CHUNK);
    int64_t *pid = mem_alloc(sizeof(int64_t) * ENC_CHUNK);
    int32_t *cc = mem_alloc(sizeof(int32_t) * (size_t)ENC_CHUNK * L);
    int rc = (!x || !rp || !err || !pid || !cc) ? ERR_FAIL : embsrc_rewind(s);
    int64_t p = 0, row0 = 0, got = 0;
    while (!rc && p < cnt) {
        if ((rc = embsrc_read(s, x, pid, ENC_CHUNK, &got))) break;
        if (!got) break;
        if (idx[p] < row0 + got) {
            if ((rc = rqkmeans_encode(cc, err, rp, cb, x, got))) break;
            for (; p < cnt && idx[p] < row0 + got; p++) memcpy(rs + p * d, rp + (idx[p] - row0) * d, sizeof(float) * d);
        }
        row0 += got;
    }
    if (!rc && p < cnt) rc = err_set("embeddings %s: file changed between passes", s->path);
    free(x), free(rp), free(err), free(pid), free(cc);
    return rc;
}

// Reconstruction error change of the moved items: sum of ||r - c_new||^2 - ||r - c_old||^2.
static double balance_delta(const rq_codebook *cb, const int32_t *codes, const int64_t *idx, const float *rs,
                            const int32_t *before, int64_t cnt) {
    int L = cb->layers, d = cb->d;
    double delta = 0;
    const float *last = cb->centroids + (size_t)(L - 1) * cb->k * d;
    for (int64_t q = 0; q < cnt; q++) {
        int32_t now = codes[idx[q] * L + L - 1];
        if (now == before[q]) continue;
        const float *r = rs + q * d, *a = last + (size_t)now * d, *b = last + (size_t)before[q] * d;
        double sa = 0, sb = 0;
        for (int j = 0; j < d; j++) {
            sa += (double)(r[j] - a[j]) * (r[j] - a[j]);
            sb += (double)(r[j] - b[j]) * (r[j] - b[j]);
        }
        delta += sa - sb;
    }
    return delta;
}

// Balance needs the last-layer residual of colliding items only: a second pass over the file
// gathers just those rows, so memory stays bounded by the colliders.
static int balance_pass(embsrc *s, const rq_codebook *cb, int32_t *codes, int64_t n, double *se_delta, int64_t *moved) {
    int L = cb->layers;
    int64_t *idx, cnt;
    if (sid_colliders(&idx, &cnt, codes, n, L, cb->k)) return ERR_FAIL;
    float *rs = mem_alloc(sizeof(float) * (size_t)(cnt ? cnt : 1) * cb->d);
    int32_t *before = mem_alloc(sizeof(int32_t) * (size_t)(cnt ? cnt : 1));
    int rc = (!rs || !before) ? ERR_FAIL : balance_gather(rs, s, cb, idx, cnt);
    for (int64_t q = 0; !rc && q < cnt; q++) before[q] = codes[idx[q] * L + L - 1];
    if (!rc) rc = sid_dedup_balance_sparse(codes, n, cb, idx, rs, cnt, moved);
    *se_delta = rc ? 0 : balance_delta(cb, codes, idx, rs, before, cnt);
    free(idx), free(rs), free(before);
    return rc;
}

static int encode_pass(sid_encoding *e, embsrc *s, const rq_codebook *cb) {
    int L = cb->layers, d = cb->d;
    int64_t n = s->n;
    float *x = mem_alloc(sizeof(float) * (size_t)ENC_CHUNK * d);
    float *err = mem_alloc(sizeof(float) * ENC_CHUNK);
    int rc = (!x || !err) ? ERR_FAIL : 0;
    double t0 = time_now();
    int64_t got = 0;
    progress pr;
    progress_begin(&pr, "encode", n, "items");
    while (!rc) {
        int64_t want = e->n + ENC_CHUNK <= n ? ENC_CHUNK : n - e->n;
        if ((rc = embsrc_read(s, x, e->pid + e->n, want, &got)) || !got) break;
        if ((rc = rqkmeans_encode(e->codes + e->n * L, err, NULL, cb, x, got))) break;
        for (int64_t i = 0; i < got; i++) {
            e->se += err[i];
            const float *xi = x + i * d;
            double t = 0;
            for (int j = 0; j < d; j++) t += (double)xi[j] * xi[j];
            e->sx += t;
        }
        e->n += got;
        progress_add(&pr, got);
    }
    progress_end(&pr);
    e->seconds = time_now() - t0;
    free(x), free(err);
    return rc;
}

static int dedup_digit(sid_encoding *e, int k) {
    int L = e->layers;
    int32_t *final = mem_alloc(sizeof(int32_t) * (size_t)(e->n ? e->n : 1) * (L + 1));
    if (!final) return ERR_FAIL;
    int rc = sid_dedup_digit(final, e->codes, e->n, L, k);
    for (int64_t i = 0; !rc && i < e->n; i++) e->moved += final[i * (L + 1) + L] > 0;   // items given a nonzero digit
    free(e->codes);
    e->codes = final, e->layers = L + 1;
    return rc;
}

int sid_encode_stream(sid_encoding *e, embsrc *s, const rq_codebook *cb, sid_dedup mode) {
    memset(e, 0, sizeof *e);
    if (s->d != cb->d) return err_set("embeddings %s have %d dims but the codebook was trained on %d", s->path, s->d, cb->d);
    int64_t n = s->n;
    e->layers = cb->layers;
    e->pid = mem_alloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    e->codes = mem_alloc(sizeof(int32_t) * (size_t)(n ? n : 1) * cb->layers);
    int rc = (!e->pid || !e->codes) ? ERR_FAIL : encode_pass(e, s, cb);
    if (!rc) rc = sid_collisions(&e->before, e->codes, e->n, cb->layers, cb->k);
    e->se_after = e->se;
    if (!rc && mode == SID_DEDUP_DIGIT) {
        rc = dedup_digit(e, cb->k);
    } else if (!rc && mode == SID_DEDUP_BALANCE) {
        double delta = 0;
        rc = balance_pass(s, cb, e->codes, e->n, &delta, &e->moved);
        e->se_after = e->se + delta;
    }
    if (!rc) rc = sid_collisions(&e->after, e->codes, e->n, e->layers, cb->k);
    if (rc) sid_encoding_free(e);
    return rc;
}

void sid_encoding_free(sid_encoding *e) {
    free(e->pid), free(e->codes);
    e->pid = NULL, e->codes = NULL;
}
