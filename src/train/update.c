#include "train/update.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "train/optim.h"

int train_update(qwen3_model *m, const train_update_cfg *c, int64_t step, double *grad_norm) {
    double norm = qwen3_grad_norm(m);
    if (grad_norm) *grad_norm = norm;
    if (!isfinite(norm))
        return err_set("step %lld: the gradient norm is %g (not finite); the weights were not updated", (long long)step, norm);
    float scale = grad_clip_scale(norm, c->max_grad_norm);
    if (scale != 1.0f) qwen3_grad_scale(m, scale);
    adamw_config ac = {(float)c->lr, c->beta1, c->beta2, c->eps, c->weight_decay};
    return adamw_step(m, &ac, (int)step);
}

int train_prepare_output(const char *out) {
    if (file_mkdirs(out)) return err_wrap("output dir %s is not usable", out);
    char *probe = mem_printf("%s/.write_test.%d", out, (int)getpid());
    if (!probe) return ERR_FAIL;
    int rc = file_write_atomic(probe, "ok\n", 3);
    unlink(probe);
    free(probe);
    return rc ? err_wrap("output dir %s is not writable", out) : 0;
}

int train_logs_open(train_logs *l, const char *out, const cJSON *args) {
    memset(l, 0, sizeof *l);
    char *p = path_join(out, "stdout.log"), *q = path_join(out, "stderr.log"), *j = path_join(out, "args.json");
    int rc = ERR_FAIL;
    if (!p || !q || !j) goto done;
    if (!(l->out_log = fopen(p, "a"))) {
        err_errno("cannot open %s", p);
        goto done;
    }
    if (!(l->err_log = fopen(q, "a"))) {
        err_errno("cannot open %s", q);
        goto done;
    }
    log_set_mirror(l->err_log);
    if (args && json_save_file(j, args)) goto done;
    if (tfevents_open(&l->tb, out)) goto done;
    l->open = 1;
    rc = 0;
done:
    free(p), free(q), free(j);
    if (rc) train_logs_close(l);
    return rc;
}

void train_logs_close(train_logs *l) {
    log_set_mirror(NULL);
    tfevents_close(&l->tb);
    if (l->out_log) fclose(l->out_log);
    if (l->err_log) fclose(l->err_log);
    memset(l, 0, sizeof *l);
}
