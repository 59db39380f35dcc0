#include "eval/sasrec.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rng.h"

#define SAS_MAX_LAYERS 8
#define LN_EPS 1e-5f

// Whether the kernels may start OpenMP teams. Training turns this off for small models (see
// sasrec_train), where a team's barriers cost more than the work, badly so on a busy machine.
static int g_parallel = 1;

// Views into one flat array (parameters, gradients and Adam moments share this layout).
typedef struct {
    float *ln1g, *ln1b, *wq, *bq, *wk, *bk, *wv, *bv, *wo, *bo, *ln2g, *ln2b, *w1, *b1, *w2, *b2;
} sas_layer;

typedef struct {
    float *E;   // [V, d] items (also the output projection)
    float *P;   // [maxlen, d] positions
    sas_layer L[SAS_MAX_LAYERS];
    float *lnfg, *lnfb;
} sas_view;

struct sasrec {
    sasrec_config cfg;
    int32_t V;
    int64_t n;              // parameter count
    float *param, *grad, *m1, *m2;
    sas_view p, g;
    int64_t step;
};

// Activations of one forward pass over B windows of T positions (M = B*T rows).
typedef struct {
    int B, T, M;
    float *x[SAS_MAX_LAYERS + 1];   // residual stream entering block l; x[layers] leaves the last
    float *ln1[SAS_MAX_LAYERS], *mu1[SAS_MAX_LAYERS], *rs1[SAS_MAX_LAYERS];
    float *q[SAS_MAX_LAYERS], *k[SAS_MAX_LAYERS], *v[SAS_MAX_LAYERS];
    float *att[SAS_MAX_LAYERS];     // [B, H, T, T] softmax probabilities (0 above the diagonal)
    float *o[SAS_MAX_LAYERS];       // heads' outputs, concatenated [M, d]
    float *xm[SAS_MAX_LAYERS];      // after the attention residual
    float *ln2[SAS_MAX_LAYERS], *mu2[SAS_MAX_LAYERS], *rs2[SAS_MAX_LAYERS];
    float *fpre[SAS_MAX_LAYERS], *f[SAS_MAX_LAYERS];
    float *lnf, *muf, *rsf;
    float *logits;                  // [M, V] (training only)
    float *buf;                     // the single allocation behind all of the above
} sas_acts;

static int64_t layout(const sasrec_config *c, int32_t V, float *base, sas_view *w) {
    int64_t d = c->dim, off = 0;
#define TAKE(ptr, count)                         \
    do {                                         \
        if (w) (ptr) = base + off;               \
        off += (count);                          \
    } while (0)
    sas_view dummy;
    sas_view *t = w ? w : &dummy;
    TAKE(t->E, (int64_t)V * d);
    TAKE(t->P, (int64_t)c->maxlen * d);
    for (int l = 0; l < c->layers; l++) {
        sas_layer *L = &t->L[l];
        TAKE(L->ln1g, d); TAKE(L->ln1b, d);
        TAKE(L->wq, d * d); TAKE(L->bq, d);
        TAKE(L->wk, d * d); TAKE(L->bk, d);
        TAKE(L->wv, d * d); TAKE(L->bv, d);
        TAKE(L->wo, d * d); TAKE(L->bo, d);
        TAKE(L->ln2g, d); TAKE(L->ln2b, d);
        TAKE(L->w1, d * d); TAKE(L->b1, d);
        TAKE(L->w2, d * d); TAKE(L->b2, d);
    }
    TAKE(t->lnfg, d);
    TAKE(t->lnfb, d);
#undef TAKE
    return off;
}

static int check_config(const sasrec_config *c, int32_t V) {
    if (c->dim < 1 || c->layers < 1 || c->layers > SAS_MAX_LAYERS || c->heads < 1 || c->dim % c->heads ||
        c->maxlen < 1 || c->batch < 1 || c->epochs < 0 || !(c->lr > 0) || V < 1)
        return err_set("sasrec: bad config (dim %d, layers %d (1..%d), heads %d dividing dim, maxlen %d, batch %d, "
                       "epochs %d, lr %g, items %d)",
                       c->dim, c->layers, SAS_MAX_LAYERS, c->heads, c->maxlen, c->batch, c->epochs, c->lr, V);
    return 0;
}

