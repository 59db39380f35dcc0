// Encoding an embedding file with a residual k-means codebook, streamed in chunks, with the
// collision report and an optional dedup pass: what `onerec sid encode` computes.
#pragma once
#include <stdint.h>

#include "rec/embsrc.h"
#include "rec/kmeans.h"
#include "rec/sid.h"

typedef struct {
    int64_t n;          // items encoded
    int layers;         // codes per item in `codes`: the codebook's, one more with the digit dedup
    int64_t *pid;       // [n], owned
    int32_t *codes;     // [n, layers], owned
    double se, sx;      // sums of ||x - x^||^2 and ||x||^2 before dedup
    double se_after;    // ||x - x^||^2 after the balance dedup (se otherwise)
    double seconds;     // the encoding pass
    int64_t moved;      // items the dedup changed
    sid_collision_stats before, after;
} sid_encoding;

// e out (sid_encoding_free); s is read from its current row, and rewound by the balance dedup.
int sid_encode_stream(sid_encoding *e, embsrc *s, const rq_codebook *cb, sid_dedup mode);
void sid_encoding_free(sid_encoding *e);
