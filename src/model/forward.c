// Qwen3 forward over packed rows, the chunked lm_head loss (fused with its backward when
// training), and the backward through every layer.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "model/acts.h"
#include "model/gemm.h"
#include "model/kernels.h"
#include "model/wgrad.h"

int acts_alloc(qwen3_acts **out, const qwen3_model *m, int B, int T, int train, size_t chunk_floats) {
    const qwen3_config *c = &m->cfg;
    size_t N = (size_t)B * T, C = c->dim, F = c->ffn, Q = (size_t)c->n_heads * c->head_dim,
           K = (size_t)c->n_kv * c->head_dim;
    size_t per_layer = N * (4 * C + 3 * Q + 3 * K + 3 * F + 2 + 2 * c->n_heads + c->n_kv);
    if (train < QWEN3_ACTS_INFER || train > QWEN3_ACTS_RECOMPUTE) return err_set("bad activation mode %d", train);
    size_t nl = train == QWEN3_ACTS_TRAIN ? (size_t)c->n_layers : 1;
    size_t nx = train == QWEN3_ACTS_RECOMPUTE ? (size_t)c->n_layers - 1 : 0;   // inputs of layers 1..L-1
    size_t slot_len = C > (size_t)c->head_dim ? C : (size_t)c->head_dim;
    size_t scratch = train ? N * (3 * C + 3 * Q + 4 * K + 3 * F) + WG_SLOTS * slot_len : 0;
    size_t total = nl * per_layer + nx * N * C + 2 * N * C + N + scratch + 16 * (20 * nl + nx + 20);   // + alignment
    qwen3_acts *a = mem_calloc(1, sizeof *a);
    if (!a) return err_wrap("allocating activations");
    a->la = mem_calloc((size_t)c->n_layers, sizeof *a->la);
    a->pos = mem_alloc(N * sizeof(int));
    a->mem = mem_aligned(total * sizeof(float));
    a->mem_bytes = total * sizeof(float);
    if (!a->la || !a->pos || !a->mem) {
        acts_free_one(a);
        return err_wrap("allocating activations for %d x %d tokens (%.1f GiB)", B, T,
                        total * 4.0 / (1 << 30));
    }
    a->B = B, a->T = T, a->N = (int)N, a->train = train, a->chunk_floats = chunk_floats;
    float *p = a->mem;
#define TAKE(dst, n)                          \
    do {                                      \
        dst = p;                              \
        p += ((n) + 15) & ~(size_t)15;        \
    } while (0)
    for (size_t l = 0; l < nl; l++) {
        layer_acts *y = &a->la[l];
        TAKE(y->x, N * C); TAKE(y->ln1, N * C); TAKE(y->r1, N);
        TAKE(y->qr, N * Q); TAKE(y->q, N * Q); TAKE(y->rq, N * c->n_heads);
        TAKE(y->kr, N * K); TAKE(y->k, N * K); TAKE(y->rk, N * c->n_kv);
        TAKE(y->v, N * K); TAKE(y->att, N * Q); TAKE(y->lse, N * c->n_heads);
        TAKE(y->xm, N * C); TAKE(y->ln2, N * C); TAKE(y->r2, N);
        TAKE(y->g, N * F); TAKE(y->u, N * F); TAKE(y->h, N * F);
    }
    for (size_t l = nl; l < (size_t)c->n_layers; l++) {
        a->la[l] = a->la[0];
        if (nx) TAKE(a->la[l].x, N * C);
    }
    if (!train) a->la[0].xm = a->la[0].x;   // inference: the residual is updated in place
    TAKE(a->xres, N * C); TAKE(a->xf, N * C); TAKE(a->rf, N);
    if (train) {
        TAKE(a->dxf, N * C); TAKE(a->dres, N * C); TAKE(a->dln, N * C);
        TAKE(a->dq, N * Q); TAKE(a->dqr, N * Q); TAKE(a->datt, N * Q);
        TAKE(a->dk, N * K); TAKE(a->dkr, N * K); TAKE(a->dv, N * K);
        TAKE(a->dg, N * F); TAKE(a->du, N * F); TAKE(a->dh, N * F);
        TAKE(a->wg.slots, WG_SLOTS * slot_len);
        a->wg.slot_len = (int)slot_len;
    }
#undef TAKE
    for (int i = 0; i < (int)N; i++) a->pos[i] = i % T;
    *out = a;
    return 0;
}

