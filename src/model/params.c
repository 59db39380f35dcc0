// Qwen3 configuration and the parameter layout: one allocation for all weights, a tensor table
// in HF naming order, and the same layout reused for gradients and AdamW state.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/rng.h"
#include "model/qwen3.h"

int qwen3_config_from_hf(qwen3_config *c, const hf_config *h, const char *where) {
    memset(c, 0, sizeof *c);
    c->dim = h->hidden_size;
    c->ffn = h->intermediate_size;
    c->n_layers = h->num_hidden_layers;
    c->n_heads = h->num_attention_heads;
    c->n_kv = h->num_key_value_heads;
    c->head_dim = h->head_dim > 0 ? h->head_dim
                                  : (h->num_attention_heads > 0 ? h->hidden_size / h->num_attention_heads : 0);
    c->vocab = h->vocab_size;
    c->tied = h->tie_word_embeddings;
    c->max_pos = h->max_position_embeddings;
    c->rope_theta = (float)h->rope_theta;
    c->eps = (float)h->rms_norm_eps;
    if (c->dim <= 0 || c->ffn <= 0 || c->n_layers <= 0 || c->n_heads <= 0 || c->n_kv <= 0 ||
        c->head_dim <= 0 || c->vocab <= 0)
        return err_set("%s: hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, "
                       "num_key_value_heads, head_dim and vocab_size must be positive", where);
    if (c->n_heads % c->n_kv)
        return err_set("%s: num_attention_heads %d is not a multiple of num_key_value_heads %d", where,
                       c->n_heads, c->n_kv);
    if (c->head_dim % 2 || c->head_dim > 2048)
        return err_set("%s: head_dim %d must be even (rope rotates halves) and at most 2048", where, c->head_dim);
    if (!(c->rope_theta > 0) || !(c->eps > 0))
        return err_set("%s: rope_theta and rms_norm_eps must be positive", where);
    return 0;
}

void qwen3_config_to_hf(hf_config *h, const qwen3_config *c) {
    memset(h, 0, sizeof *h);
    h->hidden_size = c->dim;
    h->intermediate_size = c->ffn;
    h->num_hidden_layers = c->n_layers;
    h->num_attention_heads = c->n_heads;
    h->num_key_value_heads = c->n_kv;
    h->head_dim = c->head_dim;
    h->vocab_size = c->vocab;
    h->max_position_embeddings = c->max_pos > 0 ? c->max_pos : 40960;
    h->tie_word_embeddings = c->tied;
    // through the shortest decimal, so 1e-6f is written as 1e-06 and not 9.99999997e-07
    char buf[32];
    snprintf(buf, sizeof buf, "%.7g", c->rope_theta);
    h->rope_theta = strtod(buf, NULL);
    snprintf(buf, sizeof buf, "%.7g", c->eps);
    h->rms_norm_eps = strtod(buf, NULL);
    h->bos_token_id = -1;
    h->eos_token_id = -1;
}

// Adds a tensor to the table (when tab != NULL) and returns its offset; *off advances.
static size_t add(qwen3_tensor *tab, int *n, size_t *off, const char *name, int64_t r, int64_t c) {
    size_t at = *off, numel = (size_t)r * (size_t)(c > 0 ? c : 1);
    if (tab) {
        qwen3_tensor *t = &tab[*n];
        snprintf(t->name, sizeof t->name, "%s", name);
        t->ndim = c > 0 ? 2 : 1;
        t->shape[0] = r;
        t->shape[1] = c > 0 ? c : 0;
        t->offset = at;
        t->numel = numel;
    }
    (*n)++;
    // keep every tensor 16-float aligned so vector loops start on cache lines
    *off += (numel + 15) & ~(size_t)15;
    return at;
}

// Builds the table; returns the total size in floats. `tab` may be NULL to count.
static size_t layout(const qwen3_config *c, qwen3_tensor *tab, int *n) {
    size_t off = 0;
    int64_t C = c->dim, F = c->ffn, D = c->head_dim, Q = (int64_t)c->n_heads * D, K = (int64_t)c->n_kv * D;
    char nm[80];
    *n = 0;
    add(tab, n, &off, "model.embed_tokens.weight", c->vocab, C);
    for (int l = 0; l < c->n_layers; l++) {
#define T(suffix, r, cc)                                              \
    snprintf(nm, sizeof nm, "model.layers.%d.%s", l, suffix);         \
    add(tab, n, &off, nm, r, cc)
        T("input_layernorm.weight", C, 0);
        T("self_attn.q_proj.weight", Q, C);
        T("self_attn.k_proj.weight", K, C);
        T("self_attn.v_proj.weight", K, C);
        T("self_attn.q_norm.weight", D, 0);
        T("self_attn.k_norm.weight", D, 0);
        T("self_attn.o_proj.weight", C, Q);
        T("post_attention_layernorm.weight", C, 0);
        T("mlp.gate_proj.weight", F, C);
        T("mlp.up_proj.weight", F, C);
        T("mlp.down_proj.weight", C, F);
#undef T
    }
    add(tab, n, &off, "model.norm.weight", C, 0);
    if (!c->tied) add(tab, n, &off, "lm_head.weight", c->vocab, C);
    return off;
}

