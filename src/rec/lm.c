#include "rec/lm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"

// The itemic layout from the tokenizer: layers are the letters whose <s_X_0> exists, their codes
// run from base, and <|sid_begin|> follows the last layer's codes.
static void find_sid_vocab(lm *l) {
    l->sid_begin = tokenizer_token_to_id(l->tok, "<|sid_begin|>");
    l->sid_end = tokenizer_token_to_id(l->tok, "<|sid_end|>");
    int32_t base = tokenizer_token_to_id(l->tok, "<s_a_0>");
    if (l->sid_begin < 0 || l->sid_end < 0 || base < 0) return;
    int layers = 0;
    char name[32];
    while (layers < SID_MAX_LAYERS) {
        sid_token_name(name, sizeof name, layers, 0);
        if (tokenizer_token_to_id(l->tok, name) < 0) break;
        layers++;
    }
    if (layers == 0 || (l->sid_begin - base) % layers) return;
    l->sid.base = base;
    l->sid.layers = layers;
    l->sid.k = (l->sid_begin - base) / layers;
    l->has_sid = l->sid.k > 0 && l->sid_end == l->sid_begin + 1;
}

int lm_open(lm *l, const char *dir) {
    memset(l, 0, sizeof *l);
    if (qwen3_load_dir(&l->model, dir)) return ERR_FAIL;
    if (tokenizer_load_dir(&l->tok, dir)) {
        qwen3_model_free(&l->model);
        return err_wrap("model dir %s", dir);
    }
    int32_t n = tokenizer_vocab_size(l->tok);
    if (n > l->model.cfg.vocab) {
        int rows = l->model.cfg.vocab;   // read before lm_close zeroes it (it said "only 0 rows")
        lm_close(l);
        return err_set("model dir %s: the tokenizer has %d tokens but the embedding only %d rows", dir, n, rows);
    }
    l->endoftext = tokenizer_token_to_id(l->tok, "<|endoftext|>");
    l->im_start = tokenizer_token_to_id(l->tok, "<|im_start|>");
    l->im_end = tokenizer_token_to_id(l->tok, "<|im_end|>");
    l->think = tokenizer_token_to_id(l->tok, "<think>");
    l->think_end = tokenizer_token_to_id(l->tok, "</think>");
    find_sid_vocab(l);
    return 0;
}

void lm_close(lm *l) {
    if (l->tok) tokenizer_free(l->tok);
    qwen3_model_free(&l->model);
    memset(l, 0, sizeof *l);
}

int lm_encode(const lm *l, const char *text, tok_buf *out) { return tokenizer_encode(l->tok, text, strlen(text), out); }

// Decoded text (malloc'd).
static char *lm_decode(const lm *l, const int32_t *ids, int n, int skip_special) {
    char *text = NULL;
    size_t len;
    if (tokenizer_decode(l->tok, ids, (size_t)n, skip_special, &text, &len)) return NULL;
    return text;
}

// ---- generation with text ---------------------------------------------------------------------
typedef struct {
    const lm *l;
    const lm_gen_opts *o;
} stop_ctx;

static int stop_on_string(void *ctx, int i, const int32_t *tokens, int n) {
    (void)i;
    stop_ctx *s = ctx;
    char *text = lm_decode(s->l, tokens, n, 0);
    int hit = 0;
    for (int k = 0; text && k < s->o->n_stop && !hit; k++) hit = strstr(text, s->o->stop[k]) != NULL;
    free(text);
    return hit;
}

static void cut_at_stop(char *text, const lm_gen_opts *o) {
    for (int k = 0; k < o->n_stop; k++) {
        char *hit = strstr(text, o->stop[k]);
        if (hit) *hit = 0;
    }
}

// New tokens that fit the model's context after a prompt of `plen` (the KV cache is sized by
// the request, so an unbounded one would only grow memory): `want`, or fewer, said on stderr.
static int fit_context(const lm *l, int plen, int want, const char *what, int *got) {
    int ctx = l->model.cfg.max_pos > 0 ? l->model.cfg.max_pos : 32768;   // transformers' default
    if (plen >= ctx)
        return err_set("the prompt has %d tokens; the model's context (max_position_embeddings) is %d", plen, ctx);
    *got = want;
    if (want > ctx - plen) {
        *got = ctx - plen;
        log_warn("%s %d: capped to %d, what the model's context (max_position_embeddings %d) leaves after the %d-token prompt",
                 what, want, *got, ctx, plen);
    }
    return 0;
}

// Beams extend only by ids the tokenizer can decode: embedding rows past it are alignment padding.
static int allow_decodable(void *ctx, const int32_t *prefix, int depth, int32_t *out, int max) {
    (void)prefix, (void)depth;
    int n = *(const int *)ctx < max ? *(const int *)ctx : max;
    for (int i = 0; i < n; i++) out[i] = i;
    return n;
}

