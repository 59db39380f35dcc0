// Dataset config parsing, file lists, the packing of samples into rows, the loader (epochs,
// shuffles, skips) and its saved state: restoring in the middle gives the same rows as never
// stopping.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/json.h"
#include "base/mem.h"
#include "test.h"
#include "train/dataset.h"
#include "train/loader.h"
#include "train/pack.h"

static char g_dir[256];

static char *write_tmp(const char *name, const char *text) {
    char *p = path_join(g_dir, name);
    file_write_atomic(p, text, strlen(text));
    return p;
}

static void test_config_full(void) {
    char *a = write_tmp("part-0.parquet", "x"), *b = write_tmp("part-1.parquet", "x");
    char *fl = write_tmp("file_list.json", "[\"part-0.parquet\", \"part-1.parquet\"]");
    char *cp = write_tmp("cfg.json",
                         "{\"name\": \"chat_completion_parquet\", \"sources\": \"file_list.json\",\n"
                         " \"base_model_dir\": \"m\", \"max_length\": 512, \"max_sample_length\": 400,\n"
                         " \"num_epochs\": 4, \"num_workers\": 2, \"cut_to_pad\": 1, \"full_attention\": false,\n"
                         " \"local_shuffle_buffer_size\": 100, \"local_shuffle_random_fetch\": 0.0001,\n"
                         " \"itemic_id_range\": [151669, 176246], \"add_think_pattern\": true,\n"
                         " \"only_assistant_loss\": false}");
    train_dataset_config c;
    CHECK_OK(train_dataset_config_load(&c, cp));
    CHECK(c.nfiles == 2);
    if (c.nfiles == 2) {
        CHECK(!strcmp(c.files[0], a));   // resolved against the file list's directory
        CHECK(!strcmp(c.files[1], b));
    }
    CHECK(c.max_length == 512 && c.max_sample_length == 400 && c.num_epochs == 4);
    CHECK(c.cut_to_pad == 1 && c.full_attention == 0 && c.local_shuffle_buffer_size == 100);
    CHECK(c.itemic_lo == 151669 && c.itemic_hi == 176246);
    CHECK(c.add_think_pattern == 1 && c.only_assistant_loss == 0);
    CHECK(c.base_model_dir && !strcmp(c.base_model_dir, "m"));
    train_dataset_config_free(&c);
    free(a), free(b), free(fl), free(cp);
}

static void test_config_errors(void) {
    train_dataset_config c;
    char *p = write_tmp("bad1.json", "{\"name\": \"chat_completion_parquet\", \"sources\": \"file_list.json\", \"max_lenght\": 5}");
    CHECK_FAILS_WITH(train_dataset_config_load(&c, p), "unknown key \"max_lenght\"");
    free(p);
    p = write_tmp("bad2.json", "{\"name\": \"chat_completion_parquet\", \"sources\": \"nope.json\"}");
    CHECK_FAILS_WITH(train_dataset_config_load(&c, p), "nope.json");
    free(p);
    p = write_tmp("bad3.json", "{\"name\": \"chat_completion_parquet\", \"sources\": \"file_list.json\", \"max_length\": \"big\"}");
    CHECK_FAILS_WITH(train_dataset_config_load(&c, p), "\"max_length\" must be an integer");
    free(p);
    p = write_tmp("bad4.json", "{\"name\": \"chat_completion_parquet\"}");
    CHECK_FAILS_WITH(train_dataset_config_load(&c, p), "missing key \"sources\"");
    free(p);
    p = write_tmp("bad5.json", "{\"name\": \"other\", \"sources\": \"file_list.json\"}");
    CHECK_FAILS_WITH(train_dataset_config_load(&c, p), "only \"chat_completion_parquet\"");
    free(p);
    p = write_tmp("bad6.json", "{\"name\": \"chat_completion_parquet\", \"sources\": \"file_list.json\", \"itemic_id_range\": [5]}");
    CHECK_FAILS_WITH(train_dataset_config_load(&c, p), "itemic_id_range");
    free(p);
    p = write_tmp("bad7.json", "{\"name\": \"chat_completion_parquet\", \"sources\": \"file_list.json\", \"max_length\": 0}");
    CHECK_FAILS_WITH(train_dataset_config_load(&c, p), "out of range");
    free(p);
    p = write_tmp("bad8.json", "{\"name\": \"chat_completion_parquet\", \"sources\": \"file_list.json\",");
    CHECK_FAILS_WITH(train_dataset_config_load(&c, p), "invalid JSON");
    free(p);
    p = write_tmp("fl_bad.json", "{\"a\": 1}");
    char **files = NULL;
    int n = 0;
    CHECK_FAILS_WITH(train_file_list_load(p, &files, &n), "expected a JSON array");
    free(p);
    p = write_tmp("fl_bad2.json", "[\"a.parquet\", 3]");
    CHECK_FAILS_WITH(train_file_list_load(p, &files, &n), "entry 1");
    for (int i = 0; i < n; i++) free(files[i]);
    free(files);
    free(p);
}

