#include "eval/heldout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "model/qwen3.h"
#include "text/tokenizer.h"
#include "train/dataset.h"
#include "train/loader.h"
#include "train/source.h"
#include "train/trainer.h"

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
    if (tokenizer_load_dir(&c->tok, model_dir)) return err_wrap("held-out loss: the tokenizer of %s", model_dir);
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

static int score_rows(heldout_ctx *c, int max_rows, heldout_result *out) {
    train_loader_config lc = {c->dc.nfiles, 1, 0, c->dc.max_sample_length, c->dc.cut_to_pad, c->dc.full_attention, 0};
    train_loader l;
    if (train_loader_init(&l, &lc, train_data_source(c->data))) return ERR_FAIL;
    train_score s;
    train_id_range itemic = {c->dc.itemic_lo, c->dc.itemic_hi};
    int rc = train_score_rows(&c->m, &l, c->dc.max_length, train_data_pad_id(c->data), max_rows, 0, 1, &itemic, &s);
    out->itemic = s.n[0] ? s.nll[0] / (double)s.n[0] : NAN;
    out->text = s.n[1] ? s.nll[1] / (double)s.n[1] : NAN;
    out->n_itemic = s.n[0], out->n_text = s.n[1];
    out->rows = s.rows;
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