void sasrec_free(sasrec *m) {
    if (!m) return;
    free(m->param);
    free(m->grad);
    free(m->m1);
    free(m->m2);
    free(m);
}

static int alloc_model(sasrec **out, const sasrec_config *cfg, int32_t V) {
    *out = NULL;
    if (check_config(cfg, V)) return ERR_FAIL;
    sasrec *m = mem_calloc(1, sizeof *m);
    if (!m) return ERR_FAIL;
    m->cfg = *cfg;
    m->V = V;
    m->n = layout(cfg, V, NULL, NULL);
    m->param = mem_aligned((size_t)m->n * sizeof(float));
    m->grad = mem_aligned((size_t)m->n * sizeof(float));
    m->m1 = mem_aligned((size_t)m->n * sizeof(float));
    m->m2 = mem_aligned((size_t)m->n * sizeof(float));
    if (!m->param || !m->grad || !m->m1 || !m->m2) {
        sasrec_free(m);
        return ERR_FAIL;
    }
    layout(cfg, V, m->param, &m->p);
    layout(cfg, V, m->grad, &m->g);
    *out = m;
    return 0;
}

int sasrec_create(sasrec **out, const sasrec_config *cfg, int32_t nitems, uint64_t seed) {
    if (alloc_model(out, cfg, nitems)) return ERR_FAIL;
    sasrec *m = *out;
    rng r;
    rng_seed(&r, seed);
    int d = cfg->dim;
    float sw = 1.0f / sqrtf((float)d);
    for (int64_t i = 0; i < (int64_t)nitems * d; i++) m->p.E[i] = 0.1f * (float)rng_normal(&r);
    for (int64_t i = 0; i < (int64_t)cfg->maxlen * d; i++) m->p.P[i] = 0.1f * (float)rng_normal(&r);
    for (int l = 0; l < cfg->layers; l++) {
        sas_layer *L = &m->p.L[l];
        float *mats[] = {L->wq, L->wk, L->wv, L->wo, L->w1, L->w2};
        for (int t = 0; t < 6; t++)
            for (int64_t i = 0; i < (int64_t)d * d; i++) mats[t][i] = sw * (float)rng_normal(&r);
        for (int i = 0; i < d; i++) L->ln1g[i] = L->ln2g[i] = 1;   // biases stay 0 (mem_aligned zeroes)
    }
    for (int i = 0; i < d; i++) m->p.lnfg[i] = 1;
    return 0;
}

float *sasrec_params(sasrec *m, int64_t *n) {
    *n = m->n;
    return m->param;
}

float *sasrec_grads(sasrec *m, int64_t *n) {
    *n = m->n;
    return m->grad;
}

// ---- activations ------------------------------------------------------------------------------

static int acts_alloc(sas_acts *a, const sasrec *m, int B, int T, int with_logits) {
    memset(a, 0, sizeof *a);
    int64_t d = m->cfg.dim, M = (int64_t)B * T, H = m->cfg.heads, Ls = m->cfg.layers;
    int64_t per_layer = 9 * M * d + 4 * M + (int64_t)B * H * T * T;
    int64_t total = (Ls + 1) * M * d + Ls * per_layer + M * d + 2 * M + (with_logits ? M * m->V : 0);
    a->buf = mem_alloc((size_t)total * sizeof(float));
    if (!a->buf) return ERR_FAIL;
    a->B = B;
    a->T = T;
    a->M = (int)M;
    float *p = a->buf;
#define CARVE(ptr, count) ((ptr) = p, p += (count))
    for (int l = 0; l <= Ls; l++) CARVE(a->x[l], M * d);
    for (int l = 0; l < Ls; l++) {
        CARVE(a->ln1[l], M * d); CARVE(a->mu1[l], M); CARVE(a->rs1[l], M);
        CARVE(a->q[l], M * d); CARVE(a->k[l], M * d); CARVE(a->v[l], M * d);
        CARVE(a->att[l], B * H * T * T); CARVE(a->o[l], M * d); CARVE(a->xm[l], M * d);
        CARVE(a->ln2[l], M * d); CARVE(a->mu2[l], M); CARVE(a->rs2[l], M);
        CARVE(a->fpre[l], M * d); CARVE(a->f[l], M * d);
    }
    CARVE(a->lnf, M * d); CARVE(a->muf, M); CARVE(a->rsf, M);
    if (with_logits) CARVE(a->logits, M * m->V);
#undef CARVE
    return 0;
}

