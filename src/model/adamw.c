// AdamW exactly as torch.optim.AdamW (decoupled weight decay, bias-corrected moments, eps added
// after the square root of the corrected second moment), over the one parameter allocation.
#include <math.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "model/qwen3.h"

void adamw_update(float *p, const float *g, float *mm, float *vv, size_t n, const adamw_config *c, int step) {
    float bc1 = 1.0f - powf(c->beta1, (float)step), bc2 = 1.0f - powf(c->beta2, (float)step);
    float step_size = c->lr / bc1, sbc2 = sqrtf(bc2), decay = 1.0f - c->lr * c->weight_decay;
    float b1 = c->beta1, b2 = c->beta2, eps = c->eps;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        p[i] *= decay;
        mm[i] = b1 * mm[i] + (1.0f - b1) * gi;
        vv[i] = b2 * vv[i] + (1.0f - b2) * gi * gi;
        p[i] -= step_size * mm[i] / (sqrtf(vv[i]) / sbc2 + eps);
    }
}

int adamw_step(qwen3_model *m, const adamw_config *c, int step) {
    if (!m->grad_mem) return err_set("adamw_step: the model has no gradients (run a backward first)");
    if (step < 1) return err_set("adamw_step: step must be >= 1 (got %d)", step);
    if (!m->adam_m) {
        m->adam_m = mem_aligned(m->n_params * sizeof(float));
        m->adam_v = mem_aligned(m->n_params * sizeof(float));
        if (!m->adam_m || !m->adam_v) return err_wrap("allocating AdamW state");
    }
    size_t C = (size_t)m->cfg.dim, row0 = (size_t)m->grad_row_start;
    for (int i = 0; i < m->n_tensors; i++) {
        const qwen3_tensor *t = &m->tensors[i];
        int is_rows = !strcmp(t->name, "model.embed_tokens.weight") || !strcmp(t->name, "lm_head.weight");
        if (m->freeze_layers && !is_rows) continue;
        size_t skip = is_rows ? row0 * C : 0;
        if (skip >= t->numel) continue;
        size_t o = t->offset + skip;
        adamw_update(m->param_mem + o, m->grad_mem + o, m->adam_m + o, m->adam_v + o, t->numel - skip, c, step);
    }
    return 0;
}

double qwen3_grad_norm(const qwen3_model *m) {
    if (!m->grad_mem) return 0.0;
    // fixed pieces summed in piece order: the same result for any thread count or timing
    enum { PIECES = 64 };
    double part[PIECES] = {0};
    size_t n = m->n_params;
#pragma omp parallel for schedule(static)
    for (int k = 0; k < PIECES; k++) {
        size_t lo = n * k / PIECES, hi = n * (k + 1) / PIECES;
        double s = 0.0;
        for (size_t i = lo; i < hi; i++) s += (double)m->grad_mem[i] * m->grad_mem[i];
        part[k] = s;
    }
    double s = 0.0;
    for (int k = 0; k < PIECES; k++) s += part[k];
    return sqrt(s);
}

void qwen3_grad_scale(qwen3_model *m, float f) {
    if (!m->grad_mem) return;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < m->n_params; i++) m->grad_mem[i] *= f;
}
