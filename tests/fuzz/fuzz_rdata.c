// libFuzzer target: the fuzzer's bytes as an R serialization. Any input must end in a tree or a
// clean error, never a crash, a leak or undefined behaviour (ASan + UBSan); a tree is walked
// through the helpers the exporters use (data-frame columns, factor levels, strings, numbers).
#include <stddef.h>
#include <stdint.h>

#include "formats/rdata.h"

static void walk(const robj *o) {
    const robj *nm = robj_attr(o, "names");
    if (robj_df_nrow(o) >= 0 && nm && nm->type == RSXP_STR && nm->n > 0 && nm->s[0]) (void)robj_df_column(o, nm->s[0]);
    (void)robj_factor_levels(o);
    for (int64_t i = 0; i < o->n && i < 64; i++) {
        const char *s;
        int64_t v;
        int na;
        (void)robj_string_at(o, i, &s);
        (void)robj_int_at(o, i, &v, &na);
    }
    if (o->type == RSXP_VEC)
        for (int64_t i = 0; i < o->n && i < 64; i++) walk(o->v[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    robj *o;
    if (rdata_parse(&o, data, size, "fuzz") == 0) {
        walk(o);
        robj_free(o);
    }
    return 0;
}
