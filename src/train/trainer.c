#include "train/trainer.h"
#include "train/update.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "train/dist.h"

struct trainer {
    qwen3_model *m;
    train_loader *l;
    trainer_config c;
    int64_t step;
    int L;                    // row length
    qwen3_acts *acts;
    pack_row row;             // scratch for rows of other ranks
    // this rank's rows of the current step: [accum * micro * L]
    int32_t *ids, *labels, *pos, *seg;
    int16_t *src;
    float *weights, *logp;    // [micro * L]
    int nrows_mine;
    FILE *dump;
    // statistics buffers
    double *red;              // reduction buffer: the RED_* slots, then RED_SRC_NLL/N per source
    int red_cap;
    double *src_loss;
    int64_t *src_tok;
    int src_cap;
};

static int ensure_buffers(trainer *t, int L) {
    if (L < 2) return err_set("row length %d is too short", L);
    t->L = L;
    size_t rows = (size_t)t->c.grad_accum * t->c.micro_batch, N = rows * (size_t)L,
           Nm = (size_t)t->c.micro_batch * L;
    t->ids = mem_alloc(N * 4);
    t->labels = mem_alloc(N * 4);
    t->pos = mem_alloc(N * 4);
    t->seg = mem_alloc(N * 4);
    t->src = mem_alloc(N * 2);
    t->weights = mem_alloc(Nm * 4);
    t->logp = mem_alloc(Nm * 4);
    if (!t->ids || !t->labels || !t->pos || !t->seg || !t->src || !t->weights || !t->logp) return ERR_FAIL;
    if (pack_row_init(&t->row, L, 0)) return ERR_FAIL;
    if (!t->m->grad_mem && qwen3_alloc_grads(t->m)) return ERR_FAIL;
    return qwen3_acts_init(&t->acts, t->m, t->c.micro_batch, L,
                           t->c.recompute ? QWEN3_ACTS_RECOMPUTE : QWEN3_ACTS_TRAIN);
}

void trainer_free(trainer *t) {
    if (!t) return;
    qwen3_acts_free(t->acts);
    pack_row_free(&t->row);
    free(t->ids), free(t->labels), free(t->pos), free(t->seg), free(t->src);
    free(t->weights), free(t->logp), free(t->red), free(t->src_loss), free(t->src_tok);
    free(t);
}

int trainer_init(trainer **out, qwen3_model *m, train_loader *l, const trainer_config *c) {
    if (c->micro_batch < 1 || c->grad_accum < 1) return err_set("trainer: micro batch and accumulation must be >= 1");
    // at or above the vocabulary no embedding row trains: stage 1 would change nothing and exit 0
    if (c->start_row >= m->cfg.vocab)
        return err_usage("--start_optimize_embedding_index %d: must be below the model's vocabulary (%d rows)",
                         c->start_row, m->cfg.vocab);
    trainer *t = mem_calloc(1, sizeof *t);
    if (!t) return ERR_FAIL;
    t->m = m;
    t->l = l;
    t->c = *c;
    if (ensure_buffers(t, c->row_length)) {
        trainer_free(t);
        return err_wrap("trainer");
    }
    *out = t;
    return 0;
}

int64_t trainer_get_step(const trainer *t) { return t->step; }
void trainer_set_dump(trainer *t, FILE *fp) { t->dump = fp; }
void trainer_set_step(trainer *t, int64_t step) { t->step = step; }

// The step's sums, reduced across ranks in one call: fixed slots first (5..7 spare), then a
// (nll, count) pair per data source.
enum { RED_NLL, RED_ITEMIC_NLL, RED_ITEMIC_N, RED_TEXT_NLL, RED_TEXT_N, RED_SOURCES = 8 };
#define RED_SRC_NLL(s) (RED_SOURCES + 2 * (s))
#define RED_SRC_N(s) (RED_SOURCES + 2 * (s) + 1)
#define RED_LEN(nsrc) (RED_SOURCES + 2 * (nsrc))

static int grow_stats(trainer *t, int nsrc) {
    int need = RED_LEN(nsrc);
    if (need > t->red_cap) {
        double *r = mem_realloc(t->red, sizeof(double) * (size_t)need);
        if (!r) return ERR_FAIL;
        t->red = r;
        t->red_cap = need;
    }
    if (nsrc > t->src_cap) {
        double *a = mem_realloc(t->src_loss, sizeof(double) * (size_t)nsrc);
        if (!a) return ERR_FAIL;
        t->src_loss = a;
        int64_t *b = mem_realloc(t->src_tok, sizeof(int64_t) * (size_t)nsrc);
        if (!b) return ERR_FAIL;
        t->src_tok = b;
        t->src_cap = nsrc;
    }
    return 0;
}

