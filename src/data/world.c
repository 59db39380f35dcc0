#include "data/world.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/rng.h"

// stream ids for rng_seed_stream, so items, embeddings and users never share random numbers
#define STREAM_ITEMS 0x1000000000ULL
#define STREAM_EMB 0x2000000000ULL
#define STREAM_USER 0x3000000000ULL

void world_config_default(world_config *c) {
    *c = (world_config){
        .users = 2000,
        .videos = 1000,
        .ads = 300,
        .products = 300,
        .topics = 24,
        .seed = 42,
        .lang = LANG_ZH,
        .emb_dim = 32,
        .test_frac = 0.1,
        .hist_min = 16,
        .hist_max = 48,
        .n_targets = 10,
        .p_switch = 0.15,
        .p_drift = 0.02,
        .p_noise = 0.1,
        .p_fav = 0.5,
        .p_ad = 0.3,
        .p_product = 0.25,
    };
}

static int64_t dom_n(const world_config *c, int d) {
    return d == DOM_VIDEO ? c->videos : d == DOM_AD ? c->ads : c->products;
}

int64_t world_pick_cum(const double *cum, int64_t off, int64_t n, double u) {
    // first index i in [off, off+n) with cum[i] > u * total
    double x = u * cum[off + n - 1];
    int64_t lo = off, hi = off + n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (cum[mid] > x) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

static world_cell *cell(const world *w, int d, int t, int s) {
    return &w->cells[((int64_t)d * w->cfg.topics + t) * LEX_SUBTOPICS + s];
}

int world_init(world *w, const world_config *cfg) {
    memset(w, 0, sizeof *w);
    w->cfg = *cfg;
    const world_config *c = &w->cfg;
    if (c->users < 1 || c->videos < 1 || c->ads < 1 || c->products < 1)
        return err_set("world: users, videos, ads and products must all be at least 1");
    if (c->topics < 2 || c->topics > 255) return err_set("world: topics must be in 2..255 (got %d)", c->topics);
    if (c->emb_dim < 4 || c->emb_dim > 4096) return err_set("world: emb_dim must be in 4..4096");
    if (c->hist_min < 1 || c->hist_max < c->hist_min) return err_set("world: bad history length range");
    if (c->n_targets < 1) return err_set("world: n_targets must be >= 1");
    if (c->test_frac < 0 || c->test_frac > 1) return err_set("world: test_frac must be in [0, 1]");
    const double probs[6] = {c->p_switch, c->p_drift, c->p_noise, c->p_fav, c->p_ad, c->p_product};
    const char *pnames[6] = {"p_switch", "p_drift", "p_noise", "p_fav", "p_ad", "p_product"};
    for (int i = 0; i < 6; i++)
        if (!(probs[i] >= 0 && probs[i] <= 1)) return err_set("world: %s must be in [0, 1] (got %g)", pnames[i], probs[i]);
    int64_t n = c->videos + c->ads + c->products;
    w->n_items = n;
    w->dom_start[0] = 0;
    for (int d = 0; d < DOM_COUNT; d++) w->dom_start[d + 1] = w->dom_start[d] + dom_n(c, d);
    int T = c->topics, D = c->emb_dim;
    int64_t ncell = (int64_t)DOM_COUNT * T * LEX_SUBTOPICS;
    w->topic = mem_alloc((size_t)n);
    w->sub = mem_alloc((size_t)n);
    w->style = mem_alloc((size_t)n);
    w->variant = mem_alloc((size_t)n);
    w->pop = mem_alloc(sizeof *w->pop * (size_t)n);
    w->rank = mem_alloc(sizeof *w->rank * (size_t)n);
    w->topic_weight = mem_alloc(sizeof(double) * (size_t)T);
    w->cells = mem_calloc((size_t)ncell, sizeof *w->cells);
    w->cell_items = mem_alloc(sizeof(int64_t) * (size_t)n);
    w->cell_cum = mem_alloc(sizeof(double) * (size_t)n);
    w->dom_cum = mem_alloc(sizeof(double) * (size_t)n);
    w->topic_vec = mem_alloc(sizeof(float) * (size_t)T * D);
    w->sub_vec = mem_alloc(sizeof(float) * (size_t)T * LEX_SUBTOPICS * D);
    w->style_vec = mem_alloc(sizeof(float) * (size_t)LEX_STYLES * D);
    if (!w->topic || !w->sub || !w->style || !w->variant || !w->pop || !w->rank || !w->topic_weight || !w->cells ||
        !w->cell_items || !w->cell_cum || !w->dom_cum || !w->topic_vec || !w->sub_vec || !w->style_vec) {
        world_free(w);
        return err_wrap("world with %lld items", (long long)n);
    }
    rng r;
    rng_seed_stream(&r, c->seed, STREAM_ITEMS);
    // topics: a mild power law, so popular topics exist but do not dominate
    double tw = 0;
    for (int t = 0; t < T; t++) tw += w->topic_weight[t] = pow(t + 1.0, -0.6);
    double *tcum = mem_alloc(sizeof(double) * (size_t)T);
    if (!tcum) {
        world_free(w);
        return ERR_FAIL;
    }
    for (int t = 0; t < T; t++) {
        w->topic_weight[t] /= tw;
        tcum[t] = w->topic_weight[t] + (t ? tcum[t - 1] : 0);
    }
    for (int64_t i = 0; i < n; i++) {
        w->topic[i] = (uint8_t)world_pick_cum(tcum, 0, T, rng_uniform(&r));
        w->sub[i] = (uint8_t)rng_below(&r, LEX_SUBTOPICS);
        w->style[i] = (uint8_t)rng_below(&r, LEX_STYLES);
        w->variant[i] = (uint8_t)rng_below(&r, 6);
        w->pop[i] = (float)exp(1.2 * rng_normal(&r));   // lognormal: a long head of hits
    }
    free(tcum);
    for (int64_t i = 0; i < (int64_t)T * D; i++) w->topic_vec[i] = (float)rng_normal(&r);
    for (int64_t i = 0; i < (int64_t)T * LEX_SUBTOPICS * D; i++) w->sub_vec[i] = (float)(0.6 * rng_normal(&r));
    for (int64_t i = 0; i < (int64_t)LEX_STYLES * D; i++) w->style_vec[i] = (float)(0.15 * rng_normal(&r));
    // group items by (domain, topic, subtopic): counting sort
    for (int64_t i = 0; i < n; i++) cell(w, world_domain(w, i), w->topic[i], w->sub[i])->n++;
    int64_t off = 0;
    for (int64_t k = 0; k < ncell; k++) {
        w->cells[k].off = off;
        off += w->cells[k].n;
        w->cells[k].n = 0;
    }
    for (int64_t i = 0; i < n; i++) {
        int d = world_domain(w, i);
        world_cell *cl = cell(w, d, w->topic[i], w->sub[i]);
        // ads rank after the videos of the same cell: videos and ads share one code space
        w->rank[i] = (int32_t)(cl->n + (d == DOM_AD ? cell(w, DOM_VIDEO, w->topic[i], w->sub[i])->n : 0));
        w->cell_items[cl->off + cl->n++] = i;
    }
    for (int64_t k = 0; k < ncell; k++) {
        double m = 0;
        for (int64_t j = 0; j < w->cells[k].n; j++) {
            m += w->pop[w->cell_items[w->cells[k].off + j]];
            w->cell_cum[w->cells[k].off + j] = m;
        }
        w->cells[k].mass = m;
    }
    for (int d = 0; d < DOM_COUNT; d++) {
        double m = 0;
        for (int64_t i = w->dom_start[d]; i < w->dom_start[d + 1]; i++) w->dom_cum[i] = m += w->pop[i];
    }
    return 0;
}

void world_free(world *w) {
    free(w->topic);
    free(w->sub);
    free(w->style);
    free(w->variant);
    free(w->pop);
    free(w->rank);
    free(w->topic_weight);
    free(w->cells);
    free(w->cell_items);
    free(w->cell_cum);
    free(w->dom_cum);
    free(w->topic_vec);
    free(w->sub_vec);
    free(w->style_vec);
    memset(w, 0, sizeof *w);
}

int world_domain(const world *w, int64_t item) {
    return item < w->dom_start[1] ? DOM_VIDEO : item < w->dom_start[2] ? DOM_AD : DOM_PRODUCT;
}

int world_item_of_pid(const world *w, int64_t pid, int64_t *item) {
    if (pid < 1 || pid > w->n_items) return err_set("pid %lld is not an item of this world", (long long)pid);
    *item = pid - 1;
    return 0;
}

void world_caption(const world *w, int64_t item, char *buf, int cap) {
    data_lang l = w->cfg.lang;
    int t = w->topic[item], s = w->sub[item], st = w->style[item], v = w->variant[item];
    const char *T = lex_topic(l, t), *S = lex_subtopic(l, t, s), *ST = lex_style(l, st);
    int zh = l == LANG_ZH;
    switch (world_domain(w, item)) {
    case DOM_VIDEO:
        switch (v % 3) {
        case 0: snprintf(buf, (size_t)cap, zh ? "%s｜%s%s" : "%s | %s %s", T, S, ST); break;
        case 1: snprintf(buf, (size_t)cap, zh ? "%s%s，%s达人分享" : "%s %s by a %s fan", S, ST, T); break;
        default: snprintf(buf, (size_t)cap, zh ? "今天的%s%s" : "today's %s %s", S, ST); break;
        }
        break;
    case DOM_AD:
        snprintf(buf, (size_t)cap, zh ? "%s：%s%s好物" : "%s: %s %s picks", lex_ad_word(l, v), S, T);
        break;
    default: snprintf(buf, (size_t)cap, zh ? "%s%s" : "%s %s", S, lex_product_word(l, v)); break;
    }
}

void world_embedding(const world *w, int64_t item, float *out) {
    int D = w->cfg.emb_dim, t = w->topic[item], s = w->sub[item], st = w->style[item];
    rng r;
    rng_seed_stream(&r, w->cfg.seed, STREAM_EMB + (uint64_t)item);
    const float *tv = w->topic_vec + (int64_t)t * D;
    const float *sv = w->sub_vec + ((int64_t)t * LEX_SUBTOPICS + s) * D;
    const float *yv = w->style_vec + (int64_t)st * D;
    for (int i = 0; i < D; i++) out[i] = tv[i] + sv[i] + yv[i] + (float)(0.2 * rng_normal(&r));
}

void world_planted_sid(const world *w, int64_t item, int32_t codes[3]) {
    codes[0] = w->topic[item];
    codes[1] = w->sub[item];
    codes[2] = w->rank[item];
}
