#include "post/rollout.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "rec/constrain.h"
#include "rec/generate.h"
#include "rec/sid.h"

void rollout_group_free(rollout_group *g) {
    for (int i = 0; i < g->n; i++) {
        if (g->seqs) free(g->seqs[i]);
        if (g->train) free(g->train[i]);
    }
    free(g->seqs), free(g->len), free(g->train), free(g->reward), free(g->partial), free(g->format);
    memset(g, 0, sizeof *g);
}

// Codes matched from the first one (0..3), best over the ground-truth SIDs.
static int prefix_match(const int32_t *c, const int64_t *gt, int ngt) {
    int best = 0;
    for (int i = 0; i < ngt; i++) {
        int32_t g[SID_PACK_LAYERS];
        sid_key_split(g, (uint64_t)gt[i], SID_PACK_LAYERS, SID_PACK_K);
        int k = c[0] != g[0] ? 0 : c[1] != g[1] ? 1 : c[2] != g[2] ? 2 : 3;
        best = k > best ? k : best;
    }
    return best;
}

static int alloc_group(rollout_group *g, int n) {
    g->seqs = mem_calloc((size_t)n, sizeof(int32_t *));
    g->train = mem_calloc((size_t)n, sizeof(uint8_t *));
    g->len = mem_calloc((size_t)n, sizeof(int));
    g->reward = mem_calloc((size_t)n, sizeof(float));
    g->partial = mem_calloc((size_t)n, sizeof(float));
    g->format = mem_calloc((size_t)n, sizeof(float));
    return g->seqs && g->train && g->len && g->reward && g->partial && g->format ? 0 : ERR_FAIL;
}

// Writes the group's sequences: prompt, reasoning, suffix, beam b.
static int fill_group(const lm *l, rollout_group *g, const tok_buf *prompt, const gen_output *think, const tok_buf *suffix,
                      const beam_result *br, const int64_t *gt, int ngt, rollout_reward kind) {
    static const float partial[4] = {0, 1, 10, 100};
    int steps = br->steps;
    for (int b = 0; b < br->n; b++) {
        int n = (int)prompt->n + think->n + (int)suffix->n + steps, k = 0;
        g->seqs[b] = mem_alloc((size_t)n * sizeof(int32_t));
        g->train[b] = mem_alloc((size_t)(n - prompt->n));
        if (!g->seqs[b] || !g->train[b]) return ERR_FAIL;
        int32_t *s = g->seqs[b];
        uint8_t *tr = g->train[b];
        for (size_t i = 0; i < prompt->n; i++) s[k++] = prompt->ids[i];
        for (int i = 0; i < think->n; i++, k++) s[k] = think->tokens[i], tr[k - prompt->n] = 1;
        for (size_t i = 0; i < suffix->n; i++, k++) s[k] = suffix->ids[i], tr[k - prompt->n] = 0;
        for (int i = 0; i < steps; i++, k++) s[k] = br->tokens[(size_t)b * steps + i], tr[k - prompt->n] = 1;
        g->len[b] = n;
        int32_t codes[3];
        int ok = steps == 3 && sid_beam_codes(&l->sid, br->tokens + (size_t)b * steps, steps, codes);
        int m = ok ? prefix_match(codes, gt, ngt) : 0;
        g->partial[b] = partial[m];
        g->reward[b] = kind == ROLLOUT_REWARD_PREFIX ? (float)m / 3.0f : (float)(m == 3);
        g->format[b] = ok && g->think_closed;
    }
    g->n = br->n;
    return 0;
}

