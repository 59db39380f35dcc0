#include "eval/bench_predict.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/table.h"
#include "rec/constrain.h"
#include "rec/generate.h"
#include "rec/sid.h"
#include "text/chat_json.h"

bench_task_kind bench_task_kind_of(const char *task) {
    if (!strcmp(task, "label_pred")) return BENCH_LABEL;
    if (!strcmp(task, "item_understand") || !strcmp(task, "rec_reason")) return BENCH_TEXT;
    return BENCH_RANKING;
}

// The items a ranking task recommends: "product" or "video" (videos and ads share one code space).
static const char *bench_task_domain(const char *task) { return !strcmp(task, "product") ? "product" : "video"; }

typedef struct {
    lm *l;
    const char *task;
    bench_task_kind kind;
    const bench_predict_opts *o;
    const sid_trie *trie;
    FILE *out;
    bench_predict_stats *st;
    int32_t yes, no;
    progress prog;
    int npending;                       // text tasks: prompts decoded together
    tok_buf pending_ids[16];
    cJSON *pending_res[16];
} predict_ctx;

static int write_line(predict_ctx *c, const cJSON *res) {
    char *line = cJSON_PrintUnformatted(res);
    int rc = line && fprintf(c->out, "%s\n", line) > 0 ? 0 : err_set("cannot write a prediction");
    free(line);
    return rc;
}

// Generates the pending text answers in one batch and writes their lines.
static int flush_text(predict_ctx *c) {
    if (c->npending == 0) return 0;
    const int32_t *p[16];
    int len[16];
    char *text[16];
    for (int i = 0; i < c->npending; i++) p[i] = c->pending_ids[i].ids, len[i] = (int)c->pending_ids[i].n;
    lm_gen_opts o = {.gen = {.max_new = c->o->max_text_tokens, .sample = sample_params_default()}};
    int rc = lm_generate_batch(c->l, p, len, c->npending, &o, text);
    for (int i = 0; i < c->npending; i++) {
        if (!rc) {
            cJSON_AddStringToObject(c->pending_res[i], "pred", text[i]);
            free(text[i]);
            rc = write_line(c, c->pending_res[i]);
        }
        cJSON_Delete(c->pending_res[i]);
        tok_buf_free(&c->pending_ids[i]);
    }
    c->st->samples += c->npending;
    progress_add(&c->prog, c->npending);
    c->npending = 0;
    return rc;
}

// A beam's tokens as a packed SID (sid_pack), or -1 when it is not a well-formed SID.
static int64_t beam_sid(const sid_vocab *v, const int32_t *toks, int n) {
    int32_t codes[3];
    if (n != 3 || !sid_beam_codes(v, toks, n, codes) || codes[0] >= SID_PACK_K || codes[1] >= SID_PACK_K || codes[2] >= SID_PACK_K)
        return -1;
    return sid_pack(codes[0], codes[1], codes[2]);
}

static int predict_ranking(predict_ctx *c, const tok_buf *prompt, cJSON *res) {
    lm *l = c->l;
    if (!l->has_sid) return err_set("the model has no itemic tokens (run `onerec vocab expand`)");
    if (l->sid.layers != 3) return err_set("RecIF-Bench scores 3-code SIDs; this model has %d layers", l->sid.layers);
    sid_constraint sc = {.trie = c->trie, .vocab = &l->sid};
    // with exclude_history: the SIDs the prompt shows are never recommended
    if (c->trie && c->o->exclude_history && sid_constraint_ban_shown(&sc, prompt->ids, (int64_t)prompt->n))
        return ERR_FAIL;
    beam_params bp = {c->o->width, l->sid.layers, c->trie ? sid_constraint_allowed : NULL, &sc};
    qwen3_kv *kv;
    beam_result r;
    int rc = qwen3_kv_init(&kv, &l->model, gen_kv_tokens_beam((int)prompt->n, bp.width, bp.steps));
    if (!rc) {
        rc = gen_beam(&l->model, kv, prompt->ids, (int)prompt->n, &bp, &r);
        qwen3_kv_free(kv);
    }
    sid_constraint_free(&sc);
    if (rc) return ERR_FAIL;
    cJSON *pred = cJSON_AddArrayToObject(res, "pred");
    for (int b = 0; b < r.n; b++) {
        int64_t sid = beam_sid(&l->sid, r.tokens + (size_t)b * r.steps, r.steps);
        c->st->invalid_beams += sid < 0;
        cJSON_AddItemToArray(pred, cJSON_CreateNumber((double)sid));
    }
    c->st->beams += r.n;
    beam_result_free(&r);
    return 0;
}

