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

// Enumeration: additions a+b (a, b in 0..29), subtractions a-b (0 <= b <= a <= 29),
// products a*b (1..12), then the facts (capital of a country; country of a capital).
#define ADD_N (30 * 30)
#define SUB_N (30 * 31 / 2)
#define MUL_N (12 * 12)
#define FACT_N (2 * LEX_PLACES)

int64_t general_count(void) { return ADD_N + SUB_N + MUL_N + FACT_N; }

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void general_get(data_lang l, int64_t i, int variant, general_qa *qa) {
    int zh = l == LANG_ZH;
    int a = 0, b = 0;
    char op = 0;
    memset(qa, 0, sizeof *qa);
    if (i < ADD_N) {
        a = (int)(i / 30), b = (int)(i % 30), op = '+';
    } else if (i < ADD_N + SUB_N) {
        int64_t k = i - ADD_N;
        for (a = 0; k > a; a++) k -= a + 1;
        b = (int)k, op = '-';
    } else if (i < ADD_N + SUB_N + MUL_N) {
        int64_t k = i - ADD_N - SUB_N;
        a = 1 + (int)(k / 12), b = 1 + (int)(k % 12), op = '*';
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
        // one in five arithmetic pairs is held out
        qa->test = mix64((uint64_t)i * 0x9e3779b97f4a7c15ULL + 7) % 5 == 0;
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
    qa->test = 0;   // facts are knowledge: the test checks that training kept them
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
            if (qa.test) continue;
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
    for (int64_t i = 0; i < n; i++) {
        general_qa qa;
        general_get(l, i, (int)rng_below(&r, 6), &qa);
        cJSON *meta = cJSON_CreateObject();
        cJSON_AddStringToObject(meta, "answer", qa.answer);
        cJSON_AddStringToObject(meta, "skill", qa.skill);
        const char *sys = zh ? "你是一个有帮助的助手，请直接给出答案。" : "You are a helpful assistant. Answer directly.";
        char uuid[64];
        int rc;
        if (!qa.test) {
            snprintf(uuid, sizeof uuid, "general-sft-%lld", (long long)i);
            cJSON *row = msg_row(uuid, qa.skill[0] == 'a' ? "General_Arith" : "General_Fact", meta,
                                 msg_chat(sys, qa.question, qa.answer), NULL);
            rc = !row || dtab_writer_row(w[1], row);
            cJSON_Delete(row);
            (*n_train)++;
        } else {
            cJSON_Delete(meta);
            meta = NULL;
        }
        // the test: held-out arithmetic (never trained on), and every fact (knowledge retention)
        if (qa.test || qa.skill[0] == 'f') {
            general_qa tq;
            general_get(l, i, qa.test ? 0 : 1, &tq);
            cJSON *m2 = cJSON_CreateObject();
            cJSON_AddStringToObject(m2, "answer", tq.answer);
            cJSON_AddStringToObject(m2, "skill", tq.skill);
            snprintf(uuid, sizeof uuid, "general-test-%lld", (long long)i);
            cJSON *row = msg_row(uuid, tq.skill[0] == 'a' ? "General_Arith" : "General_Fact", m2,
                                 msg_chat(sys, tq.question, NULL), NULL);
            rc = !row || dtab_writer_row(w[2], row);
            cJSON_Delete(row);
            (*n_test)++;
        } else rc = 0;
        if (rc) {
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
