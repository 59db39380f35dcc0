#include "train/loader.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"

static void make_order(train_loader *l) {
    for (int i = 0; i < l->cfg.nfiles; i++) l->order[i] = (uint32_t)i;
    rng r;
    // a stream per epoch: the order of epoch e never depends on how far earlier epochs were read
    rng_seed_stream(&r, l->cfg.seed, (uint64_t)l->epoch);
    rng_shuffle_u32(&r, l->order, (size_t)l->cfg.nfiles);
}

int train_loader_init(train_loader *l, const train_loader_config *cfg, train_source src) {
    memset(l, 0, sizeof *l);
    if (cfg->nfiles <= 0) return err_set("loader: the dataset has no files");
    if (cfg->num_epochs <= 0) return err_set("loader: num_epochs must be positive");
    l->cfg = *cfg;
    l->src = src;
    l->file_nrows = -1;
    l->order = mem_alloc(sizeof(uint32_t) * (size_t)cfg->nfiles);
    int nb = cfg->buffer_size > 1 ? cfg->buffer_size : 1;
    l->buf = mem_calloc((size_t)nb, sizeof(train_sample));
    l->buf_ref = mem_calloc((size_t)nb, sizeof(sample_ref));
    if (!l->order || !l->buf || !l->buf_ref) {
        train_loader_free(l);
        return ERR_FAIL;
    }
    make_order(l);
    rng_seed_stream(&l->rng, cfg->seed, 0x5348554646ULL);   // "SHUFF": distinct from file orders
    return 0;
}

void train_loader_free(train_loader *l) {
    if (l->buf) {
        int nb = l->cfg.buffer_size > 1 ? l->cfg.buffer_size : 1;
        for (int i = 0; i < nb; i++) train_sample_free(&l->buf[i]);
    }
    free(l->buf);
    free(l->buf_ref);
    free(l->order);
    train_sample_free(&l->out);
    train_sample_free(&l->pending);
    memset(l, 0, sizeof *l);
}

// Reads the next usable sample in file order into *s: 1, 0 at the end of the last epoch, or ERR_FAIL.
static int read_next(train_loader *l, train_sample *s, sample_ref *ref) {
    for (;;) {
        if (l->epoch >= l->cfg.num_epochs) return 0;
        int f = (int)l->order[l->file_pos];
        if (l->file_nrows < 0 && l->src.file_rows(l->src.ctx, f, &l->file_nrows)) return ERR_FAIL;
        if (l->row >= l->file_nrows) {
            l->row = 0;
            l->file_nrows = -1;
            if (++l->file_pos == l->cfg.nfiles) {
                l->file_pos = 0;
                l->epoch = l->epoch_used ? l->epoch + 1 : l->cfg.num_epochs;
                l->epoch_used = 0;
                if (l->epoch < l->cfg.num_epochs) make_order(l);
            }
            continue;
        }
        ref->file = f;
        ref->row = l->row++;
        s->n = 0;
        if (l->src.fetch(l->src.ctx, f, ref->row, s)) return ERR_FAIL;
        l->samples_read++;
        if (s->n > l->cfg.max_sample_length) {
            l->skipped_long++;
            continue;
        }
        if (train_sample_trainable(s) == 0) {
            l->skipped_empty++;
            continue;
        }
        l->epoch_used++;
        return 1;
    }
}

static void swap_sample(train_sample *a, train_sample *b) {
    train_sample t = *a;
    *a = *b;
    *b = t;
}

int train_loader_next_sample(train_loader *l, const train_sample **s, sample_ref *ref) {
    int rc;
    if (l->cfg.buffer_size <= 1) {
        rc = read_next(l, &l->out, &l->out_ref);
        if (rc != 1) return rc;
    } else {
        while (l->nbuf < l->cfg.buffer_size) {
            rc = read_next(l, &l->buf[l->nbuf], &l->buf_ref[l->nbuf]);
            if (rc < 0) return rc;
            if (rc == 0) break;
            l->nbuf++;
        }
        if (l->nbuf == 0) return 0;
        int j = (int)rng_below(&l->rng, (uint64_t)l->nbuf);
        swap_sample(&l->out, &l->buf[j]);
        l->out_ref = l->buf_ref[j];
        // the hole takes the last entry, so the buffer stays dense and its order well defined
        l->nbuf--;
        if (j != l->nbuf) {
            swap_sample(&l->buf[j], &l->buf[l->nbuf]);
            l->buf_ref[j] = l->buf_ref[l->nbuf];
        }
    }
    *s = &l->out;
    if (ref) *ref = l->out_ref;
    return 1;
}