// Reads the global batch; keeps this rank's rows. Returns 1, 0 (data ran out), ERR_FAIL.
static int read_global_batch(trainer *t, int64_t *ntrain, int64_t *ntokens, int *nsrc) {
    int world = dist_size(), rank = dist_rank();
    int per_rank = t->c.grad_accum * t->c.micro_batch, G = world * per_rank;
    int L = t->L;
    *ntrain = *ntokens = 0;
    *nsrc = 0;
    t->nrows_mine = 0;
    for (int k = 0; k < G; k++) {
        int rc = train_loader_next_row(t->l, &t->row);
        if (rc <= 0) return rc;
        if (t->dump && rank == 0) {
            int32_t *arrs[4] = {t->row.ids, t->row.labels, t->row.pos, t->row.seg};
            for (int a = 0; a < 4; a++)
                if (fwrite(arrs[a], 4, (size_t)L, t->dump) != (size_t)L) return err_errno("writing the batch dump");
        }
        *ntrain += t->row.ntrain;
        *ntokens += t->row.fill;
        for (int i = 0; i < L; i++)
            if (t->row.src[i] >= *nsrc) *nsrc = t->row.src[i] + 1;
        if (k / per_rank != rank) continue;
        size_t o = (size_t)(k % per_rank) * L;
        memcpy(t->ids + o, t->row.ids, (size_t)L * 4);
        memcpy(t->labels + o, t->row.labels, (size_t)L * 4);
        memcpy(t->pos + o, t->row.pos, (size_t)L * 4);
        memcpy(t->seg + o, t->row.seg, (size_t)L * 4);
        memcpy(t->src + o, t->row.src, (size_t)L * 2);
        t->nrows_mine++;
    }
    return 1;
}

// Sums gradients over ranks; in stage 1 only the trainable embedding / lm_head rows (the rest is 0).
static int reduce_grads(trainer *t) {
    qwen3_model *m = t->m;
    if (dist_size() == 1) return 0;
    if (!t->c.freeze_llm && t->c.start_row == 0) return dist_allreduce_sum_f32(m->grad_mem, m->n_params);
    size_t C = (size_t)m->cfg.dim, skip = (size_t)t->c.start_row * C;
    for (int i = 0; i < m->n_tensors; i++) {
        const qwen3_tensor *tn = &m->tensors[i];
        int rows = !strcmp(tn->name, "model.embed_tokens.weight") || !strcmp(tn->name, "lm_head.weight");
        if (!rows && t->c.freeze_llm) continue;
        size_t from = rows ? skip : 0;
        if (from >= tn->numel) continue;
        if (dist_allreduce_sum_f32(m->grad_mem + tn->offset + from, tn->numel - from)) return ERR_FAIL;
    }
    return 0;
}