// ---- kernels ----------------------------------------------------------------------------------

// out [M, d], mean/rstd [M], inp [M, d], g/b [d]
static void layernorm_fwd(float *out, float *mean, float *rstd, const float *inp, const float *g, const float *b,
                          int M, int d) {
#pragma omp parallel for if (g_parallel && (int64_t)M * d >= (1 << 16))
    for (int i = 0; i < M; i++) {
        const float *x = inp + (int64_t)i * d;
        float mu = 0, var = 0;
        for (int j = 0; j < d; j++) mu += x[j];
        mu /= d;
        for (int j = 0; j < d; j++) var += (x[j] - mu) * (x[j] - mu);
        float rs = 1.0f / sqrtf(var / d + LN_EPS);
        float *y = out + (int64_t)i * d;
        for (int j = 0; j < d; j++) y[j] = (x[j] - mu) * rs * g[j] + b[j];
        mean[i] = mu;
        rstd[i] = rs;
    }
}

// dinp [M, d] +=, dg/db [d] +=, dout [M, d], inp [M, d]
static void layernorm_bwd(float *dinp, float *dg, float *db, const float *dout, const float *inp, const float *g,
                          const float *mean, const float *rstd, int M, int d) {
    for (int i = 0; i < M; i++) {   // serial: dg/db accumulate across rows
        const float *dy = dout + (int64_t)i * d, *x = inp + (int64_t)i * d;
        float *dx = dinp + (int64_t)i * d;
        float mu = mean[i], rs = rstd[i], s1 = 0, s2 = 0;
        for (int j = 0; j < d; j++) {
            float xh = (x[j] - mu) * rs, dxh = dy[j] * g[j];
            s1 += dxh;
            s2 += dxh * xh;
            dg[j] += dy[j] * xh;
            db[j] += dy[j];
        }
        s1 /= d;
        s2 /= d;
        for (int j = 0; j < d; j++) {
            float xh = (x[j] - mu) * rs;
            dx[j] += rs * (dy[j] * g[j] - s1 - xh * s2);
        }
    }
}

// out [M, OC] = inp [M, C] w [OC, C]^T + b [OC]
static void linear_fwd(float *out, const float *inp, const float *w, const float *b, int M, int C, int OC) {
    for (int i = 0; i < M; i++) memcpy(out + (int64_t)i * OC, b, (size_t)OC * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, OC, C, 1.0f, inp, C, w, C, 1.0f, out, OC);
}

// dinp [M, C] +=, dw [OC, C] +=, db [OC] +=; dout [M, OC], inp [M, C]
static void linear_bwd(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w, int M,
                       int C, int OC) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, C, OC, 1.0f, dout, OC, w, C, 1.0f, dinp, C);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, M, 1.0f, dout, OC, inp, C, 1.0f, dw, C);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < OC; j++) db[j] += dout[(int64_t)i * OC + j];
}

// Causal multi-head attention. o [M, d], att [B, H, T, T]; q, k, v [M, d] (heads side by side)
static void attention_fwd(float *o, float *att, const float *q, const float *k, const float *v, int B, int T, int d,
                          int H) {
    int dh = d / H;
    float scale = 1.0f / sqrtf((float)dh);
#pragma omp parallel for collapse(2) if (g_parallel && (int64_t)B * H * T * T * dh >= (1 << 16))
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < H; h++) {
            const float *qb = q + (int64_t)b * T * d + h * dh, *kb = k + (int64_t)b * T * d + h * dh;
            const float *vb = v + (int64_t)b * T * d + h * dh;
            float *A = att + ((int64_t)b * H + h) * T * T, *ob = o + (int64_t)b * T * d + h * dh;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, scale, qb, d, kb, d, 0.0f, A, T);
            for (int i = 0; i < T; i++) {
                float *row = A + (int64_t)i * T, mx = -INFINITY, z = 0;
                for (int j = 0; j <= i; j++) mx = row[j] > mx ? row[j] : mx;
                for (int j = 0; j <= i; j++) z += row[j] = expf(row[j] - mx);
                for (int j = 0; j <= i; j++) row[j] /= z;
                for (int j = i + 1; j < T; j++) row[j] = 0;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1.0f, A, T, vb, d, 0.0f, ob, d);
        }
    }
}