static int beam_text(lm *l, qwen3_kv *kv, const int32_t *prompt, int n, const lm_gen_opts *o, char **text) {
    int ntok = tokenizer_vocab_size(l->tok);
    beam_params bp = {o->beam_width, o->beam_steps, ntok < l->model.cfg.vocab ? allow_decodable : NULL, &ntok};
    beam_result r;
    if (gen_beam(&l->model, kv, prompt, n, &bp, &r)) return ERR_FAIL;
    size_t cap = 64, len = 0;
    char *out = mem_alloc(cap);
    for (int b = 0; out && b < r.n; b++) {
        char *t = lm_decode(l, r.tokens + (size_t)b * r.steps, r.steps, 0);
        char *line = t ? mem_printf("%.4f\t%s\n", r.scores[b], t) : NULL;
        free(t);
        if (!line) {
            free(out);
            out = NULL;
            break;
        }
        size_t ln = strlen(line);
        if (len + ln + 1 > cap) {
            while (len + ln + 1 > cap) cap *= 2;
            char *g = mem_realloc(out, cap);
            if (!g) {
                free(out), free(line);
                out = NULL;
                break;
            }
            out = g;
        }
        memcpy(out + len, line, ln + 1);
        len += ln;
        free(line);
    }
    if (out && r.n == 0) out[0] = 0;
    beam_result_free(&r);
    *text = out;
    return out ? 0 : ERR_FAIL;
}

int lm_generate_batch(lm *l, const int32_t *const *prompts, const int *plen, int np, const lm_gen_opts *o, char **texts) {
    int64_t total = 0;
    int longest = 0;
    for (int i = 0; i < np; i++) texts[i] = NULL, total += plen[i], longest = plen[i] > longest ? plen[i] : longest;
    gen_params p = o->gen;
    if (fit_context(l, longest, p.max_new, "max_new", &p.max_new)) return ERR_FAIL;
    p.vocab_limit = tokenizer_vocab_size(l->tok);
    qwen3_kv *kv;
    if (qwen3_kv_init(&kv, &l->model, gen_kv_tokens_sample((int)total, np, p.max_new))) return ERR_FAIL;
    int32_t stops[8];
    int ns = 0;
    for (int i = 0; i < p.n_stop && ns < 6; i++) stops[ns++] = p.stop_ids[i];
    if (l->im_end >= 0) stops[ns++] = l->im_end;
    if (l->endoftext >= 0) stops[ns++] = l->endoftext;
    p.stop_ids = stops;
    p.n_stop = ns;
    stop_ctx sc = {l, o};
    if (o->n_stop > 0) {
        p.stop_fn = stop_on_string;
        p.stop_ctx = &sc;
    }
    gen_output *out = mem_calloc((size_t)np, sizeof(gen_output));
    int rc = out ? gen_sample_batch(&l->model, kv, prompts, plen, np, &p, out) : ERR_FAIL;
    for (int i = 0; !rc && i < np; i++) {
        // a trailing stop id is not part of the text
        const gen_output *g = &out[i];
        int keep = g->n - (g->stopped && g->n > 0 && (g->tokens[g->n - 1] == l->im_end || g->tokens[g->n - 1] == l->endoftext));
        texts[i] = lm_decode(l, g->tokens, keep, 0);
        if (!texts[i]) rc = ERR_FAIL;
        else cut_at_stop(texts[i], o);
    }
    for (int i = 0; out && i < np; i++) gen_output_free(&out[i]);
    free(out);
    if (rc)
        for (int i = 0; i < np; i++) free(texts[i]), texts[i] = NULL;
    qwen3_kv_free(kv);
    return rc;
}

int lm_generate(lm *l, const int32_t *prompt, int n, const lm_gen_opts *o, char **text) {
    *text = NULL;
    if (o->beam_width <= 0) return lm_generate_batch(l, &prompt, &n, 1, o, text);
    lm_gen_opts ob = *o;
    if (fit_context(l, n, o->beam_steps, "beam_steps", &ob.beam_steps)) return ERR_FAIL;
    qwen3_kv *kv;
    if (qwen3_kv_init(&kv, &l->model, gen_kv_tokens_beam(n, ob.beam_width, ob.beam_steps))) return ERR_FAIL;
    int rc = beam_text(l, kv, prompt, n, &ob, text);
    qwen3_kv_free(kv);
    return rc;
}

int lm_chat_prompt(const lm *l, const chat_msg *msgs, size_t n, int enable_thinking, const char *soft_switch,
                   tok_buf *out) {
    chat_opts o = {1, enable_thinking, 0, soft_switch};
    chat_encoded e;
    memset(&e, 0, sizeof e);
    if (chat_encode(l->tok, msgs, n, &o, &e)) return ERR_FAIL;
    int rc = 0;
    for (size_t i = 0; i < e.n && !rc; i++) rc = tok_buf_push(out, e.ids[i], 0);
    chat_encoded_free(&e);
    return rc;
}
