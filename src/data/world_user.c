// The user model of the synthetic world and its oracle (docs/data.md, "Users").
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/rng.h"
#include "data/world.h"

#define STREAM_USER 0x3000000000ULL

static const world_cell *wcell(const world *w, int d, int t, int s) {
    return &w->cells[((int64_t)d * w->cfg.topics + t) * LEX_SUBTOPICS + s];
}

static double tmass(const world *w, int d, int t) {
    double m = 0;
    for (int s = 0; s < LEX_SUBTOPICS; s++) m += wcell(w, d, t, s)->mass;
    return m;
}

static int pick_weights(rng *r, const double *wt, int k) {
    double s = 0;
    for (int i = 0; i < k; i++) s += wt[i];
    double x = rng_uniform(r) * s;
    for (int i = 0; i < k; i++) {
        x -= wt[i];
        if (x < 0) return i;
    }
    return k - 1;
}

static int64_t draw_global(const world *w, int d, rng *r) {
    int64_t off = w->dom_start[d], n = w->dom_start[d + 1] - off;
    return world_pick_cum(w->dom_cum, off, n, rng_uniform(r));
}

static int64_t draw_in_cell(const world *w, const world_cell *c, rng *r) {
    return w->cell_items[world_pick_cum(w->cell_cum, c->off, c->n, rng_uniform(r))];
}

// One draw of domain d from the current focus topic (or global popularity with p_noise).
static int64_t draw_once(const world *w, const world_state *s, int d, rng *r) {
    if (rng_uniform(r) < w->cfg.p_noise) return draw_global(w, d, r);
    int t = s->topic[s->focus], fav = s->fav[s->focus];
    double m = tmass(w, d, t);
    if (m <= 0) return draw_global(w, d, r);   // the topic has no item in this domain
    const world_cell *fc = wcell(w, d, t, fav);
    double u = rng_uniform(r);   // always drawn, so the stream does not depend on cell sizes
    if (u < w->cfg.p_fav && fc->n > 0) return draw_in_cell(w, fc, r);
    double x = rng_uniform(r) * m;
    for (int sb = 0; sb < LEX_SUBTOPICS; sb++) {
        const world_cell *c = wcell(w, d, t, sb);
        x -= c->mass;
        if (x < 0 && c->n > 0) return draw_in_cell(w, c, r);
    }
    for (int sb = LEX_SUBTOPICS - 1; sb >= 0; sb--)
        if (wcell(w, d, t, sb)->n > 0) return draw_in_cell(w, wcell(w, d, t, sb), r);
    return draw_global(w, d, r);
}

static int contains(const i64vec *a, int64_t pid) {
    for (int i = 0; i < a->n; i++)
        if (a->v[i] == pid) return 1;
    return 0;
}

// A draw that avoids items already in `a` or `b` (rejection = renormalising over unseen items).
static int64_t draw_new(const world *w, const world_state *s, int d, rng *r, const i64vec *a, const i64vec *b) {
    int64_t it = 0;
    for (int tries = 0; tries < 64; tries++) {
        it = draw_once(w, s, d, r);
        int64_t pid = world_pid(it);
        if (!(a && contains(a, pid)) && !(b && contains(b, pid))) break;
    }
    return it;
}

static int in_mixture(const world_state *s, int t) {
    for (int j = 0; j < s->k; j++)
        if (s->topic[j] == t) return j;
    return -1;
}

static void step_state(const world *w, world_state *s, rng *r) {
    if (rng_uniform(r) < w->cfg.p_switch) s->focus = pick_weights(r, s->weight, s->k);
    if (rng_uniform(r) < w->cfg.p_drift && s->k > 1) {
        // interest drift: a non-focus topic is replaced by a new one
        int j = (s->focus + 1 + (int)rng_below(r, (uint64_t)(s->k - 1))) % s->k;
        for (int tries = 0; tries < 16; tries++) {
            int t = (int)rng_below(r, (uint64_t)w->cfg.topics);
            if (in_mixture(s, t) < 0) {
                s->topic[j] = t;
                s->fav[j] = (int)rng_below(r, LEX_SUBTOPICS);
                break;
            }
        }
    }
}

static double affinity(const world *w, const world_state *s, int64_t item) {
    int j = in_mixture(s, w->topic[item]);
    if (j < 0) return 0;
    double a = s->weight[j];
    if (j == s->focus) a += 0.5;
    if (s->fav[j] == w->sub[item]) a += 0.2;
    return a;
}

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

