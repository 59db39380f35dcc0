// HF model dirs: config.json + model.safetensors (or index + shards) with the real Qwen3 tensor
// names. Loading checks every tensor's presence, shape and dtype through st_read_f32, whose
// messages name the file and the tensor.
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "formats/hfconfig.h"
#include "formats/safetensors.h"
#include "model/qwen3.h"

int qwen3_load_dir(qwen3_model *m, const char *dir) {
    memset(m, 0, sizeof *m);
    hf_config hf;
    if (hf_config_load(&hf, dir)) return err_wrap("loading model %s", dir);
    char *where = path_join(dir, "config.json");
    qwen3_config c;
    int rc = qwen3_config_from_hf(&c, &hf, where ? where : dir);
    hf_config_free(&hf);
    free(where);
    if (rc) return ERR_FAIL;
    st_archive *a = NULL;
    if (st_open(&a, dir)) return err_wrap("loading model %s", dir);
    rc = qwen3_model_init(m, &c);
    for (int i = 0; !rc && i < m->n_tensors; i++) {
        const qwen3_tensor *t = &m->tensors[i];
        rc = st_read_f32(a, t->name, m->param_mem + t->offset, t->shape, t->ndim);
    }
    st_close(a);
    if (rc) {
        qwen3_model_free(m);
        return err_wrap("loading model %s", dir);
    }
    return 0;
}

int qwen3_save_dir(const qwen3_model *m, const hf_config *hf, const char *dir, const char *dtype,
                   size_t shard_bytes) {
    st_write_options opt = {0};
    if (st_dtype_parse(dtype ? dtype : "F32", &opt.dtype) ||
        (opt.dtype != ST_F32 && opt.dtype != ST_BF16 && opt.dtype != ST_F16))
        return err_set("saving model %s: dtype %s is not one of F32, BF16, F16", dir, dtype ? dtype : "");
    opt.max_shard_bytes = shard_bytes;
    const char *mk[] = {"format"}, *mv[] = {"pt"};   // what transformers writes and expects
    opt.meta_keys = mk;
    opt.meta_values = mv;
    opt.nmeta = 1;
    if (file_mkdirs(dir)) return err_wrap("saving model %s", dir);
    // the config's shape fields always come from the model; other keys (token ids, extras) from hf
    hf_config out;
    qwen3_config_to_hf(&out, &m->cfg);
    if (hf) {
        out.bos_token_id = hf->bos_token_id;
        out.eos_token_id = hf->eos_token_id;
        out.max_position_embeddings = hf->max_position_embeddings;
        out.rope_theta = hf->rope_theta;
        out.rms_norm_eps = hf->rms_norm_eps;
        out.extra = hf->extra;
    }
    char *cp = path_join(dir, "config.json");
    int rc = cp ? hf_config_save(&out, cp) : ERR_FAIL;
    free(cp);
    if (rc) return err_wrap("saving model %s", dir);
    st_item *items = mem_calloc((size_t)m->n_tensors, sizeof *items);
    if (!items) return ERR_FAIL;
    for (int i = 0; i < m->n_tensors; i++) {
        const qwen3_tensor *t = &m->tensors[i];
        items[i].name = t->name;
        items[i].ndim = t->ndim;
        items[i].shape[0] = t->shape[0];
        items[i].shape[1] = t->shape[1];
        items[i].data = m->param_mem + t->offset;
    }
    rc = st_write_dir(dir, items, m->n_tensors, &opt);
    free(items);
    return rc ? err_wrap("saving model %s", dir) : 0;
}
