#include "rec/trie.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

static int g_layers;   // qsort has no context argument; the build is not re-entrant across threads

static int cmp_rows(const void *a, const void *b) {
    const int32_t *x = a, *y = b;
    for (int l = 0; l < g_layers; l++)
        if (x[l] != y[l]) return x[l] < y[l] ? -1 : 1;
    return 0;
}

int sid_trie_build(sid_trie *t, const int32_t *codes, int64_t n, int layers) {
    memset(t, 0, sizeof *t);
    if (layers < 1) return err_set("SID trie: layers is %d", layers);
    for (int64_t i = 0; i < n * layers; i++)
        if (codes[i] < 0) return err_set("SID trie: item %lld has a negative code", (long long)(i / layers));
    int32_t *s = mem_alloc(sizeof(int32_t) * (size_t)(n > 0 ? n : 1) * layers);
    if (!s) return ERR_FAIL;
    memcpy(s, codes, sizeof(int32_t) * (size_t)n * layers);
#pragma omp critical(sid_trie_sort)
    {
        g_layers = layers;
        qsort(s, (size_t)n, sizeof(int32_t) * layers, cmp_rows);
    }
    // unique rows
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (m == 0 || memcmp(s + (m - 1) * layers, s + i * layers, sizeof(int32_t) * layers))
            memmove(s + m * layers, s + i * layers, sizeof(int32_t) * layers), m++;
    // entries per level: distinct prefixes of length l+1
    int64_t entries = 0, nodes = 1;
    for (int l = 0; l < layers; l++) {
        int64_t c = 0;
        for (int64_t i = 0; i < m; i++)
            if (i == 0 || memcmp(s + (i - 1) * layers, s + i * layers, sizeof(int32_t) * (l + 1))) c++;
        entries += c;
        if (l < layers - 1) nodes += c;
    }
    t->layers = layers;
    t->n_sids = m;
    t->n_nodes = nodes;
    t->first = mem_alloc(sizeof(int64_t) * (nodes + 1));
    t->code = mem_alloc(sizeof(int32_t) * (entries > 0 ? entries : 1));
    t->child = mem_alloc(sizeof(int64_t) * (entries > 0 ? entries : 1));
    int64_t *cur = mem_calloc((size_t)(m > 0 ? m : 1), sizeof(int64_t));
    if (!t->first || !t->code || !t->child || !cur) {
        free(s), free(cur);
        sid_trie_free(t);
        return err_wrap("SID trie of %lld SIDs", (long long)m);
    }
    for (int64_t v = 0; v <= nodes; v++) t->first[v] = -1;
    // Nodes are numbered in level order and every node but the root is the entry before it:
    // node id = entry id + 1. cur[i] is row i's node at the current depth.
    int64_t e = 0, sid_rank = 0;
    for (int l = 0; l < layers; l++) {
        int64_t node_of_entry = -1;
        for (int64_t i = 0; i < m; i++) {
            if (i == 0 || memcmp(s + (i - 1) * layers, s + i * layers, sizeof(int32_t) * (l + 1))) {
                int64_t parent = cur[i];
                if (t->first[parent] < 0) t->first[parent] = e;
                t->code[e] = s[i * layers + l];
                t->child[e] = l < layers - 1 ? e + 1 : sid_rank++;
                node_of_entry = t->child[e];
                e++;
            }
            cur[i] = node_of_entry;
        }
    }
    t->first[nodes] = e;
    if (m == 0) t->first[0] = 0;
    free(s), free(cur);
    return 0;
}

void sid_trie_free(sid_trie *t) {
    free(t->first), free(t->code), free(t->child);
    memset(t, 0, sizeof *t);
}

int64_t sid_trie_children(const sid_trie *t, int64_t node, const int32_t **codes) {
    if (node < 0 || node >= t->n_nodes) {
        *codes = NULL;
        return 0;
    }
    *codes = t->code + t->first[node];
    return t->first[node + 1] - t->first[node];
}

int64_t sid_trie_step(const sid_trie *t, int64_t node, int32_t code) {
    if (node < 0 || node >= t->n_nodes) return -1;
    int64_t lo = t->first[node], hi = t->first[node + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (t->code[mid] < code) lo = mid + 1;
        else hi = mid;
    }
    return lo < t->first[node + 1] && t->code[lo] == code ? t->child[lo] : -1;
}

int64_t sid_trie_next(const sid_trie *t, const int32_t *prefix, int len, const int32_t **codes) {
    *codes = NULL;
    if (len < 0 || len >= t->layers) return 0;
    int64_t v = 0;
    for (int l = 0; l < len && v >= 0; l++) v = sid_trie_step(t, v, prefix[l]);
    if (v < 0) return 0;
    return sid_trie_children(t, v, codes);
}

int sid_trie_contains(const sid_trie *t, const int32_t *sid) {
    int64_t v = 0;
    for (int l = 0; l < t->layers && v >= 0; l++) v = sid_trie_step(t, v, sid[l]);
    return v >= 0;
}