int train_loader_next_row(train_loader *l, pack_row *row) {
    pack_row_reset(row);
    for (;;) {
        const train_sample *s;
        sample_ref ref;
        if (l->has_pending) {
            swap_sample(&l->out, &l->pending);
            l->out_ref = l->pending_ref;
            l->has_pending = 0;
            s = &l->out;
            ref = l->out_ref;
        } else {
            int rc = train_loader_next_sample(l, &s, &ref);
            if (rc < 0) return rc;
            if (rc == 0) {
                if (row->ntrain == 0) return 0;
                pack_row_finish(row, l->cfg.full_attention);
                l->rows++;
                return 1;
            }
        }
        pack_result pr = pack_row_add(row, s, l->cfg.cut_to_pad);
        if (pr == PACK_NO_ROOM) {
            if (train_sample_copy(&l->pending, s)) return ERR_FAIL;
            l->pending_ref = ref;
            l->has_pending = 1;
        } else {
            l->samples_packed++;
        }
        if (pr != PACK_ADDED) {
            l->tokens_cut += row->cut_tokens;
            pack_row_finish(row, l->cfg.full_attention);
            l->rows++;
            return 1;
        }
    }
}

// ---- state ----

static cJSON *ref_json(sample_ref r) {
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateNumber(r.file));
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)r.row));
    return a;
}

static int ref_parse(const cJSON *a, sample_ref *r, int nfiles) {
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2) return err_set("loader state: a sample reference must be [file, row]");
    r->file = (int32_t)cJSON_GetArrayItem(a, 0)->valuedouble;
    r->row = (int64_t)cJSON_GetArrayItem(a, 1)->valuedouble;
    if (r->file < 0 || r->file >= nfiles || r->row < 0) return err_set("loader state: sample reference [%d, %lld] is out of range", r->file, (long long)r->row);
    return 0;
}

cJSON *train_loader_state(const train_loader *l) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "nfiles", l->cfg.nfiles);
    cJSON_AddNumberToObject(j, "num_epochs", l->cfg.num_epochs);
    cJSON_AddNumberToObject(j, "buffer_size", l->cfg.buffer_size);
    char hex[32];
    snprintf(hex, sizeof hex, "%016" PRIx64, l->cfg.seed);
    cJSON_AddStringToObject(j, "seed", hex);
    cJSON_AddNumberToObject(j, "epoch", l->epoch);
    cJSON_AddNumberToObject(j, "file_pos", l->file_pos);
    cJSON_AddNumberToObject(j, "row", (double)l->row);
    cJSON *rs = cJSON_AddArrayToObject(j, "rng");   // hex: JSON numbers cannot hold 64 bits
    for (int i = 0; i < 4; i++) {
        snprintf(hex, sizeof hex, "%016" PRIx64, l->rng.s[i]);
        cJSON_AddItemToArray(rs, cJSON_CreateString(hex));
    }
    cJSON *b = cJSON_AddArrayToObject(j, "buffer");
    for (int i = 0; i < l->nbuf; i++) cJSON_AddItemToArray(b, ref_json(l->buf_ref[i]));
    if (l->has_pending) cJSON_AddItemToObject(j, "pending", ref_json(l->pending_ref));
    cJSON_AddNumberToObject(j, "samples_read", (double)l->samples_read);
    cJSON_AddNumberToObject(j, "samples_packed", (double)l->samples_packed);
    cJSON_AddNumberToObject(j, "skipped_long", (double)l->skipped_long);
    cJSON_AddNumberToObject(j, "skipped_empty", (double)l->skipped_empty);
    cJSON_AddNumberToObject(j, "rows", (double)l->rows);
    cJSON_AddNumberToObject(j, "tokens_cut", (double)l->tokens_cut);
    cJSON_AddNumberToObject(j, "epoch_used", (double)l->epoch_used);
    return j;
}

