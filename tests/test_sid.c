// SID helpers: Qwen3 token-id facts, strings, token sequences, keys, collision stats, dedup
// (digit, balance) and the trie (against brute force).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "rec/constrain.h"
#include "rec/sid.h"
#include "rec/trie.h"
#include "test.h"

static void test_token_ids(void) {
    sid_vocab v = {SID_QWEN3_BASE, 3, 8192};
    CHECK(sid_token_id(&v, 0, 0) == 151669);
    CHECK(sid_token_id(&v, 1, 0) == 159861);
    CHECK(sid_token_id(&v, 2, 0) == 168053);
    CHECK(sid_token_id(&v, 2, 8191) == 176244);
    CHECK(sid_begin_id(&v) == 176245);
    CHECK(sid_end_id(&v) == 176246);
    int l, c;
    CHECK(sid_token_decode(&v, 159861 + 77, &l, &c) == 0 && l == 1 && c == 77);
    CHECK(sid_token_decode(&v, 151668, &l, &c) == -1);
    CHECK(sid_token_decode(&v, 176245, &l, &c) == -1);
    // any base / layers / codebook: 4 layers of 256 on a 1000-token base
    sid_vocab w = {1000, 4, 256};
    CHECK(sid_token_id(&w, 3, 5) == 1000 + 3 * 256 + 5);
    CHECK(sid_begin_id(&w) == 2024 && sid_end_id(&w) == 2025);
    char name[32];
    CHECK(sid_token_name(name, sizeof name, 3, 12) == 8 && !strcmp(name, "<s_d_12>"));
}

static void test_strings(void) {
    int32_t codes[3] = {12, 3, 4095};
    char buf[128];
    int n = sid_format(buf, sizeof buf, codes, 3);
    CHECK(!strcmp(buf, "<|sid_begin|><s_a_12><s_b_3><s_c_4095><|sid_end|>"));
    CHECK(n == (int)strlen(buf));
    CHECK(sid_format(buf, 20, codes, 3) < 0);
    int32_t out[12];
    int64_t m;
    const char *list = "<|sid_begin|><s_a_1><s_b_2><s_c_3><|sid_end|> <|sid_begin|><s_a_4><s_b_5><s_c_6><|sid_end|>"
                       "<|sid_begin|><s_a_7><s_b_8><s_c_8191><|sid_end|>\n";
    CHECK_OK(sid_parse(out, 4, &m, list, 3, 8192));
    CHECK(m == 3 && out[0] == 1 && out[5] == 6 && out[8] == 8191);
    CHECK_OK(sid_parse(out, 4, &m, "", 3, 8192));
    CHECK(m == 0);
    CHECK_FAILS_WITH(sid_parse(out, 4, &m, "<|sid_begin|><s_a_1><s_c_2><s_c_3><|sid_end|>", 3, 0), "byte 20: expected <s_b_N>");
    CHECK_FAILS_WITH(sid_parse(out, 4, &m, "<|sid_begin|><s_a_1><s_b_2><s_c_3>", 3, 0), "expected <|sid_end|>");
    CHECK_FAILS_WITH(sid_parse(out, 4, &m, "<|sid_begin|><s_a_1><s_b_2><s_c_9000><|sid_end|>", 3, 8192), "out of range");
    CHECK_FAILS_WITH(sid_parse(out, 4, &m, "hello", 3, 0), "byte 0: expected <|sid_begin|>");
    CHECK_FAILS_WITH(sid_parse(out, 1, &m, list, 3, 0), "more than 1 SIDs");
    // 4-digit SIDs (dedup digit)
    int32_t c4[4] = {1, 2, 3, 0};
    sid_format(buf, sizeof buf, c4, 4);
    CHECK(!strcmp(buf, "<|sid_begin|><s_a_1><s_b_2><s_c_3><s_d_0><|sid_end|>"));
    CHECK_OK(sid_parse(out, 4, &m, buf, 4, 8192));
    CHECK(m == 1 && out[3] == 0);
}

static void test_tokens(void) {
    sid_vocab v = {SID_QWEN3_BASE, 3, 8192};
    int32_t codes[6] = {1, 2, 3, 8191, 0, 7}, back[6];
    int64_t ids[10], m;
    sid_codes_to_tokens(ids, codes, 2, &v);
    CHECK(ids[0] == 176245 && ids[1] == 151670 && ids[2] == 159863 && ids[3] == 168056 && ids[4] == 176246);
    CHECK(ids[6] == 151669 + 8191);
    CHECK_OK(sid_tokens_to_codes(back, 2, &m, ids, 10, &v));
    CHECK(m == 2 && !memcmp(back, codes, sizeof codes));
    int64_t bad[5] = {176245, 159861, 159861, 168053, 176246};
    CHECK_FAILS_WITH(sid_tokens_to_codes(back, 2, &m, bad, 5, &v), "token 1: expected a layer-a code");
    CHECK_FAILS_WITH(sid_tokens_to_codes(back, 2, &m, ids, 9, &v), "truncated");
    CHECK_FAILS_WITH(sid_tokens_to_codes(back, 1, &m, ids, 10, &v), "more than 1 SIDs");
}

