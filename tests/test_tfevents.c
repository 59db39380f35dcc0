// TensorBoard event files: crc32c, our writer read by an independent protobuf/crc32c reader
// (tests/ref/tfevents_read.py), a protobuf-written file read by our reader, and damaged files.
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "formats/tfevents.h"
#include "test.h"

static char tmpdir[64];

static void test_crc(void) {
    CHECK(tfevents_crc32c("123456789", 9) == 0xE3069283u);
    CHECK(tfevents_crc32c("", 0) == 0);
    CHECK(tfevents_masked_crc("123456789", 9) == 0xc78ab0e5u);   // from python3-crc32c + the mask formula
}

// The only events.out.tfevents.* file in dir (NULL unless exactly one).
static char *event_file(const char *dir) {
    DIR *d = opendir(dir);
    char *found = NULL;
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, "events.out.tfevents.", 20) == 0 && n++ == 0) found = path_join(dir, e->d_name);
    if (d) closedir(d);
    if (n != 1) {
        free(found);
        return NULL;
    }
    return found;
}

static const struct {
    const char *tag;
    int64_t step;
    float value;
} W[] = {
    {"loss/train", 0, 3.5f},       {"loss/train", 1, 3.25f},       {"lr", 1, 1e-4f},
    {"ndcg@10/\xc3\xa9", 1LL << 40, 0.125f}, {"neg", -3, -7.0f}, {"inf", 7, INFINITY},
    {"nan", 8, NAN},
};
#define NW ((int)(sizeof W / sizeof W[0]))

static char *run_capture(const char *cmd) {
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, p)) > 0) n += got;
    int rc = pclose(p);
    if (!buf) return NULL;
    buf[n] = 0;
    if (rc != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void test_write_read(void) {
    char *dir = path_join(tmpdir, "run1");
    tfevents_writer w;
    double t0 = (double)time(NULL);
    CHECK_OK(tfevents_open(&w, dir));
    w.flush_every = 3;
    for (int i = 0; i < NW; i++) CHECK_OK(tfevents_add_scalar(&w, W[i].tag, W[i].step, W[i].value));
    CHECK_FAILS_WITH(tfevents_add_scalar(&w, "", 1, 1.0f), "non-empty tag");
    CHECK_OK(tfevents_close(&w));
    CHECK_OK(tfevents_close(&w));   // closing twice is harmless
    char *path = event_file(dir);
    CHECK(path != NULL);
    if (!path) return;
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    char want[512];
    snprintf(want, sizeof want, "events.out.tfevents.%lld.%s", (long long)t0, host);
    const char *base = strrchr(path, '/') + 1;
    // the clock may tick between t0 and open: accept the next second too
    char want2[512];
    snprintf(want2, sizeof want2, "events.out.tfevents.%lld.%s", (long long)t0 + 1, host);
    CHECK_MSG(strcmp(base, want) == 0 || strcmp(base, want2) == 0, "%s", base);
    // our reader
    tfevents_scalar *s = NULL;
    int n = 0;
    CHECK_OK(tfevents_read(path, &s, &n));
    CHECK(n == NW);
    for (int i = 0; i < n && i < NW; i++) {
        CHECK(strcmp(s[i].tag, W[i].tag) == 0 && s[i].step == W[i].step);
        CHECK(isnan(W[i].value) ? isnan(s[i].value) : s[i].value == W[i].value);
        CHECK(s[i].wall_time >= t0 - 1 && s[i].wall_time < t0 + 60);
    }
    tfevents_scalars_free(s, n);
    // the independent reader: every CRC checked, the protobuf decoded by python3-protobuf
    char cmd[600];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/ref/tfevents_read.py '%s'", path);
    char *out = run_capture(cmd);
    CHECK_MSG(out != NULL, "%s failed", cmd);
    cJSON *j = out ? json_parse_text(out, "tfevents_read.py output") : NULL;
    CHECK(j != NULL);
    if (j) {
        const cJSON *fv = cJSON_GetObjectItem(j, "file_version"), *sc = cJSON_GetObjectItem(j, "scalars");
        CHECK(cJSON_IsString(fv) && strcmp(fv->valuestring, "brain.Event:2") == 0);
        CHECK(cJSON_GetObjectItem(j, "records")->valueint == NW + 1);
        CHECK(cJSON_GetArraySize(sc) == NW);
        for (int i = 0; i < NW && i < cJSON_GetArraySize(sc); i++) {
            const cJSON *r = cJSON_GetArrayItem(sc, i);
            CHECK(cJSON_GetArrayItem(r, 0)->valuedouble == (double)W[i].step);
            CHECK(strcmp(cJSON_GetArrayItem(r, 1)->valuestring, W[i].tag) == 0);
            const cJSON *v = cJSON_GetArrayItem(r, 2);
            if (isnan(W[i].value)) CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "nan") == 0);
            else if (isinf(W[i].value)) CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "inf") == 0);
            else CHECK(v->valuedouble == (double)W[i].value);
            CHECK(fabs(cJSON_GetArrayItem(r, 3)->valuedouble - t0) < 60);
        }
    }
    cJSON_Delete(j);
    free(out);
    // a second writer in the same second gets its own file
    tfevents_writer w2, w3;
    CHECK_OK(tfevents_open(&w2, dir));
    CHECK_OK(tfevents_open(&w3, dir));
    CHECK(w2.path && w3.path && strcmp(w2.path, w3.path) != 0 && strcmp(w2.path, path) != 0);
    tfevents_close(&w2);
    tfevents_close(&w3);
    free(path);
    free(dir);
}