// dq, dk, dv [M, d] (overwritten); dO [M, d]; scratch [B, H, T, T]
static void attention_bwd(float *dq, float *dk, float *dv, float *scratch, const float *dO, const float *att,
                          const float *q, const float *k, const float *v, int B, int T, int d, int H) {
    int dh = d / H;
    float scale = 1.0f / sqrtf((float)dh);
#pragma omp parallel for collapse(2) if (g_parallel && (int64_t)B * H * T * T * dh >= (1 << 16))
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < H; h++) {
            int64_t off = (int64_t)b * T * d + h * dh;
            const float *A = att + ((int64_t)b * H + h) * T * T;
            float *dA = scratch + ((int64_t)b * H + h) * T * T;
            // dA = dO v^T ; dv = A^T dO
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, 1.0f, dO + off, d, v + off, d, 0.0f, dA, T);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1.0f, A, T, dO + off, d, 0.0f, dv + off, d);
            // softmax backward: dS = A (dA - sum_j A dA), masked entries have A = 0
            for (int i = 0; i < T; i++) {
                float *r = dA + (int64_t)i * T, s = 0;
                const float *a = A + (int64_t)i * T;
                for (int j = 0; j <= i; j++) s += a[j] * r[j];
                for (int j = 0; j <= i; j++) r[j] = a[j] * (r[j] - s) * scale;
                for (int j = i + 1; j < T; j++) r[j] = 0;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1.0f, dA, T, k + off, d, 0.0f, dq + off, d);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1.0f, dA, T, q + off, d, 0.0f, dk + off, d);
        }
    }
}

// ---- forward / backward -----------------------------------------------------------------------

// ids [B, T] (-1 = padding, which only ever follows real items, so causal attention never reads it)
static void forward(const sasrec *m, sas_acts *a, const int32_t *ids) {
    int d = m->cfg.dim, B = a->B, T = a->T, M = a->M, H = m->cfg.heads;
    const sas_view *p = &m->p;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int64_t r = (int64_t)b * T + t;
            int32_t id = ids[r];
            float *x = a->x[0] + r * d;
            if (id < 0) memset(x, 0, (size_t)d * sizeof *x);
            else
                for (int j = 0; j < d; j++) x[j] = p->E[(int64_t)id * d + j] + p->P[(int64_t)t * d + j];
        }
    for (int l = 0; l < m->cfg.layers; l++) {
        const sas_layer *L = &p->L[l];
        layernorm_fwd(a->ln1[l], a->mu1[l], a->rs1[l], a->x[l], L->ln1g, L->ln1b, M, d);
        linear_fwd(a->q[l], a->ln1[l], L->wq, L->bq, M, d, d);
        linear_fwd(a->k[l], a->ln1[l], L->wk, L->bk, M, d, d);
        linear_fwd(a->v[l], a->ln1[l], L->wv, L->bv, M, d, d);
        attention_fwd(a->o[l], a->att[l], a->q[l], a->k[l], a->v[l], B, T, d, H);
        linear_fwd(a->xm[l], a->o[l], L->wo, L->bo, M, d, d);
        for (int64_t i = 0; i < (int64_t)M * d; i++) a->xm[l][i] += a->x[l][i];
        layernorm_fwd(a->ln2[l], a->mu2[l], a->rs2[l], a->xm[l], L->ln2g, L->ln2b, M, d);
        linear_fwd(a->fpre[l], a->ln2[l], L->w1, L->b1, M, d, d);
        for (int64_t i = 0; i < (int64_t)M * d; i++) a->f[l][i] = a->fpre[l][i] > 0 ? a->fpre[l][i] : 0;
        linear_fwd(a->x[l + 1], a->f[l], L->w2, L->b2, M, d, d);
        for (int64_t i = 0; i < (int64_t)M * d; i++) a->x[l + 1][i] += a->xm[l][i];
    }
    layernorm_fwd(a->lnf, a->muf, a->rsf, a->x[m->cfg.layers], p->lnfg, p->lnfb, M, d);
}

