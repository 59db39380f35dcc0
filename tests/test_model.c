// Qwen3 model against a hand-written PyTorch reference (tests/ref/qwen3_ref.py, float64): logits,
// loss, every parameter gradient and ten AdamW steps on random tiny configs (GQA 1/2/4, tied and
// untied, head_dim != hidden/heads, packed rows); KV-cache decoding with forks against the full
// forward; frozen layers.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/rng.h"
#include "model/qwen3.h"
#include "test.h"

static int t_threads;   // the thread count the tests started with

static qwen3_config tiny(int dim, int heads, int kv, int hd, int ffn, int vocab, int layers, int tied) {
    qwen3_config c = {.dim = dim, .ffn = ffn, .n_layers = layers, .n_heads = heads, .n_kv = kv, .head_dim = hd,
                      .vocab = vocab, .tied = tied, .max_pos = 512, .rope_theta = 10000.0f, .eps = 1e-6f};
    return c;
}

// Weights with some spread (std 0.2, norms around 1) so every gradient is far from zero.
static void init_spread(qwen3_model *m, uint64_t seed) {
    qwen3_init_random(m, seed, 0.2f);
    rng r;
    rng_seed(&r, seed + 7);
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].ndim == 1)
            for (size_t j = 0; j < m->tensors[i].numel; j++)
                m->param_mem[m->tensors[i].offset + j] = 1.0f + 0.3f * (float)rng_normal(&r);
}

// Packed rows: samples of random lengths, positions restart, targets = next token within the
// sample (the last token of a sample and a few random positions get no loss).
static void make_batch(int B, int T, int V, uint64_t seed, int *tok, int *pos, int *seg, int *tgt) {
    rng r;
    rng_seed(&r, seed);
    for (int b = 0; b < B; b++) {
        int t = 0, s = 0;
        while (t < T) {
            int len = b == 0 ? 1 + (int)rng_below(&r, T / 2) : T;   // row 0 packs several samples
            if (len > T - t) len = T - t;
            for (int i = 0; i < len; i++) {
                int at = b * T + t + i;
                tok[at] = (int)rng_below(&r, V);
                pos[at] = i;
                seg[at] = s;
            }
            t += len;
            s++;
        }
    }
    for (int i = 0; i < B * T; i++) {
        int last = (i % T == T - 1) || seg[i + 1] != seg[i];
        tgt[i] = last || rng_below(&r, 8) == 0 ? -1 : tok[i + 1];
    }
}

static double max_rel(const float *a, const float *ref, size_t n) {
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        md = d > md ? d : md;
        mr = fabs(ref[i]) > mr ? fabs(ref[i]) : mr;
    }
    return md / (mr > 0 ? mr : 1);
}

static float *read_floats(const char *dir, const char *name, size_t n) {
    char *p = path_join(dir, name), *data;
    size_t len;
    float *out = NULL;
    if (!file_read_all(p, &data, &len) && len == n * sizeof(float)) out = (float *)data;
    free(p);
    return out;
}

