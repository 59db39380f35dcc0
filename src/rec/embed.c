// Item embeddings from captions (see embed.h). One packed row per batch: tokens [1, T] with a
// segment per text; the padding up to a multiple of PAD_TO is one more segment of end tokens, so
// the activations can be reused across batches of similar size.
#include "rec/embed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "formats/parquet.h"
#include "model/qwen3.h"
#include "text/tokenizer.h"

#define PAD_TO 64

struct embedder {
    embed_opts o;
    qwen3_model m;
    int have_model;
    tokenizer *tok;
    int32_t end_id;          // -1: none
    qwen3_acts *acts;
    int acts_T;
    int *tokens, *pos, *seg; // [cap]
    int cap;
    int64_t tokens_done, truncated;
};

void embed_opts_default(embed_opts *o) {
    *o = (embed_opts){
        .batch = 32,
        .max_length = 512,
        .end_token = "<|endoftext|>",
        .normalize = 1,
    };
}

int embedder_open(embedder **out, const char *model_dir, const embed_opts *o) {
    *out = NULL;
    embed_opts def;
    if (!o) embed_opts_default(&def), o = &def;
    if (o->batch < 1) return err_usage("--batch %d: must be at least 1", o->batch);
    if (o->max_length < 2) return err_usage("--max-length %d: must be at least 2 (a token and the end token)", o->max_length);
    if (!file_is_dir(model_dir)) return err_set("model dir %s does not exist", model_dir);
    char *tp = path_join(model_dir, "tokenizer.json");
    if (!tp) return ERR_FAIL;
    if (!file_exists(tp)) {
        err_set("%s is missing: the model dir needs its tokenizer.json", tp);
        free(tp);
        return ERR_FAIL;
    }
    embedder *e = mem_calloc(1, sizeof *e);
    if (!e) {
        free(tp);
        return ERR_FAIL;
    }
    e->o = *o;
    int rc = tokenizer_load(&e->tok, tp);
    free(tp);
    if (!rc) {
        rc = qwen3_load_dir(&e->m, model_dir);
        e->have_model = !rc;
    }
    e->end_id = -1;
    if (!rc && o->end_token && o->end_token[0]) {
        e->end_id = tokenizer_token_to_id(e->tok, o->end_token);
        if (e->end_id < 0)
            rc = err_set("%s/tokenizer.json has no token %s (give the end token with --end-token, or --end-token '')",
                         model_dir, o->end_token);
    }
    if (!rc && tokenizer_vocab_size(e->tok) > e->m.cfg.vocab)
        rc = err_set("%s: the tokenizer has %d tokens but the model only %d embedding rows", model_dir,
                     tokenizer_vocab_size(e->tok), e->m.cfg.vocab);
    if (rc) {
        embedder_close(e);
        return ERR_FAIL;
    }
    *out = e;
    return 0;
}

void embedder_close(embedder *e) {
    if (!e) return;
    if (e->have_model) qwen3_model_free(&e->m);
    tokenizer_free(e->tok);
    qwen3_acts_free(e->acts);
    free(e->tokens), free(e->pos), free(e->seg);
    free(e);
}

int embedder_dim(const embedder *e) { return e->m.cfg.dim; }
// tokens embedded so far (with end tokens)
static int64_t embedder_tokens_done(const embedder *e) { return e->tokens_done; }

static int tokenize(const embedder *e, const char *text, size_t len, int32_t **ids, int *n, int *truncated) {
    *ids = NULL, *n = 0;
    tok_buf b = {0};
    if (len && tokenizer_encode(e->tok, text, len, &b)) {
        tok_buf_free(&b);
        return ERR_FAIL;
    }
    int keep = e->o.max_length - (e->end_id >= 0);
    int cnt = (int)(b.n < (size_t)keep ? b.n : (size_t)keep);
    if (truncated) *truncated = b.n > (size_t)keep;
    int total = cnt + (e->end_id >= 0);
    if (total == 0) {
        tok_buf_free(&b);
        return err_set("an empty text with no end token has nothing to embed");
    }
    int32_t *v = mem_alloc((size_t)total * sizeof *v);
    if (!v) {
        tok_buf_free(&b);
        return ERR_FAIL;
    }
    if (cnt) memcpy(v, b.ids, (size_t)cnt * sizeof *v);
    if (e->end_id >= 0) v[cnt] = e->end_id;
    tok_buf_free(&b);
    *ids = v, *n = total;
    return 0;
}

int embedder_tokenize(const embedder *e, const char *text, size_t len, int32_t **ids, int *n) {
    return tokenize(e, text, len, ids, n, NULL);
}

