// Row lanes: a batch of B rows split into P contiguous row ranges, each run through the whole
// model by one thread with single-threaded kernels (the kernels' OpenMP regions nest inactive and
// OpenBLAS runs serially inside a parallel region). Small products then run at the one-core rate
// instead of paying a fork/join and a split per product. Training lanes 1.. write gradients into
// private sets that are added, in lane order, into the model's gradients: the result does not
// depend on thread timing.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "model/acts.h"

#define LOGIT_CHUNK_FLOATS ((size_t)64 << 20)   // logits of one chunk: at most 256 MiB per process
#define LANE_GRAD_BYTES ((size_t)1 << 30)       // the most the lanes' extra gradient sets may take

void qwen3_acts_free(qwen3_acts *a) {
    if (!a) return;
    for (int k = 0; k < a->nlanes; k++) acts_free_one(a->lane[k]);
    if (a->lane_g)
        for (int k = 1; k < a->nlanes; k++) free(a->lane_g[k].layers);
    free(a->lane), free(a->lane_row0), free(a->lane_grad), free(a->lane_g);
    acts_free_one(a);
}

// The parent of lanes: only the final hidden state [N, C] (the lanes write their rows into it).
static int lanes_init(qwen3_acts **out, const qwen3_model *m, int B, int T, int train, int P) {
    qwen3_acts *a = mem_calloc(1, sizeof *a);
    if (!a) return err_wrap("allocating activations");
    size_t N = (size_t)B * T, C = (size_t)m->cfg.dim;
    a->B = B, a->T = T, a->N = (int)N, a->train = train, a->nlanes = P;
    a->mem = mem_aligned(N * C * sizeof(float));
    a->lane = mem_calloc((size_t)P, sizeof *a->lane);
    a->lane_row0 = mem_alloc((size_t)(P + 1) * sizeof(int));
    if (!a->mem || !a->lane || !a->lane_row0) {
        qwen3_acts_free(a);
        return err_wrap("allocating activations for %d x %d tokens", B, T);
    }
    a->mem_bytes = N * C * sizeof(float);
    a->xf = a->mem;
    for (int k = 0; k <= P; k++) a->lane_row0[k] = (int)((long)B * k / P);
    for (int k = 0; k < P; k++) {
        int r0 = a->lane_row0[k], rows = a->lane_row0[k + 1] - r0;
        if (acts_alloc(&a->lane[k], m, rows, T, train, LOGIT_CHUNK_FLOATS / (size_t)P)) {
            qwen3_acts_free(a);
            return ERR_FAIL;
        }
        a->lane[k]->xf = a->xf + (size_t)r0 * T * C;   // its own xf buffer stays unused
        a->mem_bytes += a->lane[k]->mem_bytes;
    }
    *out = a;
    return 0;
}

static int g_max_lanes = 1 << 30;

void qwen3_set_max_lanes(int n) { g_max_lanes = n < 1 ? 1 : n; }

int qwen3_acts_init(qwen3_acts **out, const qwen3_model *m, int B, int T, int train) {
    if (train < QWEN3_ACTS_INFER || train > QWEN3_ACTS_RECOMPUTE) return err_set("bad activation mode %d", train);
    int P = omp_in_parallel() ? 1 : omp_get_max_threads();
    P = P < B ? P : B;
    P = P < g_max_lanes ? P : g_max_lanes;
    // training lanes 1.. each keep a gradient set: only while those stay within LANE_GRAD_BYTES
    // (large models have products big enough to split across threads anyway)
    if (train && P > 1 && (size_t)(P - 1) * m->n_params * sizeof(float) > LANE_GRAD_BYTES) P = 1;
    if (P > 1) return lanes_init(out, m, B, T, train, P);
    return acts_alloc(out, m, B, T, train, LOGIT_CHUNK_FLOATS);
}

const float *qwen3_acts_hidden(const qwen3_acts *a) { return a->xf; }

size_t qwen3_acts_bytes(const qwen3_acts *a) {
    return a->mem_bytes;
}

// Gradient sets of lanes 1..P-1, allocated zeroed on the first backward and kept zero between steps.
static int lanes_grads(const qwen3_model *m, qwen3_acts *a) {
    if (a->lane_g) return 0;
    int P = a->nlanes, L = m->cfg.n_layers;
    a->lane_grad = mem_aligned((size_t)(P - 1) * m->n_params * sizeof(float));
    a->lane_g = mem_calloc((size_t)P, sizeof *a->lane_g);
    if (!a->lane_grad || !a->lane_g) return err_wrap("allocating %d lane gradient sets", P - 1);
    memset(a->lane_grad, 0, (size_t)(P - 1) * m->n_params * sizeof(float));
    a->lane_g[0] = m->g;
    for (int k = 1; k < P; k++) {
        a->lane_g[k].layers = mem_calloc((size_t)L, sizeof(qwen3_layer));
        if (!a->lane_g[k].layers) return err_wrap("allocating lane gradients");
        qwen3_params_bind(m, &a->lane_g[k], a->lane_grad + (size_t)(k - 1) * m->n_params);
    }
    a->mem_bytes += (size_t)(P - 1) * m->n_params * sizeof(float);
    return 0;
}

