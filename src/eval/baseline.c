#include "eval/baseline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "eval/sasrec.h"
#include "eval/topk.h"

struct baseline {
    baseline_config cfg;
    int32_t nitems;
    int64_t *count;       // [nitems] training occurrences
    int32_t *pop_order;   // [nitems] items by count, descending (ties: smaller id)
    // item-kNN neighbour lists (CSR)
    int64_t *nb_off;      // [nitems + 1]
    int32_t *nb_id;
    float *nb_sim;
    sasrec *sas;
};

void baseline_config_default(baseline_config *c, baseline_kind kind) {
    *c = (baseline_config){
        .kind = kind,
        .knn_window = 3,
        .knn_neighbours = 100,
        .knn_history = 10,
        .knn_decay = 0.7,
        .sasrec = {.dim = 64, .layers = 2, .heads = 1, .maxlen = 50, .epochs = 20, .batch = 64, .lr = 1e-3f,
                   .weight_decay = 0.0f},
        .seed = 42,
    };
}

static const char *KIND_NAMES[] = {"popularity", "item_knn", "sasrec"};

const char *baseline_kind_name(baseline_kind kind) {
    return kind >= 0 && kind <= BASELINE_SASREC ? KIND_NAMES[kind] : "unknown";
}

int baseline_kind_parse(const char *name, baseline_kind *kind) {
    if (!strcmp(name, "popularity") || !strcmp(name, "pop")) *kind = BASELINE_POPULARITY;
    else if (!strcmp(name, "item_knn") || !strcmp(name, "knn") || !strcmp(name, "itemknn")) *kind = BASELINE_ITEMKNN;
    else if (!strcmp(name, "sasrec")) *kind = BASELINE_SASREC;
    else return err_usage("unknown baseline \"%s\" (popularity, item_knn, sasrec)", name);
    return 0;
}

const baseline_config *baseline_get_config(const baseline *b) { return &b->cfg; }

void baseline_free(baseline *b) {
    if (!b) return;
    free(b->count);
    free(b->pop_order);
    free(b->nb_off);
    free(b->nb_id);
    free(b->nb_sim);
    sasrec_free(b->sas);
    free(b);
}

static const int64_t *g_counts;   // for qsort (fit and load are not run concurrently)
static int cmp_popular(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (g_counts[x] != g_counts[y]) return g_counts[x] > g_counts[y] ? -1 : 1;
    return (x > y) - (x < y);
}

static int build_pop_order(baseline *b) {
    b->pop_order = mem_alloc((size_t)b->nitems * sizeof *b->pop_order);
    if (!b->pop_order) return ERR_FAIL;
    for (int32_t i = 0; i < b->nitems; i++) b->pop_order[i] = i;
    g_counts = b->count;
    qsort(b->pop_order, (size_t)b->nitems, sizeof *b->pop_order, cmp_popular);
    return 0;
}

// ---- item-kNN ---------------------------------------------------------------------------------

typedef struct {
    int32_t b;
    float w;
} pair_wb;

static int cmp_pair_b(const void *x, const void *y) {
    int32_t a = ((const pair_wb *)x)->b, c = ((const pair_wb *)y)->b;
    return (a > c) - (a < c);
}

static int cmp_sim_desc(const void *x, const void *y) {
    const pair_wb *a = x, *c = y;
    if (a->w != c->w) return a->w > c->w ? -1 : 1;
    return (a->b > c->b) - (a->b < c->b);
}

// Visits every co-occurring (a, b, weight) of the training set; with `emit` NULL only counts
// per a into cnt (first pass of a counting sort), else writes into the per-a buckets.
static void knn_pairs(const baseline *bl, const seq_set *train, int64_t *cnt, int64_t *fill, pair_wb *emit) {
    int win = bl->cfg.knn_window;
    for (int64_t s = 0; s < train->nseq; s++) {
        const int32_t *x = seq_at(train, s);
        int64_t n = seq_len(train, s);
        for (int64_t t = 0; t < n; t++) {
            for (int d = 1; d <= win && t + d < n; d++) {
                int32_t a = x[t], b = x[t + d];
                if (a == b) continue;
                for (int dir = 0; dir < (bl->cfg.knn_symmetric ? 2 : 1); dir++) {
                    int32_t from = dir ? b : a, to = dir ? a : b;
                    if (!emit) cnt[from]++;
                    else emit[fill[from]++] = (pair_wb){to, 1.0f / (float)d};
                }
            }
        }
    }
}

