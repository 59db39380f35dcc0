#include "data/general.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "base/rng.h"
#include "data/msg.h"
#include "data/table.h"

// Enumeration: the single-digit tables, additions a+b (a, b in 0..9), subtractions a-b
// (0 <= b <= a <= 9), products a*b (1..9), then the facts (capital of a country; country of a
// capital). Small enough that a 4-layer, 128-wide base model learns all of it in two minutes of
// training, so later stages have a skill to lose and distillation one to restore. (Two-digit
// arithmetic with held-out pairs measured generalisation instead, but the tiny base reached 8%
// on it: no skill for the finding to track.)
#define ARITH_MAX 10
#define ADD_N (ARITH_MAX * ARITH_MAX)
#define SUB_N (ARITH_MAX * (ARITH_MAX + 1) / 2)
#define MUL_N ((ARITH_MAX - 1) * (ARITH_MAX - 1))
#define FACT_N (2 * LEX_PLACES)

int64_t general_count(void) { return ADD_N + SUB_N + MUL_N + FACT_N; }

void general_get(data_lang l, int64_t i, int variant, general_qa *qa) {
    int zh = l == LANG_ZH;
    int a = 0, b = 0;
    char op = 0;
    memset(qa, 0, sizeof *qa);
    if (i < ADD_N) {
        a = (int)(i / ARITH_MAX), b = (int)(i % ARITH_MAX), op = '+';
    } else if (i < ADD_N + SUB_N) {
        int64_t k = i - ADD_N;
        for (a = 0; k > a; a++) k -= a + 1;
        b = (int)k, op = '-';
    } else if (i < ADD_N + SUB_N + MUL_N) {
        int64_t k = i - ADD_N - SUB_N;
        a = 1 + (int)(k / (ARITH_MAX - 1)), b = 1 + (int)(k % (ARITH_MAX - 1)), op = '*';
    }
    if (op) {
        int r = op == '+' ? a + b : op == '-' ? a - b : a * b;
        const char *shown = op == '*' ? "×" : op == '+' ? "+" : "-";
        switch (variant % 3) {
        case 0: snprintf(qa->question, sizeof qa->question, "%d%s%d=", a, shown, b); break;
        case 1: snprintf(qa->question, sizeof qa->question, zh ? "计算：%d%s%d等于多少？" : "Compute %d%s%d.", a, shown, b); break;
        default: snprintf(qa->question, sizeof qa->question, zh ? "%d%s%d的结果是？" : "What is %d%s%d?", a, shown, b); break;
        }
        snprintf(qa->answer, sizeof qa->answer, "%d", r);
        qa->skill = "arith";
        return;
    }
    int64_t k = i - ADD_N - SUB_N - MUL_N;
    int p = (int)(k % LEX_PLACES);
    if (k < LEX_PLACES) {
        if (variant % 2 == 0) snprintf(qa->question, sizeof qa->question, zh ? "%s的首都是哪里？" : "What is the capital of %s?", lex_place(l, p));
        else snprintf(qa->question, sizeof qa->question, zh ? "请问%s的首都叫什么？" : "Name the capital city of %s.", lex_place(l, p));
        snprintf(qa->answer, sizeof qa->answer, "%s", lex_capital(l, p));
    } else {
        if (variant % 2 == 0) snprintf(qa->question, sizeof qa->question, zh ? "%s是哪个国家的首都？" : "%s is the capital of which country?", lex_capital(l, p));
        else snprintf(qa->question, sizeof qa->question, zh ? "首都为%s的国家是？" : "Which country has the capital %s?", lex_capital(l, p));
        snprintf(qa->answer, sizeof qa->answer, "%s", lex_place(l, p));
    }
    qa->skill = "fact";
}

