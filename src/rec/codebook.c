// Codebook files: safetensors so numpy/torch read them without our code.
#include "rec/codebook.h"

#include <stdio.h>

#include "base/err.h"
#include "formats/safetensors.h"

#define META_N 10

int rq_codebook_save(const char *path, const rq_codebook *cb, const rq_codebook_meta *m) {
    char v[META_N][64];
    const char *keys[META_N] = {"format", "layers", "codebook_size", "dim", "iters", "seed", "init",
                                "max_points_per_centroid", "train_items", "rel_error"};
    snprintf(v[0], 64, "onerec-rqkmeans");
    snprintf(v[1], 64, "%d", cb->layers);
    snprintf(v[2], 64, "%d", cb->k);
    snprintf(v[3], 64, "%d", cb->d);
    snprintf(v[4], 64, "%d", m->iters);
    snprintf(v[5], 64, "%lld", (long long)m->seed);
    snprintf(v[6], 64, "%s", m->init);
    snprintf(v[7], 64, "%d", m->max_points_per_centroid);
    snprintf(v[8], 64, "%lld", (long long)m->train_items);
    snprintf(v[9], 64, "%.6g", m->rel_error);
    const char *vals[META_N];
    for (int i = 0; i < META_N; i++) vals[i] = v[i];
    st_item it = {"centroids", 3, {cb->layers, cb->k, cb->d}, cb->centroids};
    st_write_options o = {ST_F32, 0, keys, vals, META_N};
    return st_write_file(path, &it, 1, &o);
}

int rq_codebook_load(rq_codebook *cb, const char *path) {
    st_archive *a;
    if (st_open(&a, path)) return err_wrap("codebook");
    const st_tensor *t = st_find(a, "centroids");
    int rc = 0;
    if (!t || t->ndim != 3) {
        rc = err_set("codebook %s: no 3-D tensor 'centroids' [layers, codebook, dim] (write one with onerec sid train)", path);
    } else if (!(rc = rq_codebook_init(cb, (int)t->shape[0], (int)t->shape[1], (int)t->shape[2]))) {
        rc = st_read_f32(a, "centroids", cb->centroids, t->shape, 3);
        if (rc) rq_codebook_free(cb);
    }
    st_close(a);
    return rc;
}