void acts_free_one(qwen3_acts *a) {
    if (!a) return;
    free(a->la);
    free(a->pos);
    free(a->rows), free(a->cx), free(a->clg), free(a->cdx);
    free(a->mem);
    free(a);
}

void qwen3_logits(const qwen3_model *m, float *out, const float *hidden, int n) {
    k_matmul(out, hidden, m->w.lm_head, n, m->cfg.dim, m->cfg.vocab, 0);
}

int acts_check_batch(const qwen3_model *m, const qwen3_acts *a, const qwen3_batch *b) {
    if (b->B != a->B || b->T != a->T)
        return err_set("batch %dx%d does not match activations sized %dx%d", b->B, b->T, a->B, a->T);
    int N = b->B * b->T, V = m->cfg.vocab;
    for (int i = 0; i < N; i++) {
        if (b->tokens[i] < 0 || b->tokens[i] >= V)
            return err_set("token %d at position %d is outside the vocabulary [0, %d)", b->tokens[i], i, V);
        if (b->targets && b->targets[i] >= V)
            return err_set("target %d at position %d is outside the vocabulary [0, %d)", b->targets[i], i, V);
        if (b->pos && b->pos[i] < 0) return err_set("negative position id at %d", i);
    }
    return 0;
}

// Layer l from its input la[l].x; with `down` the MLP output is added into the next layer's
// input, without it (a recompute for backward) the layer stops at h, the last thing backward reads.
static void layer_forward(const qwen3_model *m, qwen3_acts *a, const qwen3_batch *b, int l, int down) {
    const qwen3_config *c = &m->cfg;
    int N = a->N, C = c->dim, F = c->ffn, D = c->head_dim, nH = c->n_heads, nKV = c->n_kv;
    int Q = nH * D, K = nKV * D;
    const int *pos = b->pos ? b->pos : a->pos;
    const qwen3_layer *w = &m->w.layers[l];
    layer_acts *y = &a->la[l];
    k_rmsnorm(y->ln1, y->r1, y->x, w->in_norm, N, C, c->eps);
    k_matmul(y->qr, y->ln1, w->wq, N, C, Q, 0);
    k_matmul(y->kr, y->ln1, w->wk, N, C, K, 0);
    k_matmul(y->v, y->ln1, w->wv, N, C, K, 0);
    k_rmsnorm(y->q, y->rq, y->qr, w->q_norm, N * nH, D, c->eps);
    k_rmsnorm(y->k, y->rk, y->kr, w->k_norm, N * nKV, D, c->eps);
    k_rope(y->q, pos, N, nH, D, c->rope_theta, 0);
    k_rope(y->k, pos, N, nKV, D, c->rope_theta, 0);
    k_attention(y->att, y->lse, y->q, y->k, y->v, b->seg, a->B, a->T, nH, nKV, D);
    if (y->xm != y->x) memcpy(y->xm, y->x, (size_t)N * C * sizeof(float));
    k_matmul(y->xm, y->att, w->wo, N, Q, C, 1);
    k_rmsnorm(y->ln2, y->r2, y->xm, w->post_norm, N, C, c->eps);
    k_matmul(y->g, y->ln2, w->w_gate, N, C, F, 0);
    k_matmul(y->u, y->ln2, w->w_up, N, C, F, 0);
    k_swiglu(y->h, y->g, y->u, (size_t)N * F);
    if (!down) return;
    float *xnext = l + 1 < c->n_layers ? a->la[l + 1].x : a->xres;
    if (xnext != y->xm) memcpy(xnext, y->xm, (size_t)N * C * sizeof(float));
    k_matmul(xnext, y->h, w->w_down, N, F, C, 1);
}

