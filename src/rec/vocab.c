// Vocabulary expansion (see vocab.h for the rules). The weights are rewritten shard by shard
// through the safetensors reader/writer: only one output shard (as f32) is in memory at a time,
// plus the expanded embedding while its shard is written.
#include "rec/vocab.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/outdir.h"
#include "base/rng.h"
#include "formats/hfconfig.h"
#include "formats/safetensors.h"
#include "rec/sid.h"
#include "text/tokenizer.h"

#define EMBED_NAME "model.embed_tokens.weight"
#define HEAD_NAME "lm_head.weight"
#define MAX_NEW_TOKENS (1 << 24)

void vocab_expand_opts_default(vocab_expand_opts *o) {
    *o = (vocab_expand_opts){
        .layers = 3,
        .codebook = 8192,
        .align = 256,
        .init = VOCAB_INIT_MEAN,
        .noise = 3.1622776601683795e-5,   // sqrt(1e-9): HF mean-resizing's covariance scale
        .seed = 42,
        .shard_bytes = (size_t)5 << 30,
    };
}

int vocab_init_parse(const char *s, vocab_init *out) {
    if (!strcmp(s, "mean")) *out = VOCAB_INIT_MEAN;
    else if (!strcmp(s, "hf")) *out = VOCAB_INIT_HF;
    else return err_usage("unknown init rule '%s' (use mean or hf)", s);
    return 0;
}

static const char *vocab_init_name(vocab_init v) { return v == VOCAB_INIT_HF ? "hf" : "mean"; }

int vocab_check_shape(int layers, int codebook) {
    if (layers < 1 || layers > SID_MAX_LAYERS)
        return err_usage("--layers %d: must be 1..%d (one letter a, b, c, ... per layer)", layers, SID_MAX_LAYERS);
    if (codebook < 1) return err_usage("--codebook %d: must be at least 1", codebook);
    if ((int64_t)layers * codebook + 2 > MAX_NEW_TOKENS)
        return err_usage("--layers %d x --codebook %d = %lld new tokens: more than the limit of %d", layers, codebook,
                       (long long)layers * codebook, MAX_NEW_TOKENS);
    if (sid_key_check(layers, codebook))
        return err_wrap("--layers %d x --codebook %d", layers, codebook);
    return 0;
}

int vocab_itemic_tokens(char ***names, size_t *n, int layers, int codebook) {
    *names = NULL, *n = 0;
    if (vocab_check_shape(layers, codebook)) return ERR_FAIL;
    size_t count = (size_t)layers * codebook + 2;
    // one block: the pointer array, then the strings (each at most "<s_p_16777215>" + NUL)
    size_t per = 24;
    char **v = mem_alloc(count * sizeof(char *) + count * per);
    if (!v) return err_wrap("itemic token names");
    char *s = (char *)(v + count);
    size_t k = 0;
    for (int l = 0; l < layers; l++)
        for (int c = 0; c < codebook; c++, k++) {
            v[k] = s + k * per;
            sid_token_name(v[k], per, l, c);
        }
    v[k] = s + k * per;
    strcpy(v[k++], "<|sid_begin|>");
    v[k] = s + k * per;
    strcpy(v[k++], "<|sid_end|>");
    *names = v, *n = count;
    return 0;
}

