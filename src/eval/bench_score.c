#include "eval/bench_score.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/table.h"
#include "eval/metrics_auc.h"
#include "rec/sid.h"

enum { KIND_RANK, KIND_AUC, KIND_TEXT };

typedef struct {
    char name[64];
    int kind;
    rec_metrics sid, pid;
    int has_pid;
    double *scores;
    int *labels;
    int64_t n, cap;
    text_metrics text;
} task_acc;

// The RecIF-Bench tasks and the baseline bench's "markov": a misspelt name would be scored as a
// ranking task of its own and look like a real, bad result.
static int task_known(const char *t) {
    static const char *const names[] = {"video", "ad", "product", "interactive", "label_cond", "label_pred",
                                        "item_understand", "rec_reason", "markov"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(t, names[i])) return 1;
    return 0;
}

static int task_kind(const char *t) {
    if (!strcmp(t, "label_pred")) return KIND_AUC;
    if (!strcmp(t, "item_understand") || !strcmp(t, "rec_reason")) return KIND_TEXT;
    return KIND_RANK;
}

// Items of a JSON array (packed ints or SID strings) or of a SID string; returns the count.
static int items_of(const cJSON *v, int64_t *out, int max) {
    if (cJSON_IsString(v)) return sid_scan_packed(out, max, v->valuestring);
    if (!cJSON_IsArray(v)) return -1;   // a bare number is not a list of one: refused, not scored 0
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (n >= max) break;
        if (cJSON_IsNumber(e)) out[n++] = (int64_t)e->valuedouble;
        else if (cJSON_IsString(e)) {
            int64_t s;
            out[n++] = sid_scan_packed(&s, 1, e->valuestring) == 1 ? s : -1;   // unparsable: a miss
        } else return -1;
    }
    return n;
}

#define MAX_LIST 4096

static int score_line(const cJSON *j, task_acc *t, const bench_score_opts *opt, int64_t *a, int64_t *b,
                      const char *where) {
    if (t->kind == KIND_RANK) {
        const cJSON *pred = cJSON_GetObjectItemCaseSensitive(j, "pred");
        const cJSON *gt = cJSON_GetObjectItemCaseSensitive(j, "gt");
        if (!gt) gt = cJSON_GetObjectItemCaseSensitive(j, "answer");
        if (!pred || !gt) return err_set("%s: a ranking sample needs \"pred\" and \"answer\" (or \"gt\")", where);
        int np = items_of(pred, a, MAX_LIST), ng = items_of(gt, b, MAX_LIST);
        if (np < 0 || ng < 0) return err_set("%s: \"pred\"/\"answer\" must be SID strings or integers", where);
        if (rec_metrics_add(&t->sid, a, np, b, ng)) return ERR_FAIL;
        const cJSON *gp = cJSON_GetObjectItemCaseSensitive(j, "answer_pid");
        if (opt->pid_map && gp) {
            int ngp = items_of(gp, b, MAX_LIST);
            if (ngp < 0) return err_set("%s: \"answer_pid\" must be a list of integers", where);
            sid2pid_map(opt->pid_map, a, np, a);
            if (rec_metrics_add(&t->pid, a, np, b, ngp)) return ERR_FAIL;
            t->has_pid = 1;
        }
        return 0;
    }
    if (t->kind == KIND_AUC) {
        double score;
        int label;
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "score");
        const cJSON *ly = cJSON_GetObjectItemCaseSensitive(j, "logit_yes"), *ln = cJSON_GetObjectItemCaseSensitive(j, "logit_no");
        if (cJSON_IsNumber(s)) score = s->valuedouble;
        else if (cJSON_IsNumber(ly) && cJSON_IsNumber(ln)) score = metrics_yes_score(ly->valuedouble, ln->valuedouble);
        else return err_set("%s: label_pred needs \"score\" or \"logit_yes\" and \"logit_no\"", where);
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "label"), *ans = cJSON_GetObjectItemCaseSensitive(j, "answer");
        if (cJSON_IsNumber(l)) label = l->valuedouble != 0;
        else if (cJSON_IsString(ans) && strstr(ans->valuestring, "是")) label = 1;
        else if (cJSON_IsString(ans) && strstr(ans->valuestring, "否")) label = 0;
        else return err_set("%s: label_pred needs \"label\" (0/1) or \"answer\" (是/否)", where);
        if (t->n == t->cap) {
            int64_t nc = t->cap ? 2 * t->cap : 1024;
            double *ns = mem_realloc(t->scores, (size_t)nc * sizeof *ns);
            if (!ns) return ERR_FAIL;
            t->scores = ns;
            int *nl = mem_realloc(t->labels, (size_t)nc * sizeof *nl);
            if (!nl) return ERR_FAIL;
            t->labels = nl;
            t->cap = nc;
        }
        t->scores[t->n] = score;
        t->labels[t->n++] = label;
        return 0;
    }
    const cJSON *pred = cJSON_GetObjectItemCaseSensitive(j, "pred"), *ans = cJSON_GetObjectItemCaseSensitive(j, "answer");
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(j, "prompt");
    if (!cJSON_IsString(pred) || !cJSON_IsString(ans)) return err_set("%s: a text sample needs string \"pred\" and \"answer\"", where);
    if (text_metrics_add(&t->text, cJSON_IsString(prompt) ? prompt->valuestring : "", pred->valuestring, ans->valuestring))
        return err_wrap("%s", where);
    return 0;
}

