// Generation on the KV cache against a decoder that recomputes the full forward for every step:
// greedy sampling, beam search (forked caches) and the two-stage rollout must agree with it.
#include <string.h>

#include "base/mem.h"
#include "model/qwen3.h"
#include "rec/generate.h"
#include "test.h"

static qwen3_model g_m;

static void make_model(void) {
    qwen3_config c = {.dim = 48, .ffn = 96, .n_layers = 2, .n_heads = 4, .n_kv = 2, .head_dim = 16,
                      .vocab = 37, .tied = 1, .max_pos = 256, .rope_theta = 10000.0f, .eps = 1e-6f};
    CHECK_OK(qwen3_model_init(&g_m, &c));
    qwen3_init_random(&g_m, 5, 0.5f);   // large weights: peaked, history-dependent distributions
}

// log-probs of the next token after `hist` with a full forward: logp [V]
static void full_logp(float *logp, const int32_t *hist, int n) {
    qwen3_acts *a;
    CHECK_OK(qwen3_acts_init(&a, &g_m, 1, n, 0));
    qwen3_batch b = {.B = 1, .T = n, .tokens = hist};
    CHECK_OK(qwen3_forward(&g_m, a, &b, NULL, NULL));
    float *logits = mem_alloc((size_t)g_m.cfg.vocab * sizeof(float));
    qwen3_logits(&g_m, logits, qwen3_acts_hidden(a) + (size_t)(n - 1) * g_m.cfg.dim, 1);
    sample_log_softmax(logp, logits, g_m.cfg.vocab);
    free(logits);
    qwen3_acts_free(a);
}

typedef struct {
    int32_t hist[8][64];
    int len[8];
} naive;

static int naive_step(void *ctx, float *logp, const int32_t *tokens, int n) {
    naive *s = ctx;
    for (int i = 0; i < n; i++) {
        s->hist[i][s->len[i]++] = tokens[i];
        full_logp(logp + (size_t)i * g_m.cfg.vocab, s->hist[i], s->len[i]);
    }
    return 0;
}

static int naive_reorder(void *ctx, const int *parents, int n) {
    naive *s = ctx, old = *s;
    for (int i = 0; i < n; i++) {
        s->len[i] = old.len[parents[i]];
        memcpy(s->hist[i], old.hist[parents[i]], sizeof s->hist[i]);
    }
    return 0;
}

static void test_beam_matches_full_forward(void) {
    int32_t prompt[5] = {3, 17, 4, 9, 30};
    beam_params bp = {8, 3, NULL, NULL};
    qwen3_kv *kv;
    CHECK_OK(qwen3_kv_init(&kv, &g_m, 512));
    beam_result a, b;
    CHECK_OK(gen_beam(&g_m, kv, prompt, 5, &bp, &a));
    static naive s;
    memset(&s, 0, sizeof s);
    memcpy(s.hist[0], prompt, sizeof prompt);
    s.len[0] = 5;
    float first[64];
    full_logp(first, prompt, 5);
    beam_decoder dec = {&s, g_m.cfg.vocab, naive_step, naive_reorder};
    CHECK_OK(beam_search(&b, &dec, first, &bp));
    CHECK(a.n == 8 && b.n == 8);
    int same = 1;
    for (int i = 0; i < 8; i++) {
        same &= !memcmp(a.tokens + i * 3, b.tokens + i * 3, 3 * sizeof(int32_t));
        same &= fabsf(a.scores[i] - b.scores[i]) < 1e-4f;
    }
    CHECK(same);
    beam_result_free(&a);
    beam_result_free(&b);
    qwen3_kv_free(kv);
}

