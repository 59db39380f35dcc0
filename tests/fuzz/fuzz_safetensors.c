// libFuzzer target: any byte string given to the safetensors parser must either open (and then
// every float tensor converts without reading out of bounds) or fail with a message; never crash.
// Built and run by tests/fuzz/run_fuzz_safetensors.sh.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "formats/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    st_archive *a = NULL;
    if (st_open_buffer(&a, data, size, "fuzz.safetensors") != 0) {
        if (!err_msg()[0]) abort();   // a failure always says why
        return 0;
    }
    for (int i = 0; i < st_count(a); i++) {
        const st_tensor *t = st_get(a, i);
        if (st_find(a, t->name) != t) abort();
        if ((const uint8_t *)t->data < data || (const uint8_t *)t->data + t->nbytes > data + size) abort();
        if (t->numel > (1 << 20)) continue;
        float *dst = malloc((size_t)t->numel * sizeof(float) + 1);
        if (!dst) continue;
        int rc = st_read_f32(a, t->name, dst, t->shape, t->ndim);
        int is_float = t->dtype == ST_F32 || t->dtype == ST_BF16 || t->dtype == ST_F16 || t->dtype == ST_F64;
        if ((rc == 0) != is_float) abort();
        free(dst);
    }
    st_metadata(a, "format");
    st_close(a);
    return 0;
}