// The group as W sampled SIDs after prompt + suffix (each sample its own copy of the prompt in the
// cache), written as a beam_result so that fill_group serves both.
static int sample_sids(const qwen3_model *m, int vocab_limit, const tok_buf *prompt, const tok_buf *suffix,
                       const rollout_params *p, beam_result *br) {
    int W = p->width, n = (int)(prompt->n + suffix->n);
    int32_t *full = mem_alloc((size_t)n * sizeof(int32_t));
    const int32_t **prompts = mem_alloc((size_t)W * sizeof(int32_t *));
    int *plen = mem_alloc((size_t)W * sizeof(int));
    gen_output *out = mem_calloc((size_t)W, sizeof(gen_output));
    br->tokens = mem_calloc((size_t)W * 3, sizeof(int32_t));
    qwen3_kv *kv = NULL;
    int rc = full && prompts && plen && out && br->tokens ? 0 : ERR_FAIL;
    if (!rc) {
        memcpy(full, prompt->ids, prompt->n * sizeof(int32_t));
        memcpy(full + prompt->n, suffix->ids, suffix->n * sizeof(int32_t));
        for (int i = 0; i < W; i++) prompts[i] = full, plen[i] = n;
        rc = qwen3_kv_init(&kv, m, gen_kv_tokens_sample(n * W, W, 3));
    }
    gen_params gp = {.max_new = 3, .sample = {p->temperature, 0, p->top_p, 1.0f}, .seed = p->seed,
                     .vocab_limit = vocab_limit};
    if (!rc) rc = gen_sample_batch(m, kv, prompts, plen, W, &gp, out);
    for (int i = 0; !rc && i < W; i++)
        for (int j = 0; j < out[i].n && j < 3; j++) br->tokens[(size_t)i * 3 + j] = out[i].tokens[j];
    if (!rc) br->n = W, br->steps = 3;
    for (int i = 0; out && i < W; i++) gen_output_free(&out[i]);
    if (kv) qwen3_kv_free(kv);
    free(full), free(prompts), free(plen), free(out);
    return rc;
}

int rollout_rec(lm *l, const chat_msg *msgs, size_t nmsgs, const char *answer, const rollout_params *p,
                rollout_group *g, int *gt_count) {
    memset(g, 0, sizeof *g);
    if (!l->has_sid || l->sid.layers != 3) return err_set("RL needs a model with 3-layer itemic tokens");
    int64_t gt[256];
    int ngt = sid_scan_packed(gt, 256, answer);
    if (gt_count) *gt_count = ngt;
    tok_buf prompt = {0}, suffix = {0};
    gen_output reasoning = {0};
    beam_result br = {0};
    // without a reasoning budget the prompt pre-fills the empty think block, as the benchmark does
    int think = p->max_think > 0;
    int rc = lm_chat_prompt(l, msgs, nmsgs, think ? -1 : 0, p->soft_switch, &prompt);
    if (!rc && think) rc = lm_encode(l, "\n", &suffix);
    if (!rc) rc = tok_buf_push(&suffix, l->sid_begin, 0);
    int32_t stop = l->think_end;
    // padding rows past the tokenizer are never sampled: they could not be decoded or rewarded
    gen_params gp = {.max_new = p->max_think, .sample = {p->temperature, 0, p->top_p, 1.0f},
                     .stop_ids = &stop, .n_stop = stop >= 0, .seed = p->seed, .vocab_limit = tokenizer_vocab_size(l->tok)};
    sid_constraint sc = {.trie = p->trie, .vocab = &l->sid};
    if (!rc && p->trie && p->exclude_history) rc = sid_constraint_ban_shown(&sc, prompt.ids, (int64_t)prompt.n);
    beam_params bp = {p->width, 3, p->trie ? sid_constraint_allowed : NULL, &sc};
    qwen3_kv *kv = NULL;
    if (!rc && p->sample_sids && (think || p->trie)) rc = err_set("sampled SID groups need --max-think 0 and no --constrain");
    if (!rc && p->sample_sids) rc = sample_sids(&l->model, tokenizer_vocab_size(l->tok), &prompt, &suffix, p, &br);
    else if (!rc) rc = qwen3_kv_init(&kv, &l->model, gen_kv_tokens_sample((int)prompt.n, 1, p->max_think + (int)suffix.n) + gen_kv_tokens_beam(0, p->width, 3));
    if (!rc && !p->sample_sids) rc = gen_two_stage(&l->model, kv, prompt.ids, (int)prompt.n, &gp, suffix.ids, (int)suffix.n, &bp, &reasoning, &br);
    if (!rc) {
        g->plen = (int)prompt.n;
        g->think_tokens = reasoning.n;
        g->think_closed = think ? reasoning.stopped : 1;
        rc = alloc_group(g, p->width);
    }
    if (!rc) rc = fill_group(l, g, &prompt, &reasoning, &suffix, &br, gt, ngt, p->reward);
    if (kv) qwen3_kv_free(kv);
    sid_constraint_free(&sc);
    tok_buf_free(&prompt);
    tok_buf_free(&suffix);
    gen_output_free(&reasoning);
    beam_result_free(&br);
    if (rc) rollout_group_free(g);
    return rc;
}