static void test_read_reference(void) {
    char *path = path_join(tmpdir, "ref.tfevents");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/ref/tfevents_read.py --write '%s'", path);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    tfevents_scalar *s = NULL;
    int n = 0;
    CHECK_OK(tfevents_read(path, &s, &n));
    // REF in the script; the histogram value next to "lr" is skipped
    CHECK(n == 6);
    if (n == 6) {
        CHECK(strcmp(s[0].tag, "loss/train") == 0 && s[0].step == 0 && s[0].value == 2.5f && s[0].wall_time == 1700000001.0);
        CHECK(strcmp(s[2].tag, "lr") == 0 && s[2].step == 1 && s[2].value == 1e-4f);
        CHECK(strcmp(s[3].tag, "ndcg@10/\xc3\xa9") == 0 && s[3].step == (1LL << 40) && s[3].value == 0.125f);
        CHECK(s[4].step == -3 && s[4].value == -7.0f);
        CHECK(isinf(s[5].value) && s[5].wall_time == 1700000006.0);
    }
    tfevents_scalars_free(s, n);
    free(path);
}

static void test_damaged(void) {
    char *dir = path_join(tmpdir, "run2");
    tfevents_writer w;
    CHECK_OK(tfevents_open(&w, dir));
    for (int i = 0; i < 5; i++) CHECK_OK(tfevents_add_scalar(&w, "x", i, (float)i));
    CHECK_OK(tfevents_close(&w));
    char *path = event_file(dir), *data = NULL;
    size_t size = 0;
    CHECK(path && file_read_all(path, &data, &size) == 0);
    if (!data) return;
    char *bad = path_join(tmpdir, "bad.tfevents");
    tfevents_scalar *s;
    int n;
    // one flipped bit in the data of the second record
    uint64_t len0;
    memcpy(&len0, data, 8);
    size_t rec1 = 16 + (size_t)len0;
    data[rec1 + 14] ^= 4;
    file_write_atomic(bad, data, size);
    char want[128];
    snprintf(want, sizeof want, "record at byte %zu: data CRC mismatch", rec1);
    CHECK_FAILS_WITH(tfevents_read(bad, &s, &n), want);
    data[rec1 + 14] ^= 4;
    // a damaged length field
    data[rec1 + 1] ^= 1;
    file_write_atomic(bad, data, size);
    CHECK_FAILS_WITH(tfevents_read(bad, &s, &n), "length CRC mismatch");
    data[rec1 + 1] ^= 1;
    // truncations anywhere inside a record
    file_write_atomic(bad, data, size - 3);
    CHECK_FAILS_WITH(tfevents_read(bad, &s, &n), "run past the end (truncated file)");
    file_write_atomic(bad, data, rec1 + 5);
    CHECK_FAILS_WITH(tfevents_read(bad, &s, &n), "bad.tfevents: truncated record header");
    // the untouched bytes still read
    file_write_atomic(bad, data, size);
    CHECK_OK(tfevents_read(bad, &s, &n));
    CHECK(n == 5 && s[4].value == 4.0f);
    tfevents_scalars_free(s, n);
    CHECK_FAILS_WITH(tfevents_read("/nonexistent/x.tfevents", &s, &n), "/nonexistent/x.tfevents");
    free(bad);
    free(data);
    free(path);
    free(dir);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_tfe.XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(test_crc);
    RUN(test_write_read);
    RUN(test_read_reference);
    RUN(test_damaged);
    file_remove_tree(tmpdir);
    return test_summary("test_tfevents");
}
