// KV-cache decoding. Keys/values live in pages of PAGE tokens shared by reference count: a fork
// copies the parent's page list (no recompute), and a write into a shared page copies that page
// first. One call appends any mix of tokens (prefill runs and single decode steps of many beams).
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "model/kernels.h"
#include "model/qwen3.h"

#define PAGE 16

typedef struct {
    int alive, len, npages, cap;
    int *pages;
} kv_seq;

struct qwen3_kv {
    int L, K, npages;          // K = nKV * head_dim floats per token per layer
    float *k, *v;              // [L][npages * PAGE][K]
    int *ref;                  // [npages]
    int *free_pages, nfree;
    kv_seq *seqs;
    int nseq, cap_seq;
};

int qwen3_kv_init(qwen3_kv **out, const qwen3_model *m, int max_tokens) {
    qwen3_kv *kv = mem_calloc(1, sizeof *kv);
    if (!kv) return ERR_FAIL;
    kv->L = m->cfg.n_layers;
    kv->K = m->cfg.n_kv * m->cfg.head_dim;
    kv->npages = (max_tokens + PAGE - 1) / PAGE;
    size_t fl = (size_t)kv->L * kv->npages * PAGE * kv->K;
    kv->k = mem_aligned(fl * sizeof(float));
    kv->v = mem_aligned(fl * sizeof(float));
    kv->ref = mem_calloc((size_t)kv->npages, sizeof(int));
    kv->free_pages = mem_alloc((size_t)kv->npages * sizeof(int));
    if (!kv->k || !kv->v || !kv->ref || !kv->free_pages) {
        qwen3_kv_free(kv);
        return err_wrap("allocating a KV cache of %d tokens (%.2f GiB)", max_tokens, 2.0 * fl * 4 / (1 << 30));
    }
    for (int i = 0; i < kv->npages; i++) kv->free_pages[i] = kv->npages - 1 - i;
    kv->nfree = kv->npages;
    *out = kv;
    return 0;
}

void qwen3_kv_free(qwen3_kv *kv) {
    if (!kv) return;
    for (int i = 0; i < kv->nseq; i++) free(kv->seqs[i].pages);
    free(kv->seqs);
    free(kv->k);
    free(kv->v);
    free(kv->ref);
    free(kv->free_pages);
    free(kv);
}

static int new_slot(qwen3_kv *kv) {
    for (int i = 0; i < kv->nseq; i++)
        if (!kv->seqs[i].alive) return i;
    if (kv->nseq == kv->cap_seq) {
        int cap = kv->cap_seq ? kv->cap_seq * 2 : 16;
        kv_seq *s = mem_realloc(kv->seqs, (size_t)cap * sizeof *s);
        if (!s) return ERR_FAIL;
        kv->seqs = s;
        kv->cap_seq = cap;
    }
    memset(&kv->seqs[kv->nseq], 0, sizeof kv->seqs[0]);
    return kv->nseq++;
}

int qwen3_kv_new_seq(qwen3_kv *kv) {
    int s = new_slot(kv);
    if (s < 0) return s;
    kv->seqs[s].alive = 1;
    kv->seqs[s].len = 0;
    kv->seqs[s].npages = 0;
    return s;
}

static int reserve(kv_seq *s, int n) {
    if (n <= s->cap) return 0;
    int cap = s->cap ? s->cap : 4;
    while (cap < n) cap *= 2;
    int *p = mem_realloc(s->pages, (size_t)cap * sizeof(int));
    if (!p) return ERR_FAIL;
    s->pages = p;
    s->cap = cap;
    return 0;
}

int qwen3_kv_fork(qwen3_kv *kv, int parent) {
    if (parent < 0 || parent >= kv->nseq || !kv->seqs[parent].alive)
        return err_set("qwen3_kv_fork: no sequence %d", parent);
    int c = new_slot(kv);
    if (c < 0) return c;
    kv_seq *p = &kv->seqs[parent], *s = &kv->seqs[c];   // new_slot may have moved the array
    s->alive = 1;
    if (reserve(s, p->npages)) return ERR_FAIL;
    memcpy(s->pages, p->pages, (size_t)p->npages * sizeof(int));
    s->npages = p->npages;
    s->len = p->len;
    for (int i = 0; i < p->npages; i++) kv->ref[p->pages[i]]++;
    return c;
}

void qwen3_kv_free_seq(qwen3_kv *kv, int seq) {
    if (seq < 0 || seq >= kv->nseq || !kv->seqs[seq].alive) return;
    kv_seq *s = &kv->seqs[seq];
    for (int i = 0; i < s->npages; i++)
        if (--kv->ref[s->pages[i]] == 0) kv->free_pages[kv->nfree++] = s->pages[i];
    s->alive = 0;
    s->npages = 0;
    s->len = 0;
}

int qwen3_kv_len(const qwen3_kv *kv, int seq) {
    return seq >= 0 && seq < kv->nseq && kv->seqs[seq].alive ? kv->seqs[seq].len : -1;
}