static void forward_body(const qwen3_model *m, qwen3_acts *a, const qwen3_batch *b) {
    k_embed(a->la[0].x, m->w.embed, b->tokens, a->N, m->cfg.dim);
    for (int l = 0; l < m->cfg.n_layers; l++) layer_forward(m, a, b, l, 1);
    k_rmsnorm(a->xf, a->rf, a->xres, m->w.norm, a->N, m->cfg.dim, m->cfg.eps);
}

int acts_loss_chunks(const qwen3_model *m, qwen3_acts *a, const qwen3_batch *b) {
    int N = a->N, C = m->cfg.dim, V = m->cfg.vocab, nr = 0;
    if (!b->targets) return 0;
    for (int i = 0; i < N; i++) nr += b->targets[i] >= 0;
    if (!a->clg) {
        int R = (int)(a->chunk_floats / (size_t)V);
        R = R < 8 ? 8 : R > 1024 ? 1024 : R;
        R = R > N ? N : R;
        a->chunk_rows = R;
        a->rows = mem_alloc((size_t)N * sizeof(int));
        a->cx = mem_alloc((size_t)R * C * sizeof(float));
        a->cdx = mem_alloc((size_t)R * C * sizeof(float));
        a->clg = mem_alloc((size_t)R * V * sizeof(float));
        if (!a->rows || !a->cx || !a->cdx || !a->clg) {
            free(a->rows), free(a->cx), free(a->cdx), free(a->clg);
            a->rows = NULL, a->cx = a->cdx = a->clg = NULL;
            return err_wrap("allocating the logits chunk (%d x %d)", R, V);
        }
    }
    return (nr + a->chunk_rows - 1) / a->chunk_rows;
}

// Log-softmax of one chunk's logits lg [n, V] in place; with grad they become the loss gradient
// w * (softmax - onehot). Returns the chunk's weighted loss.
static double chunk_softmax(float *lg, const int *rows, int n, int V, const qwen3_batch *b, float count_inv,
                            float *logp, int grad) {
    double rowloss[1024];   // n <= 1024 (the chunk rows); summed in row order, whatever the threads
#pragma omp parallel for schedule(static)
    for (int r = 0; r < n; r++) {
        int i = rows[r], t = b->targets[i];
        float *z = lg + (size_t)r * V;
        float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
        for (int j = 0; j < V; j++) mx = z[j] > mx ? z[j] : mx;
        // exponentials are computed once and kept: the gradient is then one multiply per logit
        float zt = z[t], sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int j = 0; j < V; j++) sum += (z[j] = k_exp(z[j] - mx));
        float lp = zt - mx - logf(sum);
        float w = b->weights ? b->weights[i] : count_inv;
        if (logp) logp[i] = lp;
        rowloss[r] = -(double)w * lp;
        if (grad) {
            float f = w / sum;
#pragma omp simd
            for (int j = 0; j < V; j++) z[j] *= f;
            z[t] -= w;
        }
    }
    double part = 0.0;
    for (int r = 0; r < n; r++) part += rowloss[r];
    return part;
}

