// Text / collaborative / mixed item embeddings, file to file (see item_embed.h).
#include "data/item_embed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/raw.h"
#include "data/table.h"

int item_embed_method_parse(const char *s, item_embed_method *m) {
    static const char *const names[] = {"tfidf", "cooc", "mix"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i])) return *m = (item_embed_method)i, 0;
    return err_usage("--method %s: want model, tfidf, cooc or mix", s);
}

void item_embed_opts_default(item_embed_opts *o) {
    *o = (item_embed_opts){
        .method = ITEM_EMBED_TFIDF,
        .id_col = "pid",
        .text_col = "dense_caption",
        .window = 0,
        .shift = 1.0,
        .cds = 1.0,
        .alpha = 0.5,
    };
    embed_text_opts_default(&o->text);
}

// ---- the items: pids (and captions) in a fixed order ------------------------------------------

typedef struct {
    pid_index ix;
    int64_t *pids;
    char **texts;
    int64_t n, cap;
    const char *id_col, *text_col;
} items;

static void items_free(items *it) {
    for (int64_t i = 0; it->texts && i < it->n; i++) free(it->texts[i]);
    free(it->texts), free(it->pids);
    pid_index_free(&it->ix);
}

static int items_add(items *it, int64_t pid, const char *text) {
    int64_t idx;
    int is_new;
    if (pid_index_put(&it->ix, pid, &idx, &is_new)) return ERR_FAIL;
    if (!is_new) return err_set("pid %lld appears twice (pids must be unique)", (long long)pid);
    if (it->n == it->cap) {
        int64_t nc = it->cap ? it->cap * 2 : 1024;
        int64_t *p = mem_realloc(it->pids, (size_t)nc * sizeof *p);
        if (!p) return ERR_FAIL;
        it->pids = p;
        char **t = mem_realloc(it->texts, (size_t)nc * sizeof *t);
        if (!t) return ERR_FAIL;
        it->texts = t, it->cap = nc;
    }
    it->pids[it->n] = pid;
    it->texts[it->n] = NULL;
    if (text && !(it->texts[it->n] = mem_strdup(text))) return ERR_FAIL;
    it->n++;
    return 0;
}

static int caption_row(void *ctx, const cJSON *row) {
    items *it = ctx;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(row, it->id_col);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(row, it->text_col);
    if (!cJSON_IsNumber(p)) return err_set("%s is null", it->id_col);
    return items_add(it, (int64_t)p->valuedouble, cJSON_IsString(t) ? t->valuestring : NULL);
}

static int items_read_captions(items *it, const char *path, const char *id_col, const char *text_col) {
    dcol want[2] = {{id_col, DCOL_I64, 0}, {text_col, DCOL_STR, 0}};   // null captions are read as empty
    it->id_col = id_col, it->text_col = text_col;
    dtab_reader *r;
    if (dtab_reader_open(&r, path)) return err_wrap("captions");
    int got = 0, rc = dtab_reader_check(r, want, 2, "captions");
    if (rc) {
        char msg[ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err_msg());
        err_set("%s (choose the columns with --id-column and --text-column)", msg);
    }
    cJSON *row;
    while (!rc && (got = dtab_reader_next(r, &row)) > 0) {
        if ((rc = caption_row(it, row))) err_wrap("captions %s: row %lld", path, (long long)dtab_reader_row_index(r));
        cJSON_Delete(row);
    }
    dtab_reader_close(r);
    if (!rc && got < 0) rc = ERR_FAIL;
    if (!rc && it->n == 0) rc = err_set("captions %s: no rows", path);
    return rc;
}

// The pids of the items the interactions added, in index order.
static int items_from_index(items *it) {
    it->pids = mem_alloc((size_t)(it->ix.n ? it->ix.n : 1) * sizeof *it->pids);
    if (!it->pids) return ERR_FAIL;
    for (int64_t h = 0; h < it->ix.cap; h++)
        if (it->ix.keys[h] != INT64_MIN) it->pids[it->ix.slot[h]] = it->ix.keys[h];
    it->n = it->cap = it->ix.n;
    return 0;
}