static int ensure_capacity(embedder *e, int T) {
    if (T > e->cap) {
        free(e->tokens), free(e->pos), free(e->seg);
        e->tokens = mem_alloc((size_t)T * sizeof(int));
        e->pos = mem_alloc((size_t)T * sizeof(int));
        e->seg = mem_alloc((size_t)T * sizeof(int));
        e->cap = e->tokens && e->pos && e->seg ? T : 0;
        if (!e->cap) return ERR_FAIL;
    }
    if (T != e->acts_T) {
        qwen3_acts_free(e->acts);
        e->acts = NULL, e->acts_T = 0;
        if (qwen3_acts_init(&e->acts, &e->m, 1, T, 0)) return ERR_FAIL;
        e->acts_T = T;
    }
    return 0;
}

// out [n, C]: embeddings of n token sequences in one packed forward (1 <= lens[i] <= max_length)
static int embedder_embed_ids(embedder *e, float *out, const int32_t *const *ids, const int *lens, int n) {
    int64_t used = 0;
    for (int i = 0; i < n; i++) {
        if (lens[i] < 1 || lens[i] > e->o.max_length)
            return err_set("sequence %d has %d tokens (want 1..%d)", i, lens[i], e->o.max_length);
        used += lens[i];
    }
    if (n == 0) return 0;
    int64_t T = (used + PAD_TO - 1) / PAD_TO * PAD_TO;
    if (T > INT32_MAX / 2) return err_set("batch of %lld tokens is too large", (long long)used);
    if (ensure_capacity(e, (int)T)) return err_wrap("embedding a batch of %d texts (%lld tokens)", n, (long long)used);
    int p = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < lens[i]; j++, p++) {
            e->tokens[p] = ids[i][j];
            e->pos[p] = j;
            e->seg[p] = i;
        }
    int pad = e->end_id >= 0 ? e->end_id : 0;
    for (int j = 0; p < T; j++, p++) {   // one trailing segment of padding
        e->tokens[p] = pad;
        e->pos[p] = j;
        e->seg[p] = n;
    }
    qwen3_batch b = {.B = 1, .T = (int)T, .tokens = e->tokens, .pos = e->pos, .seg = e->seg};
    if (qwen3_forward(&e->m, e->acts, &b, NULL, NULL)) return err_wrap("embedding forward");
    const float *h = qwen3_acts_hidden(e->acts);
    int C = e->m.cfg.dim;
    int64_t last = -1;
    for (int i = 0; i < n; i++) {
        last += lens[i];
        const float *src = h + last * C;
        float *dst = out + (size_t)i * C;
        double ss = 0.0;
        for (int d = 0; d < C; d++) ss += (double)src[d] * src[d];
        float s = e->o.normalize && ss > 0 ? (float)(1.0 / sqrt(ss)) : 1.0f;
        for (int d = 0; d < C; d++) dst[d] = src[d] * s;
    }
    e->tokens_done += used;
    return 0;
}

int embedder_embed_texts(embedder *e, float *out, const char *const *texts, const size_t *lens, int n) {
    int B = e->o.batch, C = e->m.cfg.dim;
    int32_t **ids = mem_calloc((size_t)B, sizeof *ids);
    int *nt = mem_calloc((size_t)B, sizeof *nt), *cut = mem_calloc((size_t)B, sizeof *cut);
    int rc = ids && nt && cut ? 0 : ERR_FAIL;
    for (int s = 0; s < n && !rc; s += B) {
        int k = n - s < B ? n - s : B;
        int bad = -1;
        // the tokenizer is thread-safe after loading
#pragma omp parallel for schedule(dynamic, 1)
        for (int i = 0; i < k; i++) {
            const char *t = texts[s + i] ? texts[s + i] : "";
            size_t l = lens ? lens[s + i] : strlen(t);
            if (tokenize(e, t, l, &ids[i], &nt[i], &cut[i])) {
#pragma omp critical
                bad = bad < 0 || i < bad ? i : bad;
            }
        }
        if (bad >= 0) rc = err_set("tokenizing text %d failed", s + bad);
        for (int i = 0; i < k && !rc; i++) e->truncated += cut[i];
        if (!rc) rc = embedder_embed_ids(e, out + (size_t)s * C, (const int32_t *const *)ids, nt, k);
        for (int i = 0; i < k; i++) free(ids[i]), ids[i] = NULL;
    }
    free(ids), free(nt), free(cut);
    return rc;
}

// ---------------------------------------------------------------------------------------------