static int knn_fit(baseline *bl, const seq_set *train) {
    int32_t N = bl->nitems;
    int K = bl->cfg.knn_neighbours;
    int64_t *cnt = mem_calloc((size_t)N + 1, sizeof *cnt), *fill = mem_alloc(((size_t)N + 1) * sizeof *fill);
    bl->nb_off = mem_calloc((size_t)N + 1, sizeof *bl->nb_off);
    if (!cnt || !fill || !bl->nb_off) {
        free(cnt);
        free(fill);
        return ERR_FAIL;
    }
    knn_pairs(bl, train, cnt, NULL, NULL);
    int64_t total = 0;
    for (int32_t a = 0; a < N; a++) {
        fill[a] = total;
        total += cnt[a];
    }
    pair_wb *pairs = mem_alloc((size_t)(total ? total : 1) * sizeof *pairs);
    if (!pairs) {
        free(cnt);
        free(fill);
        return ERR_FAIL;
    }
    knn_pairs(bl, train, cnt, fill, pairs);
    // Per item: sum the weights of equal b, normalise to a cosine, keep the K most similar.
    // The kept lists are compacted in place into the front of `pairs`.
    int64_t kept = 0, start = 0;
    for (int32_t a = 0; a < N; a++) {
        pair_wb *p = pairs + start;
        int64_t n = cnt[a], m = 0;
        start += n;
        qsort(p, (size_t)n, sizeof *p, cmp_pair_b);
        for (int64_t i = 0; i < n;) {
            int32_t b = p[i].b;
            float w = 0;
            while (i < n && p[i].b == b) w += p[i++].w;
            p[m++] = (pair_wb){b, w / sqrtf((float)bl->count[a] * (float)bl->count[b])};
        }
        qsort(p, (size_t)m, sizeof *p, cmp_sim_desc);
        if (m > K) m = K;
        memmove(pairs + kept, p, (size_t)m * sizeof *p);
        kept += m;
        bl->nb_off[a + 1] = kept;
    }
    free(cnt);
    free(fill);
    bl->nb_id = mem_alloc((size_t)(kept ? kept : 1) * sizeof *bl->nb_id);
    bl->nb_sim = mem_alloc((size_t)(kept ? kept : 1) * sizeof *bl->nb_sim);
    if (!bl->nb_id || !bl->nb_sim) {
        free(pairs);
        return ERR_FAIL;
    }
    for (int64_t i = 0; i < kept; i++) {
        bl->nb_id[i] = pairs[i].b;
        bl->nb_sim[i] = pairs[i].w;
    }
    free(pairs);
    log_info("item_knn: %d items, %lld co-occurrence pairs, %lld neighbours kept", N, (long long)total,
             (long long)kept);
    return 0;
}

int baseline_fit(baseline **out, const baseline_config *cfg, const seq_set *train) {
    *out = NULL;
    if (cfg->kind < BASELINE_POPULARITY || cfg->kind > BASELINE_SASREC) return err_set("baseline: unknown kind %d", cfg->kind);
    if (cfg->kind == BASELINE_ITEMKNN && (cfg->knn_window < 1 || cfg->knn_neighbours < 1 || cfg->knn_history < 1))
        return err_set("item_knn: window, neighbours and history must be >= 1");
    if (train->nitems < 1 || train->nseq < 1) return err_set("baseline: the training set is empty");
    baseline *b = mem_calloc(1, sizeof *b);
    if (!b) return ERR_FAIL;
    b->cfg = *cfg;
    b->nitems = train->nitems;
    b->count = mem_calloc((size_t)b->nitems, sizeof *b->count);
    int rc = b->count ? 0 : ERR_FAIL;
    for (int64_t i = 0; !rc && i < train->offsets[train->nseq]; i++) b->count[train->items[i]]++;
    if (!rc) rc = build_pop_order(b);
    if (!rc && cfg->kind == BASELINE_ITEMKNN) rc = knn_fit(b, train);
    if (!rc && cfg->kind == BASELINE_SASREC) rc = sasrec_train(&b->sas, &cfg->sasrec, train, b->nitems, cfg->seed);
    if (rc) {
        baseline_free(b);
        return err_wrap("fitting %s", baseline_kind_name(cfg->kind));
    }
    *out = b;
    return 0;
}