static int finish(const task_acc *t, const char *system, results_table *r) {
    if (t->kind == KIND_RANK) {
        if (results_add_rec(r, system, t->name, &t->sid)) return ERR_FAIL;
        if (t->has_pid) {
            char m[64];
            for (int i = 0; i < t->pid.nk; i++) {
                snprintf(m, sizeof m, "pid_pass@%d", t->pid.ks[i]);
                if (results_set(r, system, t->name, m, rec_metrics_pass(&t->pid, i))) return ERR_FAIL;
                snprintf(m, sizeof m, "pid_position1_pass@%d", t->pid.ks[i]);
                if (results_set(r, system, t->name, m, rec_metrics_pos1(&t->pid, i))) return ERR_FAIL;
                snprintf(m, sizeof m, "pid_recall@%d", t->pid.ks[i]);
                if (results_set(r, system, t->name, m, rec_metrics_recall(&t->pid, i))) return ERR_FAIL;
                snprintf(m, sizeof m, "pid_ndcg@%d", t->pid.ks[i]);
                if (results_set(r, system, t->name, m, rec_metrics_ndcg(&t->pid, i))) return ERR_FAIL;
            }
        }
        return 0;
    }
    if (t->kind == KIND_AUC) {
        double auc;
        if (metrics_auc(t->scores, t->labels, t->n, &auc)) return err_wrap("task %s", t->name);
        if (results_set(r, system, t->name, "auc", auc) || results_set(r, system, t->name, "samples", (double)t->n))
            return ERR_FAIL;
        return 0;
    }
    if (results_set(r, system, t->name, "rouge_l", text_metrics_rouge_l(&t->text)) ||
        results_set(r, system, t->name, "char_f1", text_metrics_char_f1(&t->text)) ||
        results_set(r, system, t->name, "samples", (double)t->text.n))
        return ERR_FAIL;
    if (t->text.n_judged && results_set(r, system, t->name, "judge", text_metrics_judge(&t->text))) return ERR_FAIL;
    return 0;
}