static void test_keys(void) {
    int32_t c[3] = {5, 6, 7}, back[3];
    CHECK(sid_key(c, 3, 8192) == 5ULL * 8192 * 8192 + 6 * 8192 + 7);
    sid_key_split(back, sid_key(c, 3, 8192), 3, 8192);
    CHECK(!memcmp(c, back, sizeof c));
    CHECK_OK(sid_key_check(4, 8192));
    CHECK_FAILS_WITH(sid_key_check(5, 8192), "63-bit");
}

static void test_packed(void) {
    CHECK(sid_pack(5, 6, 7) == (int64_t)sid_key((int32_t[]){5, 6, 7}, SID_PACK_LAYERS, SID_PACK_K));
    int64_t s[8];
    const char *t = "<|sid_begin|><s_a_1><s_b_2><s_c_3><|sid_end|><|sid_begin|><s_a_8191><s_b_0><s_c_7><|sid_end|>";
    CHECK(sid_scan_packed(s, 8, t) == 2);
    CHECK(s[0] == sid_pack(1, 2, 3) && s[1] == sid_pack(8191, 0, 7));
    // malformed ones are skipped: missing layer, out of range, wrong order; bare triples work
    CHECK(sid_scan_packed(s, 8, "<s_a_1><s_c_2><s_b_3> <s_a_9999><s_b_1><s_c_1> <s_a_4><s_b_5><s_c_6>") == 1);
    CHECK(s[0] == sid_pack(4, 5, 6));
    CHECK(sid_scan_packed(s, 1, t) == 1);
    char buf[128];
    CHECK(sid_format_packed(buf, sizeof buf, sid_pack(12, 34, 56)) == 48);
    CHECK(!strcmp(buf, "<|sid_begin|><s_a_12><s_b_34><s_c_56><|sid_end|>"));
    CHECK(sid_format_packed(buf, 20, sid_pack(12, 34, 56)) == ERR_FAIL);
}

static void test_collisions_and_digit(void) {
    // items: 0 {1,1,1}, 1 {2,2,2}, 2 {1,1,1}, 3 {0,0,0}, 4 {1,1,1}, 5 {2,2,2}
    int32_t codes[18] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 0, 0, 0, 1, 1, 1, 2, 2, 2};
    sid_collision_stats st;
    CHECK_OK(sid_collisions(&st, codes, 6, 3, 4));
    CHECK(st.unique == 3 && st.groups == 2 && st.colliding_items == 5 && st.largest_group == 3);
    CHECK_NEAR(st.collision_rate, 0.5, 1e-12);
    CHECK(st.used[0] == 3 && st.used[2] == 3);
    int32_t d4[24];
    CHECK_OK(sid_dedup_digit(d4, codes, 6, 3, 4));
    int want[6] = {0, 0, 1, 0, 2, 1};
    int ok = 1;
    for (int i = 0; i < 6; i++) ok &= d4[i * 4 + 3] == want[i] && !memcmp(d4 + i * 4, codes + i * 3, 12);
    CHECK(ok);
    CHECK_OK(sid_collisions(&st, d4, 6, 4, 4));
    CHECK(st.unique == 6 && st.collision_rate == 0);
    CHECK_FAILS_WITH(sid_dedup_digit(d4, codes, 6, 3, 2), "3 items share one SID");
    sid_dedup m;
    CHECK_OK(sid_dedup_parse("balance", &m));
    CHECK(m == SID_DEDUP_BALANCE);
    CHECK_FAILS_WITH(sid_dedup_parse("fancy", &m), "use none, digit or balance");
}

static void test_balance_small(void) {
    // 2 layers, 4 codes, d = 1: last-level centroids at 0, 10, 20, 30
    rq_codebook cb;
    CHECK_OK(rq_codebook_init(&cb, 2, 4, 1));
    float last[4] = {0, 10, 20, 30};
    memcpy(cb.centroids + 4, last, sizeof last);
    // items 0..3 all on {0,1}; item 4 on {0,2} (occupies code 2 under prefix 0); item 5 on {1,1}
    int32_t codes[12] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 2, 1, 1};
    float resid[6] = {11, 9.5f, 14, 13, 20, 10};   // residuals entering the last layer
    int64_t moved;
    CHECK_OK(sid_dedup_balance(codes, 6, &cb, resid, &moved));
    // item 1 (9.5) is closest to 10 and stays; then by distance: item 0 (11) -> nearest free is 0
    // (20 is taken by item 4, 0 at distance 11 vs 30 at 19); item 3 (13) -> 3 (30) is the only free
    // code left; item 2 (14) finds nothing free and stays collided
    CHECK(codes[3] == 1 && codes[1] == 0 && codes[7] == 3 && codes[5] == 1);
    CHECK(codes[9] == 2 && codes[11] == 1);
    CHECK(moved == 2);
    rq_codebook_free(&cb);
}