static void test_greedy_and_two_stage(void) {
    int32_t prompt[4] = {1, 2, 3, 4};
    const int32_t *prompts[2] = {prompt, prompt + 1};
    int plen[2] = {4, 3};
    gen_params p = {.max_new = 6, .sample = sample_params_default(), .seed = 1};
    qwen3_kv *kv;
    CHECK_OK(qwen3_kv_init(&kv, &g_m, 1024));
    gen_output out[2];
    CHECK_OK(gen_sample_batch(&g_m, kv, prompts, plen, 2, &p, out));
    for (int k = 0; k < 2; k++) {
        int32_t hist[32];
        memcpy(hist, prompts[k], (size_t)plen[k] * sizeof(int32_t));
        int n = plen[k], ok = out[k].n == 6;
        for (int i = 0; i < out[k].n && ok; i++) {
            float lp[64];
            full_logp(lp, hist, n);
            int best = 0;
            for (int v = 1; v < g_m.cfg.vocab; v++) best = lp[v] > lp[best] ? v : best;
            ok &= out[k].tokens[i] == best && fabsf(out[k].logprobs[i] - lp[best]) < 1e-4f;
            hist[n++] = best;
        }
        CHECK(ok);
    }
    // two-stage: stop on the 3rd greedy token, then beams continue after suffix {5, 6}
    int32_t stop = out[0].tokens[2], suffix[2] = {5, 6};
    gen_params p2 = p;
    p2.stop_ids = &stop;
    p2.n_stop = 1;
    gen_output reasoning;
    beam_result br, direct;
    beam_params bp = {4, 2, NULL, NULL};
    CHECK_OK(gen_two_stage(&g_m, kv, prompt, 4, &p2, suffix, 2, &bp, &reasoning, &br));
    int first_stop = 0;
    while (out[0].tokens[first_stop] != stop) first_stop++;
    CHECK(reasoning.stopped && reasoning.n == first_stop + 1);
    int32_t full[16];
    int n = 0;
    for (int i = 0; i < 4; i++) full[n++] = prompt[i];
    for (int i = 0; i < reasoning.n; i++) full[n++] = reasoning.tokens[i];
    full[n++] = 5;
    full[n++] = 6;
    CHECK_OK(gen_beam(&g_m, kv, full, n, &bp, &direct));
    CHECK(br.n == direct.n && !memcmp(br.tokens, direct.tokens, (size_t)br.n * 2 * sizeof(int32_t)));
    gen_output_free(&reasoning);
    beam_result_free(&br);
    beam_result_free(&direct);
    gen_output_free(&out[0]);
    gen_output_free(&out[1]);
    qwen3_kv_free(kv);
}

// Rows past the tokenizer (vocab_size aligned up) are never sampled when vocab_limit says so;
// without it the same flat distribution does pick them (so the check can fail).
static void test_vocab_limit(void) {
    int32_t prompt[3] = {1, 2, 3};
    const int32_t *prompts[1] = {prompt};
    int plen[1] = {3};
    gen_params p = {.max_new = 200, .sample = {.temperature = 50.0f, .top_p = 1.0f, .repetition_penalty = 1.0f}, .seed = 7};
    int above[2] = {0, 0};
    for (int limited = 0; limited < 2; limited++) {
        p.vocab_limit = limited ? 20 : 0;
        qwen3_kv *kv;
        CHECK_OK(qwen3_kv_init(&kv, &g_m, gen_kv_tokens_sample(3, 1, p.max_new)));
        gen_output out;
        CHECK_OK(gen_sample_batch(&g_m, kv, prompts, plen, 1, &p, &out));
        CHECK(out.n == 200);
        for (int i = 0; i < out.n; i++) above[limited] += out.tokens[i] >= 20;
        gen_output_free(&out);
        qwen3_kv_free(kv);
    }
    CHECK_MSG(above[0] > 0, "unlimited sampling never picked an id >= 20");
    CHECK_MSG(above[1] == 0, "%d sampled ids >= vocab_limit 20", above[1]);
}

int main(void) {
    make_model();
    RUN(test_beam_matches_full_forward);
    RUN(test_greedy_and_two_stage);
    RUN(test_vocab_limit);
    qwen3_model_free(&g_m);
    return test_summary("test_generate");
}