// ---- the two sources ----------------------------------------------------------------------------

static int text_vectors(float *out, const items *it, const item_embed_opts *o, item_embed_stats *st) {
    log_info("embed: TF-IDF + %s of %lld captions", o->text.projection == TEXT_PROJ_RANDOM ? "random projection" : "SVD",
             (long long)it->n);
    if (embed_text_tfidf(out, (const char *const *)it->texts, NULL, it->n, &o->text, &st->text)) return ERR_FAIL;
    st->text_fallback = embed_rows_normalize(out, it->n, o->text.dim, it->pids, o->text.svd.seed);
    return 0;
}

static double frobenius2(const csr_mat *a) {
    double s = 0;
    for (int64_t e = 0; e < csr_nnz(a); e++) s += (double)a->val[e] * a->val[e];
    return s;
}

// Counts the training co-occurrences; without captions the interactions define the items.
static int cooc_count(cooc_counts *c, items *it, const item_embed_opts *o, item_embed_stats *st) {
    int grow = !o->captions;
    if (cooc_read_raw(c, &it->ix, grow, o->raw, o->window, &st->cooc)) return ERR_FAIL;
    if (grow && items_from_index(it)) return ERR_FAIL;
    st->pairs = cooc_pairs(c);
    if (st->pairs == 0)
        return err_set("interactions %s: no two known items co-occur in a training (split 0) row", o->raw);
    return 0;
}

// PPMI -> SVD -> U sqrt(S); rows of cold items get random unit vectors (fill) or stay zero
static int cooc_vectors(float *out, const cooc_counts *c, const items *it, int fill, const item_embed_opts *o,
                        item_embed_stats *st) {
    csr_mat p;
    int dim = o->text.dim;
    float *sv = mem_alloc((size_t)dim * sizeof *sv);
    if (!sv || cooc_ppmi(&p, c, it->n, o->shift, o->cds)) {
        free(sv);
        return ERR_FAIL;
    }
    st->ppmi_nnz = csr_nnz(&p);
    log_info("embed: PPMI of %lld items, %lld pairs; SVD to %d dims", (long long)it->n, (long long)st->pairs, dim);
    int rc = svd_embed(out, sv, &p, dim, 0.5, &o->text.svd);
    if (!rc) {
        double kept = 0, all = frobenius2(&p);
        for (int j = 0; j < dim; j++) kept += (double)sv[j] * sv[j];
        st->cooc_explained = all > 0 ? kept / all : 0;
        st->cold = embed_rows_normalize(out, it->n, dim, fill ? it->pids : NULL, o->text.svd.seed);
    }
    free(sv);
    csr_free(&p);
    return rc;
}

// out [n, 2 dim] = [sqrt(alpha) t, sqrt(1 - alpha) c], or [t, 0] for an item with no cooc vector
static void mix_rows(float *out, const float *t, const float *c, int64_t n, int dim, double alpha) {
    for (int64_t i = 0; i < n; i++) {
        const float *ti = t + i * dim, *ci = c + i * dim;
        int cold = 1;
        for (int j = 0; j < dim && cold; j++) cold = ci[j] == 0.0f;
        float a = cold ? 1.0f : (float)sqrt(alpha), b = cold ? 0.0f : (float)sqrt(1.0 - alpha);
        for (int j = 0; j < dim; j++) out[i * 2 * dim + j] = a * ti[j], out[i * 2 * dim + dim + j] = b * ci[j];
    }
}