int trainer_step(trainer *t, trainer_stats *st) {
    memset(st, 0, sizeof *st);
    int64_t ntrain, ntokens;
    int nsrc;
    int rc = read_global_batch(t, &ntrain, &ntokens, &nsrc);
    if (rc <= 0) return rc;
    if (ntrain == 0) return err_set("step %lld: the global batch has no trainable tokens (check the loss masks: only_assistant_loss with no assistant turns?)", (long long)t->step + 1);
    if (grow_stats(t, nsrc)) return ERR_FAIL;
    qwen3_model *m = t->m;
    m->freeze_layers = t->c.freeze_llm;
    m->grad_row_start = t->c.start_row;
    qwen3_zero_grads(m);
    int L = t->L, B = t->c.micro_batch;
    size_t Nm = (size_t)B * L;
    double *red = t->red;
    memset(red, 0, sizeof(double) * (size_t)RED_LEN(nsrc));
    float inv = 1.0f / (float)ntrain;
    for (int mb = 0; mb < t->c.grad_accum; mb++) {
        size_t o = (size_t)mb * Nm;
        for (size_t i = 0; i < Nm; i++) t->weights[i] = t->labels[o + i] >= 0 ? inv : 0.0f;
        qwen3_batch b = {B, L, t->ids + o, t->pos + o, t->seg + o, t->labels + o, t->weights};
        float loss;
        if (qwen3_forward_backward(m, t->acts, &b, &loss, t->logp)) return err_wrap("step %lld", (long long)t->step + 1);
        for (size_t i = 0; i < Nm; i++) {
            int32_t y = t->labels[o + i];
            if (y < 0) continue;
            double nll = -(double)t->logp[i];
            red[RED_NLL] += nll;
            int itemic = y >= t->c.itemic_lo && y <= t->c.itemic_hi;
            red[itemic ? RED_ITEMIC_NLL : RED_TEXT_NLL] += nll;
            red[itemic ? RED_ITEMIC_N : RED_TEXT_N] += 1;
            int s = t->src[o + i];
            red[RED_SRC_NLL(s)] += nll;
            red[RED_SRC_N(s)] += 1;
        }
    }
    if (dist_allreduce_sum_f64(red, (size_t)RED_LEN(nsrc))) return ERR_FAIL;
    if (reduce_grads(t)) return ERR_FAIL;
    st->step = t->step + 1;
    st->loss = red[RED_NLL] / (double)ntrain;
    st->itemic_tokens = (int64_t)red[RED_ITEMIC_N];
    st->text_tokens = (int64_t)red[RED_TEXT_N];
    st->itemic_loss = red[RED_ITEMIC_N] > 0 ? red[RED_ITEMIC_NLL] / red[RED_ITEMIC_N] : 0;
    st->text_loss = red[RED_TEXT_N] > 0 ? red[RED_TEXT_NLL] / red[RED_TEXT_N] : 0;
    st->nsources = nsrc;
    st->source_loss = t->src_loss;
    st->source_tokens = t->src_tok;
    for (int s = 0; s < nsrc; s++) {
        t->src_tok[s] = (int64_t)red[RED_SRC_N(s)];
        t->src_loss[s] = t->src_tok[s] ? red[RED_SRC_NLL(s)] / red[RED_SRC_N(s)] : NAN;
    }
    st->tokens = ntokens;
    st->rows = (int64_t)dist_size() * t->c.grad_accum * B;
    st->lr = lr_at(&t->c.lr, t->step);
    if (!isfinite(st->loss))
        return err_set("step %lld: the loss is %g (not finite); the weights were not updated", (long long)st->step, st->loss);
    train_update_cfg uc = {st->lr, t->c.beta1, t->c.beta2, t->c.eps, t->c.weight_decay, t->c.max_grad_norm};
    if (train_update(m, &uc, st->step, &st->grad_norm)) return ERR_FAIL;
    t->step = st->step;
    return 1;
}

int train_score_rows(const qwen3_model *m, train_loader *l, int L, int32_t pad, int max_rows, int rank, int world,
                     const train_id_range *split, train_score *s) {
    memset(s, 0, sizeof *s);
    qwen3_acts *a = NULL;
    pack_row row;
    if (pack_row_init(&row, L, pad)) return ERR_FAIL;
    if (qwen3_acts_init(&a, m, 1, L, QWEN3_ACTS_INFER)) {
        pack_row_free(&row);
        return ERR_FAIL;
    }
    float *logp = mem_alloc(sizeof(float) * (size_t)L);
    int rc = logp ? 0 : ERR_FAIL;
    for (int k = 0; !rc && k < max_rows; k++) {
        int got = train_loader_next_row(l, &row);
        if (got < 0) rc = ERR_FAIL;
        if (got <= 0) break;
        if (k % world != rank) continue;   // rows split over ranks, summed by the caller
        qwen3_batch b = {1, L, row.ids, row.pos, row.seg, row.labels, NULL};
        float loss;
        if (qwen3_forward(m, a, &b, &loss, logp)) rc = ERR_FAIL;
        for (int i = 0; i < L && !rc; i++) {
            int32_t y = row.labels[i];
            if (y < 0) continue;
            int c = split && y >= split->lo && y <= split->hi ? 0 : 1;
            s->nll[c] -= logp[i], s->n[c]++;
        }
        if (!rc) s->rows++;
    }
    free(logp);
    qwen3_acts_free(a);
    pack_row_free(&row);
    return rc;
}

int trainer_eval(trainer *t, train_loader *l, int max_rows, double *loss, int64_t *ntok) {
    train_score s;
    int rc = train_score_rows(t->m, l, t->L, 0, max_rows, dist_rank(), dist_size(), NULL, &s);
    double red[2] = {s.nll[1], (double)s.n[1]};
    if (!rc && dist_allreduce_sum_f64(red, 2)) rc = ERR_FAIL;
    *loss = red[1] > 0 ? red[0] / red[1] : NAN;
    *ntok = (int64_t)red[1];
    return rc;
}
