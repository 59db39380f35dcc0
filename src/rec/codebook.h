// Residual k-means codebooks on disk: one safetensors file with a 3-D f32 tensor `centroids`
// [layers, codebook, dim] and the training settings in its string metadata (docs/sid.md).
#pragma once
#include <stdint.h>

#include "rec/kmeans.h"

// What `onerec sid train` records beside the centroids, so a codebook says how it was made.
typedef struct {
    int iters;
    int64_t seed;
    const char *init;   // "sample" or "kmeans++"
    int max_points_per_centroid;
    int64_t train_items;
    double rel_error;
} rq_codebook_meta;

int rq_codebook_save(const char *path, const rq_codebook *cb, const rq_codebook_meta *m);
// cb out (owned: rq_codebook_free).
int rq_codebook_load(rq_codebook *cb, const char *path);