int embed_file(const char *model_dir, const char *in_path, const char *out_path, const char *id_col,
               const char *text_col, const embed_opts *o, embed_stats *st) {
    embed_opts def;
    if (!o) embed_opts_default(&def), o = &def;
    embed_stats s = {0};
    double t0 = time_now();
    parquet_reader *r = NULL;
    parquet_cursor *c = NULL;
    parquet_writer *w = NULL;
    embedder *e = NULL;
    char **texts = NULL;
    size_t *lens = NULL;
    int64_t *pids = NULL;
    float *emb = NULL;
    int rc = 0;
    if (parquet_reader_open(&r, in_path)) return err_wrap("captions");
    int ci = parquet_reader_find_column(r, text_col), pi = parquet_reader_find_column(r, id_col);
    if (ci < 0 || pi < 0) {
        char names[512] = "";
        for (int i = 0; i < parquet_reader_num_columns(r); i++) {
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "", parquet_reader_column(r, i)->name);
        }
        rc = err_set("captions %s: no column '%s' (the file has: %s; choose with %s)", in_path, ci < 0 ? text_col : id_col,
                     names, ci < 0 ? "--text-column" : "--id-column");
        goto done;
    }
    const parquet_column_info *ti = parquet_reader_column(r, ci), *ii = parquet_reader_column(r, pi);
    if (ti->is_list || ti->type != PQ_STRING) {
        rc = err_set("captions %s: column '%s' is not a string column", in_path, text_col);
        goto done;
    }
    if (ii->is_list || (ii->type != PQ_INT64 && ii->type != PQ_INT32)) {
        rc = err_set("captions %s: column '%s' is not an integer id column", in_path, id_col);
        goto done;
    }
    const char *cols[2] = {id_col, text_col};
    if (parquet_cursor_open(&c, r, cols, 2)) {
        rc = err_wrap("captions %s", in_path);
        goto done;
    }
    if (embedder_open(&e, model_dir, o)) {
        rc = ERR_FAIL;
        goto done;
    }
    int B = o->batch, C = embedder_dim(e);
    s.dim = C;
    s.load_seconds = time_now() - t0;
    double t1 = time_now();
    texts = mem_calloc((size_t)B, sizeof *texts);
    lens = mem_calloc((size_t)B, sizeof *lens);
    pids = mem_calloc((size_t)B, sizeof *pids);
    emb = mem_alloc((size_t)B * C * sizeof *emb);
    if (!texts || !lens || !pids || !emb) {
        rc = ERR_FAIL;
        goto done;
    }
    parquet_column_spec spec[2] = {{"pid", PQ_INT64, 0, 0}, {"embedding", PQ_FLOAT, 1, 0}};
    if (parquet_writer_open(&w, out_path, spec, 2, NULL)) {
        rc = ERR_FAIL;
        goto done;
    }
    progress pr;
    progress_begin(&pr, "embed", parquet_reader_num_rows(r), "items");
    int eof = 0;
    while (!eof && !rc) {
        int k = 0;
        while (k < B) {
            int nx = parquet_cursor_next(c);
            if (nx < 0) {
                rc = err_wrap("captions %s", in_path);
                break;
            }
            if (nx == 0) {
                eof = 1;
                break;
            }
            int64_t row = parquet_cursor_row(c);
            if (parquet_cursor_is_null(c, 0)) {
                rc = err_set("captions %s: row %lld: %s is null", in_path, (long long)row, id_col);
                break;
            }
            const char *t;
            size_t l;
            if (parquet_cursor_get_int64(c, 0, &pids[k]) || parquet_cursor_get_string(c, 1, &t, &l)) {
                rc = err_wrap("captions %s: row %lld", in_path, (long long)row);
                break;
            }
            if (l == 0) s.empty++;
            free(texts[k]);
            texts[k] = mem_strndup(t, l);   // the cursor's pointers die at the next row
            lens[k] = l;
            if (!texts[k]) {
                rc = ERR_FAIL;
                break;
            }
            k++;
        }
        if (rc || k == 0) break;
        rc = embedder_embed_texts(e, emb, (const char *const *)texts, lens, k);
        for (int i = 0; i < k && !rc; i++) {
            rc = parquet_writer_add_int64(w, 0, pids[i]) || parquet_writer_add_list_float(w, 1, emb + (size_t)i * C, C) ||
                 parquet_writer_end_row(w);
        }
        s.rows += k;
        progress_note(&pr, "%.0f tok/s", (double)embedder_tokens_done(e) / (time_now() - t1 + 1e-9));
        progress_add(&pr, k);
    }
    progress_end(&pr);
    s.embed_seconds = time_now() - t1;
    if (!rc) {
        rc = parquet_writer_close(w);
        w = NULL;
    }
done:
    if (w) parquet_writer_abort(w);
    if (e) {
        s.tokens = embedder_tokens_done(e);
        s.truncated = e->truncated;
    }
    for (int i = 0; texts && i < o->batch; i++) free(texts[i]);
    free(texts), free(lens), free(pids), free(emb);
    embedder_close(e);
    parquet_cursor_close(c);
    parquet_reader_close(r);
    s.seconds = time_now() - t0;
    if (st) *st = s;
    return rc ? err_wrap("embed %s", in_path) : 0;
}