static void ref_case(const char *label, qwen3_config cfg, int B, int T, int mode) {
    qwen3_model m;
    CHECK_OK(qwen3_model_init(&m, &cfg));
    init_spread(&m, 42);
    int N = B * T;
    int *bt = malloc(4 * (size_t)N * sizeof(int));
    int *tok = bt, *pos = bt + N, *seg = bt + 2 * N, *tgt = bt + 3 * N;
    make_batch(B, T, cfg.vocab, 5, tok, pos, seg, tgt);
    char dir[] = "/tmp/onerec_model_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    // case.json
    adamw_config ad = {.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f};
    int steps = 10;
    char *p = path_join(dir, "case.json");
    FILE *f = fopen(p, "w");
    fprintf(f, "{\"config\": {\"dim\": %d, \"n_layers\": %d, \"n_heads\": %d, \"n_kv\": %d, \"head_dim\": %d, "
               "\"eps\": %g, \"rope_theta\": %g, \"tied\": %s}, \"B\": %d, \"T\": %d, \"steps\": %d, "
               "\"adamw\": {\"lr\": %.9g, \"beta1\": %.9g, \"beta2\": %.9g, \"eps\": %.9g, \"weight_decay\": %.9g},"
               " \"tensors\": [",
            cfg.dim, cfg.n_layers, cfg.n_heads, cfg.n_kv, cfg.head_dim, cfg.eps, cfg.rope_theta,
            cfg.tied ? "true" : "false", B, T, steps, ad.lr, ad.beta1, ad.beta2, ad.eps, ad.weight_decay);
    for (int i = 0; i < m.n_tensors; i++) {
        const qwen3_tensor *t = &m.tensors[i];
        fprintf(f, "%s{\"name\": \"%s\", \"offset\": %zu, \"shape\": [%lld", i ? ", " : "", t->name, t->offset,
                (long long)t->shape[0]);
        if (t->ndim == 2) fprintf(f, ", %lld", (long long)t->shape[1]);
        fprintf(f, "]}");
    }
    fprintf(f, "]}\n");
    fclose(f);
    free(p);
    p = path_join(dir, "params.bin");
    CHECK_OK(file_write_atomic(p, m.param_mem, m.n_params * sizeof(float)));
    free(p);
    p = path_join(dir, "batch.bin");
    CHECK_OK(file_write_atomic(p, bt, 4 * (size_t)N * sizeof(int)));
    free(p);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/ref/qwen3_ref.py check %s", dir);
    CHECK(system(cmd) == 0);

    // ours: logits, loss and gradients
    qwen3_acts *a;
    CHECK_OK(qwen3_acts_init(&a, &m, B, T, mode));
    qwen3_batch b = {.B = B, .T = T, .tokens = tok, .pos = pos, .seg = seg, .targets = tgt};
    float loss;
    CHECK_OK(qwen3_alloc_grads(&m));
    qwen3_zero_grads(&m);
    CHECK_OK(qwen3_forward_backward(&m, a, &b, &loss, NULL));
    float *lg = malloc((size_t)N * cfg.vocab * sizeof(float));
    qwen3_logits(&m, lg, qwen3_acts_hidden(a), N);
    float *ref_lg = read_floats(dir, "logits.bin", (size_t)N * cfg.vocab);
    float *ref_g = read_floats(dir, "grads.bin", m.n_params);
    size_t nl = 0;
    double *ref_loss = (double *)read_floats(dir, "losses.bin", 2 * (size_t)(steps + 1));
    (void)nl;
    CHECK(ref_lg && ref_g && ref_loss);
    if (ref_lg && ref_g && ref_loss) {
        double e_lg = max_rel(lg, ref_lg, (size_t)N * cfg.vocab), e_g = 0;
        const char *worst = "";
        for (int i = 0; i < m.n_tensors; i++) {
            const qwen3_tensor *t = &m.tensors[i];
            double e = max_rel(m.grad_mem + t->offset, ref_g + t->offset, t->numel);
            if (e > e_g) e_g = e, worst = t->name;
        }
        double e_loss = fabs(loss - ref_loss[0]) / fabs(ref_loss[0]);
        printf("%s: max rel err logits %.2e, loss %.2e, grads %.2e (%s)\n", label, e_lg, e_loss, e_g, worst);
        CHECK(e_lg < 1e-4);
        CHECK(e_loss < 1e-5);
        CHECK(e_g < 1e-3);
        // ten AdamW steps, each followed by a forward on the same batch
        double e_steps = 0;
        for (int s = 1; s <= steps; s++) {
            CHECK_OK(adamw_step(&m, &ad, s));
            qwen3_zero_grads(&m);
            CHECK_OK(qwen3_forward_backward(&m, a, &b, &loss, NULL));
            double e = fabs(loss - ref_loss[s]) / fabs(ref_loss[s]);
            e_steps = e > e_steps ? e : e_steps;
        }
        printf("%s: adamw %d steps: loss %.6f -> %.6f (ref %.6f), max rel err %.2e\n", label, steps,
               ref_loss[0], loss, ref_loss[steps], e_steps);
        CHECK(e_steps < 1e-4);
        CHECK(ref_loss[steps] < ref_loss[0]);
    }
    free(ref_lg), free(ref_g), free(ref_loss), free(lg), free(bt);
    qwen3_acts_free(a);
    qwen3_model_free(&m);
    file_remove_tree(dir);
}

static void test_ref_gqa1_tied(void) {
    ref_case("gqa1 tied hd16", tiny(48, 4, 4, 16, 80, 97, 2, 1), 2, 32, QWEN3_ACTS_TRAIN);
}
static void test_ref_gqa2_untied(void) {
    ref_case("gqa2 untied", tiny(32, 4, 2, 8, 64, 61, 2, 0), 3, 30, QWEN3_ACTS_TRAIN);
}
// three layers with gradient checkpointing: the recomputed activations give the reference's gradients
static void test_ref_gqa4_tied(void) {
    ref_case("gqa4 tied hd12 recompute", tiny(40, 8, 2, 12, 72, 83, 3, 1), 2, 70, QWEN3_ACTS_RECOMPUTE);
}