// w [rows, C]: rows [from, rows) = mean + noise * sd * N(0,1) over rows [0, stat_rows)
int vocab_init_rows(float *w, int64_t rows, int C, int64_t from, int64_t stat_rows, double noise, uint64_t seed) {
    if (from >= rows) return 0;
    double *mean = mem_calloc((size_t)C * 2, sizeof(double)), *sd = mean + C;
    if (!mean) return err_wrap("embedding row statistics");
    if (stat_rows > 0) {
        for (int64_t r = 0; r < stat_rows; r++)
            for (int d = 0; d < C; d++) mean[d] += w[r * C + d];
        for (int d = 0; d < C; d++) mean[d] /= (double)stat_rows;
        for (int64_t r = 0; r < stat_rows; r++)
            for (int d = 0; d < C; d++) {
                double e = w[r * C + d] - mean[d];
                sd[d] += e * e;
            }
        for (int d = 0; d < C; d++) sd[d] = sqrt(sd[d] / (double)stat_rows);
    }
#pragma omp parallel for schedule(static)
    for (int64_t r = from; r < rows; r++) {
        rng g;
        rng_seed_stream(&g, seed, (uint64_t)r);
        float *o = w + r * C;
        for (int d = 0; d < C; d++) o[d] = (float)(mean[d] + (noise > 0 ? noise * sd[d] * rng_normal(&g) : 0.0));
    }
    free(mean);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// weights

typedef struct {
    const st_tensor *t;
    int64_t rows;      // output rows (dim 0)
    int expand;        // embed_tokens / lm_head
} out_tensor;

static int is_embedding(const char *name) { return !strcmp(name, EMBED_NAME) || !strcmp(name, HEAD_NAME); }

// Reads one tensor into a fresh f32 buffer, expanded to new_vocab rows when it is an embedding.
static int load_tensor(float **out, const st_archive *a, const out_tensor *ot, int64_t old_len, int64_t old_vocab,
                       const vocab_expand_opts *o) {
    const st_tensor *t = ot->t;
    int64_t numel = t->numel / (t->shape[0] ? t->shape[0] : 1) * ot->rows;
    if (!ot->expand) numel = t->numel;
    float *buf = mem_alloc((size_t)(numel ? numel : 1) * sizeof(float));
    if (!buf) return err_wrap("tensor %s", t->name);
    if (st_read_f32(a, t->name, buf, t->shape, t->ndim)) {
        free(buf);
        return ERR_FAIL;
    }
    if (ot->expand) {
        int C = (int)t->shape[1];
        int64_t from = o->init == VOCAB_INIT_HF ? old_vocab : old_len;
        if (vocab_init_rows(buf, ot->rows, C, from, from, o->noise, o->seed)) {
            free(buf);
            return ERR_FAIL;
        }
    }
    *out = buf;
    return 0;
}

typedef struct {
    const st_archive *a;
    const out_tensor *ts;
    int64_t old_len, old_vocab;
    const vocab_expand_opts *o;
} weight_source;

// st_source callbacks: one shard's tensors are read (embeddings expanded) just before it is written.
static int load_part(void *ctx, st_item *items, int first, int k) {
    const weight_source *w = ctx;
    log_info("writing %d tensors from %s on", k, w->ts[first].t->name);
    for (int j = 0; j < k; j++) {
        float *buf = NULL;
        if (load_tensor(&buf, w->a, &w->ts[first + j], w->old_len, w->old_vocab, w->o)) return ERR_FAIL;
        items[j].data = buf;
    }
    return 0;
}

static void release_part(void *ctx, st_item *items, int k) {
    (void)ctx;
    for (int j = 0; j < k; j++) free((float *)items[j].data);
}

static int write_weights(const char *model_dir, const char *tmp, const st_archive *a, st_dtype dtype, int64_t old_len,
                         int64_t old_vocab, int64_t new_vocab, const vocab_expand_opts *o, int *n_shards) {
    int n = st_count(a);
    out_tensor *ts = mem_calloc((size_t)(n ? n : 1), sizeof *ts);
    st_item *items = mem_calloc((size_t)(n ? n : 1), sizeof *items);
    if (!ts || !items) {
        free(ts), free(items);
        return ERR_FAIL;
    }
    for (int i = 0; i < n; i++) {
        const st_tensor *t = ts[i].t = st_get(a, i);
        ts[i].expand = is_embedding(t->name);
        ts[i].rows = ts[i].expand ? new_vocab : t->shape[0];
        items[i].name = t->name;
        items[i].ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++) items[i].shape[d] = t->shape[d];
        if (t->ndim) items[i].shape[0] = ts[i].rows;
        if (t->dtype != dtype && st_dtype_size(t->dtype) > st_dtype_size(dtype))
            log_warn("%s: tensor %s is %s, written as %s (precision lost)", model_dir, t->name, st_dtype_name(t->dtype),
                     st_dtype_name(dtype));
    }
    const char *mk[] = {"format"}, *mv[] = {"pt"};   // transformers checks this key
    st_write_options wo = {.dtype = dtype, .max_shard_bytes = o->shard_bytes, .meta_keys = mk, .meta_values = mv, .nmeta = 1};
    weight_source w = {a, ts, old_len, old_vocab, o};
    st_source src = {load_part, release_part, &w};
    int rc = st_write_dir_from(tmp, items, n, &wo, &src, n_shards);
    free(ts), free(items);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// tokenizer side files and the rest of the dir

static cJSON *added_entry(const char *content) {
    cJSON *e = cJSON_CreateObject();
    if (!e) return NULL;
    cJSON_AddStringToObject(e, "content", content);
    cJSON_AddBoolToObject(e, "lstrip", 0);
    cJSON_AddBoolToObject(e, "normalized", 1);
    cJSON_AddBoolToObject(e, "rstrip", 0);
    cJSON_AddBoolToObject(e, "single_word", 0);
    cJSON_AddBoolToObject(e, "special", 0);
    return e;
}

// tokenizer_config.json: the new tokens in added_tokens_decoder (what transformers' save writes);
// everything else (chat_template, eos/pad tokens, ...) is kept.
static int write_tokenizer_config(const char *src, const char *dst, char **names, size_t n, int64_t first_id) {
    cJSON *j = json_load_file(src);
    if (!j) return ERR_FAIL;
    cJSON *dec = cJSON_GetObjectItemCaseSensitive(j, "added_tokens_decoder");
    if (dec && !cJSON_IsObject(dec)) {
        cJSON_Delete(j);
        return err_set("%s: added_tokens_decoder is not an object", src);
    }
    if (!dec) dec = cJSON_AddObjectToObject(j, "added_tokens_decoder");
    int rc = dec ? 0 : err_set("out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)(first_id + (int64_t)i));
        cJSON *e = added_entry(names[i]);
        if (!e || !cJSON_AddItemToObject(dec, key, e)) rc = err_set("out of memory");
    }
    if (!rc) rc = json_save_file(dst, j);
    cJSON_Delete(j);
    return rc;
}

// added_tokens.json (slow tokenizers' file, {content: id}), when the source has one
static int write_added_tokens(const char *src, const char *dst, char **names, size_t n, int64_t first_id) {
    cJSON *j = json_load_file(src);
    if (!j) return ERR_FAIL;
    int rc = cJSON_IsObject(j) ? 0 : err_set("%s: not a JSON object", src);
    for (size_t i = 0; i < n && !rc; i++)
        if (!cJSON_AddNumberToObject(j, names[i], (double)(first_id + (int64_t)i))) rc = err_set("out of memory");
    if (!rc) rc = json_save_file(dst, j);
    cJSON_Delete(j);
    return rc;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

// Files rewritten by us, or weights in another format that would no longer match.
static int skip_copy(const char *name) {
    static const char *const own[] = {"config.json", "tokenizer.json", "tokenizer_config.json", "added_tokens.json",
                                      "model.safetensors.index.json", "pytorch_model.bin.index.json"};
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        if (!strcmp(name, own[i])) return 1;
    return name[0] == '.' || ends_with(name, ".safetensors") || ends_with(name, ".bin") || ends_with(name, ".pt") ||
           ends_with(name, ".pth") || ends_with(name, ".gguf");
}

static int copy_rest(const char *model_dir, const char *tmp) {
    DIR *d = opendir(model_dir);
    if (!d) return err_errno("cannot list %s", model_dir);
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (skip_copy(e->d_name)) {
            if (ends_with(e->d_name, ".bin") || ends_with(e->d_name, ".pt") || ends_with(e->d_name, ".pth") ||
                ends_with(e->d_name, ".gguf"))
                log_warn("%s/%s: not copied (weights in another format would not match the expanded vocabulary)",
                         model_dir, e->d_name);
            continue;
        }
        char *s = path_join(model_dir, e->d_name), *t = path_join(tmp, e->d_name);
        struct stat st;
        if (!s || !t) rc = ERR_FAIL;
        else if (stat(s, &st) == 0 && S_ISREG(st.st_mode)) rc = file_copy(s, t);
        else log_info("%s: not a regular file, not copied", s);
        free(s), free(t);
    }
    closedir(d);
    return rc;
}

static int update_config(const char *src, const char *dst, int64_t new_vocab, st_dtype dtype, int dtype_changed) {
    cJSON *j = json_load_file(src);
    if (!j) return ERR_FAIL;
    cJSON *v = cJSON_CreateNumber((double)new_vocab);
    int rc = 0;
    if (cJSON_HasObjectItem(j, "vocab_size")) cJSON_ReplaceItemInObjectCaseSensitive(j, "vocab_size", v);
    else cJSON_AddItemToObject(j, "vocab_size", v);
    if (dtype_changed) {
        const char *tn = dtype == ST_BF16 ? "bfloat16" : dtype == ST_F16 ? "float16" : "float32";
        cJSON *s = cJSON_CreateString(tn);
        if (cJSON_HasObjectItem(j, "torch_dtype")) cJSON_ReplaceItemInObjectCaseSensitive(j, "torch_dtype", s);
        else cJSON_AddItemToObject(j, "torch_dtype", s);
    }
    rc = json_save_file(dst, j);
    cJSON_Delete(j);
    return rc;
}

// ---------------------------------------------------------------------------------------------

// config.json is copied to the new dir: it must describe these weights, layer by layer, or the
// new dir would not load (a config of 100 layers over weights of 2).
static int check_layers(const hf_config *hf, const st_archive *st, const char *model_dir) {
    char nm[96];
    int L = hf->num_hidden_layers;
    for (int l = 0; l <= L; l++) {
        snprintf(nm, sizeof nm, "model.layers.%d.input_layernorm.weight", l);
        int have = st_find(st, nm) != NULL;
        if (l < L && !have)
            return err_set("%s: config.json declares %d layers (num_hidden_layers) but the weights have no %s", model_dir, L, nm);
        if (l == L && have)
            return err_set("%s: config.json declares %d layers (num_hidden_layers) but the weights have %s", model_dir, L, nm);
    }
    return 0;
}

typedef struct {
    hf_config hf;
    int have_hf;
    tokenizer *tok;
    st_archive *st;
    char **names;
    outdir out;   // the new model dir, built in a temporary sibling (out.work)
    char *p_cfg, *p_tok, *p_tcfg, *p_added;
} expand_state;

static void state_free(expand_state *s) {
    if (s->have_hf) hf_config_free(&s->hf);
    tokenizer_free(s->tok);
    st_close(s->st);
    free(s->names);
    free(s->p_cfg), free(s->p_tok), free(s->p_tcfg), free(s->p_added);
}

static int expand_body(expand_state *S, const char *model_dir, const char *out_dir, const vocab_expand_opts *o,
                       vocab_expand_result *res) {
    if (!file_is_dir(model_dir)) return err_set("model dir %s does not exist", model_dir);
    if (o->align < 1) return err_usage("--align %d: must be at least 1", o->align);
    if (vocab_check_shape(o->layers, o->codebook)) return ERR_FAIL;
    S->p_cfg = path_join(model_dir, "config.json");
    S->p_tok = path_join(model_dir, "tokenizer.json");
    S->p_tcfg = path_join(model_dir, "tokenizer_config.json");
    S->p_added = path_join(model_dir, "added_tokens.json");
    if (!S->p_cfg || !S->p_tok || !S->p_tcfg || !S->p_added) return ERR_FAIL;
    if (!file_exists(S->p_cfg)) return err_set("%s is missing: %s is not an HF model dir", S->p_cfg, model_dir);
    if (!file_exists(S->p_tok))
        return err_set("%s is missing: vocab expand needs the fast tokenizer file tokenizer.json", S->p_tok);
    if (outdir_check_input(out_dir, model_dir)) return ERR_USAGE;
    if (outdir_open(&S->out, out_dir, "vocab expand", OUTDIR_REPLACE | (o->force ? OUTDIR_FORCE : 0)))
        return ERR_FAIL;
    if (hf_config_load(&S->hf, model_dir)) return ERR_FAIL;
    S->have_hf = 1;
    if (hf_config_validate(&S->hf, S->p_cfg)) return ERR_FAIL;
    if (st_open(&S->st, model_dir)) return err_wrap("model weights in %s", model_dir);
    if (check_layers(&S->hf, S->st, model_dir)) return ERR_FAIL;
    if (tokenizer_load(&S->tok, S->p_tok)) return ERR_FAIL;

    int64_t old_len = tokenizer_vocab_size(S->tok), old_vocab = S->hf.vocab_size;
    int C = S->hf.hidden_size;
    if (old_vocab < old_len)
        return err_set("%s: vocab_size %lld is smaller than the tokenizer's %lld tokens (%s)", S->p_cfg,
                       (long long)old_vocab, (long long)old_len, S->p_tok);
    const st_tensor *emb = st_find(S->st, EMBED_NAME), *head = st_find(S->st, HEAD_NAME);
    if (!emb) return err_set("%s: no tensor %s in the weights", model_dir, EMBED_NAME);
    if (emb->ndim != 2 || emb->shape[0] != old_vocab || emb->shape[1] != C)
        return err_set("%s: tensor %s has shape [%lld, %lld], config.json says [%lld, %d]", emb->file, EMBED_NAME,
                       (long long)emb->shape[0], emb->ndim > 1 ? (long long)emb->shape[1] : 0LL, (long long)old_vocab, C);
    if (!S->hf.tie_word_embeddings && !head)
        return err_set("%s: tie_word_embeddings is false but the weights have no %s", model_dir, HEAD_NAME);
    if (head && (head->ndim != 2 || head->shape[0] != old_vocab || head->shape[1] != C))
        return err_set("%s: tensor %s has shape [%lld, %lld], expected [%lld, %d]", head->file, HEAD_NAME,
                       (long long)head->shape[0], head->ndim > 1 ? (long long)head->shape[1] : 0LL, (long long)old_vocab, C);
    st_dtype dtype = emb->dtype;
    if (o->dtype && st_dtype_parse(o->dtype, &dtype)) return ERR_FAIL;
    if (dtype != ST_F32 && dtype != ST_BF16 && dtype != ST_F16)
        return err_set("weights dtype %s: expected F32, BF16 or F16", st_dtype_name(dtype));

    size_t n;
    if (vocab_itemic_tokens(&S->names, &n, o->layers, o->codebook)) return ERR_FAIL;
    for (size_t i = 0; i < n; i++) {
        int32_t id = tokenizer_token_to_id(S->tok, S->names[i]);
        if (id >= 0)
            return err_set("%s already has the token %s (id %d): expand the base model, not an expanded one", S->p_tok,
                           S->names[i], id);
    }
    size_t added = 0;
    if (tokenizer_add_tokens(S->tok, (const char *const *)S->names, n, 0, 1, &added)) return ERR_FAIL;
    if (added != n) return err_set("tokenizer added %zu of %zu tokens", added, n);
    int64_t new_len = tokenizer_vocab_size(S->tok);
    if (new_len != old_len + (int64_t)n)
        return err_set("%s: the new tokens got ids %lld.. but len(tokenizer) is %lld (ids with holes?)", S->p_tok,
                       (long long)old_len, (long long)new_len);
    int64_t need = new_len > old_vocab ? new_len : old_vocab;
    int64_t new_vocab = (need + o->align - 1) / o->align * o->align;
    if (new_vocab > INT32_MAX) return err_set("vocab_size %lld does not fit a 32-bit token id", (long long)new_vocab);
    log_info("%s: len(tokenizer) %lld -> %lld, vocab_size %lld -> %lld (hidden %d, %s, init %s)", model_dir,
             (long long)old_len, (long long)new_len, (long long)old_vocab, (long long)new_vocab, C,
             head ? "untied lm_head" : "tied", vocab_init_name(o->init));

    int shards = 0;
    if (write_weights(model_dir, S->out.work, S->st, dtype, old_len, old_vocab, new_vocab, o, &shards)) return ERR_FAIL;
    char *p = path_join(S->out.work, "config.json");
    int rc = p ? update_config(S->p_cfg, p, new_vocab, dtype, dtype != emb->dtype) : ERR_FAIL;
    free(p);
    if (rc) return ERR_FAIL;
    p = path_join(S->out.work, "tokenizer.json");
    rc = p ? tokenizer_save(S->tok, p) : ERR_FAIL;
    free(p);
    if (rc) return ERR_FAIL;
    if (file_exists(S->p_tcfg)) {
        p = path_join(S->out.work, "tokenizer_config.json");
        rc = p ? write_tokenizer_config(S->p_tcfg, p, S->names, n, old_len) : ERR_FAIL;
        free(p);
        if (rc) return ERR_FAIL;
    } else {
        log_warn("%s has no tokenizer_config.json: transformers will not list the new tokens as added tokens", model_dir);
    }
    if (file_exists(S->p_added)) {
        p = path_join(S->out.work, "added_tokens.json");
        rc = p ? write_added_tokens(S->p_added, p, S->names, n, old_len) : ERR_FAIL;
        free(p);
        if (rc) return ERR_FAIL;
    }
    if (copy_rest(model_dir, S->out.work)) return ERR_FAIL;
    if (outdir_commit(&S->out)) return ERR_FAIL;
    if (res) {
        res->old_len = old_len, res->new_len = new_len;
        res->old_vocab = old_vocab, res->new_vocab = new_vocab;
        res->added = (int64_t)n, res->hidden = C, res->untied = head != NULL, res->shards = shards;
    }
    return 0;
}

int vocab_expand(const char *model_dir, const char *out_dir, const vocab_expand_opts *o, vocab_expand_result *res) {
    vocab_expand_opts def;
    if (!o) vocab_expand_opts_default(&def), o = &def;
    expand_state S = {0};
    int rc = expand_body(&S, model_dir, out_dir, o, res);
    if (rc) {
        outdir_abort(&S.out, NULL);
        err_wrap("vocab expand %s", model_dir);
    }
    state_free(&S);
    return rc;
}