static const sample_ref *g_refs;   // qsort has no context argument; restore is not reentrant
static int cmp_ref(const void *a, const void *b) {
    const sample_ref *x = &g_refs[*(const int *)a], *y = &g_refs[*(const int *)b];
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int get_hex(const cJSON *v, uint64_t *out) {
    char *end;
    if (!cJSON_IsString(v)) return ERR_FAIL;
    *out = strtoull(v->valuestring, &end, 16);
    return *end ? ERR_FAIL : 0;
}

int train_loader_restore(train_loader *l, const cJSON *j) {
    const char *w = "loader state";
    int64_t nfiles, epochs, bsize, epoch, fpos, row;
    uint64_t seed;
    if (json_get_int(j, "nfiles", &nfiles, w) || json_get_int(j, "num_epochs", &epochs, w) ||
        json_get_int(j, "buffer_size", &bsize, w) || json_get_int(j, "epoch", &epoch, w) ||
        json_get_int(j, "file_pos", &fpos, w) || json_get_int(j, "row", &row, w))
        return ERR_FAIL;
    if (get_hex(cJSON_GetObjectItemCaseSensitive(j, "seed"), &seed)) return err_set("%s: bad \"seed\"", w);
    if (nfiles != l->cfg.nfiles || bsize != l->cfg.buffer_size || seed != l->cfg.seed)
        return err_set("%s: saved with %lld files, shuffle buffer %lld, seed %016" PRIx64
                       "; this run has %d files, buffer %d, seed %016" PRIx64
                       " (resume with the same dataset config and --seed)",
                       w, (long long)nfiles, (long long)bsize, seed, l->cfg.nfiles, l->cfg.buffer_size, l->cfg.seed);
    if (epoch < 0 || fpos < 0 || fpos >= nfiles || row < 0) return err_set("%s: cursor out of range", w);
    l->epoch = (int)epoch;
    (void)epochs;   // this run's num_epochs wins: a resume may extend training
    l->file_pos = (int)fpos;
    l->row = row;
    l->file_nrows = -1;
    if (l->epoch < l->cfg.num_epochs) make_order(l);
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(j, "rng");
    if (!cJSON_IsArray(rs) || cJSON_GetArraySize(rs) != 4) return err_set("%s: bad \"rng\"", w);
    for (int i = 0; i < 4; i++)
        if (get_hex(cJSON_GetArrayItem(rs, i), &l->rng.s[i])) return err_set("%s: bad \"rng\"", w);
    l->rng.has_spare = 0;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "buffer");
    int nb = cJSON_GetArraySize(b);
    if (!cJSON_IsArray(b) || nb > (l->cfg.buffer_size > 1 ? l->cfg.buffer_size : 0))
        return err_set("%s: bad \"buffer\"", w);
    for (int i = 0; i < nb; i++)
        if (ref_parse(cJSON_GetArrayItem(b, i), &l->buf_ref[i], l->cfg.nfiles)) return ERR_FAIL;
    // fetch in file order (slots keep their saved order) so a source caching whole files reads
    // each file once
    int *ord = mem_alloc(sizeof(int) * (size_t)(nb > 0 ? nb : 1));
    if (!ord) return ERR_FAIL;
    for (int i = 0; i < nb; i++) ord[i] = i;
    g_refs = l->buf_ref;
    qsort(ord, (size_t)nb, sizeof(int), cmp_ref);
    for (int k = 0; k < nb; k++) {
        int i = ord[k];
        l->buf[i].n = 0;
        if (l->src.fetch(l->src.ctx, l->buf_ref[i].file, l->buf_ref[i].row, &l->buf[i])) {
            free(ord);
            return err_wrap("%s: re-reading buffered sample", w);
        }
    }
    free(ord);
    l->nbuf = nb;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "pending");
    l->has_pending = 0;
    if (p) {
        if (ref_parse(p, &l->pending_ref, l->cfg.nfiles)) return ERR_FAIL;
        l->pending.n = 0;
        if (l->src.fetch(l->src.ctx, l->pending_ref.file, l->pending_ref.row, &l->pending))
            return err_wrap("%s: re-reading the pending sample", w);
        l->has_pending = 1;
    }
    struct { const char *key; int64_t *dst; } counters[] = {
        {"samples_read", &l->samples_read}, {"samples_packed", &l->samples_packed},
        {"skipped_long", &l->skipped_long}, {"skipped_empty", &l->skipped_empty},
        {"rows", &l->rows}, {"tokens_cut", &l->tokens_cut}, {"epoch_used", &l->epoch_used},
    };
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        if (json_opt_int(j, counters[i].key, 0, counters[i].dst, w)) return ERR_FAIL;
    return 0;
}