// Gradient checkpointing computes exactly what the kept activations give (the same operations in
// the same order), for the full model and for stage 1's frozen layers, in less memory.
static void grads_in_mode(qwen3_model *m, int mode, const qwen3_batch *b, float *loss, float *g, size_t *bytes) {
    qwen3_acts *a;
    CHECK_OK(qwen3_acts_init(&a, m, b->B, b->T, mode));
    CHECK_OK(qwen3_alloc_grads(m));
    qwen3_zero_grads(m);
    CHECK_OK(qwen3_forward_backward(m, a, b, loss, NULL));
    memcpy(g, m->grad_mem, m->n_params * sizeof(float));
    *bytes = qwen3_acts_bytes(a);
    qwen3_acts_free(a);
}

static void test_recompute(void) {
    qwen3_config cfg = tiny(32, 4, 2, 8, 64, 61, 6, 1);
    qwen3_model m;
    CHECK_OK(qwen3_model_init(&m, &cfg));
    init_spread(&m, 5);
    enum { B = 2, T = 40 };
    int tok[B * T], pos[B * T], seg[B * T], tgt[B * T];
    make_batch(B, T, cfg.vocab, 3, tok, pos, seg, tgt);
    qwen3_batch b = {.B = B, .T = T, .tokens = tok, .pos = pos, .seg = seg, .targets = tgt};
    float *g1 = malloc(m.n_params * sizeof(float)), *g2 = malloc(m.n_params * sizeof(float));
    for (int frozen = 0; frozen <= 1; frozen++) {
        m.freeze_layers = frozen;
        m.grad_row_start = frozen ? 40 : 0;
        float l1, l2;
        size_t keep, rec;
        grads_in_mode(&m, QWEN3_ACTS_TRAIN, &b, &l1, g1, &keep);
        grads_in_mode(&m, QWEN3_ACTS_RECOMPUTE, &b, &l2, g2, &rec);
        CHECK(l1 == l2);
        CHECK(memcmp(g1, g2, m.n_params * sizeof(float)) == 0);
        double norm = 0;
        for (size_t i = 0; i < m.n_params; i++) norm += fabs(g1[i]);
        CHECK(norm > 0);
        printf("recompute (frozen %d): gradients bitwise equal; activations %zu -> %zu bytes\n", frozen, keep, rec);
        CHECK(rec * 2 < keep);
    }
    qwen3_acts *bad = NULL;
    CHECK_FAILS_WITH(qwen3_acts_init(&bad, &m, B, T, 3), "activation mode");
    free(g1), free(g2);
    qwen3_model_free(&m);
}

// Row lanes (several threads, B >= 2): the rows split over threads give the gradients, loss and
// per-token log-probs of one thread over all rows, up to float summation order.
static void test_lanes(void) {
    qwen3_config cfg = tiny(32, 4, 2, 8, 64, 61, 2, 0);
    qwen3_model m;
    CHECK_OK(qwen3_model_init(&m, &cfg));
    init_spread(&m, 9);
    enum { B = 3, T = 24 };
    int tok[B * T], pos[B * T], seg[B * T], tgt[B * T];
    make_batch(B, T, cfg.vocab, 4, tok, pos, seg, tgt);
    qwen3_batch b = {.B = B, .T = T, .tokens = tok, .pos = pos, .seg = seg, .targets = tgt};
    float *g[3], loss[3], lp[2][B * T];
    size_t bytes;
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t ? 3 : 1);
        g[t] = malloc(m.n_params * sizeof(float));
        grads_in_mode(&m, QWEN3_ACTS_TRAIN, &b, &loss[t], g[t], &bytes);
        qwen3_acts *a;
        CHECK_OK(qwen3_acts_init(&a, &m, B, T, QWEN3_ACTS_INFER));
        CHECK_OK(qwen3_forward(&m, a, &b, NULL, lp[t]));
        qwen3_acts_free(a);
    }
    // 3 lanes called from inside a parallel region: they cannot meet as a team and run one after
    // another on the calling thread
    qwen3_acts *a3;
    CHECK_OK(qwen3_acts_init(&a3, &m, B, T, QWEN3_ACTS_TRAIN));
    g[2] = malloc(m.n_params * sizeof(float));
    qwen3_zero_grads(&m);