static void test_balance_random(void) {
    int64_t n = 3000;
    int L = 2, k = 64, d = 6;
    rq_codebook cb;
    CHECK_OK(rq_codebook_init(&cb, L, k, d));
    rng r;
    rng_seed(&r, 11);
    for (int64_t i = 0; i < (int64_t)L * k * d; i++) cb.centroids[i] = (float)rng_normal(&r);
    int32_t *codes = malloc(sizeof(int32_t) * n * L);
    float *resid = malloc(sizeof(float) * n * d);
    for (int64_t i = 0; i < n; i++) {
        codes[i * L] = (int32_t)rng_below(&r, 8);   // 8 prefixes x 64 codes = 512 < 3000: some stay
        for (int j = 0; j < d; j++) resid[i * d + j] = (float)rng_normal(&r);
        // the current last code is the nearest one, as the encoder would give
        float best = INFINITY;
        for (int c = 0; c < k; c++) {
            float s = 0;
            for (int j = 0; j < d; j++) {
                float t = resid[i * d + j] - cb.centroids[((size_t)k + c) * d + j];
                s += t * t;
            }
            if (s < best) best = s, codes[i * L + 1] = c;
        }
    }
    int32_t *before = malloc(sizeof(int32_t) * n * L);
    memcpy(before, codes, sizeof(int32_t) * n * L);
    sid_collision_stats s0, s1;
    CHECK_OK(sid_collisions(&s0, codes, n, L, k));
    int64_t moved;
    CHECK_OK(sid_dedup_balance(codes, n, &cb, resid, &moved));
    CHECK_OK(sid_collisions(&s1, codes, n, L, k));
    // every prefix's 64 codes end up all used; the unique count is exactly the code space
    CHECK(s1.unique == 8 * 64);
    CHECK(moved == s1.unique - s0.unique);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (codes[i * L] != before[i * L]) bad++;   // the prefix never changes
        if (codes[i * L + 1] != before[i * L + 1] && codes[i * L + 1] < 0) bad++;
    }
    CHECK(bad == 0);
    // smaller case where everything fits: no collision is left
    int64_t n2 = 400;
    memcpy(codes, before, sizeof(int32_t) * n2 * L);
    CHECK_OK(sid_dedup_balance(codes, n2, &cb, resid, &moved));
    CHECK_OK(sid_collisions(&s1, codes, n2, L, k));
    CHECK(s1.collision_rate == 0 && s1.unique == n2);
    free(codes), free(resid), free(before);
    rq_codebook_free(&cb);
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void test_trie(void) {
    int64_t n = 2000;
    int L = 3, k = 16;
    int32_t *codes = malloc(sizeof(int32_t) * n * L);
    rng r;
    rng_seed(&r, 5);
    for (int64_t i = 0; i < n * L; i++) codes[i] = (int32_t)rng_below(&r, (i % L) == 0 ? 6 : k);
    sid_trie t;
    CHECK_OK(sid_trie_build(&t, codes, n, L));
    sid_collision_stats st;
    CHECK_OK(sid_collisions(&st, codes, n, L, k));
    CHECK(t.n_sids == st.unique);
    int mismatches = 0;
    int32_t want[64];
    for (int q = 0; q < 600; q++) {
        int len = q % L;
        int32_t prefix[3];
        for (int l = 0; l < len; l++) prefix[l] = (int32_t)rng_below(&r, l == 0 ? 7 : k);
        int nw = 0;
        for (int64_t i = 0; i < n; i++) {
            if (memcmp(codes + i * L, prefix, sizeof(int32_t) * len)) continue;
            int32_t c = codes[i * L + len], dup = 0;
            for (int j = 0; j < nw; j++) dup |= want[j] == c;
            if (!dup) want[nw++] = c;
        }
        qsort(want, (size_t)nw, sizeof(int32_t), cmp_i32);
        const int32_t *got;
        int64_t ng = sid_trie_next(&t, prefix, len, &got);
        if (ng != nw || (nw && memcmp(got, want, sizeof(int32_t) * nw))) mismatches++;
        int32_t full[3] = {(int32_t)rng_below(&r, 6), (int32_t)rng_below(&r, k), (int32_t)rng_below(&r, k)};
        int present = 0;
        for (int64_t i = 0; i < n && !present; i++) present = !memcmp(codes + i * L, full, sizeof full);
        if (sid_trie_contains(&t, full) != present) mismatches++;
    }
    CHECK_MSG(mismatches == 0, "%d trie mismatches", mismatches);
    // stepping down gives the SID's rank in sorted order; ranks cover 0..n_sids-1 once
    int64_t v = sid_trie_step(&t, 0, codes[0]);
    v = sid_trie_step(&t, v, codes[1]);
    v = sid_trie_step(&t, v, codes[2]);
    CHECK(v >= 0 && v < t.n_sids);
    CHECK(sid_trie_step(&t, 0, 99) == -1);
    // child_at agrees with step for every allowed code of the root and of one level-1 node
    const int32_t *kids;
    int64_t nk = sid_trie_children(&t, 0, &kids), agree = 1;
    for (int64_t j = 0; j < nk; j++) agree &= sid_trie_child_at(&t, 0, j) == sid_trie_step(&t, 0, kids[j]);
    int64_t v1 = sid_trie_child_at(&t, 0, 0);
    nk = sid_trie_children(&t, v1, &kids);
    for (int64_t j = 0; j < nk; j++) agree &= sid_trie_child_at(&t, v1, j) == sid_trie_step(&t, v1, kids[j]);
    CHECK(agree && nk > 0);
    sid_trie_free(&t);
    CHECK_FAILS_WITH(sid_trie_build(&t, (int32_t[]){1, -2, 3}, 1, 3), "negative code");
    CHECK_OK(sid_trie_build(&t, codes, 0, 3));
    const int32_t *got;
    CHECK(t.n_sids == 0 && sid_trie_next(&t, NULL, 0, &got) == 0);
    sid_trie_free(&t);
    free(codes);
}

