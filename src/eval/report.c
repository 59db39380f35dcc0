#include "eval/report.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "eval/heldout.h"
#include "eval/report_parts.h"
#include "eval/results.h"
#include "formats/tfevents.h"

int report_mark_done(const char *path, const char *name, double seconds, char *const *argv) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", name);
    cJSON_AddNumberToObject(j, "seconds", seconds);
    struct timespec now;   // wall clock with sub-second digits: fast stages finish within one second
    clock_gettime(CLOCK_REALTIME, &now);
    cJSON_AddNumberToObject(j, "finished", (double)now.tv_sec + 1e-9 * (double)now.tv_nsec);
    size_t len = 8;
    for (int i = 0; argv[i]; i++) len += strlen(argv[i]) + 1;
    char *cmd = mem_alloc(len), *w = cmd;
    w += sprintf(w, "onerec");
    for (int i = 0; argv[i]; i++) w += sprintf(w, " %s", argv[i]);
    cJSON_AddStringToObject(j, "command", cmd);
    free(cmd);
    int rc = json_save_file(path, j);
    cJSON_Delete(j);
    return rc;
}

static int by_finished(const void *a, const void *b) {
    double x = cJSON_GetObjectItem(*(cJSON *const *)a, "finished")->valuedouble;
    double y = cJSON_GetObjectItem(*(cJSON *const *)b, "finished")->valuedouble;
    return x < y ? -1 : x > y;
}

// Stage markers, oldest first. Returns how many (<= max).
int report_load_stages(const char *dir, cJSON **out, int max) {
    char *dd = path_join(dir, ".done");
    DIR *d = dd ? opendir(dd) : NULL;
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < max) {
        if (e->d_name[0] == '.') continue;
        char *p = path_join(dd, e->d_name);
        cJSON *j = p ? json_load_file(p) : NULL;
        free(p);
        if (j && cJSON_GetObjectItem(j, "finished")) out[n++] = j;
        else cJSON_Delete(j);
    }
    if (d) closedir(d);
    free(dd);
    qsort(out, (size_t)n, sizeof(cJSON *), by_finished);
    return n;
}

static const char *MODELS[] = {"base", "stage2", "sft", "distill", "rl", "rl_constrained"};
#define NMODELS 6

// All scalars of a tag from the event files of a run dir, by step.
static int run_series(const char *run, const char *tag, double *x, double *y, int max) {
    DIR *d = opendir(run);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "events.out.tfevents.", 20)) continue;
        char *p = path_join(run, e->d_name);
        tfevents_scalar *s = NULL;
        int ns = 0;
        if (p && !tfevents_read(p, &s, &ns))
            for (int i = 0; i < ns && n < max; i++)
                if (!strcmp(s[i].tag, tag)) x[n] = (double)s[i].step, y[n++] = s[i].value;
        tfevents_scalars_free(s, ns);
        free(p);
    }
    if (d) closedir(d);
    return n;
}

// Mean of the first and of the last `w` values of a series.
static void ends(const double *y, int n, int w, double *first, double *last) {
    double a = 0, b = 0;
    w = w > n / 2 ? (n / 2 > 0 ? n / 2 : 1) : w;
    for (int i = 0; i < w && i < n; i++) a += y[i], b += y[n - 1 - i];
    *first = n ? a / w : NAN;
    *last = n ? b / w : NAN;
}