static void mk_sample(train_sample *s, int n, int first_id, int masked_from, int source) {
    train_sample_reserve(s, n);
    s->n = n;
    s->source = source;
    for (int i = 0; i < n; i++) {
        s->ids[i] = first_id + i;
        s->mask[i] = i >= masked_from;
    }
}

static void test_pack_cut(void) {
    pack_row r;
    CHECK_OK(pack_row_init(&r, 10, 999));
    train_sample s = {0};
    mk_sample(&s, 4, 100, 2, 3);   // targets: tokens 2, 3
    CHECK(pack_row_add(&r, &s, 1) == PACK_ADDED);
    mk_sample(&s, 9, 200, 0, 5);
    CHECK(pack_row_add(&r, &s, 1) == PACK_FULL);   // 6 of 9 tokens fit, 3 dropped
    pack_row_finish(&r, 0);
    int want_ids[10] = {100, 101, 102, 103, 200, 201, 202, 203, 204, 205};
    int want_lab[10] = {PACK_IGNORE, 102, 103, PACK_IGNORE, 201, 202, 203, 204, 205, PACK_IGNORE};
    int want_pos[10] = {0, 1, 2, 3, 0, 1, 2, 3, 4, 5};
    int want_seg[10] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
    int ok = 1;
    for (int i = 0; i < 10; i++)
        ok &= r.ids[i] == want_ids[i] && r.labels[i] == want_lab[i] && r.pos[i] == want_pos[i] && r.seg[i] == want_seg[i];
    CHECK(ok);
    CHECK(r.src[1] == 3 && r.src[4] == 5 && r.src[0] == -1 && r.src[9] == -1);
    CHECK(r.ntrain == 7 && r.cut_tokens == 3 && r.nseg == 2 && r.nsamples == 2);
    CHECK(r.seg_start[0] == 0 && r.seg_start[1] == 4 && r.seg_start[2] == 10);
    train_sample_free(&s);
    pack_row_free(&r);
}

static void test_pack_nocut_pad(void) {
    pack_row r;
    CHECK_OK(pack_row_init(&r, 8, 151643));
    train_sample s = {0};
    mk_sample(&s, 5, 10, 0, 0);
    CHECK(pack_row_add(&r, &s, 0) == PACK_ADDED);
    mk_sample(&s, 4, 20, 0, 1);
    CHECK(pack_row_add(&r, &s, 0) == PACK_NO_ROOM);   // left for the next row
    pack_row_finish(&r, 0);
    CHECK(r.fill == 5 && r.nseg == 2 && r.seg_start[1] == 5 && r.seg_start[2] == 8);
    int ok = 1;
    for (int i = 5; i < 8; i++) ok &= r.ids[i] == 151643 && r.labels[i] == PACK_IGNORE && r.pos[i] == i - 5 && r.seg[i] == 1;
    CHECK(ok);
    CHECK(r.labels[4] == PACK_IGNORE && r.labels[3] == 14);
    // a sample longer than a whole row is cut even without cut_to_pad
    pack_row_reset(&r);
    mk_sample(&s, 12, 0, 0, 0);
    CHECK(pack_row_add(&r, &s, 0) == PACK_FULL);
    CHECK(r.cut_tokens == 4 && r.labels[7] == PACK_IGNORE && r.labels[6] == 7);
    // full attention: one segment, positions over the row, labels still within samples
    pack_row_reset(&r);
    mk_sample(&s, 3, 50, 0, 0);
    pack_row_add(&r, &s, 1);
    pack_row_add(&r, &s, 1);
    pack_row_finish(&r, 1);
    CHECK(r.nseg == 1 && r.seg[7] == 0 && r.pos[7] == 7 && r.labels[2] == PACK_IGNORE && r.labels[3] == 51);
    train_sample_free(&s);
    pack_row_free(&r);
}

