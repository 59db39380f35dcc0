// Writes clustered item embeddings as Parquet (pid int64, embedding list<float>) for the SID
// benchmarks: kmeans_gen OUT.parquet N D [CLUSTERS] [SEED]. Rows are generated on the fly, so a
// million-item file needs no more memory than one row group.
#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/rng.h"
#include "formats/parquet.h"

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: kmeans_gen OUT.parquet N D [CLUSTERS] [SEED]\n");
        return 2;
    }
    long long n = atoll(argv[2]);
    int d = atoi(argv[3]), nc = argc > 4 ? atoi(argv[4]) : 4096;
    unsigned long long seed = argc > 5 ? strtoull(argv[5], NULL, 10) : 1;
    rng r;
    rng_seed(&r, seed);
    float *cent = malloc(sizeof(float) * (size_t)nc * d), *row = malloc(sizeof(float) * d);
    for (long long i = 0; i < (long long)nc * d; i++) cent[i] = (float)rng_normal(&r);
    parquet_column_spec cols[] = {{"pid", PQ_INT64, 0, 0}, {"embedding", PQ_FLOAT, 1, 0}};
    parquet_writer *w;
    if (parquet_writer_open(&w, argv[1], cols, 2, NULL)) goto fail;
    for (long long i = 0; i < n; i++) {
        int c = (int)rng_below(&r, (uint64_t)nc);
        for (int j = 0; j < d; j++) row[j] = cent[(size_t)c * d + j] + 0.3f * (float)rng_normal(&r);
        if (parquet_writer_add_int64(w, 0, 1000000 + i) || parquet_writer_add_list_float(w, 1, row, (size_t)d) ||
            parquet_writer_end_row(w)) {
            parquet_writer_abort(w);
            goto fail;
        }
    }
    if (parquet_writer_close(w)) goto fail;
    free(cent), free(row);
    return 0;
fail:
    fprintf(stderr, "kmeans_gen: %s\n", err_msg());
    return 1;
}