// ---- ranking ----------------------------------------------------------------------------------

static int in_sorted(const int32_t *s, int n, int32_t x) {
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (s[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && s[lo] == x;
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

// Appends popular items not yet in out[0..m) (nor in the history when excluded) up to k.
static int fill_popular(const baseline *b, const int32_t *hist_sorted, int nh, int32_t *out, int m, int k) {
    for (int32_t i = 0; i < b->nitems && m < k; i++) {
        int32_t x = b->pop_order[i];
        if (hist_sorted && in_sorted(hist_sorted, nh, x)) continue;
        int dup = 0;
        for (int j = 0; j < m && !dup; j++) dup = out[j] == x;   // m is small (k <= a few hundred)
        if (!dup) out[m++] = x;
    }
    return m;
}

int baseline_rank(const baseline *b, const int32_t *history, int n, int k, int32_t *out) {
    if (k < 0 || n < 0) return err_set("baseline_rank: negative k or history length");
    if (k == 0) return 0;
    int32_t *hs = NULL;   // sorted history, only when excluding it
    if (b->cfg.exclude_history && n > 0) {
        hs = mem_alloc((size_t)n * sizeof *hs);
        if (!hs) return ERR_FAIL;
        memcpy(hs, history, (size_t)n * sizeof *hs);
        qsort(hs, (size_t)n, sizeof *hs, cmp_i32);
    }
    int m = 0;
    if (b->cfg.kind == BASELINE_ITEMKNN || b->cfg.kind == BASELINE_SASREC) {
        float *score = mem_alloc((size_t)b->nitems * sizeof *score), *scratch = mem_alloc((size_t)k * sizeof *scratch);
        int rc = score && scratch ? 0 : ERR_FAIL;
        if (!rc && b->cfg.kind == BASELINE_ITEMKNN) {
            // unknown items get -inf so popularity fills the rest of the list in its own order
            for (int32_t i = 0; i < b->nitems; i++) score[i] = -INFINITY;
            double w = 1;
            for (int i = n - 1, used = 0; i >= 0 && used < b->cfg.knn_history; i--, used++, w *= b->cfg.knn_decay) {
                int32_t a = history[i];
                if (a < 0 || a >= b->nitems) continue;   // items never seen in training vote for nothing
                for (int64_t j = b->nb_off[a]; j < b->nb_off[a + 1]; j++) {
                    float *s = &score[b->nb_id[j]];
                    *s = (*s == -INFINITY ? 0.0f : *s) + (float)w * b->nb_sim[j];
                }
            }
        } else if (!rc) {
            rc = sasrec_score(b->sas, history, n, score);
        }
        if (!rc && hs)
            for (int i = 0; i < n; i++)
                if (hs[i] >= 0 && hs[i] < b->nitems) score[hs[i]] = -INFINITY;
        if (!rc) m = topk_f32(out, scratch, score, b->nitems, k);
        free(score);
        free(scratch);
        if (rc) {
            free(hs);
            return ERR_FAIL;
        }
    }
    m = fill_popular(b, hs, n, out, m, k);
    free(hs);
    return m;
}

int baseline_score_items(const baseline *b, const int32_t *history, int n, const int32_t *cand, int ncand,
                         float *out) {
    float *score = mem_alloc((size_t)b->nitems * sizeof *score);
    if (!score) return ERR_FAIL;
    int rc = 0;
    if (b->cfg.kind == BASELINE_POPULARITY) {
        for (int32_t i = 0; i < b->nitems; i++) score[i] = (float)b->count[i];
    } else if (b->cfg.kind == BASELINE_ITEMKNN) {
        for (int32_t i = 0; i < b->nitems; i++) score[i] = 0;
        double w = 1;
        for (int i = n - 1, used = 0; i >= 0 && used < b->cfg.knn_history; i--, used++, w *= b->cfg.knn_decay) {
            int32_t a = history[i];
            if (a < 0 || a >= b->nitems) continue;
            for (int64_t j = b->nb_off[a]; j < b->nb_off[a + 1]; j++) score[b->nb_id[j]] += (float)w * b->nb_sim[j];
        }
    } else {
        rc = sasrec_score(b->sas, history, n, score);
    }
    for (int i = 0; !rc && i < ncand; i++) out[i] = cand[i] >= 0 && cand[i] < b->nitems ? score[cand[i]] : -INFINITY;
    free(score);
    return rc;
}

// ---- save / load ------------------------------------------------------------------------------

#define BL_MAGIC "ONERECBL"
#define BL_VERSION 1u

static cJSON *config_to_json(const baseline_config *c, int32_t nitems) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", baseline_kind_name(c->kind));
    cJSON_AddNumberToObject(j, "nitems", nitems);
    cJSON_AddBoolToObject(j, "exclude_history", c->exclude_history);
    cJSON_AddNumberToObject(j, "knn_window", c->knn_window);
    cJSON_AddNumberToObject(j, "knn_neighbours", c->knn_neighbours);
    cJSON_AddNumberToObject(j, "knn_history", c->knn_history);
    cJSON_AddNumberToObject(j, "knn_decay", c->knn_decay);
    cJSON_AddBoolToObject(j, "knn_symmetric", c->knn_symmetric);
    const sasrec_config *s = &c->sasrec;
    cJSON_AddNumberToObject(j, "sasrec_dim", s->dim);
    cJSON_AddNumberToObject(j, "sasrec_layers", s->layers);
    cJSON_AddNumberToObject(j, "sasrec_heads", s->heads);
    cJSON_AddNumberToObject(j, "sasrec_maxlen", s->maxlen);
    cJSON_AddNumberToObject(j, "sasrec_epochs", s->epochs);
    cJSON_AddNumberToObject(j, "sasrec_batch", s->batch);
    cJSON_AddNumberToObject(j, "sasrec_lr", s->lr);
    cJSON_AddNumberToObject(j, "sasrec_weight_decay", s->weight_decay);
    cJSON_AddNumberToObject(j, "seed", (double)c->seed);
    return j;
}

static int config_from_json(const cJSON *j, baseline_config *c, int32_t *nitems, const char *where) {
    const char *kind = json_get_string(j, "kind", where);
    if (!kind || baseline_kind_parse(kind, &c->kind)) return ERR_FAIL;
    baseline_config_default(c, c->kind);
    int64_t v[12];
    double d[3];
    if (json_get_int(j, "nitems", &v[0], where) || json_get_bool(j, "exclude_history", &c->exclude_history, where) ||
        json_get_int(j, "knn_window", &v[1], where) || json_get_int(j, "knn_neighbours", &v[2], where) ||
        json_get_int(j, "knn_history", &v[3], where) || json_get_double(j, "knn_decay", &c->knn_decay, where) ||
        json_get_bool(j, "knn_symmetric", &c->knn_symmetric, where) || json_get_int(j, "sasrec_dim", &v[4], where) ||
        json_get_int(j, "sasrec_layers", &v[5], where) || json_get_int(j, "sasrec_heads", &v[6], where) ||
        json_get_int(j, "sasrec_maxlen", &v[7], where) || json_get_int(j, "sasrec_epochs", &v[8], where) ||
        json_get_int(j, "sasrec_batch", &v[9], where) || json_get_double(j, "sasrec_lr", &d[0], where) ||
        json_get_double(j, "sasrec_weight_decay", &d[1], where) || json_get_double(j, "seed", &d[2], where))
        return ERR_FAIL;
    *nitems = (int32_t)v[0];
    c->knn_window = (int)v[1];
    c->knn_neighbours = (int)v[2];
    c->knn_history = (int)v[3];
    c->sasrec.dim = (int)v[4];
    c->sasrec.layers = (int)v[5];
    c->sasrec.heads = (int)v[6];
    c->sasrec.maxlen = (int)v[7];
    c->sasrec.epochs = (int)v[8];
    c->sasrec.batch = (int)v[9];
    c->sasrec.lr = (float)d[0];
    c->sasrec.weight_decay = (float)d[1];
    c->seed = (uint64_t)d[2];
    return 0;
}

int baseline_save(const baseline *b, const char *path) {
    cJSON *j = config_to_json(&b->cfg, b->nitems);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text) return err_set("%s: cannot serialise the baseline config", path);
    afile af;
    if (afile_open(&af, path)) {
        free(text);
        return ERR_FAIL;
    }
    uint32_t ver = BL_VERSION, len = (uint32_t)strlen(text);
    int64_t nnb = b->nb_off ? b->nb_off[b->nitems] : 0;
    int ok = fwrite(BL_MAGIC, 8, 1, af.fp) == 1 && fwrite(&ver, 4, 1, af.fp) == 1 && fwrite(&len, 4, 1, af.fp) == 1 &&
             fwrite(text, 1, len, af.fp) == len &&
             fwrite(b->count, sizeof *b->count, (size_t)b->nitems, af.fp) == (size_t)b->nitems;
    free(text);
    if (ok && b->cfg.kind == BASELINE_ITEMKNN)
        ok = fwrite(b->nb_off, sizeof *b->nb_off, (size_t)b->nitems + 1, af.fp) == (size_t)b->nitems + 1 &&
             fwrite(b->nb_id, sizeof *b->nb_id, (size_t)nnb, af.fp) == (size_t)nnb &&
             fwrite(b->nb_sim, sizeof *b->nb_sim, (size_t)nnb, af.fp) == (size_t)nnb;
    if (ok && b->cfg.kind == BASELINE_SASREC) ok = sasrec_write(b->sas, af.fp) == 0;
    if (!ok) {
        afile_abort(&af);
        return err_set("%s: write failed", path);
    }
    return afile_commit(&af);
}

int baseline_load(baseline **out, const char *path) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return err_errno("opening baseline %s", path);
    char magic[8];
    uint32_t ver = 0, len = 0;
    if (fread(magic, 8, 1, f) != 1 || memcmp(magic, BL_MAGIC, 8) || fread(&ver, 4, 1, f) != 1 ||
        fread(&len, 4, 1, f) != 1) {
        fclose(f);
        return err_set("%s: not a baseline file (no " BL_MAGIC " header)", path);
    }
    if (ver != BL_VERSION || len > (1u << 20)) {
        fclose(f);
        return err_set("%s: unsupported baseline file version %u", path, ver);
    }
    char *text = mem_alloc(len + 1);
    baseline *b = mem_calloc(1, sizeof *b);
    int rc = text && b ? 0 : ERR_FAIL;
    if (!rc && fread(text, 1, len, f) != len) rc = err_set("%s: truncated header", path);
    if (!rc) {
        text[len] = 0;
        cJSON *j = json_parse_text(text, path);
        rc = j ? config_from_json(j, &b->cfg, &b->nitems, path) : ERR_FAIL;
        cJSON_Delete(j);
    }
    if (!rc && b->nitems < 1) rc = err_set("%s: bad item count %d", path, b->nitems);
    if (!rc) {
        size_t N = (size_t)b->nitems;
        b->count = mem_alloc(N * sizeof *b->count);
        if (!b->count || fread(b->count, sizeof *b->count, N, f) != N) rc = err_set("%s: truncated counts", path);
    }
    if (!rc) rc = build_pop_order(b);
    if (!rc && b->cfg.kind == BASELINE_ITEMKNN) {
        size_t N = (size_t)b->nitems;
        b->nb_off = mem_alloc((N + 1) * sizeof *b->nb_off);
        if (!b->nb_off || fread(b->nb_off, sizeof *b->nb_off, N + 1, f) != N + 1) rc = err_set("%s: truncated neighbours", path);
        int64_t nnb = rc ? 0 : b->nb_off[N];
        if (!rc && (nnb < 0 || nnb > (int64_t)N * b->cfg.knn_neighbours)) rc = err_set("%s: corrupt neighbour table", path);
        if (!rc) {
            b->nb_id = mem_alloc((size_t)(nnb ? nnb : 1) * sizeof *b->nb_id);
            b->nb_sim = mem_alloc((size_t)(nnb ? nnb : 1) * sizeof *b->nb_sim);
            if (!b->nb_id || !b->nb_sim || fread(b->nb_id, sizeof *b->nb_id, (size_t)nnb, f) != (size_t)nnb ||
                fread(b->nb_sim, sizeof *b->nb_sim, (size_t)nnb, f) != (size_t)nnb)
                rc = err_set("%s: truncated neighbours", path);
            for (int64_t i = 0; !rc && i < nnb; i++)
                if (b->nb_id[i] < 0 || b->nb_id[i] >= b->nitems) rc = err_set("%s: corrupt neighbour id", path);
        }
    }
    if (!rc && b->cfg.kind == BASELINE_SASREC && sasrec_read(&b->sas, &b->cfg.sasrec, b->nitems, f))
        rc = err_wrap("%s", path);
    fclose(f);
    free(text);
    if (rc) {
        baseline_free(b);
        return ERR_FAIL;
    }
    *out = b;
    return 0;
}