// One PNG per run with the series given, through gnuplot (skipped with a note when absent).
int report_plot(const char *dir, const char *name, const char *run, const char *const *tags, int ntags, FILE *md) {
    static double x[8][20000], y[8][20000];
    int n[8], any = 0;
    for (int t = 0; t < ntags; t++) any |= (n[t] = run_series(run, tags[t], x[t], y[t], 20000)) > 0;
    if (!any) return 0;
    char *datp = mem_printf("%s/plots/%s.dat", dir, name), *png = mem_printf("%s/plots/%s.png", dir, name);
    FILE *f = fopen(datp, "w");
    if (!f) return err_errno("cannot write %s", datp);
    for (int t = 0; t < ntags; t++) {
        for (int i = 0; i < n[t]; i++) fprintf(f, "%g %g\n", x[t][i], y[t][i]);
        fprintf(f, "\n\n");
    }
    fclose(f);
    char *cmd = mem_printf("gnuplot -e \"set terminal png noenhanced size 800,400; set output '%s'; set title '%s'; set xlabel 'step'; plot ", png, name);
    for (int t = 0; t < ntags; t++) {
        char *c2 = mem_printf("%s%s'%s' index %d with lines title '%s'", cmd, t ? ", " : "", datp, t, tags[t]);
        free(cmd);
        cmd = c2;
    }
    char *c2 = mem_printf("%s\" 2>/dev/null", cmd);
    free(cmd);
    int ok = system(c2) == 0;
    free(c2);
    if (ok) fprintf(md, "![%s](plots/%s.png)\n\n", name, name);
    else fprintf(md, "(gnuplot is not installed: %s has the data of the %s plot)\n\n", datp, name);
    free(datp), free(png);
    return 0;
}

double report_get(const results_table *r, const char *sys, const char *task, const char *metric) {
    double v;
    return results_get(r, sys, task, metric, &v) ? NAN : v;
}

void report_finding(FILE *md, int holds, const char *text, const char *detail) {
    fprintf(md, "- **%s** %s: %s\n", holds ? "holds" : "does not hold", text, detail);
}

// "The final model beats <baseline> on Recall@32" of the three next-item tasks, PID mode (the
// baselines rank item ids), each task's numbers in the detail. The model is scored under the
// baselines' protocol: real items only, none from the user's history (`rl_constrained`, eval
// --constrain --exclude-history); its free beams (`rl`) are shown beside.
static void beats_baseline(FILE *md, const results_table *r, const char *baseline) {
    const char *tasks[3] = {"video", "ad", "product"};
    int beats = 1, have = 0;
    char det[1024] = "", text[200];
    for (int k = 0; k < 3; k++) {
        double m = report_get(r, "rl_constrained", tasks[k], "pid_recall@32"), b = report_get(r, baseline, tasks[k], "recall@32");
        double f = report_get(r, "rl", tasks[k], "pid_recall@32");
        if (isnan(m) || isnan(b)) continue;
        have = 1;
        beats &= m > b;
        size_t l = strlen(det);
        snprintf(det + l, sizeof det - l, "%s%s %.4f vs %.4f (free beams %.4f)", l ? "; " : "", tasks[k], m, b, f);
    }
    snprintf(text, sizeof text,
             "the final model beats %s on Recall@32 of video, ad and product (PID mode; real items, history "
             "excluded, as the baselines)", strcmp(baseline, "sasrec") ? baseline : "SASRec");
    report_finding(md, have && beats, text, have ? det : "no results");
}

// Stage 1 on a fixed held-out set (DIR/config/heldout.json: benchmark prompts of the test users,
// every token a target), before (models/base_itemic) and after (runs/stage1/<latest>). Returns 0
// when scored, nonzero when the demo has no such set (older output dirs): the caller falls back.
static int stage1_heldout(const char *dir, heldout_result *h0, heldout_result *h1) {
    char *cfg = mem_printf("%s/config/heldout.json", dir), *before = mem_printf("%s/models/base_itemic", dir);
    char *after = report_latest_model(dir, "runs/stage1");
    int rc = cfg && after && file_exists(cfg) ? 0 : 1;
    if (!rc) rc = heldout_loss(before, cfg, 64, h0) || heldout_loss(after, cfg, 64, h1);
    if (rc && after && file_exists(cfg)) log_warn("stage 1 held-out losses: %s (the check falls back to training steps)", err_msg());
    free(cfg), free(before), free(after);
    return rc;
}

char *report_latest_model(const char *dir, const char *run) {
    char *lp = mem_printf("%s/%s/latest", dir, run), *name = NULL, *out = NULL;
    size_t n;
    if (lp && file_exists(lp) && !file_read_all(lp, &name, &n)) {
        name[strcspn(name, "\r\n")] = 0;
        out = mem_printf("%s/%s/%s", dir, run, name);
    }
    free(lp), free(name);
    return out;
}

