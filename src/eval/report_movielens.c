// The MovieLens demo's report: the field's metrics (HR@K, NDCG@K over every item, the user's earlier
// items excluded) for the baselines and each model stage, the general-skill check on held-out
// English, findings, curves and the commands of every stage.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "eval/heldout.h"
#include "eval/report.h"
#include "eval/report_parts.h"
#include "eval/results.h"

static const char *BASELINES[] = {"popularity", "item_knn", "sasrec"};
static const char *STAGES[] = {"stage2", "sft", "distill"};
static const int KS[] = {5, 10, 20};
enum { NBASE = 3, NSTAGE = 3, NK = 3 };

// The systems' HR/NDCG under task "movielens": the baselines' own pass@k/ndcg@k (item ids), the
// model's PID-mode pid_pass@k/pid_ndcg@k (beams mapped to items). With one test item per user,
// pass@k is HR@k.
static int collect(const char *dir, results_table *out) {
    results_table in;
    if (results_init(&in)) return ERR_FAIL;
    char *p = mem_printf("%s/baselines.json", dir);
    (void)results_merge_file(&in, p);   // a stage that did not run adds nothing
    free(p);
    for (int i = 0; i < NSTAGE; i++) {
        p = mem_printf("%s/eval/%s/results.json", dir, STAGES[i]);
        (void)results_merge_file(&in, p);
        free(p);
    }
    int rc = 0;
    char m[64];
    for (int s = 0; s < NBASE + NSTAGE && !rc; s++) {
        int model = s >= NBASE;
        const char *sys = model ? STAGES[s - NBASE] : BASELINES[s], *task = model ? "video" : "movielens";
        for (int k = 0; k < NK && !rc; k++) {
            const char *what[2] = {"hr", "ndcg"}, *src[2] = {model ? "pid_pass" : "pass", model ? "pid_ndcg" : "ndcg"};
            for (int w = 0; w < 2 && !rc; w++) {
                snprintf(m, sizeof m, "%s@%d", src[w], KS[k]);
                double v = report_get(&in, sys, task, m);
                snprintf(m, sizeof m, "%s@%d", what[w], KS[k]);
                if (!isnan(v)) rc = results_set(out, sys, "movielens", m, v);
            }
        }
        double n = report_get(&in, sys, task, "samples");
        if (!rc && !isnan(n)) rc = results_set(out, sys, "movielens", "users", n);
        double inv = report_get(&in, sys, task, "invalid_beam_rate");
        if (!rc && !isnan(inv)) rc = results_set(out, sys, "movielens", "invalid_beam_rate", inv);
    }
    results_free(&in);
    return rc;
}

// The general-skill check: each model's loss on the held-out chunks of the novels.
static void english_losses(const char *dir, results_table *r, double loss[4]) {
    static const char *runs[4][2] = {{"base", "runs/base"}, {"stage2", "runs/stage2"}, {"sft", "runs/sft"}, {"distill", "runs/distill"}};
    char *cfg = mem_printf("%s/config/heldout_text.json", dir);
    for (int i = 0; i < 4; i++) {
        loss[i] = NAN;
        char *model = report_latest_model(dir, runs[i][1]);
        heldout_result h;
        if (model && cfg && file_exists(cfg) && !heldout_loss(model, cfg, 128, &h)) {
            loss[i] = h.text;
            results_set(r, runs[i][0], "english", "heldout_text_loss", h.text);
        } else if (model) log_warn("held-out English loss of %s: %s", model, err_msg());
        free(model);
    }
    free(cfg);
}

// The model's predictions as item ids beside the baselines': predictions/<stage>/pred_movielens.jsonl.
static void copy_predictions(const char *dir) {
    for (int i = 0; i < NSTAGE; i++) {
        char *src = mem_printf("%s/eval/%s/items_video.jsonl", dir, STAGES[i]), *sub = mem_printf("%s/predictions/%s", dir, STAGES[i]);
        char *dst = mem_printf("%s/predictions/%s/pred_movielens.jsonl", dir, STAGES[i]);
        if (src && sub && dst && file_exists(src) && (file_mkdirs(sub) || file_copy(src, dst)))
            log_warn("predictions of %s: %s", STAGES[i], err_msg());
        free(src), free(sub), free(dst);
    }
}

// "beats <baseline> on HR@10 and NDCG@10 by more than the standard error": per-user HR@10 is a
// Bernoulli variable, so its standard error is sqrt(p (1 - p) / n); NDCG@10's is at most that.
static void beats(FILE *md, const results_table *r, const char *model, const char *baseline) {
    double h = report_get(r, model, "movielens", "hr@10"), hb = report_get(r, baseline, "movielens", "hr@10");
    double g = report_get(r, model, "movielens", "ndcg@10"), gb = report_get(r, baseline, "movielens", "ndcg@10");
    double n = report_get(r, model, "movielens", "users");
    double se = n > 0 ? sqrt(hb * (1 - hb) / n) : NAN;
    char text[160], det[320];
    snprintf(text, sizeof text, "the %s model beats %s on HR@10 and NDCG@10 (by more than HR@10's standard error)", model, baseline);
    snprintf(det, sizeof det, "HR@10 %.4f vs %.4f, NDCG@10 %.4f vs %.4f (%.0f test users; standard error %.4f)", h, hb, g, gb, n, se);
    report_finding(md, !isnan(se) && h - hb > se && g > gb, text, det);
}

static void findings(FILE *md, const char *dir, const results_table *r, const double loss[4]) {
    fprintf(md, "## Findings\n\n");
    report_stage1_finding(md, dir);
    beats(md, r, "distill", "popularity");
    beats(md, r, "distill", "sasrec");
    beats(md, r, "sft", "sasrec");
    char det[320];
    snprintf(det, sizeof det, "held-out English loss: base %.3f, stage 2 %.3f, SFT %.3f, distilled %.3f", loss[0], loss[1], loss[2],
             loss[3]);
    report_finding(md, loss[2] > loss[0] && loss[2] - loss[3] >= 0.5 * (loss[2] - loss[0]),
                   "SFT raises the held-out English loss and distillation takes back most of the rise", det);
    fprintf(md, "\nWhere a finding does not hold, the README's notes on the MovieLens demo say why.\n\n");
}

int report_movielens_write(const char *dir, const char *size, double seconds) {
    results_table r;
    if (results_init(&r)) return ERR_FAIL;
    int rc = collect(dir, &r);
    double loss[4];
    if (!rc) english_losses(dir, &r, loss);
    copy_predictions(dir);
    afile af;
    cJSON *st[64];
    int ns;
    if (rc || report_begin(dir, &r, "onerec demo report: MovieLens ml-latest-small", size, "onerec demo --dataset movielens",
                           seconds, &af, st, 64, &ns)) {
        results_free(&r);
        return ERR_FAIL;
    }
    FILE *md = af.fp;
    findings(md, dir, &r, loss);
    fprintf(md, "## Next item, leave-one-out\n\nEvery user's last rating is the test item, the one before it validation, "
                "the rest training (`world/sequences.parquet`). Each system ranks every item except the user's earlier ones "
                "(the model: constrained beams over the SID trie); HR@K and NDCG@K over the test users. The ranked lists are in "
                "`predictions/<system>/pred_movielens.jsonl`.\n\n");
    char *tab = results_markdown(&r);
    fprintf(md, "%s\n", tab ? tab : "");
    free(tab);
    report_curves(md, dir);
    report_stage_table(md, st, ns);
    results_free(&r);
    return afile_commit(&af);
}
