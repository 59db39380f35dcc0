#include "eval/bench_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "eval/general.h"
#include "eval/judge.h"
#include "eval/bench_predict.h"
#include "eval/bench_score.h"
#include "rec/generate.h"

static const char *ALL_TASKS[] = {"video", "ad", "product", "interactive", "label_cond", "label_pred", "item_understand", "rec_reason"};

// A trie over every SID of a sid2pid map (its packed keys), for constrained beams.
static int trie_from_map(sid_trie *t, const sid2pid *m) {
    const int L = SID_PACK_LAYERS;
    int32_t *codes = mem_alloc((size_t)(m->n ? m->n : 1) * L * sizeof(int32_t));
    if (!codes) return ERR_FAIL;
    for (int64_t i = 0; i < m->n; i++) sid_key_split(codes + i * L, (uint64_t)m->sids[i], L, SID_PACK_K);
    int rc = sid_trie_build(t, codes, m->n, L);
    free(codes);
    return rc;
}

static int load_map(sid2pid *m, const char *dir, const char *file) {
    char *p = path_join(dir, file);
    int rc = p && file_exists(p) ? sid2pid_load_json(m, p) : ERR_FAIL;
    if (p && !file_exists(p)) err_set("%s is missing (it comes with the benchmark sets of `onerec data convert`)", p);
    free(p);
    return rc;
}

static int run_task(lm *l, const bench_run_opts *o, const char *task, const bench_predict_opts *po, const sid2pid *map,
                    lm *judge, results_table *r) {
    char *test = mem_printf("%s/%s/%s_test.parquet", o->bench_dir, task, task);
    if (test && !file_exists(test)) {
        free(test);
        test = mem_printf("%s/%s/%s_test.jsonl", o->bench_dir, task, task);
    }
    char *pred = mem_printf("%s/pred_%s.jsonl", o->out_dir, task);
    if (!test || !pred) return ERR_FAIL;
    if (!file_exists(test)) {
        int rc = err_set("benchmark set %s is missing", test);
        free(test), free(pred);
        return rc;
    }
    afile af;
    bench_predict_stats st;
    int rc = afile_open(&af, pred);
    if (!rc) {
        rc = bench_predict_file(l, task, test, po, af.fp, &st);
        if (rc) afile_abort(&af);
        else rc = afile_commit(&af);
    }
    if (!rc) {
        log_info("%s: %lld samples in %.1f s (%.2f samples/s), %lld of %lld beams not a SID", task, (long long)st.samples,
                 st.seconds, st.seconds > 0 ? st.samples / st.seconds : 0, (long long)st.invalid_beams, (long long)st.beams);
        bench_score_opts opt = {.pid_map = bench_task_kind_of(task) == BENCH_RANKING ? map : NULL, .ks = o->ks, .nk = o->nk};
        judge_ctx jc = {judge, !strcmp(task, "item_understand"), 0, 0};
        if (judge && bench_task_kind_of(task) == BENCH_TEXT) opt.judge = judge_score, opt.judge_ctx = &jc;
        rc = bench_score_file(pred, o->name, &opt, r);
        char *items = opt.pid_map ? mem_printf("%s/items_%s.jsonl", o->out_dir, task) : NULL;
        if (!rc && opt.pid_map) rc = items ? bench_items_file(pred, map, items) : ERR_FAIL;
        free(items);
        if (!rc) rc = results_set(r, o->name, task, "samples_per_sec", st.seconds > 0 ? st.samples / st.seconds : 0);
        if (!rc && st.beams) rc = results_set(r, o->name, task, "invalid_beam_rate", (double)st.invalid_beams / st.beams);
        if (!rc && jc.calls) rc = results_set(r, o->name, task, "judge_unparsable", (double)jc.unparsable / (double)jc.calls);
    }
    free(test), free(pred);
    return rc ? err_wrap("task %s", task) : 0;
}

// The flags, before a model is loaded: a bad width used to surface as "KV cache full" on a data file.
static int check_opts(const bench_run_opts *o) {
    if (o->width < 1 || o->width > GEN_BEAM_MAX) return err_usage("--width %d: must be in 1..%d", o->width, GEN_BEAM_MAX);
    if (o->max_text_tokens < 1) return err_usage("--text-tokens %d: must be at least 1", o->max_text_tokens);
    if (o->max_samples < 0 || o->general_samples < 0) return err_usage("--max-samples and --general-samples must be >= 0");
    for (int i = 0; o->tasks && i < o->ntasks; i++) {
        int known = 0;
        for (int k = 0; k < 8; k++) known |= !strcmp(o->tasks[i], ALL_TASKS[k]);
        if (!known)
            return err_usage("unknown task \"%s\" (video, ad, product, interactive, label_cond, label_pred, item_understand, rec_reason)", o->tasks[i]);
    }
    return 0;
}

int bench_run_model(const bench_run_opts *o, results_table *r) {
    if (check_opts(o) || file_mkdirs(o->out_dir)) return ERR_FAIL;
    lm l;
    if (lm_open(&l, o->model_dir)) return ERR_FAIL;
    lm judge;
    if (o->judge_dir && lm_open(&judge, o->judge_dir)) {
        lm_close(&l);
        return err_wrap("judge model");
    }
    sid2pid video = {0}, product = {0};
    sid_trie tv = {0}, tp = {0};
    int rc = load_map(&video, o->bench_dir, "sid2pid.json");
    if (!rc) rc = load_map(&product, o->bench_dir, "product_sid2pid.json");
    if (!rc && o->constrain) rc = trie_from_map(&tv, &video) || trie_from_map(&tp, &product);
    bench_predict_opts po = {o->width, o->max_text_tokens, o->max_samples, o->constrain ? &tv : NULL,
                             o->constrain ? &tp : NULL, o->exclude_history};
    const char *const *tasks = o->tasks ? o->tasks : ALL_TASKS;
    int ntasks = o->tasks ? o->ntasks : 8;
    for (int i = 0; !rc && i < ntasks; i++) {
        rc = run_task(&l, o, tasks[i], &po, !strcmp(tasks[i], "product") ? &product : &video, o->judge_dir ? &judge : NULL, r);
    }
    if (!rc && o->general_path) {
        general_result g;
        rc = eval_general(&l, o->general_path, o->general_samples, 24, &g);
        if (!rc) rc = results_set(r, o->name, "general", "accuracy", g.accuracy);
        if (!rc) rc = results_set(r, o->name, "general", "samples", (double)g.n);
        if (!rc && g.skill_n[0]) rc = results_set(r, o->name, "general", "accuracy_arith", g.skill_accuracy[0]);
        if (!rc && g.skill_n[1]) rc = results_set(r, o->name, "general", "accuracy_fact", g.skill_accuracy[1]);
        if (!rc) log_info("general skill: %lld / %lld correct (%.3f)", (long long)g.correct, (long long)g.n, g.accuracy);
    }
    if (o->constrain) sid_trie_free(&tv), sid_trie_free(&tp);
    sid2pid_free(&video), sid2pid_free(&product);
    if (o->judge_dir) lm_close(&judge);
    lm_close(&l);
    return rc;
}