// Full-softmax cross-entropy of logits against targets (ids shifted by one); turns a->logits into
// dlogits (already divided by the number of scored positions). Returns the mean loss.
static double softmax_xent(sas_acts *a, int32_t V, const int32_t *targets, int *ncount) {
    int M = a->M, cnt = 0;
    for (int i = 0; i < M; i++) cnt += targets[i] >= 0;
    *ncount = cnt;
    double loss = 0;
    float inv = cnt ? 1.0f / (float)cnt : 0;
#pragma omp parallel for reduction(+ : loss) if (g_parallel && (int64_t)M * V >= (1 << 16))
    for (int i = 0; i < M; i++) {
        float *z = a->logits + (int64_t)i * V;
        if (targets[i] < 0) {
            memset(z, 0, (size_t)V * sizeof *z);
            continue;
        }
        float mx = -INFINITY, zt = z[targets[i]];
        for (int j = 0; j < V; j++) mx = z[j] > mx ? z[j] : mx;
        double s = 0;
        for (int j = 0; j < V; j++) s += z[j] = expf(z[j] - mx);
        loss += log(s) - (double)(zt - mx);
        float is = (float)(1.0 / s);
        for (int j = 0; j < V; j++) z[j] *= is * inv;
        z[targets[i]] -= inv;
    }
    return cnt ? loss / cnt : 0;
}

int sasrec_batch_loss(sasrec *m, const int32_t *ids, int B, int T, int grads, double *loss) {
    if (T > m->cfg.maxlen) return err_set("sasrec: window %d longer than maxlen %d", T, m->cfg.maxlen);
    sas_acts a;
    if (acts_alloc(&a, m, B, T, 1)) return ERR_FAIL;
    int d = m->cfg.dim, M = B * T, V = m->V, H = m->cfg.heads;
    int32_t *in = mem_alloc((size_t)M * sizeof *in), *tg = mem_alloc((size_t)M * sizeof *tg);
    float *dx = mem_aligned((size_t)M * d * sizeof(float) * 7 + (size_t)B * H * T * T * sizeof(float));
    if (!in || !tg || !dx) {
        free(in);
        free(tg);
        free(dx);
        free(a.buf);
        return ERR_FAIL;
    }
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            in[b * T + t] = ids[b * (T + 1) + t];
            tg[b * T + t] = in[b * T + t] >= 0 ? ids[b * (T + 1) + t + 1] : -1;
        }
    forward(m, &a, in);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, V, d, 1.0f, a.lnf, d, m->p.E, d, 0.0f, a.logits, V);
    int cnt;
    *loss = softmax_xent(&a, V, tg, &cnt);
    if (grads) {
        sas_view *g = &m->g;
        const sas_view *p = &m->p;
        memset(m->grad, 0, (size_t)m->n * sizeof(float));
        float *dh = dx + (int64_t)M * d, *dq = dh + (int64_t)M * d, *dk = dq + (int64_t)M * d;
        float *dv = dk + (int64_t)M * d, *dO = dv + (int64_t)M * d, *df = dO + (int64_t)M * d;
        float *datt = df + (int64_t)M * d;
        // logits = lnf E^T: dlnf = dlogits E, dE += dlogits^T lnf
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, d, V, 1.0f, a.logits, V, p->E, d, 0.0f, dh, d);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, d, M, 1.0f, a.logits, V, a.lnf, d, 1.0f, g->E, d);
        memset(dx, 0, (size_t)M * d * sizeof(float));
        layernorm_bwd(dx, g->lnfg, g->lnfb, dh, a.x[m->cfg.layers], p->lnfg, a.muf, a.rsf, M, d);
        // dx now holds d(loss)/d(x[l+1]); walk the blocks backwards
        for (int l = m->cfg.layers - 1; l >= 0; l--) {
            const sas_layer *L = &p->L[l];
            sas_layer *G = &g->L[l];
            // x[l+1] = xm + f W2 + b2, f = relu(fpre), fpre = ln2 W1 + b1
            memset(df, 0, (size_t)M * d * sizeof(float));
            linear_bwd(df, G->w2, G->b2, dx, a.f[l], L->w2, M, d, d);
            for (int64_t i = 0; i < (int64_t)M * d; i++) df[i] = a.fpre[l][i] > 0 ? df[i] : 0;
            memset(dh, 0, (size_t)M * d * sizeof(float));
            linear_bwd(dh, G->w1, G->b1, df, a.ln2[l], L->w1, M, d, d);
            layernorm_bwd(dx, G->ln2g, G->ln2b, dh, a.xm[l], L->ln2g, a.mu2[l], a.rs2[l], M, d);   // dx: d/d xm
            // xm = x + o Wo + bo
            memset(dO, 0, (size_t)M * d * sizeof(float));
            linear_bwd(dO, G->wo, G->bo, dx, a.o[l], L->wo, M, d, d);
            attention_bwd(dq, dk, dv, datt, dO, a.att[l], a.q[l], a.k[l], a.v[l], B, T, d, H);
            memset(dh, 0, (size_t)M * d * sizeof(float));
            linear_bwd(dh, G->wq, G->bq, dq, a.ln1[l], L->wq, M, d, d);
            linear_bwd(dh, G->wk, G->bk, dk, a.ln1[l], L->wk, M, d, d);
            linear_bwd(dh, G->wv, G->bv, dv, a.ln1[l], L->wv, M, d, d);
            layernorm_bwd(dx, G->ln1g, G->ln1b, dh, a.x[l], L->ln1g, a.mu1[l], a.rs1[l], M, d);   // dx: d/d x[l]
        }
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                int32_t id = in[b * T + t];
                if (id < 0) continue;
                const float *r = dx + ((int64_t)b * T + t) * d;
                for (int j = 0; j < d; j++) {
                    g->E[(int64_t)id * d + j] += r[j];
                    g->P[(int64_t)t * d + j] += r[j];
                }
            }
    }
    free(in);
    free(tg);
    free(dx);
    free(a.buf);
    return 0;
}