#pragma omp parallel num_threads(2)
#pragma omp single
    CHECK_OK(qwen3_forward_backward(&m, a3, &b, &loss[2], NULL));
    memcpy(g[2], m.grad_mem, m.n_params * sizeof(float));
    qwen3_acts_free(a3);
    omp_set_num_threads(t_threads);
    double e = max_rel(g[1], g[0], m.n_params), es = max_rel(g[2], g[0], m.n_params), el = 0;
    for (int i = 0; i < B * T; i++) el = fmax(el, fabs(lp[1][i] - lp[0][i]));
    printf("lanes: 3 lanes vs 1 thread: loss %.7f vs %.7f, gradients max rel %.2e (lanes in turn %.2e), "
           "logp max abs %.2e\n", loss[1], loss[0], e, es, el);
    CHECK(fabs(loss[1] - loss[0]) < 1e-5 * fabs(loss[0]));
    CHECK(fabs(loss[2] - loss[0]) < 1e-5 * fabs(loss[0]));
    CHECK(e < 1e-4 && es < 1e-4);
    CHECK(el < 1e-5);
    free(g[0]), free(g[1]), free(g[2]);
    qwen3_model_free(&m);
}

// A PPO-like weight from the current log-probs: w = 0.1 * exp(logp) on positions with a target.
static void ratio_weights(void *ctx, const float *logp, float *w) {
    const int *tgt = ctx;
    for (int i = 0; i < 2 * 24; i++) w[i] = tgt[i] >= 0 ? 0.1f * expf(logp[i]) : 0.0f;
}

// qwen3_forward_backward_fn (one forward of the layers) equals a forward for the log-probs followed
// by forward_backward with the weights computed from them, bitwise, with and without lanes.
static void test_weight_fn(void) {
    qwen3_config cfg = tiny(32, 4, 2, 8, 64, 61, 3, 1);
    qwen3_model m;
    CHECK_OK(qwen3_model_init(&m, &cfg));
    init_spread(&m, 12);
    enum { B = 2, T = 24 };
    int tok[B * T], pos[B * T], seg[B * T], tgt[B * T];
    make_batch(B, T, cfg.vocab, 6, tok, pos, seg, tgt);
    qwen3_batch b = {.B = B, .T = T, .tokens = tok, .pos = pos, .seg = seg, .targets = tgt};
    float *g1 = malloc(m.n_params * sizeof(float)), lp1[B * T], lp2[B * T], w[B * T], l1, l2;
    for (int lanes = 0; lanes <= 1; lanes++) {
        qwen3_set_max_lanes(lanes ? 64 : 1);
        qwen3_acts *a;
        CHECK_OK(qwen3_acts_init(&a, &m, B, T, QWEN3_ACTS_RECOMPUTE));
        CHECK_OK(qwen3_alloc_grads(&m));
        qwen3_zero_grads(&m);
        CHECK_OK(qwen3_forward(&m, a, &b, NULL, lp1));
        ratio_weights(tgt, lp1, w);
        qwen3_batch wb = b;
        wb.weights = w;
        CHECK_OK(qwen3_forward_backward(&m, a, &wb, &l1, NULL));
        memcpy(g1, m.grad_mem, m.n_params * sizeof(float));
        qwen3_zero_grads(&m);
        CHECK_OK(qwen3_forward_backward_fn(&m, a, &b, ratio_weights, tgt, &l2, lp2));
        CHECK(l1 == l2 && l1 != 0);
        CHECK(memcmp(lp1, lp2, sizeof lp1) == 0);
        CHECK(memcmp(g1, m.grad_mem, m.n_params * sizeof(float)) == 0);
        qwen3_acts_free(a);
    }
    qwen3_set_max_lanes(64);
    free(g1);
    qwen3_model_free(&m);
}

// Full forward logits of one sequence.
static void full_logits(const qwen3_model *m, const int *tok, int n, float *out) {
    qwen3_acts *a;
    CHECK_OK(qwen3_acts_init(&a, m, 1, n, 0));
    qwen3_batch b = {.B = 1, .T = n, .tokens = tok};
    CHECK_OK(qwen3_forward(m, a, &b, NULL, NULL));
    qwen3_logits(m, out, qwen3_acts_hidden(a), n);
    qwen3_acts_free(a);
}

