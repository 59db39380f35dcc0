#include "train/model_io.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "formats/safetensors.h"

int train_model_load(qwen3_model *m, hf_config *hf, const char *dir) {
    memset(hf, 0, sizeof *hf);
    if (hf_config_load(hf, dir)) return err_wrap("model %s", dir);
    qwen3_config c;
    if (qwen3_config_from_hf(&c, hf, dir) || qwen3_model_init(m, &c)) {
        hf_config_free(hf);
        return err_wrap("model %s", dir);
    }
    st_archive *a = NULL;
    if (st_open(&a, dir)) goto fail;
    for (int i = 0; i < m->n_tensors; i++) {
        const qwen3_tensor *t = &m->tensors[i];
        if (st_read_f32(a, t->name, m->param_mem + t->offset, t->shape, t->ndim)) goto fail;
    }
    st_close(a);
    return 0;
fail:
    st_close(a);
    qwen3_model_free(m);
    hf_config_free(hf);
    return err_wrap("model %s", dir);
}

// Copies tokenizer.json, tokenizer_config.json, vocab.json, merges.txt, special_tokens_map.json,
// added_tokens.json, generation_config.json when present in src.
static int train_copy_tokenizer_files(const char *src, const char *dst) {
    static const char *names[] = {"tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
                                  "special_tokens_map.json", "added_tokens.json", "generation_config.json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *a = path_join(src, names[i]), *b = path_join(dst, names[i]);
        int rc = (a && b && file_exists(a)) ? file_copy(a, b) : 0;
        free(a);
        free(b);
        if (rc) return err_wrap("copying tokenizer files");
    }
    return 0;
}

int train_model_save(const qwen3_model *m, const hf_config *hf, const char *dir, const char *dtype,
                     size_t shard_bytes, const char *tok_dir) {
    if (file_mkdirs(dir)) return ERR_FAIL;
    char *cfg = path_join(dir, "config.json");
    int rc = cfg ? hf_config_save(hf, cfg) : ERR_FAIL;
    free(cfg);
    if (rc) return err_wrap("saving %s", dir);
    st_item *items = mem_calloc((size_t)m->n_tensors, sizeof(st_item));
    if (!items) return ERR_FAIL;
    for (int i = 0; i < m->n_tensors; i++) {
        const qwen3_tensor *t = &m->tensors[i];
        items[i].name = t->name;
        items[i].ndim = t->ndim;
        for (int k = 0; k < t->ndim; k++) items[i].shape[k] = t->shape[k];
        items[i].data = m->param_mem + t->offset;
    }
    st_write_options o = {ST_F32, shard_bytes, NULL, NULL, 0};
    const char *mk[1] = {"format"}, *mv[1] = {"pt"};   // transformers expects format=pt
    o.meta_keys = mk, o.meta_values = mv, o.nmeta = 1;
    if (st_dtype_parse(dtype, &o.dtype)) rc = ERR_FAIL;
    if (!rc) rc = st_write_dir(dir, items, m->n_tensors, &o);
    free(items);
    if (!rc && tok_dir) rc = train_copy_tokenizer_files(tok_dir, dir);
    return rc ? err_wrap("saving %s", dir) : 0;
}
