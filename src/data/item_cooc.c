// Item co-occurrence counts, PPMI and the raw-table reader (see item_cooc.h).
#include "data/item_cooc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/raw.h"

static int add_pair(cooc_counts *c, int32_t a, int32_t b) {
    int32_t i = a < b ? a : b, j = a < b ? b : a;
    int64_t slot;
    int is_new;
    if (pid_index_put(&c->pairs, (int64_t)i << 32 | j, &slot, &is_new)) return ERR_FAIL;
    if (slot >= c->cap) {
        int64_t nc = c->cap ? c->cap * 2 : 4096;
        double *p = mem_realloc(c->count, (size_t)nc * sizeof *p);
        if (!p) return ERR_FAIL;
        c->count = p, c->cap = nc;
    }
    if (is_new) c->count[slot] = 0;
    c->count[slot] += 1;
    if (j >= c->n_items) c->n_items = (int64_t)j + 1;
    return 0;
}

int cooc_add_sequence(cooc_counts *c, const int32_t *items, int n, int window) {
    for (int p = 0; p < n; p++) {
        if (items[p] < 0) continue;
        int end = window > 0 && window < n - p ? p + window + 1 : n;
        for (int q = p + 1; q < end; q++)
            if (items[q] >= 0 && items[q] != items[p] && add_pair(c, items[p], items[q])) return ERR_FAIL;
    }
    return 0;
}

int64_t cooc_pairs(const cooc_counts *c) { return c->pairs.n; }

void cooc_free(cooc_counts *c) {
    pid_index_free(&c->pairs);
    free(c->count);
    memset(c, 0, sizeof *c);
}

typedef struct {
    int32_t j;
    float v;
} entry;

static int cmp_entry(const void *a, const void *b) {
    int32_t x = ((const entry *)a)->j, y = ((const entry *)b)->j;
    return (x > y) - (x < y);
}

// Both triangles of the counts as rows of entries sorted by column: ptr [n + 1], ent [2 pairs].
static int symmetric_rows(const cooc_counts *c, int64_t n, int64_t **ptr_out, entry **ent_out) {
    const pid_index *ix = &c->pairs;
    int64_t *ptr = mem_calloc((size_t)n + 1, sizeof *ptr), *fill = mem_alloc(((size_t)n + 1) * sizeof *fill);
    entry *ent = mem_alloc((size_t)(ix->n ? 2 * ix->n : 1) * sizeof *ent);
    if (!ptr || !fill || !ent) {
        free(ptr), free(fill), free(ent);
        return ERR_FAIL;
    }
    for (int64_t h = 0; h < ix->cap; h++)
        if (ix->keys[h] != INT64_MIN) ptr[(ix->keys[h] >> 32) + 1]++, ptr[(ix->keys[h] & 0xffffffff) + 1]++;
    for (int64_t i = 0; i < n; i++) ptr[i + 1] += ptr[i];
    memcpy(fill, ptr, (size_t)n * sizeof *fill);
    for (int64_t h = 0; h < ix->cap; h++) {
        if (ix->keys[h] == INT64_MIN) continue;
        int32_t i = (int32_t)(ix->keys[h] >> 32), j = (int32_t)(ix->keys[h] & 0xffffffff);
        float v = (float)c->count[ix->slot[h]];
        ent[fill[i]++] = (entry){j, v};
        ent[fill[j]++] = (entry){i, v};
    }
    for (int64_t i = 0; i < n; i++) qsort(ent + ptr[i], (size_t)(ptr[i + 1] - ptr[i]), sizeof *ent, cmp_entry);
    free(fill);
    *ptr_out = ptr, *ent_out = ent;
    return 0;
}