static int write_rows(const char *path, const int64_t *pids, const float *x, int64_t n, int d) {
    dtab_writer *w;
    if (dtab_writer_open(&w, path, EMBEDDING_COLS, 2)) return ERR_FAIL;
    int rc = 0;
    for (int64_t i = 0; i < n && !rc; i++) {
        cJSON *row = cJSON_CreateObject(), *arr = cJSON_CreateArray();
        cJSON_AddNumberToObject(row, "pid", (double)pids[i]);
        for (int j = 0; j < d; j++) cJSON_AddItemToArray(arr, cJSON_CreateNumber(x[i * d + j]));
        cJSON_AddItemToObject(row, "embedding", arr);
        rc = dtab_writer_row(w, row);
        cJSON_Delete(row);
    }
    if (rc) {
        dtab_writer_abort(w);
        return ERR_FAIL;
    }
    return dtab_writer_close(w);
}

int item_embed_check_opts(const item_embed_opts *o) {
    static const char *const names[] = {"tfidf", "cooc", "mix"};
    if ((unsigned)o->method > ITEM_EMBED_MIX) return err_usage("unknown method %d", (int)o->method);
    const char *m = names[o->method];
    if (o->method != ITEM_EMBED_COOC && !o->captions) return err_usage("--method %s needs the captions (--input)", m);
    if (o->method != ITEM_EMBED_TFIDF && !o->raw) return err_usage("--method %s needs the interactions (--raw)", m);
    if (o->text.dim < 1) return err_usage("--dim %d: must be at least 1", o->text.dim);
    if (o->text.svd.power_iters < 0 || o->text.svd.oversample < 0)
        return err_usage("--power-iters %d, --oversample %d: must be >= 0", o->text.svd.power_iters, o->text.svd.oversample);
    if (o->window < 0) return err_usage("--window %d: must be 0 (whole users) or positive", o->window);
    if (!(o->shift >= 1)) return err_usage("--shift %g: must be at least 1 (1 = plain PPMI)", o->shift);
    if (!(o->cds > 0 && o->cds <= 1)) return err_usage("--cds %g: must be in (0, 1] (1 = none)", o->cds);
    if (!(o->alpha >= 0 && o->alpha <= 1)) return err_usage("--alpha %g: must be in [0, 1]", o->alpha);
    return 0;
}

static float *alloc_rows(int64_t n, int d) { return mem_alloc((size_t)n * d * sizeof(float)); }

int item_embed_file(const char *out_path, const item_embed_opts *o, item_embed_stats *st) {
    double t0 = time_now();
    item_embed_stats s = {0};
    items it = {0};
    cooc_counts c = {0};
    float *t = NULL, *v = NULL, *m = NULL;
    int rc = item_embed_check_opts(o), dim = o->text.dim;
    if (!rc && o->captions) rc = items_read_captions(&it, o->captions, o->id_col, o->text_col);
    if (!rc && o->method != ITEM_EMBED_TFIDF) rc = cooc_count(&c, &it, o, &s);
    if (!rc && dim > it.n) rc = err_set("--dim %d: must be at most the number of items (%lld)", dim, (long long)it.n);
    if (!rc && o->method != ITEM_EMBED_COOC) rc = (t = alloc_rows(it.n, dim)) ? text_vectors(t, &it, o, &s) : ERR_FAIL;
    if (!rc && o->method != ITEM_EMBED_TFIDF)
        rc = (v = alloc_rows(it.n, dim)) ? cooc_vectors(v, &c, &it, o->method == ITEM_EMBED_COOC, o, &s) : ERR_FAIL;
    cooc_free(&c);
    const float *out = o->method == ITEM_EMBED_TFIDF ? t : v;
    s.dim = dim;
    if (!rc && o->method == ITEM_EMBED_MIX) {
        s.dim = 2 * dim;
        rc = (m = alloc_rows(it.n, 2 * dim)) ? 0 : ERR_FAIL;
        if (!rc) mix_rows(m, t, v, it.n, dim, o->alpha);
        out = m;
    }
    s.items = it.n;
    if (!rc) rc = write_rows(out_path, it.pids, out, it.n, s.dim);
    s.seconds = time_now() - t0;
    if (st) *st = s;
    items_free(&it);
    free(t), free(v), free(m);
    return rc;
}
