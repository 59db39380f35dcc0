#include "eval/metrics_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "base/err.h"
#include "base/mem.h"

static int is_cjk(utf8proc_int32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2FA1F) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x3040 && c <= 0x30FF) || (c >= 0xAC00 && c <= 0xD7AF) ||
           (c >= 0x3100 && c <= 0x312F);
}

static int is_word_char(utf8proc_int32_t c) {
    utf8proc_category_t cat = utf8proc_category(c);
    return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
           (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME) ||
           (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

// Appends codepoint c (lower-cased) to a growing buffer.
static int put_cp(char **buf, size_t *len, size_t *cap, utf8proc_int32_t c) {
    if (*len + 8 > *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        char *nb = mem_realloc(*buf, nc);
        if (!nb) return ERR_FAIL;
        *buf = nb;
        *cap = nc;
    }
    *len += (size_t)utf8proc_encode_char(utf8proc_tolower(c), (utf8proc_uint8_t *)*buf + *len);
    (*buf)[*len] = 0;
    return 0;
}

static int push_token(char ***toks, int *n, int *cap, char *tok) {
    if (*n == *cap) {
        int nc = *cap ? 2 * *cap : 32;
        char **nt = mem_realloc(*toks, (size_t)nc * sizeof *nt);
        if (!nt) return ERR_FAIL;
        *toks = nt;
        *cap = nc;
    }
    (*toks)[(*n)++] = tok;
    return 0;
}

int text_tokenize(const char *s, char ***tokens) {
    char **toks = NULL;
    int n = 0, cap = 0;
    char *word = NULL;   // the word being built
    size_t wlen = 0, wcap = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
    int rc = 0;
    while (left > 0 && rc == 0) {
        utf8proc_int32_t c;
        utf8proc_ssize_t len = utf8proc_iterate(p, left, &c);
        if (len <= 0) {   // invalid byte: a separator
            len = 1;
            c = ' ';
        }
        p += len;
        left -= len;
        int cjk = is_cjk(c), wc = !cjk && is_word_char(c);
        if (!wc && word) {   // the running word ends here
            rc = push_token(&toks, &n, &cap, word);
            word = NULL;
            wlen = wcap = 0;
        }
        if (rc) break;
        if (wc) rc = put_cp(&word, &wlen, &wcap, c);
        else if (cjk) {
            char *t = NULL;
            size_t tl = 0, tc = 0;
            rc = put_cp(&t, &tl, &tc, c);
            if (!rc) rc = push_token(&toks, &n, &cap, t);
            if (rc) free(t);
        }
    }
    if (!rc && word) {
        rc = push_token(&toks, &n, &cap, word);
        word = NULL;
    }
    free(word);
    if (rc) {
        text_tokens_free(toks, n);
        return ERR_FAIL;
    }
    *tokens = toks;
    return n;
}

void text_tokens_free(char **tokens, int n) {
    if (!tokens) return;
    for (int i = 0; i < n; i++) free(tokens[i]);
    free(tokens);
}

static double f1_of(double overlap, double np, double nr) {
    if (np == 0 && nr == 0) return 1.0;
    if (overlap == 0) return 0.0;
    double p = overlap / np, r = overlap / nr;
    return 2 * p * r / (p + r);
}

double text_rouge_l(const char *pred, const char *ref) {
    char **a = NULL, **b = NULL;
    int na = text_tokenize(pred, &a);
    int nb = text_tokenize(ref, &b);
    double f = 0;
    if (na >= 0 && nb >= 0) {
        // LCS length by dynamic programming, two rows of nb+1
        int *prev = calloc((size_t)nb + 1, sizeof *prev), *cur = calloc((size_t)nb + 1, sizeof *cur);
        if (prev && cur) {
            for (int i = 1; i <= na; i++) {
                for (int j = 1; j <= nb; j++) {
                    if (!strcmp(a[i - 1], b[j - 1])) cur[j] = prev[j - 1] + 1;
                    else cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
                }
                int *t = prev;
                prev = cur;
                cur = t;
            }
            f = f1_of(prev[nb], na, nb);
        }
        free(prev);
        free(cur);
    }
    if (na > 0) text_tokens_free(a, na);
    if (nb > 0) text_tokens_free(b, nb);
    return f;
}

static int cmp_cp(const void *a, const void *b) {
    utf8proc_int32_t x = *(const utf8proc_int32_t *)a, y = *(const utf8proc_int32_t *)b;
    return (x > y) - (x < y);
}

// Non-space codepoints of s, lower-cased and sorted; returns the count (or -1).
static int64_t sorted_chars(const char *s, utf8proc_int32_t **out) {
    size_t n = strlen(s);
    utf8proc_int32_t *cps = mem_alloc((n + 1) * sizeof *cps);
    if (!cps) return -1;
    int64_t m = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)n;
    while (left > 0) {
        utf8proc_int32_t c;
        utf8proc_ssize_t len = utf8proc_iterate(p, left, &c);
        if (len <= 0) len = 1, c = -1;
        p += len;
        left -= len;
        if (c < 0) continue;
        utf8proc_category_t cat = utf8proc_category(c);
        if (cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP ||
            cat == UTF8PROC_CATEGORY_CC)
            continue;
        cps[m++] = utf8proc_tolower(c);
    }
    qsort(cps, (size_t)m, sizeof *cps, cmp_cp);
    *out = cps;
    return m;
}

double text_char_f1(const char *pred, const char *ref) {
    utf8proc_int32_t *a = NULL, *b = NULL;
    int64_t na = sorted_chars(pred, &a), nb = sorted_chars(ref, &b);
    double f = 0;
    if (na >= 0 && nb >= 0) {
        int64_t i = 0, j = 0, overlap = 0;
        while (i < na && j < nb) {
            if (a[i] == b[j]) overlap++, i++, j++;
            else if (a[i] < b[j]) i++;
            else j++;
        }
        f = f1_of((double)overlap, (double)na, (double)nb);
    }
    free(a);
    free(b);
    return f;
}

void text_metrics_init(text_metrics *m, text_judge_fn judge, void *judge_ctx) {
    memset(m, 0, sizeof *m);
    m->judge_fn = judge;
    m->judge_ctx = judge_ctx;
}

int text_metrics_add(text_metrics *m, const char *prompt, const char *pred, const char *ref) {
    m->rouge_l += text_rouge_l(pred, ref);
    m->char_f1 += text_char_f1(pred, ref);
    m->n++;
    if (m->judge_fn) {
        double s;
        if (m->judge_fn(m->judge_ctx, prompt ? prompt : "", ref, pred, &s))
            return err_wrap("judge on sample %lld", (long long)m->n - 1);
        m->judge += s;
        m->n_judged++;
    }
    return 0;
}

double text_metrics_rouge_l(const text_metrics *m) { return m->n ? m->rouge_l / (double)m->n : 0.0; }
double text_metrics_char_f1(const text_metrics *m) { return m->n ? m->char_f1 / (double)m->n : 0.0; }
double text_metrics_judge(const text_metrics *m) { return m->n_judged ? m->judge / (double)m->n_judged : NAN; }
