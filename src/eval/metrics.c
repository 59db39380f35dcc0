#include "eval/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"

// ---- ranking metrics -------------------------------------------------------------------------

int rec_metrics_init(rec_metrics *m, const int *ks, int nk) {
    static const int bench_ks[] = {1, 32};
    memset(m, 0, sizeof *m);
    if (!ks) {
        ks = bench_ks;
        nk = 2;
    }
    if (nk < 1 || nk > METRICS_MAX_K) return err_set("metrics: %d cut-offs k (1..%d allowed)", nk, METRICS_MAX_K);
    for (int i = 0; i < nk; i++) {
        if (ks[i] < 1) return err_set("metrics: cut-off k=%d must be >= 1", ks[i]);
        m->ks[i] = ks[i];
    }
    m->nk = nk;
    return 0;
}

int rec_metrics_add(rec_metrics *m, const int64_t *pred, int npred, const int64_t *gt, int ngt) {
    if (npred < 0 || ngt < 0) return err_set("metrics: negative list length");
    // Ground truth, de-duplicated in order. Lists are short (<= a few hundred), so quadratic
    // membership tests are cheaper than building a hash set per sample.
    int64_t stack_buf[256];
    int64_t *g = ngt <= 256 ? stack_buf : mem_alloc((size_t)ngt * sizeof *g);
    if (!g) return ERR_FAIL;
    int ng = 0;
    for (int i = 0; i < ngt; i++) {
        int seen = 0;
        for (int j = 0; j < ng && !seen; j++) seen = g[j] == gt[i];
        if (!seen) g[ng++] = gt[i];
    }
    if (ng == 0) {
        m->n_empty_gt++;
        if (g != stack_buf) free(g);
        return 0;
    }
    // hit_at[j]: the rank (0-based) at which ground-truth item j first appears in pred, or -1.
    int hit_stack[256];
    int *hit_at = ng <= 256 ? hit_stack : mem_alloc((size_t)ng * sizeof *hit_at);
    if (!hit_at) {
        if (g != stack_buf) free(g);
        return ERR_FAIL;
    }
    int first_any = -1;   // rank of the first prediction that is in GT
    for (int j = 0; j < ng; j++) hit_at[j] = -1;
    for (int r = 0; r < npred; r++) {
        if (pred[r] < 0) continue;
        for (int j = 0; j < ng; j++) {
            if (pred[r] == g[j]) {
                if (hit_at[j] < 0) hit_at[j] = r;
                if (first_any < 0) first_any = r;
                break;
            }
        }
    }
    for (int i = 0; i < m->nk; i++) {
        int k = m->ks[i];
        int found = 0;
        for (int j = 0; j < ng; j++) found += hit_at[j] >= 0 && hit_at[j] < k;
        m->pass[i] += first_any >= 0 && first_any < k;
        m->pos1[i] += hit_at[0] >= 0 && hit_at[0] < k;
        m->recall[i] += (double)found / ng;
    }
    m->n++;
    if (g != stack_buf) free(g);
    if (hit_at != hit_stack) free(hit_at);
    return 0;
}

static double mean_of(double sum, int64_t n) { return n ? sum / (double)n : 0.0; }
double rec_metrics_pass(const rec_metrics *m, int ki) { return mean_of(m->pass[ki], m->n); }
double rec_metrics_pos1(const rec_metrics *m, int ki) { return mean_of(m->pos1[ki], m->n); }
double rec_metrics_recall(const rec_metrics *m, int ki) { return mean_of(m->recall[ki], m->n); }

int rec_metrics_merge(rec_metrics *a, const rec_metrics *b) {
    if (a->nk != b->nk || memcmp(a->ks, b->ks, sizeof(int) * (size_t)a->nk))
        return err_set("metrics: cannot merge accumulators with different cut-offs");
    a->n += b->n;
    a->n_empty_gt += b->n_empty_gt;
    for (int i = 0; i < a->nk; i++) {
        a->pass[i] += b->pass[i];
        a->pos1[i] += b->pos1[i];
        a->recall[i] += b->recall[i];
    }
    return 0;
}