// ---- a table source: file f has nrows[f] samples; sample (f, r) has a length and ids from (f, r)
typedef struct {
    int nfiles;
    int nrows[8];
    int fetches;
} table_src;

static int sample_len(int f, int r) { return 3 + (f * 7 + r * 5) % 11; }

static int t_rows(void *ctx, int f, int64_t *n) {
    *n = ((table_src *)ctx)->nrows[f];
    return 0;
}
static int t_fetch(void *ctx, int f, int64_t r, train_sample *s) {
    table_src *t = ctx;
    t->fetches++;
    int n = sample_len(f, (int)r);
    if (f == 2 && r == 1) n = 40;   // over max_sample_length: skipped
    if (train_sample_reserve(s, n)) return ERR_FAIL;
    s->n = n;
    s->source = f;
    for (int i = 0; i < n; i++) {
        s->ids[i] = f * 100000 + (int)r * 100 + i;
        s->mask[i] = !(f == 1 && r == 0);   // (1, 0) has no targets: skipped
    }
    return 0;
}

static uint64_t row_hash(const pack_row *r) {
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < r->len; i++) {
        h = (h ^ (uint32_t)r->ids[i]) * 1099511628211ULL;
        h = (h ^ (uint32_t)r->labels[i]) * 1099511628211ULL;
        h = (h ^ (uint32_t)r->pos[i]) * 1099511628211ULL;
    }
    return h;
}

static int all_rows(const train_loader_config *cfg, table_src *t, uint64_t *hashes, int max) {
    train_loader l;
    if (train_loader_init(&l, cfg, (train_source){t, t_rows, t_fetch})) return -1;
    pack_row r;
    pack_row_init(&r, 16, 7);
    int n = 0, rc;
    while (n < max && (rc = train_loader_next_row(&l, &r)) == 1) hashes[n++] = row_hash(&r);
    pack_row_free(&r);
    train_loader_free(&l);
    return n;
}

static void test_loader_epochs_and_skips(void) {
    table_src t = {4, {5, 3, 4, 6}, 0};
    train_loader_config cfg = {4, 2, 0, 20, 1, 0, 7};
    train_loader l;
    CHECK_OK(train_loader_init(&l, &cfg, (train_source){&t, t_rows, t_fetch}));
    int seen[4][8] = {{0}};
    const train_sample *s;
    sample_ref ref;
    int n = 0, rc, order_e0[4], order_e1[4], k0 = 0, k1 = 0, last_f = -1, last_e = -1;
    while ((rc = train_loader_next_sample(&l, &s, &ref)) == 1) {
        seen[ref.file][ref.row]++;
        n++;
        int e = n <= 16 ? 0 : 1;
        if (ref.file != last_f || e != last_e) {
            if (e == 0 && k0 < 4) order_e0[k0++] = ref.file;
            if (e == 1 && k1 < 4) order_e1[k1++] = ref.file;
            last_f = ref.file, last_e = e;
        }
        CHECK(s->ids[0] == ref.file * 100000 + (int)ref.row * 100);
    }
    CHECK(rc == 0);
    CHECK(n == 2 * (18 - 2));    // 18 samples a pass, 2 skipped each epoch
    CHECK(l.skipped_long == 2 && l.skipped_empty == 2 && l.samples_read == 36);
    CHECK(seen[2][1] == 0 && seen[1][0] == 0 && seen[0][0] == 2 && seen[3][5] == 2);
    CHECK(k0 == 4 && k1 == 4);
    int same = 1;
    for (int i = 0; i < 4 && i < k0 && i < k1; i++) same &= order_e0[i] == order_e1[i];
    CHECK(!same);   // the file order is reshuffled per epoch (this seed gives two different orders)
    train_loader_free(&l);
    // nothing usable in a whole epoch: stop after that epoch instead of reading the others
    cfg.max_sample_length = 2;
    cfg.num_epochs = 50;
    CHECK_OK(train_loader_init(&l, &cfg, (train_source){&t, t_rows, t_fetch}));
    CHECK(train_loader_next_sample(&l, &s, &ref) == 0);
    CHECK(l.samples_read == 18 && l.skipped_long + l.skipped_empty == 18);
    train_loader_free(&l);
}

