// Speed of the C Qwen3 for bench/train_step.sh and bench/prefill.sh: tokens/s of a full training
// step (forward, backward, AdamW) or of a forward pass with the loss, on random weights, plus the
// measured sgemm rate for MFU. --recompute: with gradient checkpointing;
// --no-lanes: every product split across the threads instead of one row lane per thread;
// --blas: every product on OpenBLAS instead of our own kernel (src/model/gemm.c). Tokens are a fixed formula shared with tests/ref/qwen3_ref.py bench.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "model/gemm.h"
#include "model/qwen3.h"

static double sgemm_gflops(void) {
    int n = 1536;
    float *a = mem_aligned((size_t)n * n * 4), *b = mem_aligned((size_t)n * n * 4), *c = mem_aligned((size_t)n * n * 4);
    for (size_t i = 0; i < (size_t)n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double t0 = time_now();
    int reps = 4;
    for (int r = 0; r < reps; r++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double g = 2.0 * n * n * n * reps / (time_now() - t0) / 1e9;
    free(a), free(b), free(c);
    return g;
}

int main(int argc, char **argv) {
    int hidden = 512, layers = 4, heads = 8, kv = 4, head_dim = 64, ffn = 1536, vocab = 151936, batch = 4,
        seq = 256, steps = 3, untied = 0, fwd = 0, recompute = 0;
    struct { const char *name; int *dst; } flags[] = {
        {"--hidden", &hidden}, {"--layers", &layers}, {"--heads", &heads}, {"--kv", &kv},
        {"--head-dim", &head_dim}, {"--ffn", &ffn}, {"--vocab", &vocab}, {"--batch", &batch},
        {"--seq", &seq}, {"--steps", &steps}};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--untied")) { untied = 1; continue; }
        if (!strcmp(argv[i], "--forward-only")) { fwd = 1; continue; }
        if (!strcmp(argv[i], "--recompute")) { recompute = 1; continue; }
        if (!strcmp(argv[i], "--no-lanes")) { qwen3_set_max_lanes(1); continue; }
        if (!strcmp(argv[i], "--blas")) { gemm_set_blas_only(1); continue; }
        size_t f = 0;
        while (f < sizeof flags / sizeof flags[0] && strcmp(argv[i], flags[f].name)) f++;
        if (f == sizeof flags / sizeof flags[0] || i + 1 >= argc) {
            fprintf(stderr, "model_bench: unknown flag or missing value: %s\n", argv[i]);
            return 2;
        }
        *flags[f].dst = atoi(argv[++i]);
    }
    qwen3_config c = {.dim = hidden, .ffn = ffn, .n_layers = layers, .n_heads = heads, .n_kv = kv,
                      .head_dim = head_dim, .vocab = vocab, .tied = !untied, .max_pos = 40960,
                      .rope_theta = 1e6f, .eps = 1e-6f};
    qwen3_model m;
    qwen3_acts *a;
    if (qwen3_model_init(&m, &c) || qwen3_acts_init(&a, &m, batch, seq, fwd ? QWEN3_ACTS_INFER : recompute ? QWEN3_ACTS_RECOMPUTE : QWEN3_ACTS_TRAIN)) {
        fprintf(stderr, "model_bench: %s\n", err_msg());
        return 1;
    }
    qwen3_init_random(&m, 0, 0.02f);
    int N = batch * seq;
    int *tok = malloc((size_t)N * sizeof(int)), *tgt = malloc((size_t)N * sizeof(int));
    for (int i = 0; i < N; i++) tok[i] = (int)(((uint64_t)i * 2654435761u) % (uint64_t)vocab);
    for (int i = 0; i < N; i++) tgt[i] = (i + 1) % seq ? tok[i + 1] : tok[i + 1 - seq];
    qwen3_batch b = {.B = batch, .T = seq, .tokens = tok, .targets = tgt};
    adamw_config ad = {.lr = 1e-4f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f};
    double *ts = malloc((size_t)(steps + 1) * sizeof(double));
    float loss = 0;
    for (int s = 0; s <= steps; s++) {
        double t0 = time_now();
        int rc;
        if (fwd) rc = qwen3_forward(&m, a, &b, &loss, NULL);
        else {
            qwen3_zero_grads(&m);
            rc = qwen3_forward_backward(&m, a, &b, &loss, NULL);
            if (!rc) rc = adamw_step(&m, &ad, s + 1);
        }
        if (rc) {
            fprintf(stderr, "model_bench: %s\n", err_msg());
            return 1;
        }
        if (s) ts[s - 1] = time_now() - t0;   // step 0 warms up
    }
    // the median step: robust to a neighbour process stealing the cores for a moment
    for (int i = 0; i < steps; i++)
        for (int j = i + 1; j < steps; j++)
            if (ts[j] < ts[i]) { double x = ts[i]; ts[i] = ts[j]; ts[j] = x; }
    double tps = N / ts[steps / 2];
    free(ts);
    double flops = qwen3_flops_per_token(&c, seq / 2) * (fwd ? 1 : 3);
    double peak = sgemm_gflops();
    printf("ours tokens_per_s=%.1f loss=%.4f params=%.1fM gflops=%.1f sgemm_gflops=%.1f mfu=%.1f%% acts_mib=%.1f\n",
           tps, loss, m.n_params / 1e6, tps * flops / 1e9, peak, 100.0 * tps * flops / 1e9 / peak,
           qwen3_acts_bytes(a) / 1048576.0);
    qwen3_acts_free(a);
    qwen3_model_free(&m);
    free(tok), free(tgt);
    return 0;
}
