#include "rec/generate.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

void gen_output_free(gen_output *o) {
    free(o->tokens);
    free(o->logprobs);
    memset(o, 0, sizeof *o);
}

// Appends n tokens to sequence seq; logits [V] (may be NULL) gets the last position's logits.
static int prefill_logits(const qwen3_model *m, qwen3_kv *kv, int seq, const int32_t *tokens, int n, float *logits) {
    if (n <= 0) return err_set("generation: empty prompt");
    int *seqs = mem_alloc((size_t)n * sizeof(int));
    uint8_t *want = mem_calloc((size_t)n, 1);
    int rc = seqs && want ? 0 : ERR_FAIL;
    if (!rc) {
        for (int i = 0; i < n; i++) seqs[i] = seq;
        want[n - 1] = logits != NULL;
        rc = qwen3_kv_forward(m, kv, n, seqs, tokens, want, logits);
    }
    free(seqs), free(want);
    return rc;
}

int gen_prefill(const qwen3_model *m, qwen3_kv *kv, int seq, const int32_t *tokens, int n, float *logp) {
    int V = m->cfg.vocab;
    float *logits = logp ? mem_alloc((size_t)V * sizeof(float)) : NULL;
    if (logp && !logits) return ERR_FAIL;
    int rc = prefill_logits(m, kv, seq, tokens, n, logits);
    if (!rc && logp) sample_log_softmax(logp, logits, V);
    free(logits);
    return rc;
}

static int is_stop(const gen_params *p, int32_t id) {
    for (int i = 0; i < p->n_stop; i++)
        if (p->stop_ids[i] == id) return 1;
    return 0;
}

static int out_push(gen_output *o, int32_t id, float lp, int cap) {
    if (!o->tokens) {
        o->tokens = mem_alloc((size_t)cap * sizeof(int32_t));
        o->logprobs = mem_alloc((size_t)cap * sizeof(float));
        if (!o->tokens || !o->logprobs) return ERR_FAIL;
    }
    o->tokens[o->n] = id;
    o->logprobs[o->n++] = lp;
    return 0;
}

// The repetition penalty sees the prompt and what was generated so far.
static void penalise(float *logits, int V, const gen_params *p, const int32_t *prompt, int plen, const gen_output *o) {
    if (p->sample.repetition_penalty == 1.0f) return;
    sample_apply_penalty(logits, V, prompt, plen, p->sample.repetition_penalty);
    // ids already penalised through the prompt are skipped: apply to generated ids not in the prompt
    for (int i = 0; i < o->n; i++) {
        int32_t id = o->tokens[i], seen = 0;
        for (int j = 0; j < plen && !seen; j++) seen = prompt[j] == id;
        for (int j = 0; j < i && !seen; j++) seen = o->tokens[j] == id;
        if (!seen) sample_apply_penalty(logits, V, &id, 1, p->sample.repetition_penalty);
    }
}