static void test_loader_buffer_shuffles(void) {
    table_src t = {4, {5, 3, 4, 6}, 0};
    train_loader_config cfg = {4, 1, 6, 20, 1, 0, 11};
    train_loader l;
    CHECK_OK(train_loader_init(&l, &cfg, (train_source){&t, t_rows, t_fetch}));
    const train_sample *s;
    sample_ref ref;
    int n = 0, seen[4][8] = {{0}}, inversions = 0;
    long prev = -1;
    while (train_loader_next_sample(&l, &s, &ref) == 1) {
        seen[ref.file][ref.row]++;
        long key = ref.file * 100 + ref.row;
        inversions += key < prev;
        prev = key;
        n++;
    }
    CHECK(n == 16 && seen[0][4] == 1 && seen[3][0] == 1);
    CHECK(inversions > 2);   // rows within a file are no longer in order
    train_loader_free(&l);
}

// Stop after k rows, save, restore into a fresh loader: the rest equals the uninterrupted run.
static void resume_case(int buffer, int cut, uint64_t seed) {
    table_src t = {4, {5, 3, 4, 6}, 0};
    train_loader_config cfg = {4, 3, buffer, 20, cut, 0, seed};
    uint64_t full[200];
    int nfull = all_rows(&cfg, &t, full, 200);
    CHECK(nfull > 10);
    for (int stop = 1; stop < nfull; stop += 3) {
        train_loader a;
        train_loader_init(&a, &cfg, (train_source){&t, t_rows, t_fetch});
        pack_row r;
        pack_row_init(&r, 16, 7);
        for (int i = 0; i < stop; i++) train_loader_next_row(&a, &r);
        cJSON *st = train_loader_state(&a);
        char *text = cJSON_PrintUnformatted(st);
        cJSON_Delete(st);
        train_loader_free(&a);
        cJSON *back = cJSON_Parse(text);
        free(text);
        train_loader b;
        train_loader_init(&b, &cfg, (train_source){&t, t_rows, t_fetch});
        CHECK_OK(train_loader_restore(&b, back));
        cJSON_Delete(back);
        int i = stop, ok = 1, rc;
        while ((rc = train_loader_next_row(&b, &r)) == 1) ok &= i < nfull && row_hash(&r) == full[i++];
        CHECK_MSG(ok && i == nfull, "buffer %d cut %d stop %d: %d of %d rows", buffer, cut, stop, i, nfull);
        pack_row_free(&r);
        train_loader_free(&b);
    }
}

static void test_loader_resume(void) {
    resume_case(0, 1, 3);
    resume_case(5, 1, 4);
    resume_case(5, 0, 5);
    resume_case(1, 0, 6);
}

static void test_loader_restore_mismatch(void) {
    table_src t = {4, {5, 3, 4, 6}, 0};
    train_loader_config cfg = {4, 1, 5, 20, 1, 0, 9};
    train_loader a, b;
    train_loader_init(&a, &cfg, (train_source){&t, t_rows, t_fetch});
    cJSON *st = train_loader_state(&a);
    cfg.seed = 10;
    train_loader_init(&b, &cfg, (train_source){&t, t_rows, t_fetch});
    CHECK_FAILS_WITH(train_loader_restore(&b, st), "same dataset config and --seed");
    cJSON_Delete(st);
    train_loader_free(&a);
    train_loader_free(&b);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/onerec_test_train_data_%d", (int)getpid());
    file_mkdirs(g_dir);
    RUN(test_config_full);
    RUN(test_config_errors);
    RUN(test_pack_cut);
    RUN(test_pack_nocut_pad);
    RUN(test_loader_epochs_and_skips);
    RUN(test_loader_buffer_shuffles);
    RUN(test_loader_resume);
    RUN(test_loader_restore_mismatch);
    file_remove_tree(g_dir);
    return test_summary("test_train_data");
}