static int take_page(qwen3_kv *kv) {
    if (!kv->nfree) return err_set("KV cache full (%d tokens): raise its size", kv->npages * PAGE);
    int p = kv->free_pages[--kv->nfree];
    kv->ref[p] = 1;
    return p;
}

// Reserves the cache slot of the next token of `seq`; returns the slot (page*PAGE + offset).
static int append_slot(qwen3_kv *kv, int seq, int *pos) {
    kv_seq *s = &kv->seqs[seq];
    int off = s->len % PAGE;
    if (off == 0) {
        if (reserve(s, s->npages + 1)) return ERR_FAIL;
        int p = take_page(kv);
        if (p < 0) return p;
        s->pages[s->npages++] = p;
    } else {
        int old = s->pages[s->npages - 1];
        if (kv->ref[old] > 1) {   // shared with a fork: copy the filled part before writing
            int p = take_page(kv);
            if (p < 0) return p;
            for (int l = 0; l < kv->L; l++) {
                size_t lo = (size_t)l * kv->npages * PAGE * kv->K;
                memcpy(kv->k + lo + (size_t)p * PAGE * kv->K, kv->k + lo + (size_t)old * PAGE * kv->K,
                       (size_t)off * kv->K * sizeof(float));
                memcpy(kv->v + lo + (size_t)p * PAGE * kv->K, kv->v + lo + (size_t)old * PAGE * kv->K,
                       (size_t)off * kv->K * sizeof(float));
            }
            kv->ref[old]--;
            s->pages[s->npages - 1] = p;
        }
    }
    *pos = s->len++;
    return s->pages[s->npages - 1] * PAGE + off;
}