static int predict_label(predict_ctx *c, const tok_buf *prompt, cJSON *res) {
    lm *l = c->l;
    if (c->yes < 0 || c->no < 0) return err_set("the tokenizer cannot encode \"是\"/\"否\" as single tokens");
    qwen3_kv *kv;
    int V = l->model.cfg.vocab;
    float *logp = mem_alloc((size_t)V * sizeof(float));
    if (!logp || qwen3_kv_init(&kv, &l->model, gen_kv_tokens_sample((int)prompt->n, 1, 1))) {
        free(logp);
        return ERR_FAIL;
    }
    int seq = qwen3_kv_new_seq(kv);
    int rc = seq < 0 ? ERR_FAIL : gen_prefill(&l->model, kv, seq, prompt->ids, (int)prompt->n, logp);
    if (!rc) {
        // log-probs differ from logits by one constant, so their difference is the logit difference
        cJSON_AddNumberToObject(res, "logit_yes", logp[c->yes]);
        cJSON_AddNumberToObject(res, "logit_no", logp[c->no]);
    }
    qwen3_kv_free(kv);
    free(logp);
    return rc;
}

static void copy_field(cJSON *dst, const cJSON *meta, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    if (v) cJSON_AddItemToObject(dst, key, cJSON_Duplicate(v, 1));
}

static int predict_row(void *vctx, const cJSON *row) {
    predict_ctx *c = vctx;
    if (c->o->max_samples > 0 && c->st->samples + c->npending >= c->o->max_samples) return 0;
    const cJSON *mj = cJSON_GetObjectItemCaseSensitive(row, "messages");
    const cJSON *metaj = cJSON_GetObjectItemCaseSensitive(row, "metadata");
    cJSON *meta = cJSON_IsString(metaj) ? cJSON_Parse(metaj->valuestring) : NULL;
    chat_messages msgs;
    if (!cJSON_IsString(mj) || !meta || !cJSON_GetObjectItemCaseSensitive(meta, "answer") ||
        chat_messages_parse(&msgs, mj->valuestring, c->task)) {
        c->st->skipped++;
        cJSON_Delete(meta);
        return 0;
    }
    tok_buf prompt = {0};
    int rc = lm_chat_prompt(c->l, msgs.msgs, msgs.n, 0, "/no_think", &prompt);
    if (!rc && c->kind == BENCH_RANKING) rc = tok_buf_push(&prompt, c->l->sid_begin, 0);
    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "task", c->task);
    copy_field(res, meta, "answer");
    copy_field(res, meta, "answer_pid");
    copy_field(res, meta, "uid");
    if (!rc) {
        c->st->prompt_tokens += (int64_t)prompt.n;
        if (c->kind == BENCH_TEXT) {
            // queued: the prompt and the line move to the pending batch
            for (size_t i = msgs.n; i-- > 0;)
                if (!strcmp(msgs.msgs[i].role, "user")) {
                    cJSON_AddStringToObject(res, "prompt", msgs.msgs[i].content);
                    break;
                }
            c->pending_ids[c->npending] = prompt;
            c->pending_res[c->npending++] = res;
            memset(&prompt, 0, sizeof prompt);
            res = NULL;
            if (c->npending == 16) rc = flush_text(c);
        } else {
            rc = c->kind == BENCH_RANKING ? predict_ranking(c, &prompt, res) : predict_label(c, &prompt, res);
            if (!rc) rc = write_line(c, res);
            if (!rc) {
                c->st->samples++;
                progress_add(&c->prog, 1);
            }
        }
    }
    cJSON_Delete(res);
    cJSON_Delete(meta);
    tok_buf_free(&prompt);
    chat_messages_free(&msgs);
    return rc ? ERR_FAIL : 0;
}

static int32_t single_token(const lm *l, const char *text) {
    tok_buf b = {0};
    int32_t id = -1;
    if (!lm_encode(l, text, &b) && b.n == 1) id = b.ids[0];
    tok_buf_free(&b);
    return id;
}

int bench_predict_file(lm *l, const char *task, const char *test_path, const bench_predict_opts *o, FILE *out,
                       bench_predict_stats *st) {
    memset(st, 0, sizeof *st);
    predict_ctx c = {.l = l, .task = task, .kind = bench_task_kind_of(task), .o = o, .out = out, .st = st, .yes = -1, .no = -1};
    if (c.kind == BENCH_RANKING) c.trie = !strcmp(bench_task_domain(task), "product") ? o->trie_product : o->trie_video;
    if (c.kind == BENCH_LABEL) {
        c.yes = single_token(l, "是");
        c.no = single_token(l, "否");
    }
    static const dcol cols[] = {{"messages", DCOL_STR, 1}, {"metadata", DCOL_STR, 1}};
    double t0 = time_now();
    char label[64];
    snprintf(label, sizeof label, "eval %s", task);
    progress_begin(&c.prog, label, o->max_samples, "samples");
    int rc = dtab_foreach(test_path, cols, 2, "benchmark test file", predict_row, &c);
    int rf = flush_text(&c);
    if (!rc) rc = rf;
    progress_end(&c.prog);
    st->seconds = time_now() - t0;
    if (!rc && st->skipped) log_warn("%s: %lld rows without usable messages/metadata were skipped", test_path, (long long)st->skipped);
    return rc;
}
