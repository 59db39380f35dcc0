#include "eval/judge.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

// The first integer in text within [lo, hi], or -1.
static int first_number(const char *text, int lo, int hi) {
    for (const char *p = text; *p; p++)
        if (isdigit((unsigned char)*p)) {
            int v = atoi(p);
            return v >= lo && v <= hi ? v : -1;
        }
    return -1;
}

int judge_score(void *vctx, const char *prompt, const char *ref, const char *pred, double *score) {
    judge_ctx *c = vctx;
    const char *ask = c->info_points
                          ? "参考描述中的信息点，模型描述覆盖了多少？请输出0到10之间的一个整数（10表示全部覆盖）。"
                            "How many of the reference's information points does the prediction cover? Answer with one integer from 0 to 10."
                          : "请根据参考答案为模型的回答打分，1到5分，5分最好。只输出一个数字。"
                            "Score the prediction against the reference from 1 to 5 (5 best). Answer with one digit.";
    char *user = mem_printf("%s\n问题 / question: %s\n参考 / reference: %s\n回答 / prediction: %s", ask, prompt, ref, pred);
    if (!user) return ERR_FAIL;
    chat_msg msgs[2] = {{"system", "你是一个严格的评分员。You are a strict grader.", NULL}, {"user", user, NULL}};
    tok_buf ids = {0};
    char *text = NULL;
    lm_gen_opts o = {.gen = {.max_new = 6, .sample = sample_params_default()}};
    int rc = lm_chat_prompt(c->judge, msgs, 2, 0, NULL, &ids);
    if (!rc) rc = lm_generate(c->judge, ids.ids, (int)ids.n, &o, &text);
    if (!rc) {
        int v = c->info_points ? first_number(text, 0, 10) : first_number(text, 1, 5);
        c->calls++;
        if (v < 0) c->unparsable++;
        *score = c->info_points ? (v < 0 ? 0.0 : v / 10.0) : (v < 0 ? 1.0 : (double)v);
    }
    free(text);
    free(user);
    tok_buf_free(&ids);
    return rc;
}