int qwen3_kv_forward(const qwen3_model *m, qwen3_kv *kv, int n, const int *seq, const int *tok,
                     const uint8_t *want, float *logits) {
    const qwen3_config *c = &m->cfg;
    int C = c->dim, F = c->ffn, D = c->head_dim, nH = c->n_heads, nKV = c->n_kv, Q = nH * D, K = nKV * D;
    int group = nH / nKV;
    for (int i = 0; i < n; i++) {
        if (seq[i] < 0 || seq[i] >= kv->nseq || !kv->seqs[seq[i]].alive)
            return err_set("qwen3_kv_forward: no sequence %d", seq[i]);
        if (tok[i] < 0 || tok[i] >= c->vocab)
            return err_set("qwen3_kv_forward: token %d outside the vocabulary [0, %d)", tok[i], c->vocab);
    }
    int *slot = mem_alloc((size_t)n * sizeof(int)), *pos = mem_alloc((size_t)n * sizeof(int));
    size_t fl = (size_t)n * (3 * C + 2 * Q + 2 * K + 2 * F);
    float *buf = mem_alloc(fl * sizeof(float));
    if (!slot || !pos || !buf) {
        free(slot), free(pos), free(buf);
        return err_wrap("qwen3_kv_forward: allocating for %d tokens", n);
    }
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        slot[i] = append_slot(kv, seq[i], &pos[i]);
        if (slot[i] < 0) rc = ERR_FAIL;
    }
    if (rc) goto done;
    float *x = buf, *ln = x + (size_t)n * C, *tmp = ln + (size_t)n * C, *q = tmp + (size_t)n * C;
    float *att = q + (size_t)n * Q, *kn = att + (size_t)n * Q, *vn = kn + (size_t)n * K;
    float *g = vn + (size_t)n * K, *u = g + (size_t)n * F;
    float scale = 1.0f / sqrtf((float)D);
    int maxlen = 0;
    for (int i = 0; i < n; i++) maxlen = pos[i] + 1 > maxlen ? pos[i] + 1 : maxlen;
    // Runs of >= MIN_RUN consecutive tokens of one seq (prompt prefills) take the GEMM attention
    // over the seq's keys gathered from their pages; single decode steps take the per-token loop.
    enum { MIN_RUN = 8 };
    uint8_t *in_run = mem_calloc((size_t)n, 1);
    int *run_start = mem_alloc((size_t)n * sizeof(int)), nrun = 0, maxrun_keys = 0;
    if (!in_run || !run_start) {
        free(in_run), free(run_start);
        rc = ERR_FAIL;
        goto done;
    }
    for (int i = 0; i < n;) {
        int j = i + 1;
        while (j < n && seq[j] == seq[i] && pos[j] == pos[j - 1] + 1) j++;
        if (j - i >= MIN_RUN) {
            run_start[nrun++] = i;
            memset(in_run + i, 1, (size_t)(j - i));
            maxrun_keys = pos[j - 1] + 1 > maxrun_keys ? pos[j - 1] + 1 : maxrun_keys;
        }
        i = j;
    }
    float *kg = nrun ? mem_alloc((size_t)maxrun_keys * K * sizeof(float) * 2) : NULL;
    if (nrun && !kg) {
        free(in_run), free(run_start);
        rc = ERR_FAIL;
        goto done;
    }
    float *vg = kg ? kg + (size_t)maxrun_keys * K : NULL;
    k_embed(x, m->w.embed, tok, n, C);
    for (int l = 0; l < c->n_layers; l++) {
        const qwen3_layer *w = &m->w.layers[l];
        float *kc = kv->k + (size_t)l * kv->npages * PAGE * K, *vc = kv->v + (size_t)l * kv->npages * PAGE * K;
        k_rmsnorm(ln, NULL, x, w->in_norm, n, C, c->eps);
        k_matmul(q, ln, w->wq, n, C, Q, 0);
        k_matmul(kn, ln, w->wk, n, C, K, 0);
        k_matmul(vn, ln, w->wv, n, C, K, 0);
        k_rmsnorm(q, NULL, q, w->q_norm, n * nH, D, c->eps);
        k_rmsnorm(kn, NULL, kn, w->k_norm, n * nKV, D, c->eps);
        k_rope(q, pos, n, nH, D, c->rope_theta, 0);
        k_rope(kn, pos, n, nKV, D, c->rope_theta, 0);
        for (int i = 0; i < n; i++) {
            memcpy(kc + (size_t)slot[i] * K, kn + (size_t)i * K, K * sizeof(float));
            memcpy(vc + (size_t)slot[i] * K, vn + (size_t)i * K, K * sizeof(float));
        }
        for (int ri = 0; ri < nrun; ri++) {
            int i0 = run_start[ri], i1 = i0;
            while (i1 < n && in_run[i1] && seq[i1] == seq[i0] && (i1 == i0 || pos[i1] == pos[i1 - 1] + 1)) i1++;
            const kv_seq *s = &kv->seqs[seq[i0]];
            int nk = pos[i1 - 1] + 1;
            for (int j = 0; j < nk; j += PAGE) {
                int cnt = nk - j < PAGE ? nk - j : PAGE;
                size_t src = (size_t)s->pages[j / PAGE] * PAGE * K;
                memcpy(kg + (size_t)j * K, kc + src, (size_t)cnt * K * sizeof(float));
                memcpy(vg + (size_t)j * K, vc + src, (size_t)cnt * K * sizeof(float));
            }
            k_attention_causal(att + (size_t)i0 * Q, q + (size_t)i0 * Q, kg, vg, i1 - i0, pos[i0], nH, nKV, D);
        }
#pragma omp parallel
        {
            float *sc = malloc((size_t)maxlen * sizeof(float));
#pragma omp for schedule(dynamic, 4)
            for (int ih = 0; ih < n * nH; ih++) {
                if (in_run[ih / nH]) continue;
                int i = ih / nH, h = ih % nH, kvh = h / group, len = pos[i] + 1;
                const kv_seq *s = &kv->seqs[seq[i]];
                const float *qv = q + (size_t)i * Q + h * D;
                float mx = -INFINITY;
                for (int j = 0; j < len; j++) {
                    const float *kj = kc + ((size_t)s->pages[j / PAGE] * PAGE + j % PAGE) * K + kvh * D;
                    float d = 0.0f;
#pragma omp simd reduction(+ : d)
                    for (int e = 0; e < D; e++) d += qv[e] * kj[e];
                    sc[j] = d * scale;
                    mx = sc[j] > mx ? sc[j] : mx;
                }
                float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
                for (int j = 0; j < len; j++) sum += (sc[j] = k_exp(sc[j] - mx));
                float *o = att + (size_t)i * Q + h * D;
                for (int e = 0; e < D; e++) o[e] = 0.0f;
                for (int j = 0; j < len; j++) {
                    const float *vj = vc + ((size_t)s->pages[j / PAGE] * PAGE + j % PAGE) * K + kvh * D;
                    float p = sc[j] / sum;
                    for (int e = 0; e < D; e++) o[e] += p * vj[e];
                }
            }
            free(sc);
        }
        k_matmul(x, att, w->wo, n, Q, C, 1);
        k_rmsnorm(ln, NULL, x, w->post_norm, n, C, c->eps);
        k_matmul(g, ln, w->w_gate, n, C, F, 0);
        k_matmul(u, ln, w->w_up, n, C, F, 0);
        k_swiglu(g, g, u, (size_t)n * F);
        k_matmul(x, g, w->w_down, n, F, C, 1);
    }
    free(in_run), free(run_start), free(kg);
    if (logits) {
        int cnt = 0;
        for (int i = 0; i < n; i++)
            if (!want || want[i]) memcpy(tmp + (size_t)cnt++ * C, x + (size_t)i * C, C * sizeof(float));
        k_rmsnorm(ln, NULL, tmp, m->w.norm, cnt, C, c->eps);
        if (cnt) qwen3_logits(m, logits, ln, cnt);
    }
done:
    free(slot), free(pos), free(buf);
    return rc;
}
