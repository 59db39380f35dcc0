#include "serve/work.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "rec/generate.h"
#include "rec/sample.h"
#include "text/chat_json.h"

static char *finish_json(cJSON *o, const char *model, double took_ms) {
    cJSON_AddStringToObject(o, "model", model);
    cJSON_AddNumberToObject(o, "took_ms", took_ms);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static cJSON *item_json(int64_t pid, const int32_t *codes, const char *key, double v) {
    cJSON *it = cJSON_CreateObject();
    cJSON_AddNumberToObject(it, "pid", (double)pid);
    cJSON *sid = cJSON_AddArrayToObject(it, "sid");
    for (int c = 0; c < 3; c++) cJSON_AddItemToArray(sid, cJSON_CreateNumber(codes[c]));
    cJSON_AddNumberToObject(it, key, v);
    return it;
}

char *serve_json_items(const rec_item *items, int n, const char *model, double took_ms) {
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "items");
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, item_json(items[i].pid, items[i].codes, "score", items[i].score));
    return finish_json(o, model, took_ms);
}

// One batched forward teacher-forces every item's first two codes on forks of the prompt.
int serve_score_items(lm *l, const rec_job *j, const int64_t *items, int n, float *out) {
    const qwen3_model *m = &l->model;
    int V = m->cfg.vocab, plen = (int)j->ids.n;
    qwen3_kv *kv = NULL;
    float *logp0 = mem_alloc((size_t)V * sizeof(float)), *logits = mem_alloc((size_t)2 * n * V * sizeof(float));
    int *seqs = mem_alloc((size_t)2 * n * sizeof(int)), *toks = mem_alloc((size_t)2 * n * sizeof(int));
    int32_t(*tk)[3] = mem_alloc((size_t)n * sizeof *tk);
    int rc = logp0 && logits && seqs && toks && tk ? 0 : ERR_FAIL;
    if (!rc) rc = qwen3_kv_init(&kv, m, gen_kv_tokens_beam(plen, n, 3));
    int seq = rc ? -1 : qwen3_kv_new_seq(kv);
    if (!rc) rc = seq < 0 ? ERR_FAIL : gen_prefill(m, kv, seq, j->ids.ids, plen, logp0);
    for (int i = 0; !rc && i < n; i++) {
        const int32_t *codes = pid2sid_get(j->dom, items[i]);
        if (!codes) {
            rc = err_set("pid %lld has no SID", (long long)items[i]);
            break;
        }
        for (int c = 0; c < 3; c++) tk[i][c] = (int32_t)sid_token_id(&l->sid, c, codes[c]);
        int child = qwen3_kv_fork(kv, seq);
        if (child < 0) rc = ERR_FAIL;
        seqs[2 * i] = seqs[2 * i + 1] = child;
        toks[2 * i] = tk[i][0], toks[2 * i + 1] = tk[i][1];
    }
    if (!rc) rc = qwen3_kv_forward(m, kv, 2 * n, seqs, toks, NULL, logits);
    for (int i = 0; !rc && i < n; i++) {
        float *r1 = logits + (size_t)2 * i * V, *r2 = r1 + V;
        sample_log_softmax(r1, r1, V);
        sample_log_softmax(r2, r2, V);
        out[i] = logp0[tk[i][0]] + r1[tk[i][1]] + r2[tk[i][2]];
    }
    qwen3_kv_free(kv);
    free(logp0), free(logits), free(seqs), free(toks), free(tk);
    return rc;
}

static char *score_json(lm *l, const rec_job *rj, const sreq *r, const char *model, double t0) {
    float *lp = mem_alloc((size_t)r->nitems * sizeof(float));
    if (!lp || serve_score_items(l, rj, r->items, r->nitems, lp)) {
        free(lp);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "items");
    for (int i = 0; i < r->nitems; i++)
        cJSON_AddItemToArray(arr, item_json(r->items[i], pid2sid_get(rj->dom, r->items[i]), "logprob", lp[i]));
    free(lp);
    return finish_json(o, model, (time_now() - t0) * 1e3);
}

// JSON strings must be UTF-8, but generation may stop inside a character (byte-level tokens):
// such bytes become '?'.
static void utf8_scrub(char *t) {
    utf8proc_ssize_t n = (utf8proc_ssize_t)strlen(t);
    for (utf8proc_ssize_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)t + i, n - i, &cp);
        if (k <= 0) t[i++] = '?';
        else i += k;
    }
}

static char *generate_json(lm *l, const sreq *r, const char *model, double t0) {
    tok_buf ids = {0};
    int rc = 0;
    if (r->prompt) {
        rc = lm_encode(l, r->prompt, &ids);
    } else {
        chat_messages msgs;
        rc = chat_messages_parse(&msgs, r->chat, "\"chat\"");
        if (!rc) rc = lm_chat_prompt(l, msgs.msgs, msgs.n, r->think, NULL, &ids), chat_messages_free(&msgs);
    }
    if (!rc && !ids.n) rc = err_set("the prompt is empty");
    const char *stops[1] = {r->stop};
    lm_gen_opts o = {.gen = {.max_new = r->max_new, .sample = {r->temperature, r->top_k, r->top_p, r->repetition_penalty},
                             .seed = (uint64_t)r->seed},
                     .stop = stops, .n_stop = r->stop ? 1 : 0};
    char *text = NULL;
    if (!rc) rc = lm_generate(l, ids.ids, (int)ids.n, &o, &text);
    tok_buf_free(&ids);
    if (rc) return NULL;
    utf8_scrub(text);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "text", text);
    free(text);
    return finish_json(out, model, (time_now() - t0) * 1e3);
}

void serve_run_side(lm *l, const rec_job *rj, const sreq *r, const char *model, double t0,
                    int *status, char **body) {
    err_clear();
    char *s = r->kind == SREQ_SCORE ? score_json(l, rj, r, model, t0) : generate_json(l, r, model, t0);
    if (s) {
        *status = 200, *body = s;
        return;
    }
    // a chat that fails to parse is the client's fault; anything else is ours
    int client = r->kind == SREQ_GENERATE && r->chat && strstr(err_msg(), "\"chat\"");
    sreq_error e = {.status = client ? 400 : 500};
    snprintf(e.field, sizeof e.field, "%s", client ? "chat" : "");
    snprintf(e.msg, sizeof e.msg, "%s", err_msg()[0] ? err_msg() : "out of memory");
    *status = e.status;
    *body = sreq_error_json(&e);
}