static int push_flags(const world *w, const world_state *s, int64_t item, rng *r, i64vec *flags) {
    double a = affinity(w, s, item);
    const double p[RAW_NLABELS] = {sigm(3 * a - 1.0), sigm(3 * a - 2.5), sigm(3 * a - 4.0), sigm(3 * a - 3.5),
                                   sigm(-4 * a - 2.0)};
    for (int k = 0; k < RAW_NLABELS; k++)
        if (i64vec_push(&flags[k], rng_uniform(r) < p[k])) return ERR_FAIL;
    return 0;
}

static char *append(char *buf, size_t *len, size_t *cap, const char *s) {
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t nc = (*len + n + 1) * 2;
        char *p = mem_realloc(buf, nc);
        if (!p) {
            free(buf);
            return NULL;
        }
        buf = p;
        *cap = nc;
    }
    memcpy(buf + *len, s, n + 1);
    *len += n;
    return buf;
}

// Builds the text fields: profile (with <pid:N> placeholders the converter turns into SIDs),
// keyword -> items, history captions, target caption and the reasoning text.
static int user_texts(const world *w, const world_state *s, recif_user *u, rng *r) {
    data_lang l = w->cfg.lang;
    int zh = l == LANG_ZH;
    char tmp[512], cap[256];
    size_t len = 0, bcap = 0;
    char *b = NULL;
    // profile
    int age = 18 + (int)rng_below(r, 40), female = rng_below(r, 2) == 0;
    snprintf(tmp, sizeof tmp, zh ? "用户画像：%s，%d岁。常看：" : "User profile: %s, age %d. Often watches: ",
             zh ? (female ? "女" : "男") : (female ? "female" : "male"), age);
    b = append(b, &len, &bcap, tmp);
    for (int j = 0; b && j < s->k; j++) {
        snprintf(tmp, sizeof tmp, "%s%s", j ? (zh ? "、" : ", ") : "", lex_topic(l, s->topic[j]));
        b = append(b, &len, &bcap, tmp);
    }
    if (b) b = append(b, &len, &bcap, zh ? "。最近看完的视频：" : ". Recently watched to the end: ");
    int shown = 0;
    for (int i = u->hist_longview.n - 1; b && i >= 0 && shown < 3; i--, shown++) {
        snprintf(tmp, sizeof tmp, "<pid:%lld>", (long long)u->hist_longview.v[i]);
        b = append(b, &len, &bcap, tmp);
    }
    if (b) b = append(b, &len, &bcap, zh ? "。" : ".");
    if (!b) return ERR_FAIL;
    u->profile = b;
    // keywords: subtopic words of the user's topics, each with popular items of that subtopic
    cJSON *kw = cJSON_CreateObject();
    int nk = 1 + (int)rng_below(r, 3);
    for (int q = 0; kw && q < nk; q++) {
        int j = rng_uniform(r) < 0.6 ? s->focus : pick_weights(r, s->weight, s->k);
        int sb = rng_uniform(r) < 0.6 ? s->fav[j] : (int)rng_below(r, LEX_SUBTOPICS);
        const world_cell *c = wcell(w, DOM_VIDEO, s->topic[j], sb);
        const char *word = lex_subtopic(l, s->topic[j], sb);
        if (c->n == 0 || cJSON_GetObjectItemCaseSensitive(kw, word)) continue;
        i64vec items = {0};
        int want = c->n < 10 ? (int)c->n : 10;
        for (int tries = 0; items.n < want && tries < 200; tries++) {
            int64_t pid = world_pid(draw_in_cell(w, c, r));
            if (!contains(&items, pid) && i64vec_push(&items, pid)) break;
        }
        cJSON_AddItemToObject(kw, word, dtab_int_array(items.v, items.n));
        i64vec_free(&items);
    }
    u->keywords = kw ? cJSON_PrintUnformatted(kw) : NULL;
    cJSON_Delete(kw);
    if (!u->keywords) return err_set("user %lld: keywords", (long long)u->uid);
    // history captions: the last 5 videos watched to the end (or the last 5 videos)
    const i64vec *src = u->hist_longview.n ? &u->hist_longview : &u->hist_video;
    b = NULL;
    len = bcap = 0;
    int first = src->n > 5 ? src->n - 5 : 0;
    for (int i = first; i < src->n; i++) {
        world_caption(w, src->v[i] - 1, cap, sizeof cap);
        snprintf(tmp, sizeof tmp, "%s%s", i > first ? (zh ? "；" : "; ") : "", cap);
        b = append(b, &len, &bcap, tmp);
        if (!b) return ERR_FAIL;
    }
    u->gsu_caption = b ? b : mem_strdup("");
    int64_t tgt = u->target_video.v[0] - 1;
    world_caption(w, tgt, cap, sizeof cap);
    u->target_caption = mem_strdup(cap);
    // reasoning from the true interest
    int tt = w->topic[tgt], ft = s->topic[s->focus], fs = s->fav[s->focus];
    int j = in_mixture(s, tt);
    const char *rel;
    if (tt == ft) rel = zh ? "正是其当前最关注的内容" : "is exactly what the user focuses on now";
    else if (j >= 0) rel = zh ? "属于其长期兴趣之一" : "belongs to one of the user's long-term interests";
    else rel = zh ? "是热门内容，可以拓展其兴趣" : "is a popular item that may widen the user's interests";
    int lt = s->topic[s->focus == 0 && s->k > 1 ? 1 : 0];
    if (zh)
        snprintf(tmp, sizeof tmp, "用户长期喜欢%s等内容，最近集中在%s，尤其是%s。目标视频“%s”属于%s，%s，因此推荐。",
                 lex_topic(l, lt), lex_topic(l, ft), lex_subtopic(l, ft, fs), cap, lex_topic(l, tt), rel);
    else
        snprintf(tmp, sizeof tmp,
                 "The user has long liked %s, recently focuses on %s, especially %s. The target video \"%s\" is "
                 "about %s and %s, so it is recommended.",
                 lex_topic(l, lt), lex_topic(l, ft), lex_subtopic(l, ft, fs), cap, lex_topic(l, tt), rel);
    u->cot = mem_strdup(tmp);
    return u->gsu_caption && u->target_caption && u->cot ? 0 : ERR_FAIL;
}

