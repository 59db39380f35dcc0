// TF-IDF + LSA text embeddings (see embed_text.h).
#include "rec/embed_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/rng.h"

// Scripts written without spaces between words: one character is one word.
static int is_cjk(int32_t c) {
    return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x3FFFF);
}

static int is_word_char(int32_t c) {
    utf8proc_category_t k = utf8proc_category(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

int text_words(const char *s, size_t len, int (*fn)(void *ctx, const char *word, size_t n), void *ctx) {
    char w[TEXT_WORD_MAX + 8];
    size_t n = 0, i = 0;
    int rc = 0;
    while (i <= len && !rc) {
        int32_t c = -1;
        utf8proc_ssize_t step = 1;
        if (i < len) {
            step = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &c);
            if (step < 1) step = 1, c = -1;   // an invalid byte separates words
        }
        int word = c >= 0 && is_word_char(c), cjk = word && is_cjk(c);
        if ((!word || cjk) && n) {
            w[n] = 0;
            rc = fn(ctx, w, n);
            n = 0;
        }
        if (word && !rc) {
            utf8proc_uint8_t b[4];
            utf8proc_ssize_t k = utf8proc_encode_char(utf8proc_tolower(c), b);
            if (n + (size_t)k <= TEXT_WORD_MAX) memcpy(w + n, b, (size_t)k), n += (size_t)k;
            if (cjk) {
                w[n] = 0;
                rc = fn(ctx, w, n);
                n = 0;
            }
        }
        i += (size_t)step;
    }
    return rc;
}

// ---- term vocabulary: word -> id in order of first appearance ----------------------------------

typedef struct {
    char **terms;
    uint64_t *hash;    // [n] of each term
    int64_t n, cap;
    int32_t *slot;     // [nslot] term id or -1
    int64_t nslot;
    int32_t *ids;      // term ids of all texts, concatenated
    int64_t nids, capids;
} vocab;

static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ULL;   // FNV-1a
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static int vocab_rehash(vocab *v) {
    int64_t ns = v->nslot ? v->nslot * 2 : 4096;
    int32_t *slot = mem_alloc((size_t)ns * sizeof *slot);
    if (!slot) return ERR_FAIL;
    for (int64_t i = 0; i < ns; i++) slot[i] = -1;
    for (int64_t t = 0; t < v->n; t++) {
        uint64_t h = v->hash[t] & (uint64_t)(ns - 1);
        while (slot[h] >= 0) h = (h + 1) & (uint64_t)(ns - 1);
        slot[h] = (int32_t)t;
    }
    free(v->slot);
    v->slot = slot, v->nslot = ns;
    return 0;
}

static int vocab_add_term(vocab *v, const char *w, size_t n, uint64_t h, int32_t *id) {
    if (v->n >= INT32_MAX) return err_set("more than 2^31 distinct words");
    if (v->n == v->cap) {
        int64_t nc = v->cap ? v->cap * 2 : 1024;
        char **t = mem_realloc(v->terms, (size_t)nc * sizeof *t);
        if (!t) return ERR_FAIL;
        v->terms = t;
        uint64_t *hh = mem_realloc(v->hash, (size_t)nc * sizeof *hh);
        if (!hh) return ERR_FAIL;
        v->hash = hh, v->cap = nc;
    }
    if (!(v->terms[v->n] = mem_strndup(w, n))) return ERR_FAIL;
    v->hash[v->n] = h;
    *id = (int32_t)v->n++;
    return 0;
}

static int vocab_word(void *ctx, const char *w, size_t n) {
    vocab *v = ctx;
    if ((v->n + 1) * 2 > v->nslot && vocab_rehash(v)) return ERR_FAIL;
    uint64_t h = hash_bytes(w, n), m = (uint64_t)v->nslot - 1;
    uint64_t p = h & m;
    int32_t id = -1;
    for (; v->slot[p] >= 0; p = (p + 1) & m) {
        const char *t = v->terms[v->slot[p]];
        if (v->hash[v->slot[p]] == h && strlen(t) == n && !memcmp(t, w, n)) {
            id = v->slot[p];
            break;
        }
    }
    if (id < 0) {
        if (vocab_add_term(v, w, n, h, &id)) return ERR_FAIL;
        v->slot[p] = id;
    }
    if (v->nids == v->capids) {
        int64_t nc = v->capids ? v->capids * 2 : 4096;
        int32_t *ids = mem_realloc(v->ids, (size_t)nc * sizeof *ids);
        if (!ids) return ERR_FAIL;
        v->ids = ids, v->capids = nc;
    }
    v->ids[v->nids++] = id;
    return 0;
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

// ---- TF-IDF ---------------------------------------------------------------------------------

// Rows of term counts from the concatenated term ids (start[i] .. start[i + 1] for text i).
static int count_terms(csr_mat *x, int32_t *ids, const int64_t *start, int64_t n, int64_t n_terms) {
    x->rows = n, x->cols = n_terms;
    x->ptr = mem_calloc((size_t)n + 1, sizeof *x->ptr);
    int64_t total = start[n] ? start[n] : 1;
    x->idx = mem_alloc((size_t)total * sizeof *x->idx);
    x->val = mem_alloc((size_t)total * sizeof *x->val);
    if (!x->ptr || !x->idx || !x->val) return ERR_FAIL;
    int64_t e = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t *d = ids + start[i];
        int64_t m = start[i + 1] - start[i];
        qsort(d, (size_t)m, sizeof *d, cmp_i32);
        for (int64_t j = 0; j < m; j++) {
            if (j == 0 || d[j] != d[j - 1]) x->idx[e] = d[j], x->val[e++] = 0;
            x->val[e - 1] += 1;
        }
        x->ptr[i + 1] = e;
    }
    return 0;
}

static void weight_rows(csr_mat *x, float *idf, int64_t *empty) {
    int64_t n = x->rows, nnz = csr_nnz(x);
    for (int64_t t = 0; t < x->cols; t++) idf[t] = 0;
    for (int64_t e = 0; e < nnz; e++) idf[x->idx[e]] += 1;   // document frequency first
    for (int64_t t = 0; t < x->cols; t++) idf[t] = (float)(log((1.0 + n) / (1.0 + idf[t])) + 1.0);
    *empty = 0;
    for (int64_t i = 0; i < n; i++) {
        double ss = 0;
        for (int64_t e = x->ptr[i]; e < x->ptr[i + 1]; e++) {
            double v = (1.0 + log(x->val[e])) * idf[x->idx[e]];
            x->val[e] = (float)v;
            ss += v * v;
        }
        *empty += x->ptr[i] == x->ptr[i + 1];
        float s = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (int64_t e = x->ptr[i]; e < x->ptr[i + 1]; e++) x->val[e] *= s;
    }
}

int tfidf_build(tfidf_model *m, const char *const *texts, const size_t *lens, int64_t n) {
    memset(m, 0, sizeof *m);
    vocab v = {0};
    int64_t *start = mem_alloc(((size_t)n + 1) * sizeof *start);
    int rc = start ? 0 : ERR_FAIL;
    for (int64_t i = 0; i < n && !rc; i++) {
        start[i] = v.nids;
        const char *t = texts[i] ? texts[i] : "";
        rc = text_words(t, lens ? lens[i] : strlen(t), vocab_word, &v);
    }
    if (!rc) {
        start[n] = v.nids;
        rc = count_terms(&m->x, v.ids, start, n, v.n);
    }
    if (!rc && !(m->idf = mem_alloc((size_t)(v.n ? v.n : 1) * sizeof *m->idf))) rc = ERR_FAIL;
    if (!rc) weight_rows(&m->x, m->idf, &m->empty);
    m->terms = v.terms, m->n_terms = v.n;
    free(v.hash), free(v.slot), free(v.ids), free(start);
    if (rc) tfidf_free(m);
    return rc;
}

void tfidf_free(tfidf_model *m) {
    for (int64_t t = 0; m->terms && t < m->n_terms; t++) free(m->terms[t]);
    free(m->terms), free(m->idf);
    csr_free(&m->x);
    memset(m, 0, sizeof *m);
}

// ---- embeddings ---------------------------------------------------------------------------------

void embed_text_opts_default(embed_text_opts *o) {
    *o = (embed_text_opts){
        .dim = 64,
        .projection = TEXT_PROJ_SVD,
    };
    svd_opts_default(&o->svd);
}

int embed_text_tfidf(float *out, const char *const *texts, const size_t *lens, int64_t n, const embed_text_opts *o,
                     embed_text_stats *st) {
    embed_text_opts def;
    if (!o) embed_text_opts_default(&def), o = &def;
    tfidf_model m;
    if (tfidf_build(&m, texts, lens, n)) return err_wrap("TF-IDF of %lld texts", (long long)n);
    embed_text_stats s = {.docs = n, .terms = m.n_terms, .nnz = csr_nnz(&m.x), .empty = m.empty};
    int rc = 0;
    if (o->dim < 1 || o->dim > n || o->dim > m.n_terms)
        rc = err_set("--dim %d: must be in 1..%lld (at most the number of items, %lld, and of distinct words, %lld)",
                     o->dim, (long long)(n < m.n_terms ? n : m.n_terms), (long long)n, (long long)m.n_terms);
    else if (o->projection == TEXT_PROJ_RANDOM)
        rc = svd_random_project(out, &m.x, o->dim, o->svd.seed);
    else {
        float *sv = mem_alloc((size_t)o->dim * sizeof *sv);
        rc = sv ? svd_embed(out, sv, &m.x, o->dim, 1.0, &o->svd) : ERR_FAIL;
        double kept = 0;
        for (int j = 0; !rc && j < o->dim; j++) kept += (double)sv[j] * sv[j];
        s.explained = n > s.empty ? kept / (double)(n - s.empty) : 0;   // rows are unit-norm
        free(sv);
    }
    tfidf_free(&m);
    if (st) *st = s;
    return rc;
}

int64_t embed_rows_normalize(float *x, int64_t n, int d, const int64_t *pids, uint64_t seed) {
    double mx = 0;
    for (int64_t i = 0; i < n; i++) {
        double ss = 0;
        for (int j = 0; j < d; j++) ss += (double)x[i * d + j] * x[i * d + j];
        mx = ss > mx ? ss : mx;
    }
    int64_t filled = 0;
    for (int64_t i = 0; i < n; i++) {
        float *r = x + i * d;
        double ss = 0;
        for (int j = 0; j < d; j++) ss += (double)r[j] * r[j];
        if (ss <= 1e-12 * mx) {   // float noise of an empty row is no direction
            filled++;
            if (!pids) {
                memset(r, 0, (size_t)d * sizeof *r);
                continue;
            }
            rng g;
            rng_seed_stream(&g, seed, (uint64_t)pids[i]);
            ss = 0;
            for (int j = 0; j < d; j++) r[j] = (float)rng_normal(&g), ss += (double)r[j] * r[j];
        }
        float s = (float)(1.0 / sqrt(ss));
        for (int j = 0; j < d; j++) r[j] *= s;
    }
    return filled;
}