// grad += lane 1 + lane 2 + ... (in that order), and the lane sets back to zero.
static void lanes_reduce(const qwen3_model *m, qwen3_acts *a) {
    size_t n = m->n_params;
    int P = a->nlanes;
    float *g = m->grad_mem, *lg = a->lane_grad;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) {
        float s = g[i];
        for (int k = 0; k < P - 1; k++) {
            s += lg[(size_t)k * n + i];
            lg[(size_t)k * n + i] = 0.0f;
        }
        g[i] = s;
    }
}

static float count_inverse(const qwen3_batch *b) {
    if (!b->targets) return 0.0f;
    int n = 0;
    for (int i = 0; i < b->B * b->T; i++) n += b->targets[i] >= 0;
    return n ? 1.0f / (float)n : 0.0f;
}

// Rows [r0, r0 + rows) of b.
static qwen3_batch batch_rows(const qwen3_batch *b, int r0, int rows) {
    size_t o = (size_t)r0 * b->T;
    qwen3_batch s = {.B = rows, .T = b->T, .tokens = b->tokens + o};
    s.pos = b->pos ? b->pos + o : NULL;
    s.seg = b->seg ? b->seg + o : NULL;
    s.targets = b->targets ? b->targets + o : NULL;
    s.weights = b->weights ? b->weights + o : NULL;
    return s;
}

// The chosen stages (ACTS_*) over all rows; lanes 1.. accumulate into their own gradient sets.
static int run(const qwen3_model *m, qwen3_acts *a, const qwen3_batch *b, qwen3_params *g, float *loss,
               float *logp, int stages) {
    if (acts_check_batch(m, a, b)) return ERR_FAIL;
    float inv = count_inverse(b);
    if (!a->nlanes) return acts_run(m, a, b, g, inv, loss, logp, stages);
    enum { MAXL = 64 };
    int P = a->nlanes, rc[MAXL] = {0};
    float part[MAXL] = {0};
    char msg[MAXL][256];   // error messages are thread-local: a lane's is carried out by hand
    if (P > MAXL) return err_set("at most %d lanes (threads)", MAXL);
    if (g && lanes_grads(m, a)) return ERR_FAIL;
#pragma omp parallel for num_threads(P) schedule(static, 1)
    for (int k = 0; k < P; k++) {
        int r0 = a->lane_row0[k];
        qwen3_batch s = batch_rows(b, r0, a->lane_row0[k + 1] - r0);
        rc[k] = acts_run(m, a->lane[k], &s, g ? &a->lane_g[k] : NULL, inv, &part[k],
                         logp ? logp + (size_t)r0 * b->T : NULL, stages);
        if (rc[k]) snprintf(msg[k], sizeof msg[k], "%s", err_msg());
    }
    for (int k = 0; k < P; k++)
        if (rc[k]) return err_set("%s", msg[k]);
    if (g && (stages & ACTS_BACKWARD)) lanes_reduce(m, a);
    double total = 0.0;
    for (int k = 0; k < P; k++) total += part[k];
    if (loss) *loss = (float)total;
    return 0;
}

int qwen3_forward(const qwen3_model *m, qwen3_acts *a, const qwen3_batch *b, float *loss, float *logp) {
    return run(m, a, b, NULL, loss, logp, ACTS_BODY | ACTS_LOSS);
}

int qwen3_forward_backward(qwen3_model *m, qwen3_acts *a, const qwen3_batch *b, float *loss, float *logp) {
    if (!a->train) return err_set("qwen3_forward_backward needs activations allocated for training");
    if (qwen3_alloc_grads(m)) return ERR_FAIL;
    return run(m, a, b, &m->g, loss, logp, ACTS_ALL);
}

int qwen3_forward_backward_fn(qwen3_model *m, qwen3_acts *a, const qwen3_batch *b, qwen3_weight_fn fill, void *ctx,
                              float *loss, float *logp) {
    if (!a->train) return err_set("qwen3_forward_backward_fn needs activations allocated for training");
    if (!b->targets) return err_set("qwen3_forward_backward_fn needs targets");
    if (qwen3_alloc_grads(m)) return ERR_FAIL;
    size_t N = (size_t)b->B * b->T;
    float *lp = logp ? logp : mem_alloc(N * sizeof(float)), *w = mem_alloc(N * sizeof(float));
    int rc = !lp || !w ? err_wrap("allocating per-token weights") : 0;
    // the body's forward and the log-probs, then the weights, then the weighted loss (its lm_head
    // logits recomputed chunk by chunk) and the backward from the kept activations
    if (!rc) rc = run(m, a, b, NULL, NULL, lp, ACTS_BODY | ACTS_LOSS);
    if (!rc) {
        fill(ctx, lp, w);
        qwen3_batch wb = *b;
        wb.weights = w;
        rc = run(m, a, &wb, &m->g, loss, lp, ACTS_LOSS | ACTS_BACKWARD);
    }
    if (lp != logp) free(lp);
    free(w);
    return rc;
}
