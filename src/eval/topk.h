// Top-k selection over a score vector with a size-k min-heap: O(n log k), no full sort.
// Ties go to the smaller id so rankings are deterministic. Entries with score -INFINITY are
// never selected (used to exclude items). Returns the number written (<= k), best first.
#pragma once
#include <math.h>
#include <stdint.h>

// a ranks below b
static inline int topk_worse_(float sa, int32_t ia, float sb, int32_t ib) {
    return sa < sb || (sa == sb && ia > ib);
}

static inline void topk_sift_(float *hs, int32_t *hi, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && topk_worse_(hs[l], hi[l], hs[m], hi[m])) m = l;
        if (r < n && topk_worse_(hs[r], hi[r], hs[m], hi[m])) m = r;
        if (m == i) return;
        float ts = hs[i]; hs[i] = hs[m]; hs[m] = ts;
        int32_t ti = hi[i]; hi[i] = hi[m]; hi[m] = ti;
        i = m;
    }
}

// out [k] item ids; scratch [k] floats provided by the caller
static inline int topk_f32(int32_t *out, float *scratch, const float *scores, int32_t n, int k) {
    int h = 0;
    for (int32_t i = 0; i < n; i++) {
        float s = scores[i];
        if (s == -INFINITY || isnan(s)) continue;
        if (h < k) {   // insert and sift up
            int j = h++;
            scratch[j] = s;
            out[j] = i;
            while (j > 0) {
                int p = (j - 1) / 2;
                if (!topk_worse_(scratch[j], out[j], scratch[p], out[p])) break;
                float ts = scratch[j]; scratch[j] = scratch[p]; scratch[p] = ts;
                int32_t ti = out[j]; out[j] = out[p]; out[p] = ti;
                j = p;
            }
        } else if (topk_worse_(scratch[0], out[0], s, i)) {
            scratch[0] = s;
            out[0] = i;
            topk_sift_(scratch, out, h, 0);
        }
    }
    // heap-sort in place: repeatedly move the worst to the end, so the array ends best first
    for (int end = h - 1; end > 0; end--) {
        float ts = scratch[0]; scratch[0] = scratch[end]; scratch[end] = ts;
        int32_t ti = out[0]; out[0] = out[end]; out[end] = ti;
        topk_sift_(scratch, out, end, 0);
    }
    return h;
}