void report_stage1_finding(FILE *md, const char *dir) {
    char buf[512];
    heldout_result h0, h1;
    if (!stage1_heldout(dir, &h0, &h1)) {
        snprintf(buf, sizeof buf, "held-out itemic-token loss %.3f -> %.3f, text-token loss %.3f -> %.3f (%lld itemic and %lld text "
                 "targets of the test users' benchmark prompts, the same tokens before and after)", h0.itemic, h1.itemic, h0.text,
                 h1.text, (long long)h1.n_itemic, (long long)h1.n_text);
        report_finding(md, h1.itemic < h0.itemic && h1.text <= 1.05 * h0.text, "stage 1 lowers the itemic loss while the text loss does not rise", buf);
        return;
    }
    static double x[20000], yi[20000], yt[20000];
    char *s1 = mem_printf("%s/runs/stage1", dir);
    int ni = run_series(s1, "training/itemic_token_loss", x, yi, 20000), nt = run_series(s1, "training/text_token_loss", x, yt, 20000);
    free(s1);
    double i0, i1, t0, t1;
    ends(yi, ni, 10, &i0, &i1);
    ends(yt, nt, 10, &t0, &t1);
    snprintf(buf, sizeof buf, "itemic-token loss %.3f -> %.3f, text-token loss %.3f -> %.3f (means of the first and last 10 steps)", i0, i1, t0, t1);
    // "stays": stage 1 must not hurt text; the text loss may fall (the new rows' initial share of the
    // softmax is trained away), it must not rise by more than 5%
    report_finding(md, ni > 0 && i1 < i0 && (nt == 0 || t1 <= 1.05 * t0), "stage 1 lowers the itemic loss while the text loss does not rise", buf);
}

static void findings(FILE *md, const char *dir, const results_table *r) {
    fprintf(md, "## The reference's findings at small scale\n\n");
    report_stage1_finding(md, dir);
    char buf[512];
    beats_baseline(md, r, "popularity");
    beats_baseline(md, r, "sasrec");
    double g2 = report_get(r, "base", "general", "accuracy"), gs = report_get(r, "sft", "general", "accuracy"), gd = report_get(r, "distill", "general", "accuracy");
    snprintf(buf, sizeof buf, "general accuracy: base %.3f, after SFT %.3f, after distillation %.3f (stage 2 %.3f)", g2, gs, gd,
             report_get(r, "stage2", "general", "accuracy"));
    report_finding(md, gs < g2 && gd - gs >= 0.5 * (g2 - gs), "SFT lowers general skill and distillation restores most of it", buf);
    // a rise counts when it exceeds two standard errors of the difference of two proportions over
    // the task's samples (at ~200 samples and pass@1 ~0.1 that is ~0.06): one run's noise is not a rise
    double pd = report_get(r, "distill", "video", "pass@1"), pr = report_get(r, "rl", "video", "pass@1");
    double n = report_get(r, "rl", "video", "samples");
    double se = n > 0 ? sqrt(pd * (1 - pd) / n + pr * (1 - pr) / n) : NAN;
    snprintf(buf, sizeof buf, "video pass@1 before RL %.4f, after %.4f (%.0f samples; a rise must exceed 2 standard errors, %.4f)",
             pd, pr, n, 2 * se);
    report_finding(md, !isnan(se) && pr - pd > 2 * se, "RL raises pass@1", buf);
    fprintf(md, "\nWhere a finding does not hold, the README's notes on the demo say why.\n\n");
}

void report_curves(FILE *md, const char *dir) {
    fprintf(md, "## Curves\n\n");
    static const char *loss[] = {"training/loss", "training/itemic_token_loss", "training/text_token_loss"};
    static const char *rl[] = {"rl/reward", "rl/pass_rate"};
    static const char *dist[] = {"distill/reverse_kl"};
    const char *runs[] = {"base", "stage1", "stage2", "sft"};
    for (int i = 0; i < 4; i++) {
        char *run = mem_printf("%s/runs/%s", dir, runs[i]), *name = mem_printf("loss_%s", runs[i]);
        report_plot(dir, name, run, loss, 3, md);
        free(run), free(name);
    }
    char *p = mem_printf("%s/runs/distill", dir);
    report_plot(dir, "distill", p, dist, 1, md);
    free(p);
    p = mem_printf("%s/runs/rl", dir);
    report_plot(dir, "rl_reward", p, rl, 2, md);
    free(p);
}