// Points a params struct at a base allocation following the table order.
void qwen3_params_bind(const qwen3_model *m, qwen3_params *p, float *base) {
    const qwen3_tensor *t = m->tensors;
    int i = 0;
    p->embed = base + t[i++].offset;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        qwen3_layer *y = &p->layers[l];
        y->in_norm = base + t[i++].offset;
        y->wq = base + t[i++].offset;
        y->wk = base + t[i++].offset;
        y->wv = base + t[i++].offset;
        y->q_norm = base + t[i++].offset;
        y->k_norm = base + t[i++].offset;
        y->wo = base + t[i++].offset;
        y->post_norm = base + t[i++].offset;
        y->w_gate = base + t[i++].offset;
        y->w_up = base + t[i++].offset;
        y->w_down = base + t[i++].offset;
    }
    p->norm = base + t[i++].offset;
    p->lm_head = m->cfg.tied ? p->embed : base + t[i++].offset;
}

int qwen3_model_init(qwen3_model *m, const qwen3_config *c) {
    memset(m, 0, sizeof *m);
    m->cfg = *c;
    int n;
    size_t total = layout(c, NULL, &n);
    m->tensors = mem_calloc((size_t)n, sizeof *m->tensors);
    m->w.layers = mem_calloc((size_t)c->n_layers, sizeof *m->w.layers);
    m->g.layers = mem_calloc((size_t)c->n_layers, sizeof *m->g.layers);
    if (!m->tensors || !m->w.layers || !m->g.layers) goto fail;
    m->n_params = layout(c, m->tensors, &m->n_tensors);
    (void)total;
    m->param_mem = mem_aligned(m->n_params * sizeof(float));
    if (!m->param_mem) goto fail;
    qwen3_params_bind(m, &m->w, m->param_mem);
    return 0;
fail:
    qwen3_model_free(m);
    return err_wrap("allocating a Qwen3 model of %.1fM floats", (double)total / 1e6);
}

void qwen3_model_free(qwen3_model *m) {
    free(m->param_mem);
    free(m->grad_mem);
    free(m->adam_m);
    free(m->adam_v);
    free(m->tensors);
    free(m->w.layers);
    free(m->g.layers);
    memset(m, 0, sizeof *m);
}

int qwen3_alloc_grads(qwen3_model *m) {
    if (m->grad_mem) return 0;
    m->grad_mem = mem_aligned(m->n_params * sizeof(float));
    if (!m->grad_mem) return err_wrap("allocating gradients");
    qwen3_params_bind(m, &m->g, m->grad_mem);
    return 0;
}

void qwen3_zero_grads(qwen3_model *m) {
    if (!m->grad_mem) return;
    // in 1 MiB pieces over the threads: one core's stores do not saturate the memory bus
    size_t n = m->n_params, piece = (size_t)1 << 18;
    long np = (long)((n + piece - 1) / piece);
#pragma omp parallel for schedule(static)
    for (long k = 0; k < np; k++) {
        size_t o = (size_t)k * piece;
        memset(m->grad_mem + o, 0, (n - o < piece ? n - o : piece) * sizeof(float));
    }
}

void qwen3_init_random(qwen3_model *m, uint64_t seed, float std) {
    for (int i = 0; i < m->n_tensors; i++) {
        const qwen3_tensor *t = &m->tensors[i];
        float *p = m->param_mem + t->offset;
        if (t->ndim == 1) {
            for (size_t j = 0; j < t->numel; j++) p[j] = 1.0f;
            continue;
        }
        // one stream per (tensor, block of 2^20 values): the values depend on neither the other
        // tensors nor the thread count, and large models initialise on all cores
        size_t nblk = (t->numel + (1u << 20) - 1) >> 20;
#pragma omp parallel for schedule(dynamic, 1)
        for (size_t bk = 0; bk < nblk; bk++) {
            rng r;
            rng_seed_stream(&r, seed, ((uint64_t)i << 24) + bk);
            size_t e = (bk + 1) << 20 < t->numel ? (bk + 1) << 20 : t->numel;
            for (size_t j = bk << 20; j < e; j++) p[j] = (float)(rng_normal(&r) * std);
        }
    }
}

double qwen3_flops_per_token(const qwen3_config *c, int ctx) {
    double C = c->dim, F = c->ffn, D = c->head_dim, Q = (double)c->n_heads * D, K = (double)c->n_kv * D;
    double per_layer = 2.0 * (C * Q + 2 * C * K + Q * C + 3 * C * F);
    double attn = 2.0 * 2.0 * Q * ctx;   // QK^T and PV over an average context of ctx keys
    return c->n_layers * (per_layer + attn) + 2.0 * C * c->vocab;
}