static void test_kv_decode_fork(void) {
    qwen3_config cfg = tiny(48, 4, 2, 16, 80, 97, 2, 0);
    qwen3_model m;
    CHECK_OK(qwen3_model_init(&m, &cfg));
    init_spread(&m, 3);
    int V = cfg.vocab, P = 21, S = 14, maxn = P + S;
    qwen3_kv *kv;
    CHECK_OK(qwen3_kv_init(&kv, &m, 8 * maxn));
    int seqs[3][64];
    rng r;
    rng_seed(&r, 9);
    for (int i = 0; i < P; i++) seqs[0][i] = (int)rng_below(&r, V);
    int s0 = qwen3_kv_new_seq(kv), sid[3];
    int pseq[64];
    for (int i = 0; i < P; i++) pseq[i] = s0;
    float *lg = malloc((size_t)64 * V * sizeof(float)), *ref = malloc((size_t)64 * V * sizeof(float));
    CHECK_OK(qwen3_kv_forward(&m, kv, P, pseq, seqs[0], NULL, lg));
    full_logits(&m, seqs[0], P, ref);
    double e = 0;
    double ep = max_rel(lg, ref, (size_t)P * V);
    // two forks of the prompt plus the original continue with different tokens
    sid[0] = s0;
    sid[1] = qwen3_kv_fork(kv, s0);
    sid[2] = qwen3_kv_fork(kv, s0);
    CHECK(sid[1] >= 0 && sid[2] >= 0 && sid[1] != sid[2]);
    for (int k = 1; k < 3; k++) memcpy(seqs[k], seqs[0], P * sizeof(int));
    for (int t = 0; t < S; t++) {
        int tk[3];
        for (int k = 0; k < 3; k++) seqs[k][P + t] = tk[k] = (int)rng_below(&r, V);
        CHECK_OK(qwen3_kv_forward(&m, kv, 3, sid, tk, NULL, lg));
        for (int k = 0; k < 3; k++) {
            full_logits(&m, seqs[k], P + t + 1, ref);
            double ek = max_rel(lg + (size_t)k * V, ref + (size_t)(P + t) * V, V);
            e = ek > e ? ek : e;
        }
        if (t == 6) {   // a beam dies and is replaced by a fork of another mid-page
            qwen3_kv_free_seq(kv, sid[2]);
            sid[2] = qwen3_kv_fork(kv, sid[1]);
            memcpy(seqs[2], seqs[1], (P + t + 1) * sizeof(int));
        }
    }
    CHECK(qwen3_kv_len(kv, sid[1]) == P + S);
    // a second prefill run on a forked sequence (GEMM path, keys gathered across shared pages),
    // mixed in one call with a short run (per-token path) on another sequence
    int n1 = 10, n2 = 3, cs[13], ct[13];
    for (int i = 0; i < n1 + n2; i++) {
        int k = i < n1 ? 1 : 2;
        cs[i] = sid[k];
        ct[i] = seqs[k][P + S + (i < n1 ? i : i - n1)] = (int)rng_below(&r, V);
    }
    CHECK_OK(qwen3_kv_forward(&m, kv, n1 + n2, cs, ct, NULL, lg));
    full_logits(&m, seqs[1], P + S + n1, ref);
    double er = max_rel(lg, ref + (size_t)(P + S) * V, (size_t)n1 * V);
    full_logits(&m, seqs[2], P + S + n2, ref);
    double es = max_rel(lg + (size_t)n1 * V, ref + (size_t)(P + S) * V, (size_t)n2 * V);
    printf("kv decode: prefill max rel err %.2e, decode with forks %.2e, second prefill %.2e / %.2e\n", ep, e, er,
           es);
    CHECK(er < 1e-5 && es < 1e-5);
    CHECK(ep < 1e-5);
    CHECK(e < 1e-5);
    free(lg), free(ref);
    qwen3_kv_free(kv);
    qwen3_model_free(&m);
}