// Decodes live sequences one token per step until each stops. seqs[i] already holds prompt i and
// logits [np, V] are its next-token logits.
static int decode_loop(const qwen3_model *m, qwen3_kv *kv, int *seqs, float *logits, const int32_t *const *prompts,
                       const int *plen, int np, const gen_params *p, gen_output *out) {
    int V = m->cfg.vocab, rc = 0;
    // rows stay V apart; sampling sees only the first Vs logits (padding rows past the tokenizer
    // would be ids nothing can decode)
    int Vs = p->vocab_limit > 0 && p->vocab_limit < V ? p->vocab_limit : V;
    float *work = mem_alloc((size_t)2 * V * sizeof(float));
    rng *rs = mem_alloc((size_t)np * sizeof(rng));
    int *live = mem_alloc((size_t)np * sizeof(int)), *lseq = mem_alloc((size_t)np * sizeof(int));
    int32_t *ltok = mem_alloc((size_t)np * sizeof(int32_t));
    if (!work || !rs || !live || !lseq || !ltok) rc = ERR_FAIL;
    int nlive = 0;
    for (int i = 0; !rc && i < np; i++) {
        rng_seed_stream(&rs[i], p->seed, (uint64_t)i);
        live[nlive++] = i;   // logits row i belongs to prompt i
    }
    for (int step = 0; !rc && step < p->max_new && nlive > 0; step++) {
        int next = 0;
        for (int k = 0; k < nlive && !rc; k++) {
            int i = live[k];
            float *row = logits + (size_t)k * V, lp;
            penalise(row, Vs, p, prompts[i], plen[i], &out[i]);
            int32_t id = (int32_t)sample_pick(row, Vs, &p->sample, &rs[i], work, &lp);
            rc = out_push(&out[i], id, lp, p->max_new);
            if (rc) break;
            if (is_stop(p, id) || (p->stop_fn && p->stop_fn(p->stop_ctx, i, out[i].tokens, out[i].n))) {
                out[i].stopped = 1;
                continue;
            }
            if (step + 1 < p->max_new) {
                live[next] = i;
                lseq[next] = seqs[i];
                ltok[next++] = id;
            }
        }
        nlive = next;
        if (!rc && nlive > 0) rc = qwen3_kv_forward(m, kv, nlive, lseq, ltok, NULL, logits);
    }
    free(work), free(rs), free(live), free(lseq), free(ltok);
    return rc;
}

int gen_sample_batch(const qwen3_model *m, qwen3_kv *kv, const int32_t *const *prompts, const int *plen, int np,
                     const gen_params *p, gen_output *out) {
    int V = m->cfg.vocab, rc = 0;
    memset(out, 0, (size_t)np * sizeof(gen_output));
    if (np <= 0 || p->max_new <= 0) return 0;
    int *seqs = mem_alloc((size_t)np * sizeof(int));
    float *logits = mem_alloc((size_t)np * V * sizeof(float));
    if (!seqs || !logits) rc = ERR_FAIL;
    int made = 0;
    for (int i = 0; !rc && i < np; i++) {
        if (plen[i] <= 0) {
            rc = err_set("generation: prompt %d is empty", i);
            break;
        }
        seqs[i] = qwen3_kv_new_seq(kv);
        if (seqs[i] < 0) {
            rc = ERR_FAIL;
            break;
        }
        made++;
        // each prompt keeps the logits of its last position in row i
        rc = prefill_logits(m, kv, seqs[i], prompts[i], plen[i], logits + (size_t)i * V);
    }
    if (!rc) rc = decode_loop(m, kv, seqs, logits, prompts, plen, np, p, out);
    for (int i = 0; i < made; i++) qwen3_kv_free_seq(kv, seqs[i]);
    free(seqs), free(logits);
    if (rc) {
        for (int i = 0; i < np; i++) gen_output_free(&out[i]);
        return err_wrap("sampling");
    }
    return 0;
}

// ---- beam search on the KV cache -----------------------------------------------------------
typedef struct {
    const qwen3_model *m;
    qwen3_kv *kv;
    int *slots;      // [W] kv seq ids
    int nslots;
    float *logits;   // [W, V]
} kv_beam;

static int kv_beam_reorder(void *ctx, const int *parents, int n) {
    kv_beam *b = ctx;
    int fresh[GEN_BEAM_MAX];
    if (n > GEN_BEAM_MAX) return err_set("width %d is above %d", n, GEN_BEAM_MAX);
    for (int i = 0; i < n; i++) {
        fresh[i] = qwen3_kv_fork(b->kv, b->slots[parents[i]]);
        if (fresh[i] < 0) {
            for (int j = 0; j < i; j++) qwen3_kv_free_seq(b->kv, fresh[j]);
            return ERR_FAIL;
        }
    }
    for (int i = 0; i < b->nslots; i++) qwen3_kv_free_seq(b->kv, b->slots[i]);
    memcpy(b->slots, fresh, (size_t)n * sizeof(int));
    b->nslots = n;
    return 0;
}