int world_user(const world *w, int64_t uid, recif_user *u, world_state *state) {
    const world_config *c = &w->cfg;
    recif_user_clear(u);
    rng r;
    rng_seed_stream(&r, c->seed, STREAM_USER + (uint64_t)uid);
    u->uid = uid;
    u->split = rng_uniform(&r) < c->test_frac;
    world_state s = {0};
    s.k = 2 + (int)rng_below(&r, 3);
    for (int j = 0; j < s.k; j++) {
        int t = 0;
        for (int tries = 0; tries < 64; tries++) {
            // topics follow the topic prior, so popular topics have more fans
            double x = rng_uniform(&r);
            for (t = 0; t < c->topics - 1; t++) {
                x -= w->topic_weight[t];
                if (x < 0) break;
            }
            if (in_mixture(&s, t) < 0) break;
        }
        s.topic[j] = t;
        s.weight[j] = exp(0.8 * rng_normal(&r));
        s.fav[j] = (int)rng_below(&r, LEX_SUBTOPICS);
    }
    double ws = 0;
    for (int j = 0; j < s.k; j++) ws += s.weight[j];
    for (int j = 0; j < s.k; j++) s.weight[j] /= ws;
    s.focus = pick_weights(&r, s.weight, s.k);
    int H = c->hist_min + (int)rng_below(&r, (uint64_t)(c->hist_max - c->hist_min + 1));
    for (int step = 0; step < H; step++) {
        if (step) step_state(w, &s, &r);
        int64_t it = draw_new(w, &s, DOM_VIDEO, &r, &u->hist_video, NULL);
        if (i64vec_push(&u->hist_video, world_pid(it)) || push_flags(w, &s, it, &r, u->hist_flag)) return ERR_FAIL;
        if (u->hist_flag[0].v[u->hist_flag[0].n - 1] && i64vec_push(&u->hist_longview, world_pid(it))) return ERR_FAIL;
        if (rng_uniform(&r) < c->p_ad &&
            i64vec_push(&u->hist_ad, world_pid(draw_new(w, &s, DOM_AD, &r, &u->hist_ad, NULL))))
            return ERR_FAIL;
        if (rng_uniform(&r) < c->p_product &&
            i64vec_push(&u->hist_goods, world_pid(draw_new(w, &s, DOM_PRODUCT, &r, &u->hist_goods, NULL))))
            return ERR_FAIL;
    }
    if (state) *state = s;
    // target window: videos continue the process; ads and products are drawn from the same
    // starting state (each with its own evolving copy)
    world_state sv = s, sa = s, sp = s;
    for (int i = 0; i < c->n_targets; i++) {
        step_state(w, &sv, &r);
        int64_t it = draw_new(w, &sv, DOM_VIDEO, &r, &u->hist_video, &u->target_video);
        if (i64vec_push(&u->target_video, world_pid(it)) || push_flags(w, &sv, it, &r, u->target_flag))
            return ERR_FAIL;
    }
    int na = 3 + (int)rng_below(&r, 5), np = 3 + (int)rng_below(&r, 5);
    for (int i = 0; i < na; i++) {
        step_state(w, &sa, &r);
        if (i64vec_push(&u->target_ad, world_pid(draw_new(w, &sa, DOM_AD, &r, &u->hist_ad, &u->target_ad))))
            return ERR_FAIL;
    }
    for (int i = 0; i < np; i++) {
        step_state(w, &sp, &r);
        if (i64vec_push(&u->target_goods,
                        world_pid(draw_new(w, &sp, DOM_PRODUCT, &r, &u->hist_goods, &u->target_goods))))
            return ERR_FAIL;
    }
    return user_texts(w, &s, u, &r);
}