int bench_score_file(const char *path, const char *system, const bench_score_opts *opt, results_table *r) {
    char *text;
    if (file_read_all(path, &text, NULL)) return ERR_FAIL;
    enum { MAX_TASKS = 32 };
    task_acc *tasks = mem_calloc(MAX_TASKS, sizeof *tasks);
    int64_t *a = mem_alloc(2 * MAX_LIST * sizeof *a);
    int ntask = 0, rc = tasks && a ? 0 : ERR_FAIL;
    int64_t line = 0, samples = 0;
    for (char *p = text; *p && !rc;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        line++;
        char where[512];
        snprintf(where, sizeof where, "%s:%lld", path, (long long)line);
        const char *q = p;
        while (*q == ' ' || *q == '\t' || *q == '\r') q++;
        if (*q) {
            cJSON *j = json_parse_text(q, where);
            const cJSON *tn = j ? cJSON_GetObjectItemCaseSensitive(j, "task") : NULL;
            if (!j) rc = ERR_FAIL;
            else if (!cJSON_IsString(tn) || strlen(tn->valuestring) >= sizeof tasks[0].name)
                rc = err_set("%s: missing string \"task\"", where);
            else if (!task_known(tn->valuestring))
                rc = err_set("%s: unknown task \"%.64s\" (video, ad, product, interactive, label_cond, label_pred, "
                             "item_understand, rec_reason; markov for the baseline bench)", where, tn->valuestring);
            int ti = -1;
            for (int i = 0; !rc && i < ntask && ti < 0; i++)
                if (!strcmp(tasks[i].name, tn->valuestring)) ti = i;
            if (!rc && ti < 0) {
                if (ntask == MAX_TASKS) rc = err_set("%s: more than %d tasks", where, MAX_TASKS);
                else {
                    ti = ntask++;
                    task_acc *t = &tasks[ti];
                    snprintf(t->name, sizeof t->name, "%s", tn->valuestring);
                    t->kind = task_kind(t->name);
                    rc = rec_metrics_init(&t->sid, opt->ks, opt->nk);
                    if (!rc) rc = rec_metrics_init(&t->pid, opt->ks, opt->nk);
                    text_metrics_init(&t->text, opt->judge, opt->judge_ctx);
                }
            }
            if (!rc) rc = score_line(j, &tasks[ti], opt, a, a + MAX_LIST, where);
            samples++;
            cJSON_Delete(j);
        }
        p = nl ? nl + 1 : p + strlen(p);
    }
    for (int i = 0; !rc && i < ntask; i++) rc = finish(&tasks[i], system, r);
    if (!rc && samples == 0) rc = err_set("%s: no predictions", path);
    if (!rc) log_info("scored %lld predictions of %d tasks from %s", (long long)samples, ntask, path);
    for (int i = 0; tasks && i < ntask; i++) {
        free(tasks[i].scores);
        free(tasks[i].labels);
    }
    free(tasks);
    free(a);
    free(text);
    return rc;
}

typedef struct {
    const sid2pid *map;
    FILE *out;
    int64_t *a;
} items_ctx;

static int items_row(void *vctx, const cJSON *row) {
    items_ctx *c = vctx;
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(row, "uid");
    int np = items_of(cJSON_GetObjectItemCaseSensitive(row, "pred"), c->a, MAX_LIST);
    if (!cJSON_IsNumber(uid)) return 0;
    if (np < 0) return err_set("\"pred\" must be SID strings or integers");
    sid2pid_map(c->map, c->a, np, c->a);
    return bench_items_line(c->out, (int64_t)uid->valuedouble, c->a, np);
}

int bench_items_line(FILE *f, int64_t uid, const int64_t *items, int n) {
    fprintf(f, "{\"user_id\": %lld, \"items\": [", (long long)uid);
    for (int i = 0, k = 0; i < n; i++)
        if (items[i] >= 0) fprintf(f, "%s%lld", k++ ? ", " : "", (long long)items[i]);
    return fputs("]}\n", f) < 0 ? err_errno("write") : 0;
}

int bench_items_file(const char *pred_path, const sid2pid *map, const char *out_path) {
    const dcol want[] = {{"uid", DCOL_I64, 1}, {"pred", DCOL_LIST_I64, 0}};
    items_ctx c = {.map = map, .a = mem_alloc(MAX_LIST * sizeof(int64_t))};
    afile af;
    int rc = c.a ? afile_open(&af, out_path) : ERR_FAIL;
    if (rc) {
        free(c.a);
        return ERR_FAIL;
    }
    c.out = af.fp;
    rc = dtab_foreach(pred_path, want, 2, "predictions", items_row, &c);
    if (rc) afile_abort(&af);
    else rc = afile_commit(&af);
    free(c.a);
    return rc;
}