// ---- AUC --------------------------------------------------------------------------------------

static const double *g_sort_scores;   // qsort has no context argument; AUC is not called in parallel
static int cmp_by_score(const void *a, const void *b) {
    double x = g_sort_scores[*(const int64_t *)a], y = g_sort_scores[*(const int64_t *)b];
    return (x > y) - (x < y);
}

int metrics_auc(const double *scores, const int *labels, int64_t n, double *auc) {
    int64_t npos = 0;
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] != 0 && labels[i] != 1) return err_set("auc: label %d at sample %lld is not 0/1", labels[i], (long long)i);
        if (isnan(scores[i])) return err_set("auc: score at sample %lld is NaN", (long long)i);
        npos += labels[i];
    }
    int64_t nneg = n - npos;
    if (npos == 0 || nneg == 0)
        return err_set("auc: undefined with %lld positive and %lld negative samples (both classes needed)",
                       (long long)npos, (long long)nneg);
    int64_t *idx = mem_alloc((size_t)n * sizeof *idx);
    if (!idx) return ERR_FAIL;
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    g_sort_scores = scores;
    qsort(idx, (size_t)n, sizeof *idx, cmp_by_score);
    // Mann-Whitney U: sum of the (1-based, tie-averaged) ranks of the positives.
    double rank_sum = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        int64_t pos_in_group = 0;
        while (j < n && scores[idx[j]] == scores[idx[i]]) pos_in_group += labels[idx[j++]];
        double mean_rank = 0.5 * (double)(i + 1 + j);   // mean of ranks i+1 .. j
        rank_sum += mean_rank * (double)pos_in_group;
        i = j;
    }
    free(idx);
    double u = rank_sum - 0.5 * (double)npos * (double)(npos + 1);
    *auc = u / ((double)npos * (double)nneg);
    return 0;
}

double metrics_yes_score(double logit_yes, double logit_no) {
    // p_yes / (p_yes + p_no) = 1 / (1 + exp(l_no - l_yes)); the softmax normaliser cancels.
    double d = logit_no - logit_yes;
    if (d > 0) {
        double e = exp(-d);
        return e / (1.0 + e);
    }
    return 1.0 / (1.0 + exp(d));
}

// ---- text metrics -----------------------------------------------------------------------------

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

double text_metrics_rouge_l(const text_metrics *m) { return mean_of(m->rouge_l, m->n); }
double text_metrics_char_f1(const text_metrics *m) { return mean_of(m->char_f1, m->n); }
double text_metrics_judge(const text_metrics *m) { return m->n_judged ? m->judge / (double)m->n_judged : NAN; }

// ---- PID mode ---------------------------------------------------------------------------------

static uint64_t hash64(uint64_t x) {   // splitmix64 finaliser: packed SIDs are far from uniform
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

int sid2pid_init(sid2pid *m, int64_t expected) {
    memset(m, 0, sizeof *m);
    int64_t cap = 16;
    while (cap < 2 * expected) cap *= 2;
    m->keys = mem_alloc((size_t)cap * sizeof *m->keys);
    m->pids = mem_alloc((size_t)cap * 2 * sizeof *m->pids);   // pid, count interleaved
    if (!m->keys || !m->pids) {
        sid2pid_free(m);
        return ERR_FAIL;
    }
    for (int64_t i = 0; i < cap; i++) m->keys[i] = -1;
    m->cap = cap;
    return 0;
}

void sid2pid_free(sid2pid *m) {
    free(m->keys);
    free(m->pids);
    memset(m, 0, sizeof *m);
}

static int64_t slot_of(const sid2pid *m, int64_t sid) {
    uint64_t h = hash64((uint64_t)sid) & (uint64_t)(m->cap - 1);
    while (m->keys[h] != -1 && m->keys[h] != sid) h = (h + 1) & (uint64_t)(m->cap - 1);
    return (int64_t)h;
}

static int grow(sid2pid *m) {
    sid2pid big;
    if (sid2pid_init(&big, m->cap)) return ERR_FAIL;   // doubles the capacity
    for (int64_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == -1) continue;
        int64_t s = slot_of(&big, m->keys[i]);
        big.keys[s] = m->keys[i];
        big.pids[2 * s] = m->pids[2 * i];
        big.pids[2 * s + 1] = m->pids[2 * i + 1];
    }
    big.n = m->n;
    sid2pid_free(m);
    *m = big;
    return 0;
}