int general_score(const char *pred, const char *answer) {
    const char *s = pred;
    const char *th = strstr(s, "</think>");
    if (th) s = th + strlen("</think>");
    while (*s && isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    for (;;) {
        while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
        if (n > 0 && strchr(".,!", s[n - 1])) {
            n--;
            continue;
        }
        if (n >= 3 && (!memcmp(s + n - 3, "。", 3) || !memcmp(s + n - 3, "！", 3) || !memcmp(s + n - 3, "，", 3))) {
            n -= 3;
            continue;
        }
        break;
    }
    return n == strlen(answer) && !memcmp(s, answer, n);
}

static int general_write_row(dtab_writer *w, data_lang l, const char *kind, int64_t i, int variant, int with_answer) {
    general_qa qa;
    general_get(l, i, variant, &qa);
    const char *sys = l == LANG_ZH ? "你是一个有帮助的助手，请直接给出答案。" : "You are a helpful assistant. Answer directly.";
    cJSON *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "answer", qa.answer);
    cJSON_AddStringToObject(meta, "skill", qa.skill);
    char uuid[64];
    snprintf(uuid, sizeof uuid, "general-%s-%lld", kind, (long long)i);
    cJSON *row = msg_row(uuid, qa.skill[0] == 'a' ? "General_Arith" : "General_Fact", meta,
                         msg_chat(sys, qa.question, with_answer ? qa.answer : NULL), NULL);
    int rc = !row || dtab_writer_row(w, row);
    cJSON_Delete(row);
    return rc;
}

// Pair i: a training Chat row (wording `variant`) and a test prompt (arithmetic as "a+b=",
// facts in their second wording; both wordings are among the trained ones).
static int general_write_pair(dtab_writer *w[3], data_lang l, int64_t i, int variant, int64_t *n_train, int64_t *n_test) {
    general_qa qa;
    general_get(l, i, 0, &qa);
    if (general_write_row(w[1], l, "sft", i, variant, 1)) return ERR_FAIL;
    (*n_train)++;
    if (general_write_row(w[2], l, "test", i, qa.skill[0] == 'a' ? 0 : 1, 0)) return ERR_FAIL;
    (*n_test)++;
    return 0;
}

int general_write(const char *dir, data_lang l, uint64_t seed, const char *ext, int64_t *n_train, int64_t *n_test) {
    int zh = l == LANG_ZH;
    char path[3][1024];
    const char *names[3] = {"general_pretrain", "general_sft", "general_test"};
    dtab_writer *w[3] = {0};
    if (file_mkdirs(dir)) return ERR_FAIL;
    for (int f = 0; f < 3; f++) {
        snprintf(path[f], sizeof path[f], "%s/%s%s", dir, names[f], ext);
        if (dtab_writer_open(&w[f], path[f], MSG_COLS, 5)) goto fail;
    }
    rng r;
    rng_seed_stream(&r, seed, 0x6e6e);
    int64_t n = general_count();
    *n_train = *n_test = 0;
    // Segments rows: 8 "Q A" lines each, in a shuffled order of the training pairs
    uint32_t *order = mem_alloc(sizeof *order * (size_t)n);
    if (!order) goto fail;
    for (int64_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    rng_shuffle_u32(&r, order, (size_t)n);
    char text[4096];
    size_t tl = 0;
    int lines = 0, seg_rows = 0;
    for (int pass = 0; pass < 3; pass++)   // three wordings of each training pair
        for (int64_t q = 0; q < n; q++) {
            general_qa qa;
            general_get(l, order[q], pass, &qa);
            tl += (size_t)snprintf(text + tl, sizeof text - tl, zh ? "问：%s 答：%s\n" : "Q: %s A: %s\n", qa.question, qa.answer);
            if (++lines == 8 || (pass == 2 && q == n - 1)) {
                char uuid[64];
                snprintf(uuid, sizeof uuid, "general-pretrain-%d", seg_rows++);
                cJSON *row = msg_row(uuid, "General_Pretrain", NULL, NULL, msg_segments_text(text));
                int rc = !row || dtab_writer_row(w[0], row);
                cJSON_Delete(row);
                if (rc) {
                    free(order);
                    goto fail;
                }
                tl = 0;
                lines = 0;
            }
        }
    // every pair is trained (one Chat row in a random wording) and asked again by the test in a
    // fixed trained wording: the test measures memorised knowledge, which is what later stages
    // can lose and distillation can restore
    for (int64_t i = 0; i < n; i++) {
        if (general_write_pair(w, l, i, (int)rng_below(&r, 6), n_train, n_test)) {
            free(order);
            goto fail;
        }
    }
    free(order);
    for (int f = 0; f < 3; f++) {
        int rc = dtab_writer_close(w[f]);
        w[f] = NULL;
        if (rc) goto fail;
    }
    return 0;
fail:
    for (int f = 0; f < 3; f++) dtab_writer_abort(w[f]);
    return err_wrap("writing the general corpus in %s", dir);
}