void report_stage_table(FILE *md, cJSON **st, int ns) {
    fprintf(md, "## Stages, times and the commands to reproduce them\n\n| stage | seconds | command |\n|---|---:|---|\n");
    for (int i = 0; i < ns; i++) {
        fprintf(md, "| %s | %.1f | `%s` |\n", cJSON_GetObjectItem(st[i], "name")->valuestring,
                cJSON_GetObjectItem(st[i], "seconds")->valuedouble, cJSON_GetObjectItem(st[i], "command")->valuestring);
        cJSON_Delete(st[i]);
    }
}

int report_begin(const char *dir, const results_table *r, const char *title, const char *size, const char *rerun,
                 double seconds, afile *af, cJSON **st, int max, int *ns) {
    char *p = mem_printf("%s/results.json", dir), *plots = mem_printf("%s/plots", dir), *md = mem_printf("%s/report.md", dir);
    int rc = p && plots && md ? results_save_json(r, p) || file_mkdirs(plots) || afile_open(af, md) : ERR_FAIL;
    free(p), free(plots), free(md);
    if (rc) return ERR_FAIL;
    fprintf(af->fp, "# %s (size %s)\n\n", title, size);
    *ns = report_load_stages(dir, st, max);
    double total = 0;
    for (int i = 0; i < *ns; i++) total += cJSON_GetObjectItem(st[i], "seconds")->valuedouble;
    fprintf(af->fp, "Stages: %d, their time in all %.1f s (this invocation %.1f s). Re-running `%s` skips finished stages.\n\n",
            *ns, total, seconds, rerun);
    return 0;
}

int report_write(const char *dir, const char *size, double seconds) {
    results_table r;
    if (results_init(&r)) return ERR_FAIL;
    char *p = mem_printf("%s/baselines.json", dir);
    (void)results_merge_file(&r, p);   // a stage that did not run adds nothing
    free(p);
    for (int i = 0; i < NMODELS; i++) {
        p = mem_printf("%s/eval/%s/results.json", dir, MODELS[i]);
        (void)results_merge_file(&r, p);   // a stage that did not run adds nothing
        free(p);
    }
    afile af;
    cJSON *st[64];
    int ns;
    if (report_begin(dir, &r, "onerec demo report", size, "onerec demo", seconds, &af, st, 64, &ns)) {
        results_free(&r);
        return ERR_FAIL;
    }
    FILE *md = af.fp;
    findings(md, dir, &r);
    fprintf(md, "## RecIF-Bench\n\nSystems: the model after each stage (SID-mode metrics as the reference; `pid_*` map SIDs to items),\n"
                "the baselines (popularity, item-kNN, SASRec, trained on the same users, item-id space) and the world's oracle.\n\n");
    // the headline metrics here; every metric is in results.json
    results_table head;
    static const char *keep[] = {"recall@32", "pass@1", "pid_recall@32", "pid_pass@1", "auc", "rouge_l", "char_f1", "accuracy", "accuracy_fact", "accuracy_arith",
                                 "invalid_beam_rate"};
    char *tab = NULL;
    if (!results_init(&head)) {
        const cJSON *sys, *task, *met;
        cJSON_ArrayForEach(sys, r.root) cJSON_ArrayForEach(task, sys) cJSON_ArrayForEach(met, task) {
            for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++)
                if (!strcmp(met->string, keep[k])) results_set(&head, sys->string, task->string, met->string, met->valuedouble);
        }
        tab = results_markdown(&head);
        results_free(&head);
    }
    fprintf(md, "%s\n(all metrics: results.json)\n\n", tab ? tab : "");
    free(tab);
    report_curves(md, dir);
    report_stage_table(md, st, ns);
    results_free(&r);
    return afile_commit(&af);
}