int sid2pid_offer(sid2pid *m, int64_t sid, int64_t pid, int64_t count) {
    if (sid < 0) return err_set("sid2pid: negative SID %lld", (long long)sid);
    if (2 * (m->n + 1) > m->cap && grow(m)) return ERR_FAIL;
    int64_t s = slot_of(m, sid);
    if (m->keys[s] == -1) {
        m->keys[s] = sid;
        m->pids[2 * s] = pid;
        m->pids[2 * s + 1] = count;
        m->n++;
        return 0;
    }
    int64_t best = m->pids[2 * s], best_count = m->pids[2 * s + 1];
    if (count > best_count || (count == best_count && pid < best)) {
        m->pids[2 * s] = pid;
        m->pids[2 * s + 1] = count;
    }
    return 0;
}

int64_t sid2pid_get(const sid2pid *m, int64_t sid) {
    if (sid < 0 || !m->cap) return -1;
    int64_t s = slot_of(m, sid);
    return m->keys[s] == sid ? m->pids[2 * s] : -1;
}

void sid2pid_map(const sid2pid *m, const int64_t *sids, int n, int64_t *out) {
    for (int i = 0; i < n; i++) out[i] = sid2pid_get(m, sids[i]);
}

static int parse_i64(const char *s, int64_t *v) {
    char *end;
    long long x = strtoll(s, &end, 10);
    if (end == s || *end) return ERR_FAIL;
    *v = x;
    return 0;
}

int sid2pid_load_json(sid2pid *m, const char *path) {
    cJSON *root = json_load_file(path);
    if (!root) return ERR_FAIL;
    int rc = 0;
    if (!cJSON_IsObject(root)) rc = err_set("%s: expected a JSON object {sid: items}", path);
    if (!rc) rc = sid2pid_init(m, cJSON_GetArraySize(root));
    const cJSON *e;
    int64_t row = 0;
    cJSON_ArrayForEach(e, root) {
        if (rc) break;
        int64_t sid;
        if (parse_i64(e->string, &sid)) {
            rc = err_set("%s: key \"%s\" is not a packed SID integer", path, e->string);
            break;
        }
        if (cJSON_IsArray(e)) {   // most popular first: rank r gets count -r
            int64_t r = 0;
            const cJSON *p;
            cJSON_ArrayForEach(p, e) {
                if (!cJSON_IsNumber(p)) {
                    rc = err_set("%s: SID %s: item list holds a non-number", path, e->string);
                    break;
                }
                if ((rc = sid2pid_offer(m, sid, (int64_t)p->valuedouble, -r++))) break;
            }
        } else if (cJSON_IsObject(e)) {
            const cJSON *p;
            cJSON_ArrayForEach(p, e) {
                int64_t pid;
                if (parse_i64(p->string, &pid) || !cJSON_IsNumber(p)) {
                    rc = err_set("%s: SID %s: entry \"%s\" must be \"pid\": count", path, e->string, p->string);
                    break;
                }
                if ((rc = sid2pid_offer(m, sid, pid, (int64_t)p->valuedouble))) break;
            }
        } else {
            rc = err_set("%s: SID %s: value must be a list of pids or a {pid: count} object", path, e->string);
        }
        row++;
    }
    cJSON_Delete(root);
    if (rc) sid2pid_free(m);
    return rc;
}

int metrics_parse_ks(const char *s, int *ks, int *nk) {
    *nk = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 1000000 || (*end && *end != ','))
            return err_set("cut-offs \"%s\": expected a comma-separated list of integers >= 1", s);
        if (*nk == METRICS_MAX_K) return err_set("cut-offs \"%s\": at most %d values", s, METRICS_MAX_K);
        ks[(*nk)++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (*nk == 0) return err_set("cut-offs: empty list");
    return 0;
}