// Chunked lm_head + log-softmax over the positions with a target; with g, also the lm_head
// backward (dxf and the lm_head weight gradient) from the same logits chunk. In a team every lane
// walks the team's chunk count (empty chunks included) so that the phases line up.
static int loss_pass(const qwen3_model *m, qwen3_acts *a, const qwen3_batch *b, qwen3_params *g,
                     float count_inv, float *loss, float *logp) {
    int grad = g != NULL;
    int N = a->N, C = m->cfg.dim, V = m->cfg.vocab;
    if (logp) memset(logp, 0, (size_t)N * sizeof(float));
    if (grad) memset(a->dxf, 0, (size_t)N * C * sizeof(float));
    if (loss) *loss = 0.0f;
    int chunks = acts_loss_chunks(m, a, b);
    if (chunks < 0) return ERR_FAIL;
    wgrad_team *team = grad ? a->wg.team : NULL;
    if (team) chunks = team->loss_chunks;
    if (!chunks) return 0;
    int R = a->chunk_rows, nr = 0, *rows = a->rows;
    float *xin = a->cx, *lg = a->clg, *dx = a->cdx;
    for (int i = 0; i < N; i++)
        if (b->targets[i] >= 0) rows[nr++] = i;
    float *gW = grad && m->grad_row_start < V ? g->lm_head + (size_t)m->grad_row_start * C : NULL;
    double total = 0.0;
    for (int s = 0; s < chunks * R; s += R) {
        int n = nr - s < R ? nr - s : R;
        n = n < 0 ? 0 : n;
        for (int r = 0; r < n; r++) memcpy(xin + (size_t)r * C, a->xf + (size_t)rows[s + r] * C, C * sizeof(float));
        if (n) k_matmul(lg, xin, m->w.lm_head, n, C, V, 0);
        total += chunk_softmax(lg, rows + s, n, V, b, count_inv, logp, grad);
        if (!grad) continue;
        if (n) {
            // dx [n, C] = dz [n, V] W [V, C]
            gemm_f32(GEMM_NN, dx, C, lg, V, m->w.lm_head, C, n, C, V, 0);
            for (int r = 0; r < n; r++) {
                float *d = a->dxf + (size_t)rows[s + r] * C;
                for (int j = 0; j < C; j++) d[j] += dx[(size_t)r * C + j];
            }
        }
        // dW[row0:] [V-row0, C] += dz[:, row0:]^T xin   (tied: lands in the embedding gradient)
        wgrad_gemm(&a->wg, gW, lg + m->grad_row_start, V, xin, n, C, V - m->grad_row_start);
        wgrad_phase(&a->wg);
    }
    if (loss) *loss = (float)total;
    return 0;
}

// Slots of wgrad_vec: the norm weights whose partial gradients wait for a phase.
enum { SLOT_IN = 0, SLOT_POST = 1, SLOT_Q = 2, SLOT_K = 3 };

