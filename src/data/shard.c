#include "data/shard.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rng.h"
#include "data/convert.h"
#include "data/msg.h"
#include "data/table.h"

int shard_count_rows(const char *const *inputs, int n, int64_t *rows) {
    *rows = 0;
    for (int i = 0; i < n; i++) {
        dtab_reader *r;
        if (dtab_reader_open(&r, inputs[i])) return ERR_FAIL;
        if (dtab_reader_check(r, MSG_COLS, 3, "training table")) {
            dtab_reader_close(r);
            return ERR_FAIL;
        }
        cJSON *row;
        int got;
        while ((got = dtab_reader_next(r, &row)) > 0) {
            cJSON_Delete(row);
            (*rows)++;
        }
        dtab_reader_close(r);
        if (got < 0) return ERR_FAIL;
    }
    return 0;
}

// Streams the inputs; row number i (in input order) goes to writer dest(i). With `slot` given,
// slot[i] is the destination index (-1: dropped); else everything to writer 0.
typedef int (*dest_fn)(void *ctx, int64_t i, dtab_writer **w);

static int stream_rows(const char *const *inputs, int n, dest_fn dest, void *ctx) {
    int64_t i = 0;
    for (int f = 0; f < n; f++) {
        dtab_reader *r;
        if (dtab_reader_open(&r, inputs[f])) return ERR_FAIL;
        cJSON *row;
        int got;
        while ((got = dtab_reader_next(r, &row)) > 0) {
            dtab_writer *w = NULL;
            int rc = dest(ctx, i++, &w);
            // only the training columns travel (other columns are not part of the format)
            if (!rc && w) {
                cJSON *o = cJSON_CreateObject();
                for (int c = 0; c < 5; c++) {
                    cJSON *v = cJSON_GetObjectItemCaseSensitive(row, MSG_COLS[c].name);
                    cJSON_AddItemToObject(o, MSG_COLS[c].name, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
                }
                rc = dtab_writer_row(w, o);
                cJSON_Delete(o);
            }
            cJSON_Delete(row);
            if (rc) {
                dtab_reader_close(r);
                return ERR_FAIL;
            }
        }
        dtab_reader_close(r);
        if (got < 0) return ERR_FAIL;
    }
    return 0;
}

// position of input row i after a seeded shuffle (identity when perm is NULL)
static uint32_t *make_perm(int64_t n, uint64_t seed) {
    uint32_t *p = mem_alloc(sizeof *p * (size_t)(n ? n : 1));
    if (!p) return NULL;
    for (int64_t i = 0; i < n; i++) p[i] = (uint32_t)i;
    rng r;
    rng_seed(&r, seed);
    rng_shuffle_u32(&r, p, (size_t)n);
    return p;
}

typedef struct {
    dtab_writer **w;
    uint32_t *perm;
    int rows_per;
} shard_ctx;

static int shard_dest(void *vctx, int64_t i, dtab_writer **w) {
    shard_ctx *s = vctx;
    int64_t pos = s->perm ? s->perm[i] : i;
    *w = s->w[pos / s->rows_per];
    return 0;
}

int shard_run(const char *const *inputs, int n, const char *out_dir, int rows_per, int shuffle, uint64_t seed,
              const char *ext, int64_t *rows, int *shards) {
    if (!ext) ext = dtab_default_ext();
    if (rows_per < 1) return err_set("shard: rows per shard must be >= 1");
    int64_t total;
    if (shard_count_rows(inputs, n, &total)) return err_wrap("shard");
    if (total > UINT32_MAX) return err_set("shard: more than 2^32 rows");
    int ns = (int)((total + rows_per - 1) / rows_per);
    if (ns == 0) return err_set("shard: the inputs have no rows");
    if (file_mkdirs(out_dir)) return ERR_FAIL;
    char abs[PATH_MAX];
    if (!realpath(out_dir, abs)) return err_errno("shard: %s", out_dir);
    shard_ctx s = {mem_calloc((size_t)ns, sizeof(dtab_writer *)), shuffle ? make_perm(total, seed) : NULL, rows_per};
    cJSON *list = cJSON_CreateArray();
    int rc = ERR_FAIL;
    if (!s.w || (shuffle && !s.perm)) goto done;
    int digits = ns >= 100000 ? 6 : 5;
    for (int k = 0; k < ns; k++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/part-%0*d-of-%0*d%s", abs, digits, k, digits, ns, ext);
        if (dtab_writer_open(&s.w[k], path, MSG_COLS, 5)) goto done;
        cJSON_AddItemToArray(list, cJSON_CreateString(path));
    }
    if (stream_rows(inputs, n, shard_dest, &s)) goto done;
    for (int k = 0; k < ns; k++) {
        int e = dtab_writer_close(s.w[k]);
        s.w[k] = NULL;
        if (e) goto done;
    }
    char lp[PATH_MAX + 64];
    snprintf(lp, sizeof lp, "%s/file_list.json", abs);
    if (json_save_file(lp, list)) goto done;
    *rows = total;
    *shards = ns;
    rc = 0;
done:
    if (rc) err_wrap("shard into %s", out_dir);
    for (int k = 0; s.w && k < ns; k++) dtab_writer_abort(s.w[k]);
    free(s.w);
    free(s.perm);
    cJSON_Delete(list);
    return rc;
}

typedef struct {
    dtab_writer *w[2];
    uint32_t *perm;
    int64_t cut;   // positions < cut -> w[0]
} split_ctx;

static int split_dest(void *vctx, int64_t i, dtab_writer **w) {
    split_ctx *s = vctx;
    int64_t pos = s->perm[i];
    *w = pos < s->cut ? s->w[0] : s->w[1];
    return 0;
}

static const char *const RL_TASKS[5] = {"sft/video_rec", "sft/ad_rec", "sft/product_rec", "sft/interactive_rec",
                                        "sft/label_cond_rec"};

int prepare_rl(const char *convert_dir, const char *out_dir, int64_t test_size, uint64_t seed, const char *ext,
               int64_t *n_train, int64_t *n_test) {
    if (!ext) ext = dtab_default_ext();
    if (test_size < 0) return err_usage("--test-size %lld: must be >= 0", (long long)test_size);
    char paths[5][1200];
    const char *in[5];
    for (int k = 0; k < 5; k++) {
        if (conv_find_table(convert_dir, RL_TASKS[k], paths[k], sizeof paths[k])) return err_wrap("prepare rl");
        in[k] = paths[k];
    }
    int64_t total;
    if (shard_count_rows(in, 5, &total)) return err_wrap("prepare rl");
    if (test_size >= total)   // every row held out: RL would train on nothing
        return err_set("prepare rl: --test-size %lld leaves no training rows (%s has %lld)", (long long)test_size,
                       convert_dir, (long long)total);
    if (file_mkdirs(out_dir)) return ERR_FAIL;
    split_ctx s = {{0}, make_perm(total, seed), test_size};
    char pt[1200], pr[1200];
    snprintf(pt, sizeof pt, "%s/test%s", out_dir, ext);
    snprintf(pr, sizeof pr, "%s/train%s", out_dir, ext);
    int rc = ERR_FAIL;
    if (!s.perm || dtab_writer_open(&s.w[0], pt, MSG_COLS, 5) || dtab_writer_open(&s.w[1], pr, MSG_COLS, 5)) goto done;
    if (stream_rows(in, 5, split_dest, &s)) goto done;
    *n_test = dtab_writer_count(s.w[0]);
    *n_train = dtab_writer_count(s.w[1]);
    for (int k = 0; k < 2; k++) {
        int e = dtab_writer_close(s.w[k]);
        s.w[k] = NULL;
        if (e) goto done;
    }
    rc = 0;
done:
    if (rc) err_wrap("prepare rl into %s", out_dir);
    dtab_writer_abort(s.w[0]);
    dtab_writer_abort(s.w[1]);
    free(s.perm);
    return rc;
}

int prepare_distill(const char *const *inputs, int n, const char *out_path, int64_t count, uint64_t seed, int64_t *n_out) {
    int64_t total;
    if (shard_count_rows(inputs, n, &total)) return err_wrap("prepare distill");
    if (count < 0 || count > total) count = total;
    // rows whose shuffled position is < count are kept; they are then written in input order,
    // which is as random as the inputs themselves: the trainer shuffles again
    split_ctx s = {{0}, make_perm(total, seed), count};
    int rc = ERR_FAIL;
    if (!s.perm || dtab_writer_open(&s.w[0], out_path, MSG_COLS, 5)) goto done;
    if (stream_rows(inputs, n, split_dest, &s)) goto done;
    *n_out = dtab_writer_count(s.w[0]);
    rc = dtab_writer_close(s.w[0]);
    s.w[0] = NULL;
done:
    if (rc) err_wrap("prepare distill into %s", out_path);
    dtab_writer_abort(s.w[0]);
    free(s.perm);
    return rc;
}