// ------------------------------------------------------------------------------------------ oracle
double world_next_prob(const world *w, const world_state *s, int64_t item) {
    const world_config *c = &w->cfg;
    int d = world_domain(w, item), t = w->topic[item], sb = w->sub[item];
    // topic of the next draw: the focus is redrawn from the mixture with p_switch first
    double p_empty = 0, pt = 0;
    for (int j = 0; j < s->k; j++) {
        double q = c->p_switch * s->weight[j] + (j == s->focus ? 1 - c->p_switch : 0);
        if (tmass(w, d, s->topic[j]) <= 0) p_empty += q;
        else if (s->topic[j] == t) pt = q;
    }
    double dmass = w->dom_cum[w->dom_start[d + 1] - 1];
    double p = (c->p_noise + (1 - c->p_noise) * p_empty) * w->pop[item] / dmass;
    if (pt > 0) {
        int j = in_mixture(s, t);
        const world_cell *own = wcell(w, d, t, sb), *fc = wcell(w, d, t, s->fav[j]);
        double m = tmass(w, d, t);
        double psub = (fc->n > 0 ? c->p_fav * (sb == s->fav[j]) + (1 - c->p_fav) * own->mass / m : own->mass / m);
        p += (1 - c->p_noise) * pt * psub * w->pop[item] / own->mass;
    }
    return p;
}

static void topk_insert(int64_t *items, double *probs, int *n, int k, int64_t it, double p) {
    for (int i = 0; i < *n; i++)
        if (items[i] == it) return;
    if (*n == k && p <= probs[k - 1]) return;
    int i = *n < k ? (*n)++ : k - 1;
    while (i > 0 && probs[i - 1] < p) {
        items[i] = items[i - 1];
        probs[i] = probs[i - 1];
        i--;
    }
    items[i] = it;
    probs[i] = p;
}

int world_oracle_topk(const world *w, const world_state *s, int dom, const recif_user *u, int k,
                      int64_t *items, double *probs) {
    const i64vec *seen = dom == DOM_VIDEO ? &u->hist_video : dom == DOM_AD ? &u->hist_ad : &u->hist_goods;
    double seen_mass = 0;
    for (int i = 0; i < seen->n; i++) seen_mass += world_next_prob(w, s, seen->v[i] - 1);
    int n = 0;
    // candidates: every item of the mixture topics, and the domain's most popular items (only
    // their noise share can reach the top otherwise)
    for (int j = 0; j < s->k; j++)
        for (int sb = 0; sb < LEX_SUBTOPICS; sb++) {
            const world_cell *c = wcell(w, dom, s->topic[j], sb);
            for (int64_t q = 0; q < c->n; q++) {
                int64_t it = w->cell_items[c->off + q];
                if (contains(seen, world_pid(it))) continue;
                topk_insert(items, probs, &n, k, it, world_next_prob(w, s, it));
            }
        }
    // items outside the mixture only carry the noise share, proportional to popularity
    int64_t off = w->dom_start[dom], cnt = w->dom_start[dom + 1] - off;
    int64_t stride = cnt > 200000 ? cnt / 200000 : 1;   // huge domains: a sample suffices here
    for (int64_t q = 0; q < cnt; q += stride) {
        int64_t it = off + q;
        if (in_mixture(s, w->topic[it]) >= 0 || contains(seen, world_pid(it))) continue;
        topk_insert(items, probs, &n, k, it, world_next_prob(w, s, it));
    }
    double z = 1 - seen_mass;
    if (z <= 1e-12) z = 1e-12;
    for (int i = 0; i < n; i++) probs[i] /= z;
    return n;
}
