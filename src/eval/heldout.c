#include "eval/heldout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "model/qwen3.h"
#include "text/tokenizer.h"
#include "train/dataset.h"
#include "train/loader.h"
#include "train/source.h"

typedef struct {
    qwen3_model m;
    tokenizer *tok;
    train_dataset_config dc;
    train_data *data;
    int have_model, have_dc;
} heldout_ctx;

static int ctx_open(heldout_ctx *c, const char *model_dir, const char *dataset_config) {
    if (qwen3_load_dir(&c->m, model_dir)) return err_wrap("held-out loss: model %s", model_dir);
    c->have_model = 1;
    char *tp = path_join(model_dir, "tokenizer.json");
    int rc = tp ? tokenizer_load(&c->tok, tp) : ERR_FAIL;
    free(tp);
    if (rc) return err_wrap("held-out loss: the tokenizer of %s", model_dir);
    if (train_dataset_config_load(&c->dc, dataset_config)) return err_wrap("held-out loss");
    c->have_dc = 1;
    train_data_config tdc = {c->dc.files, c->dc.nfiles, c->tok, c->dc.add_think_pattern, c->dc.only_assistant_loss};
    return train_data_open(&c->data, &tdc);
}

static void ctx_close(heldout_ctx *c) {
    train_data_close(c->data);
    if (c->have_dc) train_dataset_config_free(&c->dc);
    tokenizer_free(c->tok);
    if (c->have_model) qwen3_model_free(&c->m);
}

// Adds one packed row's target log-probs to the itemic / text sums.
static void add_row(const pack_row *row, const float *logp, int L, int32_t lo, int32_t hi, double sum[2], int64_t n[2]) {
    for (int i = 0; i < L; i++) {
        int32_t y = row->labels[i];
        if (y < 0) continue;
        int k = y >= lo && y <= hi ? 0 : 1;
        sum[k] -= logp[i], n[k]++;
    }
}

static int score_rows(heldout_ctx *c, int max_rows, heldout_result *out) {
    int L = c->dc.max_length;
    int32_t lo = c->dc.itemic_lo, hi = c->dc.itemic_hi;
    train_loader_config lc = {c->dc.nfiles, 1, 0, c->dc.max_sample_length, c->dc.cut_to_pad, c->dc.full_attention, 0};
    train_loader l;
    if (train_loader_init(&l, &lc, train_data_source(c->data))) return ERR_FAIL;
    pack_row row;
    qwen3_acts *a = NULL;
    float *logp = mem_alloc(sizeof(float) * (size_t)L);
    int have_row = logp && !pack_row_init(&row, L, train_data_pad_id(c->data)), rc = have_row ? 0 : ERR_FAIL;
    if (!rc) rc = qwen3_acts_init(&a, &c->m, 1, L, QWEN3_ACTS_INFER);
    double sum[2] = {0, 0};
    int64_t n[2] = {0, 0};
    while (!rc && out->rows < max_rows) {
        int got = train_loader_next_row(&l, &row);
        if (got < 0) rc = ERR_FAIL;
        if (got <= 0) break;
        qwen3_batch b = {1, L, row.ids, row.pos, row.seg, row.labels, NULL};
        float lo_ = 0;
        rc = qwen3_forward(&c->m, a, &b, &lo_, logp);
        if (!rc) add_row(&row, logp, L, lo, hi, sum, n), out->rows++;
    }
    out->itemic = n[0] ? sum[0] / (double)n[0] : NAN;
    out->text = n[1] ? sum[1] / (double)n[1] : NAN;
    out->n_itemic = n[0], out->n_text = n[1];
    qwen3_acts_free(a);
    if (have_row) pack_row_free(&row);
    free(logp);
    train_loader_free(&l);
    return rc;
}

int heldout_loss(const char *model_dir, const char *dataset_config, int max_rows, heldout_result *out) {
    memset(out, 0, sizeof *out);
    heldout_ctx c;
    memset(&c, 0, sizeof c);
    int rc = ctx_open(&c, model_dir, dataset_config);
    if (!rc) rc = score_rows(&c, max_rows, out);
    ctx_close(&c);
    return rc;
}
