#include "eval/general.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/general.h"
#include "data/table.h"
#include "text/chat_json.h"

#define GENERAL_BATCH 32   // questions decoded together

typedef struct {
    lm *l;
    int64_t max;
    int max_new;
    general_result *r;
    progress prog;
    int n;                              // pending questions
    tok_buf ids[GENERAL_BATCH];
    char *answer[GENERAL_BATCH];
    int fact[GENERAL_BATCH];
} gctx;

static int flush(gctx *c) {
    if (c->n == 0) return 0;
    const int32_t *p[GENERAL_BATCH];
    int len[GENERAL_BATCH];
    char *text[GENERAL_BATCH];
    for (int i = 0; i < c->n; i++) p[i] = c->ids[i].ids, len[i] = (int)c->ids[i].n;
    lm_gen_opts o = {.gen = {.max_new = c->max_new, .sample = sample_params_default()}};
    int rc = lm_generate_batch(c->l, p, len, c->n, &o, text);
    for (int i = 0; i < c->n; i++) {
        if (!rc) {
            int ok = general_score(text[i], c->answer[i]) != 0;
            c->r->correct += ok;
            c->r->n++;
            c->r->skill_n[c->fact[i]]++;
            c->r->skill_correct[c->fact[i]] += ok;
            free(text[i]);
        }
        tok_buf_free(&c->ids[i]);
        free(c->answer[i]);
    }
    progress_add(&c->prog, c->n);
    c->n = 0;
    return rc;
}

static int general_row(void *vctx, const cJSON *row) {
    gctx *c = vctx;
    if (c->max > 0 && c->r->n + c->n >= c->max) return 0;
    const cJSON *mj = cJSON_GetObjectItemCaseSensitive(row, "messages"), *metaj = cJSON_GetObjectItemCaseSensitive(row, "metadata");
    cJSON *meta = cJSON_IsString(metaj) ? cJSON_Parse(metaj->valuestring) : NULL;
    const cJSON *ans = meta ? cJSON_GetObjectItemCaseSensitive(meta, "answer") : NULL;
    const cJSON *skill = meta ? cJSON_GetObjectItemCaseSensitive(meta, "skill") : NULL;
    chat_messages m;
    if (!cJSON_IsString(mj) || !cJSON_IsString(ans) || chat_messages_parse(&m, mj->valuestring, "general test")) {
        cJSON_Delete(meta);
        return err_set("a general_test row needs messages and metadata.answer");
    }
    int k = c->n;
    memset(&c->ids[k], 0, sizeof c->ids[k]);
    int rc = lm_chat_prompt(c->l, m.msgs, m.n, 0, "/no_think", &c->ids[k]);
    c->answer[k] = mem_strdup(ans->valuestring);
    c->fact[k] = cJSON_IsString(skill) && !strcmp(skill->valuestring, "fact");
    chat_messages_free(&m);
    cJSON_Delete(meta);
    c->n++;
    if (!rc && !c->answer[k]) rc = ERR_FAIL;
    if (!rc && c->n == GENERAL_BATCH) rc = flush(c);
    return rc;
}

int eval_general(lm *l, const char *test_path, int64_t max_samples, int max_new, general_result *out) {
    memset(out, 0, sizeof *out);
    gctx *c = mem_calloc(1, sizeof(gctx));
    if (!c) return ERR_FAIL;
    c->l = l, c->max = max_samples, c->max_new = max_new, c->r = out;
    static const dcol cols[] = {{"messages", DCOL_STR, 0}, {"metadata", DCOL_STR, 0}};
    progress_begin(&c->prog, "general skill", max_samples, "questions");
    int rc = dtab_foreach(test_path, cols, 2, "general test file", general_row, c);
    int rf = flush(c);
    if (!rc) rc = rf;
    progress_end(&c->prog);
    free(c);
    if (!rc && out->n == 0) rc = err_set("%s: no questions", test_path);
    out->accuracy = out->n ? (double)out->correct / (double)out->n : 0;
    for (int k = 0; k < 2; k++) out->skill_accuracy[k] = out->skill_n[k] ? (double)out->skill_correct[k] / (double)out->skill_n[k] : 0;
    return rc;
}