// Banned SIDs (a user's history): the SIDs shown in a token sequence are found (whole SIDs only,
// deduplicated, sorted), and the constraint never offers the last code that would complete one,
// while every other allowed code stays; earlier levels are unaffected.
static void test_banned_sids(void) {
    sid_vocab v = {1000, 3, 8};
    int32_t codes[] = {1, 2, 3, 1, 2, 5, 1, 4, 0, 6, 2, 3};
    sid_trie t;
    CHECK_OK(sid_trie_build(&t, codes, 4, 3));
    int32_t b = (int32_t)sid_begin_id(&v), e = (int32_t)sid_end_id(&v);
#define TOK(l, c) (int32_t)sid_token_id(&v, l, c)
    // text, <1,2,3>, text, <6,2,3>, a truncated SID, <1,2,3> again
    int32_t ids[] = {7, b, TOK(0, 1), TOK(1, 2), TOK(2, 3), e, 9, b, TOK(0, 6), TOK(1, 2), TOK(2, 3), e,
                     b, TOK(0, 1), TOK(1, 4), e, b, TOK(0, 1), TOK(1, 2), TOK(2, 3), e};
    uint64_t *keys;
    int64_t nk;
    CHECK_OK(sid_keys_in_tokens(&keys, &nk, ids, (int64_t)(sizeof ids / sizeof ids[0]), &v));
    int32_t s123[3] = {1, 2, 3}, s623[3] = {6, 2, 3};
    CHECK(nk == 2 && keys[0] == sid_key(s123, 3, 8) && keys[1] == sid_key(s623, 3, 8));
    sid_constraint open = {.trie = &t, .vocab = &v}, ban = {.trie = &t, .vocab = &v, .banned = keys, .n_banned = nk};
    int32_t out[16], p12[2] = {TOK(0, 1), TOK(1, 2)}, p62[2] = {TOK(0, 6), TOK(1, 2)};
    CHECK(sid_constraint_allowed(&open, p12, 2, out, 16) == 2);
    CHECK(sid_constraint_allowed(&ban, p12, 2, out, 16) == 1 && out[0] == TOK(2, 5));
    CHECK(sid_constraint_allowed(&ban, p62, 2, out, 16) == 0);
    CHECK(sid_constraint_allowed(&ban, p12, 1, out, 16) == sid_constraint_allowed(&open, p12, 1, out, 16));
    CHECK(sid_constraint_allowed(&ban, p12, 0, out, 16) == 2);   // first codes 1 and 6
#undef TOK
    uint64_t *none;
    int32_t text[] = {5, 6, 7};
    CHECK_OK(sid_keys_in_tokens(&none, &nk, text, 3, &v));
    CHECK(nk == 0 && none == NULL);
    free(keys);
    sid_trie_free(&t);
}

int main(void) {
    RUN(test_token_ids);
    RUN(test_strings);
    RUN(test_tokens);
    RUN(test_keys);
    RUN(test_packed);
    RUN(test_collisions_and_digit);
    RUN(test_balance_small);
    RUN(test_balance_random);
    RUN(test_trie);
    RUN(test_banned_sids);
    return test_summary("test_sid");
}