// Frozen layers: the embedding gradient is unchanged, layer weights get none, rows below
// grad_row_start get none, and AdamW leaves them in place.
static void test_frozen(void) {
    qwen3_config cfg = tiny(32, 4, 2, 8, 64, 61, 2, 1);
    qwen3_model m;
    CHECK_OK(qwen3_model_init(&m, &cfg));
    init_spread(&m, 11);
    int B = 2, T = 16, N = B * T;
    int tok[32], pos[32], seg[32], tgt[32];
    make_batch(B, T, cfg.vocab, 8, tok, pos, seg, tgt);
    qwen3_acts *a;
    CHECK_OK(qwen3_acts_init(&a, &m, B, T, 1));
    qwen3_batch b = {.B = B, .T = T, .tokens = tok, .pos = pos, .seg = seg, .targets = tgt};
    float l1, l2;
    CHECK_OK(qwen3_forward_backward(&m, a, &b, &l1, NULL));
    size_t ne = (size_t)cfg.vocab * cfg.dim;
    float *ge = malloc(ne * sizeof(float));
    memcpy(ge, m.g.embed, ne * sizeof(float));
    qwen3_zero_grads(&m);
    m.freeze_layers = 1;
    m.grad_row_start = 40;
    CHECK_OK(qwen3_forward_backward(&m, a, &b, &l2, NULL));
    CHECK(l1 == l2);
    double d = 0, z = 0;
    for (size_t i = 0; i < ne; i++) {
        if (i < 40 * (size_t)cfg.dim) z += fabs(m.g.embed[i]);
        else d = fmax(d, fabs(m.g.embed[i] - ge[i]));
    }
    CHECK(z == 0);
    CHECK(d < 1e-6);
    double lay = 0;
    for (size_t i = m.tensors[1].offset; i < m.tensors[m.n_tensors - 1].offset; i++) lay += fabs(m.grad_mem[i]);
    CHECK(lay == 0);
    float *before = malloc(m.n_params * sizeof(float));
    memcpy(before, m.param_mem, m.n_params * sizeof(float));
    adamw_config ad = {.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f};
    CHECK_OK(adamw_step(&m, &ad, 1));
    size_t changed_lo = 0, changed_hi = 0;
    for (size_t i = 0; i < m.n_params; i++)
        if (m.param_mem[i] != before[i]) *(i < 40 * (size_t)cfg.dim ? &changed_lo : &changed_hi) += 1;
    CHECK(changed_lo == 0);
    CHECK(changed_hi > 0 && changed_hi <= ne - 40 * (size_t)cfg.dim);
    free(before), free(ge);
    qwen3_acts_free(a);
    qwen3_model_free(&m);
    (void)N;
}

// Per-token weights: the default is the token mean; doubled weights double loss and gradients;
// logp agrees with the loss.
static void test_weights(void) {
    qwen3_config cfg = tiny(32, 4, 4, 8, 48, 53, 1, 0);
    qwen3_model m;
    CHECK_OK(qwen3_model_init(&m, &cfg));
    init_spread(&m, 21);
    int B = 1, T = 24, tok[24], pos[24], seg[24], tgt[24];
    make_batch(B, T, cfg.vocab, 4, tok, pos, seg, tgt);
    qwen3_acts *a;
    CHECK_OK(qwen3_acts_init(&a, &m, B, T, 1));
    float w[24], lp[24], l1, l2;
    int nv = 0;
    for (int i = 0; i < T; i++) nv += tgt[i] >= 0;
    for (int i = 0; i < T; i++) w[i] = tgt[i] >= 0 ? 2.0f / nv : 0.0f;
    qwen3_batch b = {.B = B, .T = T, .tokens = tok, .pos = pos, .seg = seg, .targets = tgt};
    CHECK_OK(qwen3_forward_backward(&m, a, &b, &l1, lp));
    double s = 0;
    for (int i = 0; i < T; i++) s += tgt[i] >= 0 ? -lp[i] / nv : 0;
    CHECK_NEAR(s, l1, 1e-5);
    float *g1 = malloc(m.n_params * sizeof(float));
    memcpy(g1, m.grad_mem, m.n_params * sizeof(float));
    qwen3_zero_grads(&m);
    b.weights = w;
    CHECK_OK(qwen3_forward_backward(&m, a, &b, &l2, NULL));
    CHECK_NEAR(l2, 2 * l1, 1e-5);
    double e = 0, mx = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        e = fmax(e, fabs(m.grad_mem[i] - 2 * g1[i]));
        mx = fmax(mx, fabs(g1[i]));
    }
    CHECK(e <= 1e-5 * mx);
    // forward without backward gives the same loss
    float l3;
    CHECK_OK(qwen3_forward(&m, a, &b, &l3, NULL));
    CHECK_NEAR(l3, l2, 1e-6);
    free(g1);
    qwen3_acts_free(a);
    qwen3_model_free(&m);
}

int main(void) {
    t_threads = omp_get_max_threads();
    RUN(test_ref_gqa1_tied);
    RUN(test_ref_gqa2_untied);
    RUN(test_ref_gqa4_tied);
    RUN(test_kv_decode_fork);
    RUN(test_frozen);
    RUN(test_recompute);
    RUN(test_lanes);
    RUN(test_weight_fn);
    RUN(test_weights);
    return test_summary("test_model");
}
