#include "train/pack.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

int train_sample_reserve(train_sample *s, int n) {
    if (n <= s->cap) return 0;
    int cap = s->cap ? s->cap : 64;
    while (cap < n) cap *= 2;
    int32_t *ids = mem_realloc(s->ids, sizeof(int32_t) * (size_t)cap);
    if (!ids) return ERR_FAIL;
    s->ids = ids;
    uint8_t *mask = mem_realloc(s->mask, (size_t)cap);
    if (!mask) return ERR_FAIL;
    s->mask = mask;
    s->cap = cap;
    return 0;
}

int train_sample_copy(train_sample *dst, const train_sample *src) {
    if (train_sample_reserve(dst, src->n)) return ERR_FAIL;
    memcpy(dst->ids, src->ids, sizeof(int32_t) * (size_t)src->n);
    memcpy(dst->mask, src->mask, (size_t)src->n);
    dst->n = src->n;
    dst->source = src->source;
    return 0;
}

int train_sample_trainable(const train_sample *s) {
    int k = 0;
    for (int i = 1; i < s->n; i++) k += s->mask[i] != 0;
    return k;
}

void train_sample_free(train_sample *s) {
    free(s->ids);
    free(s->mask);
    memset(s, 0, sizeof *s);
}

int pack_row_init(pack_row *r, int len, int pad_id) {
    memset(r, 0, sizeof *r);
    r->len = len;
    r->pad_id = pad_id;
    r->ids = mem_alloc(sizeof(int32_t) * (size_t)len);
    r->labels = mem_alloc(sizeof(int32_t) * (size_t)len);
    r->pos = mem_alloc(sizeof(int32_t) * (size_t)len);
    r->seg = mem_alloc(sizeof(int32_t) * (size_t)len);
    r->src = mem_alloc(sizeof(int16_t) * (size_t)len);
    r->seg_start = mem_alloc(sizeof(int) * (size_t)(len + 2));
    if (!r->ids || !r->labels || !r->pos || !r->seg || !r->src || !r->seg_start) {
        pack_row_free(r);
        return ERR_FAIL;
    }
    pack_row_reset(r);
    return 0;
}

void pack_row_reset(pack_row *r) {
    r->fill = 0;
    r->nseg = 0;
    r->nsamples = 0;
    r->ntrain = 0;
    r->cut_tokens = 0;
    r->seg_start[0] = 0;
}

void pack_row_free(pack_row *r) {
    free(r->ids);
    free(r->labels);
    free(r->pos);
    free(r->seg);
    free(r->src);
    free(r->seg_start);
    memset(r, 0, sizeof *r);
}

pack_result pack_row_add(pack_row *r, const train_sample *s, int cut_to_pad) {
    int room = r->len - r->fill;
    int n = s->n;
    if (n <= 0) return room > 0 ? PACK_ADDED : PACK_FULL;
    if (n > room) {
        // a sample longer than a whole row can never fit: cut it rather than loop forever
        if (!cut_to_pad && r->fill > 0) return PACK_NO_ROOM;
        r->cut_tokens += n - room;
        n = room;
    }
    int at = r->fill;
    for (int i = 0; i < n; i++) {
        r->ids[at + i] = s->ids[i];
        r->pos[at + i] = i;
        r->seg[at + i] = r->nseg;
        // position i predicts token i+1 of the same sample; the last kept token predicts nothing
        int on = i + 1 < n && s->mask[i + 1];
        r->labels[at + i] = on ? s->ids[i + 1] : PACK_IGNORE;
        r->src[at + i] = on ? (int16_t)s->source : -1;
        r->ntrain += on;
    }
    r->seg_start[r->nseg++] = at;
    r->fill += n;
    r->seg_start[r->nseg] = r->fill;
    r->nsamples++;
    return r->fill == r->len ? PACK_FULL : PACK_ADDED;
}

void pack_row_finish(pack_row *r, int full_attention) {
    if (r->fill < r->len) {
        for (int i = r->fill, k = 0; i < r->len; i++, k++) {
            r->ids[i] = r->pad_id;
            r->labels[i] = PACK_IGNORE;
            r->pos[i] = k;
            r->seg[i] = r->nseg;
            r->src[i] = -1;
        }
        r->seg_start[r->nseg++] = r->fill;
        r->seg_start[r->nseg] = r->len;
    }
    if (full_attention) {
        // one causal sequence over the whole row, as a non-varlen model sees it
        for (int i = 0; i < r->len; i++) {
            r->seg[i] = 0;
            r->pos[i] = i;
        }
        r->nseg = 1;
        r->seg_start[0] = 0;
        r->seg_start[1] = r->len;
    }
}
