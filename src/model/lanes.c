// Row lanes: a batch of B rows split into P contiguous row ranges, each run through the whole
// model by one thread with single-threaded kernels (the kernels' OpenMP regions nest inactive and
// OpenBLAS runs serially inside a parallel region). Small products then run at the one-core rate
// instead of paying a fork/join and a split per product. In training the lanes form a team for the
// weight gradients (wgrad.h): each gradient row is computed by one thread over every lane's rows,
// in lane order, so no lane needs its own gradient set and the result does not depend on timing.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "model/acts.h"

#define LOGIT_CHUNK_FLOATS ((size_t)64 << 20)   // logits of one chunk: at most 256 MiB per process

void qwen3_acts_free(qwen3_acts *a) {
    if (!a) return;
    for (int k = 0; k < a->nlanes; k++) acts_free_one(a->lane[k]);
    free(a->lane), free(a->lane_row0), free(a->team);
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
    a->team = train ? mem_calloc(1, sizeof *a->team) : NULL;
    if (!a->mem || !a->lane || !a->lane_row0 || (train && !a->team)) {
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
    P = P < WG_MAX_LANES ? P : WG_MAX_LANES;
    if (P > 1) return lanes_init(out, m, B, T, train, P);
    return acts_alloc(out, m, B, T, train, LOGIT_CHUNK_FLOATS);
}

const float *qwen3_acts_hidden(const qwen3_acts *a) { return a->xf; }

size_t qwen3_acts_bytes(const qwen3_acts *a) {
    return a->mem_bytes;
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

// Lane k's rows of b through the chosen stages; its weight gradients go through `team` (NULL: at once).
static int run_lane(const qwen3_model *m, qwen3_acts *a, int k, const qwen3_batch *b, qwen3_params *g, float inv,
                    float *part, float *logp, int stages, wgrad_team *team) {
    int r0 = a->lane_row0[k];
    qwen3_batch s = batch_rows(b, r0, a->lane_row0[k + 1] - r0);
    a->lane[k]->wg.team = team;
    a->lane[k]->wg.lane = k;
    return acts_run(m, a->lane[k], &s, g, inv, part, logp ? logp + (size_t)r0 * b->T : NULL, stages);
}

// The chosen stages (ACTS_*) over all rows, the lanes concurrently; with g their weight gradients
// go through the team (wgrad.h).
static int run(const qwen3_model *m, qwen3_acts *a, const qwen3_batch *b, qwen3_params *g, float *loss,
               float *logp, int stages) {
    if (acts_check_batch(m, a, b)) return ERR_FAIL;
    float inv = count_inverse(b);
    if (!a->nlanes) {
        a->wg.team = NULL;
        return acts_run(m, a, b, g, inv, loss, logp, stages);
    }
    int P = a->nlanes, rc[WG_MAX_LANES] = {0}, team_size = 0;   // qwen3_acts_init caps P
    float part[WG_MAX_LANES] = {0};
    char msg[WG_MAX_LANES][256];   // error messages are thread-local: a lane's is carried out by hand
    wgrad_team *team = g ? a->team : NULL;
    if (team) {
        // every lane walks the same number of logits chunks; buffers exist before the lanes start
        memset(team, 0, sizeof *team);
        team->P = P;
        for (int k = 0; k < P && (stages & ACTS_LOSS); k++) {
            qwen3_batch s = batch_rows(b, a->lane_row0[k], a->lane_row0[k + 1] - a->lane_row0[k]);
            int c = acts_loss_chunks(m, a->lane[k], &s);
            if (c < 0) return ERR_FAIL;
            team->loss_chunks = c > team->loss_chunks ? c : team->loss_chunks;
        }
    }
#pragma omp parallel num_threads(P)
    {
        int k = omp_get_thread_num();
#pragma omp single
        team_size = omp_get_num_threads();
        // a team needs every lane on its own thread (a nested call gets one thread: see below)
        if (team_size == P) {
            rc[k] = run_lane(m, a, k, b, g, inv, &part[k], logp, stages, team);
            if (rc[k]) snprintf(msg[k], sizeof msg[k], "%s", err_msg());
        }
    }
    // the lanes one after another on this thread: gradients go straight into g
    for (int k = 0; team_size != P && k < P; k++)
        if (run_lane(m, a, k, b, g, inv, &part[k], logp, stages, NULL)) return ERR_FAIL;
    for (int k = 0; k < P; k++)
        if (rc[k]) return err_set("%s", msg[k]);
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
