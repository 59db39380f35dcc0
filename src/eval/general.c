#include "eval/general.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "data/general.h"
#include "data/table.h"
#include "text/chat_json.h"

typedef struct {
    lm *l;
    int64_t max;
    int max_new;
    general_result *r;
    progress prog;
} gctx;

static int general_row(void *vctx, const cJSON *row) {
    gctx *c = vctx;
    if (c->max > 0 && c->r->n >= c->max) return 0;
    const cJSON *mj = cJSON_GetObjectItemCaseSensitive(row, "messages"), *metaj = cJSON_GetObjectItemCaseSensitive(row, "metadata");
    cJSON *meta = cJSON_IsString(metaj) ? cJSON_Parse(metaj->valuestring) : NULL;
    const cJSON *ans = meta ? cJSON_GetObjectItemCaseSensitive(meta, "answer") : NULL;
    chat_messages m;
    if (!cJSON_IsString(mj) || !cJSON_IsString(ans) || chat_messages_parse(&m, mj->valuestring, "general test")) {
        cJSON_Delete(meta);
        return err_set("a general_test row needs messages and metadata.answer");
    }
    tok_buf ids = {0};
    char *text = NULL;
    lm_gen_opts o = {.gen = {.max_new = c->max_new, .sample = sample_params_default()}};
    int rc = lm_chat_prompt(c->l, m.msgs, m.n, 0, "/no_think", &ids);
    if (!rc) rc = lm_generate(c->l, ids.ids, (int)ids.n, &o, &text);
    if (!rc) {
        int ok = general_score(text, ans->valuestring) != 0;
        const cJSON *skill = cJSON_GetObjectItemCaseSensitive(meta, "skill");
        int fact = cJSON_IsString(skill) && !strcmp(skill->valuestring, "fact");
        c->r->correct += ok;
        c->r->n++;
        c->r->skill_n[fact]++;
        c->r->skill_correct[fact] += ok;
        progress_add(&c->prog, 1);
    }
    free(text);
    tok_buf_free(&ids);
    chat_messages_free(&m);
    cJSON_Delete(meta);
    return rc;
}

int eval_general(lm *l, const char *test_path, int64_t max_samples, int max_new, general_result *out) {
    memset(out, 0, sizeof *out);
    gctx c = {.l = l, .max = max_samples, .max_new = max_new, .r = out};
    static const dcol cols[] = {{"messages", DCOL_STR, 0}, {"metadata", DCOL_STR, 0}};
    progress_begin(&c.prog, "general skill", max_samples, "questions");
    int rc = dtab_foreach(test_path, cols, 2, "general test file", general_row, &c);
    progress_end(&c.prog);
    if (!rc && out->n == 0) rc = err_set("%s: no questions", test_path);
    out->accuracy = out->n ? (double)out->correct / (double)out->n : 0;
    for (int k = 0; k < 2; k++) out->skill_accuracy[k] = out->skill_n[k] ? (double)out->skill_correct[k] / (double)out->skill_n[k] : 0;
    return rc;
}
