#include "post/run_common.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "train/ckpt.h"

static int load_policy(post_run *r, const char *dir) {
    if (lm_open(&r->pol, dir)) return ERR_FAIL;
    if (hf_config_load(&r->hf, dir)) return ERR_FAIL;
    return 0;
}

int post_run_open(post_run *r, const char *model_dir, const char *ref_dir, int need_ref, const char *out,
                  const char *resume_from, const cJSON *args_json, cJSON **state) {
    memset(r, 0, sizeof *r);
    *state = NULL;
    r->last_ckpt = -1;
    if (!model_dir || !out) return err_set("a model dir and an output dir are required");
    r->out = mem_strdup(out);
    if (!r->out || train_prepare_output(out) || ckpt_clean_partial(out)) return ERR_FAIL;
    char *dir = NULL;
    if (resume_from) {
        if (ckpt_resolve(resume_from, &dir)) return ERR_FAIL;
        int rc = load_policy(r, dir);
        if (!rc) rc = ckpt_load_optimizer(&r->pol.model, dir);
        if (!rc && !(*state = ckpt_load_state(dir))) rc = ERR_FAIL;
        r->tok_dir = dir;
        if (rc) return err_wrap("resuming from %s", dir);
        const cJSON *st = cJSON_GetObjectItem(*state, "step");
        r->last_ckpt = st ? (int64_t)st->valuedouble : -1;
        log_info("resumed from %s (step %lld)", dir, (long long)r->last_ckpt);
    } else {
        if (load_policy(r, model_dir)) return ERR_FAIL;
        r->tok_dir = mem_strdup(model_dir);
        if (!r->tok_dir) return ERR_FAIL;
    }
    if (need_ref) {
        if (qwen3_load_dir(&r->ref, ref_dir)) return err_wrap("reference model");
        r->has_ref = 1;
    }
    return train_logs_open(&r->logs, out, args_json);
}

void post_run_close(post_run *r) {
    train_logs_close(&r->logs);
    lm_close(&r->pol);
    hf_config_free(&r->hf);
    if (r->has_ref) qwen3_model_free(&r->ref);
    free(r->out);
    free(r->tok_dir);
    memset(r, 0, sizeof *r);
}

int post_run_checkpoint(post_run *r, int64_t step, const cJSON *state) {
    if (ckpt_save(r->out, step, &r->pol.model, &r->hf, r->tok_dir, state)) return ERR_FAIL;
    r->last_ckpt = step;
    log_info("checkpoint %s/step%lld written", r->out, (long long)step);
    return 0;
}

void post_run_scalar(post_run *r, const char *tag, int64_t step, double value) {
    if (r->logs.open) tfevents_add_scalar(&r->logs.tb, tag, step, (float)value);
}

void post_run_line(post_run *r, const char *fmt, ...) {
    if (!r->logs.out_log) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(r->logs.out_log, fmt, ap);
    va_end(ap);
    fputc('\n', r->logs.out_log);
    fflush(r->logs.out_log);
}

void post_run_fail(post_run *r, int64_t step) {
    if (r->last_ckpt >= 0)
        err_wrap("stopped at step %lld; the last good checkpoint is %s/step%lld", (long long)step, r->out, (long long)r->last_ckpt);
    else
        err_wrap("stopped at step %lld; no checkpoint was written", (long long)step);
}

cJSON *post_state_new(int64_t step, int64_t epoch, int64_t row) {
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "step", (double)step);
    cJSON_AddNumberToObject(s, "epoch", (double)epoch);
    cJSON_AddNumberToObject(s, "row", (double)row);
    return s;
}

void post_state_read(const cJSON *state, int64_t *step, int64_t *epoch, int64_t *row) {
    const cJSON *x;
    *step = (x = cJSON_GetObjectItem(state, "step")) ? (int64_t)x->valuedouble : 0;
    *epoch = (x = cJSON_GetObjectItem(state, "epoch")) ? (int64_t)x->valuedouble : 0;
    *row = (x = cJSON_GetObjectItem(state, "row")) ? (int64_t)x->valuedouble : 0;
}
