// The training step on a tiny random Qwen3 with an in-memory dataset: the loss falls; stage 1
// (frozen LLM, rows >= start index) leaves every other parameter bitwise unchanged; full training
// changes every tensor; gradient accumulation equals a bigger micro batch; a non-finite loss stops
// before the update.
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "test.h"
#include "train/trainer.h"

#define V 64
#define LEN 32

static qwen3_config tiny(int tied) {
    qwen3_config c = {.dim = 32, .ffn = 64, .n_layers = 2, .n_heads = 4, .n_kv = 2, .head_dim = 8,
                      .vocab = V, .tied = tied, .max_pos = 512, .rope_theta = 10000.0f, .eps = 1e-6f};
    return c;
}

// 3 files x 40 samples: arithmetic sequences mod 48 (learnable), with itemic tokens 40..47
static int s_rows(void *ctx, int f, int64_t *n) {
    (void)ctx, (void)f;
    *n = 40;
    return 0;
}
static int s_fetch(void *ctx, int f, int64_t r, train_sample *s) {
    (void)ctx;
    int n = 6 + (int)((f * 13 + r * 7) % 9), start = (int)((f * 31 + r * 17) % 48), d = 1 + (int)(r % 3);
    if (train_sample_reserve(s, n)) return ERR_FAIL;
    s->n = n;
    s->source = d - 1;
    for (int i = 0; i < n; i++) {
        s->ids[i] = (start + i * d) % 48;
        s->mask[i] = 1;
    }
    return 0;
}

typedef struct {
    qwen3_model m;
    train_loader l;
    trainer *t;
} rig;

static void rig_init(rig *g, int tied, int micro, int accum, int freeze, int start_row, double lr) {
    qwen3_config c = tiny(tied);
    CHECK_OK(qwen3_model_init(&g->m, &c));
    qwen3_init_random(&g->m, 7, 0.02f);
    train_loader_config lc = {3, 100, 8, LEN, 1, 0, 99};
    CHECK_OK(train_loader_init(&g->l, &lc, (train_source){NULL, s_rows, s_fetch}));
    trainer_config tc = {LEN, micro, accum, {LR_COSINE, lr, lr / 10, 2, 40}, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0,
                         freeze, start_row, 40, 47, 0};
    CHECK_OK(trainer_init(&g->t, &g->m, &g->l, &tc));
}

static void rig_free(rig *g) {
    trainer_free(g->t);
    train_loader_free(&g->l);
    qwen3_model_free(&g->m);
}

static void test_loss_falls(void) {
    rig g;
    rig_init(&g, 1, 2, 1, 0, 0, 3e-3);
    trainer_stats st;
    double first = 0, last = 0;
    for (int s = 0; s < 40; s++) {
        CHECK(trainer_step(g.t, &st) == 1);
        if (s < 5) first += st.loss / 5;
        if (s >= 35) last += st.loss / 5;
        CHECK(st.itemic_tokens + st.text_tokens > 0);
    }
    CHECK_MSG(last < first - 0.5, "loss %g -> %g", first, last);
    CHECK(st.step == 40 && trainer_get_step(g.t) == 40);
    CHECK(st.nsources == 3 && st.source_tokens[0] > 0 && isfinite(st.source_loss[1]));
    CHECK(st.lr < 3e-3 && st.lr >= 3e-4 - 1e-12);
    rig_free(&g);
}

// every parameter outside embed rows >= start is bitwise unchanged; trainable rows that occur move
static void stage1_case(int tied) {
    rig g;
    int start = 40;
    rig_init(&g, tied, 2, 1, 1, start, 1e-2);
    size_t n = g.m.n_params;
    float *before = mem_alloc(n * 4);
    memcpy(before, g.m.param_mem, n * 4);
    trainer_stats st;
    for (int s = 0; s < 4; s++) CHECK(trainer_step(g.t, &st) == 1);
    size_t C = (size_t)g.m.cfg.dim, changed_ok = 0, unchanged_bad = 0;
    for (int i = 0; i < g.m.n_tensors; i++) {
        const qwen3_tensor *tn = &g.m.tensors[i];
        int rows = !strcmp(tn->name, "model.embed_tokens.weight") || !strcmp(tn->name, "lm_head.weight");
        for (size_t k = 0; k < tn->numel; k++) {
            size_t o = tn->offset + k;
            int same = !memcmp(&before[o], &g.m.param_mem[o], 4);
            int trainable = rows && k / C >= (size_t)start;
            if (!trainable && !same) unchanged_bad++;
            if (trainable && k / C < 48 && !same) changed_ok++;
        }
    }
    CHECK_MSG(unchanged_bad == 0, "%zu frozen values changed (tied %d)", unchanged_bad, tied);
    CHECK_MSG(changed_ok >= 7 * C, "only %zu trainable values changed (tied %d)", changed_ok, tied);
    free(before);
    rig_free(&g);
}

static void test_stage1_frozen(void) {
    stage1_case(1);
    stage1_case(0);
}

static void test_full_changes_all(void) {
    rig g;
    rig_init(&g, 0, 2, 1, 0, 0, 1e-2);
    float *before = mem_alloc(g.m.n_params * 4);
    memcpy(before, g.m.param_mem, g.m.n_params * 4);
    trainer_stats st;
    for (int s = 0; s < 3; s++) CHECK(trainer_step(g.t, &st) == 1);
    for (int i = 0; i < g.m.n_tensors; i++) {
        const qwen3_tensor *tn = &g.m.tensors[i];
        size_t diff = 0;
        for (size_t k = 0; k < tn->numel; k++) diff += before[tn->offset + k] != g.m.param_mem[tn->offset + k];
        CHECK_MSG(diff > 0, "tensor %s did not change", tn->name);
    }
    free(before);
    rig_free(&g);
}

static void test_accum_equivalence(void) {
    rig a, b;
    rig_init(&a, 1, 2, 1, 0, 0, 3e-3);
    rig_init(&b, 1, 1, 2, 0, 0, 3e-3);
    trainer_stats sa, sb;
    for (int s = 0; s < 5; s++) {
        CHECK(trainer_step(a.t, &sa) == 1);
        CHECK(trainer_step(b.t, &sb) == 1);
        CHECK_NEAR(sa.loss, sb.loss, 1e-5);
        CHECK_NEAR(sa.grad_norm, sb.grad_norm, 1e-4 * sa.grad_norm);
        CHECK(sa.tokens == sb.tokens && sa.itemic_tokens == sb.itemic_tokens);
    }
    rig_free(&a);
    rig_free(&b);
}

static void test_nan_stops(void) {
    rig g;
    rig_init(&g, 1, 2, 1, 0, 0, 3e-3);
    trainer_stats st;
    CHECK(trainer_step(g.t, &st) == 1);
    g.m.w.layers[0].w_up[3] = NAN;
    float *before = mem_alloc(g.m.n_params * 4);
    memcpy(before, g.m.param_mem, g.m.n_params * 4);
    CHECK_FAILS_WITH(trainer_step(g.t, &st), "not finite");
    CHECK(!memcmp(before, g.m.param_mem, g.m.n_params * 4));   // NaN bits compare equal too
    CHECK(trainer_get_step(g.t) == 1);
    free(before);
    rig_free(&g);
}

int main(void) {
    // a tiny model: threads only add synchronisation (and stall on a busy machine)
    omp_set_num_threads(1);
    openblas_set_num_threads(1);
    RUN(test_loss_falls);
    RUN(test_stage1_frozen);
    RUN(test_full_changes_all);
    RUN(test_accum_equivalence);
    RUN(test_nan_stops);
    return test_summary("test_train_loop");
}
