#include "train/ckpt.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/mem.h"
#include "formats/safetensors.h"
#include "train/model_io.h"

// malloc'd "{out}/step{N}"
static char *ckpt_step_dir(const char *out, int64_t step) { return mem_printf("%s/step%" PRId64, out, step); }

static int save_optimizer(const qwen3_model *m, const char *path) {
    float *zero = NULL;
    const float *mm = m->adam_m, *vv = m->adam_v;
    if (!mm) {   // no step taken yet: zero moments, exactly what the first step starts from
        zero = mem_aligned(m->n_params * sizeof(float));
        if (!zero) return ERR_FAIL;
        mm = vv = zero;
    }
    st_item items[2] = {{"exp_avg", 1, {(int64_t)m->n_params}, mm}, {"exp_avg_sq", 1, {(int64_t)m->n_params}, vv}};
    st_write_options o = {ST_F32, 0, NULL, NULL, 0};
    int rc = st_write_file(path, items, 2, &o);
    free(zero);
    return rc;
}

int ckpt_save(const char *out, int64_t step, const qwen3_model *m, const hf_config *hf,
              const char *tok_dir, const cJSON *state) {
    char *tmp = mem_printf("%s/.step%" PRId64 ".partial", out, step), *dst = ckpt_step_dir(out, step);
    char *opt = NULL, *st = NULL, *latest = NULL, *name = NULL;
    int rc = ERR_FAIL;
    if (!tmp || !dst) goto done;
    file_remove_tree(tmp);
    if (file_mkdirs(tmp)) goto done;
    if (train_model_save(m, hf, tmp, "F32", 0, tok_dir)) goto done;
    if (!(opt = path_join(tmp, "optimizer.safetensors")) || save_optimizer(m, opt)) goto done;
    if (!(st = path_join(tmp, "trainer_state.json")) || json_save_file(st, state)) goto done;
    if (dir_commit(tmp, dst)) goto done;
    if (!(latest = path_join(out, "latest")) || !(name = mem_printf("step%" PRId64 "\n", step))) goto done;
    if (file_write_atomic(latest, name, strlen(name))) goto done;
    rc = 0;
done:
    if (rc) {
        err_wrap("writing checkpoint step%" PRId64 " in %s", step, out);
        if (tmp) file_remove_tree(tmp);
    }
    free(tmp), free(dst), free(opt), free(st), free(latest), free(name);
    return rc;
}

int ckpt_resolve(const char *path, char **dir) {
    char *st = path_join(path, "trainer_state.json");
    int here = st && file_exists(st);
    free(st);
    if (here) return (*dir = mem_strdup(path)) ? 0 : ERR_FAIL;
    char *latest = path_join(path, "latest"), *text = NULL;
    if (!latest || !file_exists(latest)) {
        free(latest);
        return err_set("--resume_from %s: neither a checkpoint (no trainer_state.json) nor an output dir with a \"latest\" file", path);
    }
    int rc = file_read_all(latest, &text, NULL);
    free(latest);
    if (rc) return ERR_FAIL;
    text[strcspn(text, "\r\n")] = 0;
    *dir = path_join(path, text);
    free(text);
    return *dir ? 0 : ERR_FAIL;
}

cJSON *ckpt_load_state(const char *dir) {
    char *p = path_join(dir, "trainer_state.json");
    cJSON *j = p ? json_load_file(p) : NULL;
    free(p);
    return j;
}

int ckpt_load_optimizer(qwen3_model *m, const char *dir) {
    char *p = path_join(dir, "optimizer.safetensors");
    st_archive *a = NULL;
    int rc = ERR_FAIL;
    if (!p || st_open(&a, p)) goto done;
    if (!m->adam_m) {
        m->adam_m = mem_aligned(m->n_params * sizeof(float));
        m->adam_v = mem_aligned(m->n_params * sizeof(float));
        if (!m->adam_m || !m->adam_v) goto done;
    }
    int64_t shape[1] = {(int64_t)m->n_params};
    if (st_read_f32(a, "exp_avg", m->adam_m, shape, 1) || st_read_f32(a, "exp_avg_sq", m->adam_v, shape, 1)) goto done;
    rc = 0;
done:
    if (rc) err_wrap("loading optimizer state");
    st_close(a);
    free(p);
    return rc;
}

int ckpt_clean_partial(const char *out) {
    DIR *d = opendir(out);
    if (!d) return 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (!strncmp(e->d_name, ".step", 5) && n > 8 && !strcmp(e->d_name + n - 8, ".partial")) {
            char *p = path_join(out, e->d_name);
            if (!p || file_remove_tree(p)) rc = ERR_FAIL;
            free(p);
        }
    }
    closedir(d);
    return rc;
}