// AdamW (beta 0.9 / 0.98 as in SASRec) with decoupled decay on matrices only.
static void adam_step(sasrec *m, float lr) {
    const float b1 = 0.9f, b2 = 0.98f, eps = 1e-8f;
    m->step++;
    float c1 = 1.0f - powf(b1, (float)m->step), c2 = 1.0f - powf(b2, (float)m->step);
    float wd = m->cfg.weight_decay;
#pragma omp parallel for if (g_parallel && m->n >= (1 << 16))
    for (int64_t i = 0; i < m->n; i++) {
        float g = m->grad[i];
        m->m1[i] = b1 * m->m1[i] + (1 - b1) * g;
        m->m2[i] = b2 * m->m2[i] + (1 - b2) * g * g;
        m->param[i] -= lr * ((m->m1[i] / c1) / (sqrtf(m->m2[i] / c2) + eps) + wd * m->param[i]);
    }
}

// ---- training ---------------------------------------------------------------------------------

int sasrec_train(sasrec **out, const sasrec_config *cfg, const seq_set *train, int32_t nitems, uint64_t seed) {
    if (sasrec_create(out, cfg, nitems, seed)) return ERR_FAIL;
    sasrec *m = *out;
    int T = cfg->maxlen, B = cfg->batch;
    // Training windows: each sequence is cut, from its end backwards, into chunks of T+1 items
    // overlapping by one, so every position is predicted exactly once per epoch.
    int64_t nwin = 0;
    for (int64_t s = 0; s < train->nseq; s++) {
        int64_t n = seq_len(train, s);
        if (n >= 2) nwin += (n - 1 + T - 1) / T;
    }
    if (nwin == 0) {
        sasrec_free(m);
        *out = NULL;
        return err_set("sasrec: no training sequence has 2 or more items");
    }
    int64_t *win = mem_alloc((size_t)nwin * 2 * sizeof *win);   // (start offset in items, length)
    uint32_t *order = mem_alloc((size_t)nwin * sizeof *order);
    int32_t *ids = mem_alloc((size_t)B * (T + 1) * sizeof *ids);
    if (!win || !order || !ids) {
        free(win);
        free(order);
        free(ids);
        sasrec_free(m);
        *out = NULL;
        return ERR_FAIL;
    }
    int64_t w = 0;
    for (int64_t s = 0; s < train->nseq; s++) {
        int64_t n = seq_len(train, s), base = train->offsets[s];
        for (int64_t end = n; end >= 2; end -= T) {
            int64_t start = end - (T + 1) > 0 ? end - (T + 1) : 0;
            win[2 * w] = base + start;
            win[2 * w + 1] = end - start;
            w++;
        }
    }
    // Small models: the products are too small to split, and threads that spin-wait cost far more
    // than they bring (badly so on a busy machine), so training runs on one thread.
    int blas_threads = openblas_get_num_threads();
    double step_flops = 6.0 * B * T * (double)nitems * cfg->dim;
    int was_parallel = g_parallel;
    if (step_flops < 2e9) {
        openblas_set_num_threads(1);
        g_parallel = 0;
    }
    rng r;
    rng_seed(&r, seed ^ 0x5a5a5a5aULL);
    int64_t steps_per_epoch = (nwin + B - 1) / B, total = steps_per_epoch * cfg->epochs, done = 0;
    progress pg;
    progress_begin(&pg, "sasrec", total, "steps");
    int rc = 0;
    double t0 = time_now();
    for (int e = 0; e < cfg->epochs && !rc; e++) {
        for (int64_t i = 0; i < nwin; i++) order[i] = (uint32_t)i;
        rng_shuffle_u32(&r, order, (size_t)nwin);
        double sum = 0;
        for (int64_t s0 = 0; s0 < nwin && !rc; s0 += B) {
            int bsz = (int)(nwin - s0 < B ? nwin - s0 : B);
            int tmax = 1;
            for (int b = 0; b < bsz; b++) {
                int64_t len = win[2 * order[s0 + b] + 1];
                if (len - 1 > tmax) tmax = (int)(len - 1);
            }
            for (int b = 0; b < bsz; b++) {
                int64_t st = win[2 * order[s0 + b]], len = win[2 * order[s0 + b] + 1];
                for (int t = 0; t <= tmax; t++) ids[b * (tmax + 1) + t] = t < len ? train->items[st + t] : -1;
            }
            double loss;
            rc = sasrec_batch_loss(m, ids, bsz, tmax, 1, &loss);
            if (rc) break;
            adam_step(m, cfg->lr);
            sum += loss;
            progress_add(&pg, 1);
            done++;
            if (!isfinite(loss)) rc = err_set("sasrec: loss is %g at epoch %d", loss, e);
        }
        progress_note(&pg, "epoch %d loss %.4f", e + 1, sum / (double)steps_per_epoch);
        log_debug("sasrec epoch %d: mean loss %.4f", e + 1, sum / (double)steps_per_epoch);
    }
    progress_end(&pg);
    openblas_set_num_threads(blas_threads);
    g_parallel = was_parallel;
    if (!rc) log_info("sasrec: %lld steps over %lld windows in %.1f s", (long long)done, (long long)nwin, time_now() - t0);
    free(win);
    free(order);
    free(ids);
    if (rc) {
        sasrec_free(m);
        *out = NULL;
    }
    return rc;
}

