// The synthetic RecIF world: latent topics (each with subtopics), items in three domains (video,
// ad, product) that belong to a (topic, subtopic), captions made of the topic's words, embeddings
// from the topic structure plus noise, and users generated one at a time from (seed, uid) with an
// interest mixture that drifts, a current focus topic, behaviour flags that depend on affinity,
// search keywords, a profile and recommendation reasons. See docs/data.md for the model.
// Memory is O(items); users are never stored, so any number of them streams.
#pragma once
#include <stdint.h>

#include "data/lexicon.h"
#include "data/raw.h"

enum { DOM_VIDEO = 0, DOM_AD = 1, DOM_PRODUCT = 2, DOM_COUNT = 3 };

typedef struct {
    int64_t users;
    int64_t videos, ads, products;
    int topics;            // <= LEX_TOPICS keeps every topic's words distinct
    uint64_t seed;
    data_lang lang;
    int emb_dim;
    double test_frac;      // share of users with split == 1
    int hist_min, hist_max;   // video history length range
    int n_targets;            // target videos per user
    // the behaviour process (docs/data.md)
    double p_switch;       // per step: redraw the focus topic from the mixture
    double p_drift;        // per step: replace a mixture topic by a new one
    double p_noise;        // per draw: an item from global popularity instead
    double p_fav;          // per draw inside a topic: the user's favourite subtopic
    double p_ad, p_product;   // per video step: an ad click / a product purchase
} world_config;

void world_config_default(world_config *c);

typedef struct {
    int64_t off, n;        // slice of world.cell_items
    double mass;           // sum of item popularity in the cell
} world_cell;

typedef struct {
    world_config cfg;
    int64_t n_items;       // videos + ads + products; item i has pid i + 1
    int64_t dom_start[DOM_COUNT + 1];
    uint8_t *topic, *sub, *style, *variant;   // [n_items]
    int32_t *rank;                             // [n_items] position in its planted SID cell
    float *pop;                                // [n_items] popularity weight
    double *topic_weight;                      // [topics] prior of topic choice (sums to 1)
    world_cell *cells;                         // [DOM_COUNT][topics][LEX_SUBTOPICS]
    int64_t *cell_items;                       // items grouped by cell
    double *cell_cum;                          // cumulative pop inside each cell (same order)
    double *dom_cum;                           // [n_items] cumulative pop inside each domain
    float *topic_vec, *sub_vec, *style_vec;    // embedding parts
} world;

int world_init(world *w, const world_config *cfg);
void world_free(world *w);

static inline int64_t world_pid(int64_t item) { return item + 1; }
int world_item_of_pid(const world *w, int64_t pid, int64_t *item);   // ERR_FAIL when unknown
int world_domain(const world *w, int64_t item);
// The first index i in [off, off+n) with cum[i] > u * cum[off+n-1] (sampling from cumulative weights).
int64_t world_pick_cum(const double *cum, int64_t off, int64_t n, double u);
// The item's caption in the world language (buf of at least 256 bytes).
void world_caption(const world *w, int64_t item, char *buf, int cap);
// embedding [emb_dim]: topic + subtopic + style parts, a domain offset and seeded noise.
void world_embedding(const world *w, int64_t item, float *out);
// The planted SID: (topic, subtopic, rank inside the cell); videos and ads share one code space.
void world_planted_sid(const world *w, int64_t item, int32_t codes[3]);

// The user's hidden state at the start of the target window (what the oracle conditions on).
#define WORLD_MAX_MIX 6
typedef struct {
    int k;                       // topics in the mixture
    int topic[WORLD_MAX_MIX];
    double weight[WORLD_MAX_MIX];
    int fav[WORLD_MAX_MIX];      // favourite subtopic per mixture topic
    int focus;                   // index into topic[]
} world_state;

// Generates user `uid` into u (raw row). `state` (may be NULL) receives the hidden state at the
// start of the target window.
int world_user(const world *w, int64_t uid, recif_user *u, world_state *state);

// Oracle: probability of item `item` (domain d) being the first target given the state, without
// the exclusion of already-seen items (the caller masks those and renormalises).
double world_next_prob(const world *w, const world_state *s, int64_t item);
// The oracle's top-k items of domain d for this user, seen items excluded; returns count
// (<= k) and the normalised probabilities.
int world_oracle_topk(const world *w, const world_state *s, int dom, const recif_user *u, int k,
                      int64_t *items, double *probs);