static void backward_body(const qwen3_model *m, qwen3_acts *a, const qwen3_batch *b, qwen3_params *g) {
    const qwen3_config *c = &m->cfg;
    int N = a->N, C = c->dim, F = c->ffn, D = c->head_dim, nH = c->n_heads, nKV = c->n_kv;
    int Q = nH * D, K = nKV * D, fz = m->freeze_layers;
    const int *pos = b->pos ? b->pos : a->pos;
    size_t sQ = (size_t)N * Q * sizeof(float), sK = (size_t)N * K * sizeof(float);
    wgrad_ctx *wg = &a->wg;
    // dres: the gradient of the residual stream, written first here and accumulated by every layer
    k_rmsnorm_bwd(a->dres, wgrad_vec(wg, fz ? NULL : g->norm, C, SLOT_IN), a->dxf, a->xres, m->w.norm, a->rf, N, C, 0);
    for (int l = c->n_layers - 1; l >= 0; l--) {
        const qwen3_layer *w = &m->w.layers[l];
        qwen3_layer *gw = fz ? NULL : &g->layers[l];
        layer_acts *y = &a->la[l];
        // the last layer's activations are still in the shared buffers from the forward pass
        if (a->train == QWEN3_ACTS_RECOMPUTE && l + 1 < c->n_layers) layer_forward(m, a, b, l, 0);
        // mlp: x_next = xm + down(silu(gate(ln2)) * up(ln2)); dres flows to xm unchanged
        k_matmul_bwd(a->dh, a->dres, w->w_down, N, F, C, 0);
        k_swiglu_bwd(a->dg, a->du, a->dh, y->g, y->u, (size_t)N * F);
        k_matmul_bwd(a->dln, a->dg, w->w_gate, N, C, F, 0);
        k_matmul_bwd(a->dln, a->du, w->w_up, N, C, F, 1);
        if (gw) {
            wgrad_gemm(wg, gw->w_down, a->dres, C, y->h, N, F, C);
            wgrad_gemm(wg, gw->w_gate, a->dg, F, y->ln2, N, C, F);
            wgrad_gemm(wg, gw->w_up, a->du, F, y->ln2, N, C, F);
        }
        wgrad_phase(wg);   // before dres changes: the down-projection gradient reads it
        k_rmsnorm_bwd(a->dres, wgrad_vec(wg, gw ? gw->post_norm : NULL, C, SLOT_POST), a->dln, y->xm, w->post_norm,
                      y->r2, N, C, 1);
        // attention: xm = x + o(att); its backward accumulates over tiles and heads into cleared dq/dk/dv
        k_matmul_bwd(a->datt, a->dres, w->wo, N, Q, C, 0);
        memset(a->dq, 0, sQ);
        memset(a->dk, 0, sK);
        memset(a->dv, 0, sK);
        k_attention_bwd(a->dq, a->dk, a->dv, a->datt, y->att, y->lse, y->q, y->k, y->v, b->seg, a->B, a->T, nH,
                        nKV, D);
        k_rope(a->dq, pos, N, nH, D, c->rope_theta, 1);
        k_rope(a->dk, pos, N, nKV, D, c->rope_theta, 1);
        k_rmsnorm_bwd(a->dqr, wgrad_vec(wg, gw ? gw->q_norm : NULL, D, SLOT_Q), a->dq, y->qr, w->q_norm, y->rq, N * nH,
                      D, 0);
        k_rmsnorm_bwd(a->dkr, wgrad_vec(wg, gw ? gw->k_norm : NULL, D, SLOT_K), a->dk, y->kr, w->k_norm, y->rk,
                      N * nKV, D, 0);
        k_matmul_bwd(a->dln, a->dqr, w->wq, N, C, Q, 0);
        k_matmul_bwd(a->dln, a->dkr, w->wk, N, C, K, 1);
        k_matmul_bwd(a->dln, a->dv, w->wv, N, C, K, 1);
        if (gw) {
            wgrad_gemm(wg, gw->wo, a->dres, C, y->att, N, Q, C);
            wgrad_gemm(wg, gw->wq, a->dqr, Q, y->ln1, N, C, Q);
            wgrad_gemm(wg, gw->wk, a->dkr, K, y->ln1, N, C, K);
            wgrad_gemm(wg, gw->wv, a->dv, K, y->ln1, N, C, K);
        }
        wgrad_phase(wg);   // before dres changes again and the next layer reuses the scratch
        k_rmsnorm_bwd(a->dres, wgrad_vec(wg, gw ? gw->in_norm : NULL, C, SLOT_IN), a->dln, y->x, w->in_norm, y->r1,
                      N, C, 1);
    }
    wgrad_embed(wg, g->embed, a->dres, b->tokens, N, C, m->grad_row_start);
    wgrad_phase(wg);
}

int acts_run(const qwen3_model *m, qwen3_acts *a, const qwen3_batch *b, qwen3_params *g, float count_inv,
             float *loss, float *logp, int stages) {
    if (stages & ACTS_BODY) forward_body(m, a, b);
    if ((stages & ACTS_LOSS) && loss_pass(m, a, b, g, count_inv, loss, logp)) return ERR_FAIL;
    if ((stages & ACTS_BACKWARD) && g) backward_body(m, a, b, g);
    return 0;
}

int qwen3_score_packed(const qwen3_model *m, qwen3_acts *a, const int *const *seqs, const int *lens, int n, int T, float *lp) {
    int *tok = mem_calloc((size_t)T * 4, sizeof(int));
    float *row = mem_alloc((size_t)T * sizeof(float));
    if (!tok || !row) {
        free(tok), free(row);
        return ERR_FAIL;
    }
    int *pos = tok + T, *seg = pos + T, *tgt = seg + T;
    int t = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < lens[i] && t < T; j++, t++) {
            tok[t] = seqs[i][j];
            pos[t] = j;
            seg[t] = i;
            tgt[t] = j + 1 < lens[i] ? seqs[i][j + 1] : -1;
        }
    int total = t;
    for (; t < T; t++) seg[t] = n, tgt[t] = -1;   // padding: its own sample, no loss
    qwen3_batch b = {.B = 1, .T = T, .tokens = tok, .pos = pos, .seg = seg, .targets = tgt};
    int rc = qwen3_forward(m, a, &b, NULL, row);
    if (!rc) memcpy(lp, row, (size_t)total * sizeof(float));
    free(tok), free(row);
    return rc;
}