static int kv_beam_step(void *ctx, float *logp, const int32_t *tokens, int n) {
    kv_beam *b = ctx;
    int V = b->m->cfg.vocab;
    if (qwen3_kv_forward(b->m, b->kv, n, b->slots, tokens, NULL, b->logits)) return ERR_FAIL;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) sample_log_softmax(logp + (size_t)i * V, b->logits + (size_t)i * V, V);
    return 0;
}

// Beam search continuing sequence `seq`, whose next-token log-probs are first_logp [V].
static int beam_from_seq(const qwen3_model *m, qwen3_kv *kv, int seq, const float *first_logp, const beam_params *bp,
                         beam_result *out) {
    int V = m->cfg.vocab, W = bp->width;
    kv_beam b = {m, kv, mem_alloc((size_t)W * sizeof(int)), 1, mem_alloc((size_t)W * V * sizeof(float))};
    if (!b.slots || !b.logits) {
        free(b.slots), free(b.logits);
        return ERR_FAIL;
    }
    b.slots[0] = qwen3_kv_fork(kv, seq);   // the caller keeps `seq`
    int rc = b.slots[0] < 0 ? ERR_FAIL : 0;
    beam_decoder dec = {&b, V, kv_beam_step, kv_beam_reorder};
    if (!rc) rc = beam_search(out, &dec, first_logp, bp);
    for (int i = 0; i < b.nslots && b.slots[0] >= 0; i++) qwen3_kv_free_seq(kv, b.slots[i]);
    free(b.slots), free(b.logits);
    return rc;
}

int gen_beam(const qwen3_model *m, qwen3_kv *kv, const int32_t *prompt, int plen, const beam_params *bp,
             beam_result *out) {
    memset(out, 0, sizeof *out);
    // before the prompt's forward pass, not after it (the fork table holds GEN_BEAM_MAX beams)
    if (bp->width > GEN_BEAM_MAX) return err_usage("beam width %d is above %d", bp->width, GEN_BEAM_MAX);
    float *logp = mem_alloc((size_t)m->cfg.vocab * sizeof(float));
    int seq = logp ? qwen3_kv_new_seq(kv) : ERR_FAIL;
    int rc = seq < 0 ? ERR_FAIL : gen_prefill(m, kv, seq, prompt, plen, logp);
    if (rc) err_wrap("beam search: the prompt");
    if (!rc) rc = beam_from_seq(m, kv, seq, logp, bp, out);   // its errors say "beam search" already
    if (seq >= 0) qwen3_kv_free_seq(kv, seq);
    free(logp);
    return rc;
}

int gen_two_stage(const qwen3_model *m, qwen3_kv *kv, const int32_t *prompt, int plen, const gen_params *p,
                  const int32_t *suffix, int nsuffix, const beam_params *bp, gen_output *reasoning,
                  beam_result *out) {
    int V = m->cfg.vocab;
    memset(reasoning, 0, sizeof *reasoning);
    memset(out, 0, sizeof *out);
    float *logits = mem_alloc((size_t)V * sizeof(float)), *logp = mem_alloc((size_t)V * sizeof(float));
    int seq = (logits && logp) ? qwen3_kv_new_seq(kv) : ERR_FAIL;
    int rc = seq < 0 ? ERR_FAIL : prefill_logits(m, kv, seq, prompt, plen, logits);
    const int32_t *prompts[1] = {prompt};
    if (!rc && p->max_new > 0) rc = decode_loop(m, kv, &seq, logits, prompts, &plen, 1, p, reasoning);
    // the last sampled token is not in the cache yet (decode_loop stops before feeding it)
    if (!rc && reasoning->n > 0)
        rc = gen_prefill(m, kv, seq, &reasoning->tokens[reasoning->n - 1], 1, NULL);
    if (!rc) rc = gen_prefill(m, kv, seq, suffix, nsuffix, logp);
    if (!rc) rc = beam_from_seq(m, kv, seq, logp, bp, out);
    if (seq >= 0) qwen3_kv_free_seq(kv, seq);
    free(logits), free(logp);
    if (rc) {
        gen_output_free(reasoning);
        return err_wrap("two-stage rollout");
    }
    return 0;
}