int cooc_ppmi(csr_mat *out, const cooc_counts *c, int64_t n, double shift, double cds) {
    memset(out, 0, sizeof *out);
    if (n < c->n_items) return err_set("PPMI: %lld rows for %lld items", (long long)n, (long long)c->n_items);
    if (!(shift >= 1.0)) return err_usage("--shift %g: must be at least 1 (1 = plain PPMI)", shift);
    if (!(cds > 0.0 && cds <= 1.0)) return err_usage("--cds %g: must be in (0, 1] (1 = none)", cds);
    int64_t *ptr;
    entry *ent;
    if (symmetric_rows(c, n, &ptr, &ent)) return ERR_FAIL;
    double *lsum = mem_alloc((size_t)(n ? n : 1) * sizeof *lsum), za = 0;
    out->rows = out->cols = n;
    out->ptr = mem_calloc((size_t)n + 1, sizeof *out->ptr);
    out->idx = mem_alloc((size_t)(ptr[n] ? ptr[n] : 1) * sizeof *out->idx);
    out->val = mem_alloc((size_t)(ptr[n] ? ptr[n] : 1) * sizeof *out->val);
    int rc = lsum && out->ptr && out->idx && out->val ? 0 : ERR_FAIL;
    for (int64_t i = 0; i < n && !rc; i++) {
        double s = 0;
        for (int64_t e = ptr[i]; e < ptr[i + 1]; e++) s += ent[e].v;
        za += pow(s, cds);
        lsum[i] = s > 0 ? log(s) : 0;
    }
    double base = log(za) - log(shift);
    int64_t k = 0;
    for (int64_t i = 0; i < n && !rc; i++) {
        for (int64_t e = ptr[i]; e < ptr[i + 1]; e++) {
            double pmi = log(ent[e].v) - lsum[i] - cds * lsum[ent[e].j] + base;
            if (pmi > 0) out->idx[k] = ent[e].j, out->val[k++] = (float)pmi;
        }
        out->ptr[i + 1] = k;
    }
    free(ptr), free(ent), free(lsum);
    if (rc) csr_free(out);
    return rc;
}

// ---- the raw table -------------------------------------------------------------------------------

typedef struct {
    int32_t *v;
    int n, cap;
} seqbuf;

static int seq_push(seqbuf *s, int32_t x) {
    if (s->n == s->cap) {
        int nc = s->cap ? s->cap * 2 : 256;
        int32_t *p = mem_realloc(s->v, (size_t)nc * sizeof *p);
        if (!p) return ERR_FAIL;
        s->v = p, s->cap = nc;
    }
    s->v[s->n++] = x;
    return 0;
}

static int push_pids(seqbuf *s, const i64vec *a, pid_index *items, int grow, cooc_read_stats *st) {
    for (int k = 0; k < a->n; k++) {
        int64_t idx = pid_index_get(items, a->v[k]);
        int is_new;
        if (idx < 0 && grow && pid_index_put(items, a->v[k], &idx, &is_new)) return ERR_FAIL;
        if (idx > INT32_MAX) return err_set("more than 2^31 items");
        if (idx < 0) st->unknown++;
        else st->interactions++;
        if (seq_push(s, (int32_t)idx)) return ERR_FAIL;
    }
    return 0;
}

static int add_user(cooc_counts *c, seqbuf *s, const recif_user *u, pid_index *items, int grow, int window,
                    cooc_read_stats *st) {
    const i64vec *lists[3][2] = {{&u->hist_video, &u->target_video}, {&u->hist_ad, &u->target_ad},
                                 {&u->hist_goods, &u->target_goods}};
    s->n = 0;
    for (int d = 0; d < 3; d++) {
        if (window > 0) s->n = 0;
        if (push_pids(s, lists[d][0], items, grow, st) || push_pids(s, lists[d][1], items, grow, st)) return ERR_FAIL;
        if (window > 0 && cooc_add_sequence(c, s->v, s->n, window)) return ERR_FAIL;
    }
    return window > 0 ? 0 : cooc_add_sequence(c, s->v, s->n, 0);
}

int cooc_read_raw(cooc_counts *c, pid_index *items, int grow, const char *raw_path, int window, cooc_read_stats *st) {
    memset(st, 0, sizeof *st);
    if (window < 0) return err_usage("--window %d: must be 0 (whole sequences) or positive", window);
    recif_raw rr;
    if (recif_raw_open(&rr, raw_path)) return err_wrap("interactions %s", raw_path);
    recif_user u = {0};
    seqbuf s = {0};
    progress pg;
    progress_begin(&pg, "cooc users", 0, "users");
    int got = 0, rc = 0;
    while (!rc && (got = recif_raw_next(&rr, &u)) > 0) {
        st->users++;
        if (u.split == 0) {
            st->train_users++;
            rc = add_user(c, &s, &u, items, grow, window, st);
        }
        progress_add(&pg, 1);
    }
    progress_end(&pg);
    if (!rc && got < 0) rc = ERR_FAIL;
    st->bad_rows = rr.bad_rows;
    if (rr.bad_rows) log_warn("%s: %lld bad rows skipped (first: %s)", raw_path, (long long)rr.bad_rows, rr.first_bad);
    recif_user_free(&u);
    free(s.v);
    recif_raw_close(&rr);
    return rc ? err_wrap("interactions %s", raw_path) : 0;
}