int sasrec_score(const sasrec *m, const int32_t *hist, int n, float *scores) {
    int d = m->cfg.dim;
    if (n <= 0) {   // no history: nothing to attend to; -inf lets the caller fall back to popularity
        for (int32_t i = 0; i < m->V; i++) scores[i] = -INFINITY;
        return 0;
    }
    int T = n < m->cfg.maxlen ? n : m->cfg.maxlen;
    const int32_t *h = hist + (n - T);
    int32_t *ids = mem_alloc((size_t)T * sizeof *ids);
    sas_acts a;
    if (!ids || acts_alloc(&a, m, 1, T, 0)) {
        free(ids);
        return ERR_FAIL;
    }
    // items never seen in training (ids beyond the table) are read as padding-free zero vectors
    for (int t = 0; t < T; t++) ids[t] = h[t] >= 0 && h[t] < m->V ? h[t] : -1;
    forward(m, &a, ids);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, m->V, d, 1.0f, m->p.E, d, a.lnf + (int64_t)(T - 1) * d, 1, 0.0f, scores, 1);
    free(ids);
    free(a.buf);
    return 0;
}

int sasrec_write(const sasrec *m, FILE *f) {
    int64_t n = m->n;
    if (fwrite(&n, sizeof n, 1, f) != 1 || fwrite(m->param, sizeof(float), (size_t)n, f) != (size_t)n)
        return err_set("sasrec: write failed");
    return 0;
}

int sasrec_read(sasrec **out, const sasrec_config *cfg, int32_t nitems, FILE *f) {
    if (alloc_model(out, cfg, nitems)) return ERR_FAIL;
    int64_t n = 0;
    if (fread(&n, sizeof n, 1, f) != 1 || n != (*out)->n ||
        fread((*out)->param, sizeof(float), (size_t)n, f) != (size_t)n) {
        sasrec_free(*out);
        *out = NULL;
        return err_set("sasrec: parameter block missing or of the wrong size (%lld)", (long long)n);
    }
    return 0;
}
