// Tests of the synthetic world: determinism, the invariants of generated users, the oracle
// against the sampler (calibration), and a small world end to end through `data convert` with
// the benchmark answers checked against the raw rows.
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/convert.h"
#include "data/synth.h"
#include "data/table.h"
#include "test.h"

static char g_dir[256];

static world_config small_cfg(void) {
    world_config c;
    world_config_default(&c);
    c.users = 400;
    c.test_frac = 0.25;
    return c;
}

static int same_vec(const i64vec *a, const i64vec *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (a->v[i] != b->v[i]) return 0;
    return 1;
}

static void test_world_determinism_and_invariants(void) {
    world_config c = small_cfg();
    world w;
    CHECK_OK(world_init(&w, &c));
    recif_user a = {0}, b = {0};
    CHECK_OK(world_user(&w, 17, &a, NULL));
    CHECK_OK(world_user(&w, 17, &b, NULL));
    CHECK(same_vec(&a.hist_video, &b.hist_video) && same_vec(&a.target_ad, &b.target_ad));
    CHECK(!strcmp(a.cot, b.cot) && !strcmp(a.keywords, b.keywords));
    CHECK_OK(world_user(&w, 18, &b, NULL));
    CHECK(!same_vec(&a.hist_video, &b.hist_video));
    int bad = 0, ntest = 0;
    for (int64_t uid = 0; uid < 300; uid++) {
        CHECK_OK(world_user(&w, uid, &a, NULL));
        ntest += a.split;
        bad += a.hist_video.n < c.hist_min || a.hist_video.n > c.hist_max;
        bad += a.target_video.n != c.n_targets;
        for (int k = 0; k < RAW_NLABELS; k++)
            bad += a.hist_flag[k].n != a.hist_video.n || a.target_flag[k].n != a.target_video.n;
        for (int i = 0; i < a.hist_video.n; i++) {
            int64_t it;
            bad += world_item_of_pid(&w, a.hist_video.v[i], &it) || world_domain(&w, it) != DOM_VIDEO;
        }
        for (int i = 0; i < a.target_ad.n; i++) {
            int64_t it;
            bad += world_item_of_pid(&w, a.target_ad.v[i], &it) || world_domain(&w, it) != DOM_AD;
        }
        for (int i = 0; i < a.hist_goods.n; i++) {
            int64_t it;
            bad += world_item_of_pid(&w, a.hist_goods.v[i], &it) || world_domain(&w, it) != DOM_PRODUCT;
        }
        // long-view list = history videos with the longview flag, in order
        int k = 0;
        for (int i = 0; i < a.hist_video.n; i++)
            if (a.hist_flag[0].v[i]) bad += k >= a.hist_longview.n || a.hist_longview.v[k++] != a.hist_video.v[i];
        bad += k != a.hist_longview.n;
        cJSON *kw = cJSON_Parse(a.keywords);
        bad += !cJSON_IsObject(kw) || cJSON_GetArraySize(kw) < 1;
        cJSON_Delete(kw);
        bad += strstr(a.profile, "<pid:") == NULL;
    }
    CHECK_MSG(bad == 0, "%d invariant violations", bad);
    CHECK(ntest > 40 && ntest < 110);   // test_frac 0.25 of 300
    char cap[256];
    world_caption(&w, 0, cap, sizeof cap);
    CHECK(strlen(cap) > 3);
    recif_user_free(&a);
    recif_user_free(&b);
    world_free(&w);
    c.lang = LANG_EN;
    CHECK_OK(world_init(&w, &c));
    world_caption(&w, 0, cap, sizeof cap);
    int ascii = 1;
    for (const char *p = cap; *p; p++) ascii &= (unsigned char)*p < 128;
    CHECK_MSG(ascii, "%s", cap);
    world_free(&w);
    c.topics = 1;
    CHECK_FAILS_WITH(world_init(&w, &c), "topics must be in 2..255");
    c.topics = 24;
    c.p_noise = 1.5;
    CHECK_FAILS_WITH(world_init(&w, &c), "p_noise must be in [0, 1]");
}

// The oracle is the exact first-target distribution: probabilities sum to 1 over a domain, and
// E[p(actual first target)] = E[sum_i p_i^2] over many users (a calibration check against the
// sampler). Drift is switched off: the oracle does not model it.
static void test_oracle_calibration(void) {
    world_config c = small_cfg();
    c.p_drift = 0;
    world w;
    CHECK_OK(world_init(&w, &c));
    recif_user u = {0};
    world_state s;
    double mean_actual = 0, mean_coll = 0, worst_sum = 0;
    int n = 2500;
    for (int64_t uid = 0; uid < n; uid++) {
        CHECK_OK(world_user(&w, uid, &u, &s));
        for (int d = 0; d < DOM_COUNT; d++) {
            double sum = 0;
            for (int64_t it = w.dom_start[d]; it < w.dom_start[d + 1]; it++) sum += world_next_prob(&w, &s, it);
            if (fabs(sum - 1) > worst_sum) worst_sum = fabs(sum - 1);
        }
        // unseen items only (a history may repeat an item when its topic is exhausted)
        static char mark[100000];
        memset(mark, 0, (size_t)w.dom_start[1]);
        for (int i = 0; i < u.hist_video.n; i++) mark[u.hist_video.v[i] - 1] = 1;
        double seen = 0, coll = 0;
        for (int64_t it = 0; it < w.dom_start[1]; it++) {
            double p = world_next_prob(&w, &s, it);
            if (mark[it]) seen += p;
            else coll += p * p;
        }
        double z = 1 - seen;
        mean_actual += world_next_prob(&w, &s, u.target_video.v[0] - 1) / z / n;
        mean_coll += coll / (z * z) / n;
    }
    CHECK_MSG(worst_sum < 1e-9, "probabilities sum to 1 +- %g", worst_sum);
    CHECK_MSG(fabs(mean_actual - mean_coll) < 0.08 * mean_coll, "E[p(actual)] %.5f vs E[sum p^2] %.5f", mean_actual, mean_coll);
    // the top-k list is sorted, normalised, and excludes seen items
    int64_t items[32];
    double probs[32];
    CHECK_OK(world_user(&w, 3, &u, &s));
    int k = world_oracle_topk(&w, &s, DOM_VIDEO, &u, 32, items, probs);
    CHECK(k == 32);
    int ok = 1;
    for (int i = 0; i < k; i++) {
        if (i) ok &= probs[i] <= probs[i - 1];
        for (int j = 0; j < u.hist_video.n; j++) ok &= world_pid(items[i]) != u.hist_video.v[j];
    }
    CHECK(ok);
    recif_user_free(&u);
    world_free(&w);
}

static void test_synth_and_convert_end_to_end(void) {
    world_config c = small_cfg();
    char out[512], conv[512], path[700];
    snprintf(out, sizeof out, "%s/world", g_dir);
    snprintf(conv, sizeof conv, "%s/conv", g_dir);
    synth_report rep;
    CHECK_OK(synth_run(&c, out, ".jsonl", 0, &rep));
    CHECK(rep.oracle_users == rep.test_users);
    CHECK(rep.users == 400 && rep.test_users > 60);
    // the world is learnable: the oracle is far above popularity, popularity above random
    CHECK_MSG(rep.oracle_recall[DOM_VIDEO] > 2 * rep.pop_recall[DOM_VIDEO], "oracle %.3f pop %.3f",
              rep.oracle_recall[DOM_VIDEO], rep.pop_recall[DOM_VIDEO]);
    CHECK(rep.pop_recall[DOM_VIDEO] > rep.random_recall[DOM_VIDEO]);
    CHECK(rep.oracle_recall[DOM_VIDEO] < 1.0);
    snprintf(path, sizeof path, "%s/world.json", out);
    cJSON *wj = json_load_file(path);
    CHECK(wj && cJSON_GetObjectItem(cJSON_GetObjectItem(wj, "oracle_recall@32"), "video"));
    cJSON_Delete(wj);
    conv_options o = {out, NULL, conv, LANG_ZH, 42, ".jsonl", conv_windows_reference()};
    conv_stats st;
    CHECK_OK(conv_run(&o, &st));
    CHECK(st.users_read == 400 && st.users_test == rep.test_users && st.items_without_sid == 0);
    // raw targets of the test users, for the benchmark answers
    recif_raw rr;
    snprintf(path, sizeof path, "%s/onerec_bench_release.jsonl", out);
    CHECK_OK(recif_raw_open(&rr, path));
    recif_user u = {0};
    static int64_t tgt[400][10], lv[400][10];
    static int split[400];
    static char *kw[400];
    while (recif_raw_next(&rr, &u) > 0) {
        split[u.uid] = u.split;
        for (int i = 0; i < 10; i++) {
            tgt[u.uid][i] = u.target_video.v[i];
            lv[u.uid][i] = u.target_flag[0].v[i];
        }
        kw[u.uid] = mem_strdup(u.keywords);
    }
    recif_raw_close(&rr);
    recif_user_free(&u);
    // video benchmark: answer_pid == the user's target_video[:10]; only test users
    dtab_reader *r;
    cJSON *row;
    int rows = 0, bad = 0;
    snprintf(path, sizeof path, "%s/benchmark/video/video_test.jsonl", conv);
    CHECK_OK(dtab_reader_open(&r, path));
    while (dtab_reader_next(r, &row) > 0) {
        cJSON *m = cJSON_Parse(cJSON_GetObjectItem(row, "metadata")->valuestring);
        int uid = (int)cJSON_GetObjectItem(m, "uid")->valuedouble;
        cJSON *ap = cJSON_GetObjectItem(m, "answer_pid");
        bad += split[uid] != 1 || cJSON_GetArraySize(ap) != 10;
        for (int i = 0; i < 10; i++) bad += (int64_t)cJSON_GetArrayItem(ap, i)->valuedouble != tgt[uid][i];
        bad += strncmp(cJSON_GetObjectItem(m, "answer")->valuestring, "<|sid_begin|>", 13) != 0;
        cJSON_Delete(m);
        cJSON_Delete(row);
        rows++;
    }
    dtab_reader_close(r);
    CHECK(rows == rep.test_users && bad == 0);
    // training video_rec: only split 0 users
    snprintf(path, sizeof path, "%s/sft/video_rec.jsonl", conv);
    CHECK_OK(dtab_reader_open(&r, path));
    rows = bad = 0;
    while (dtab_reader_next(r, &row) > 0) {
        cJSON *m = cJSON_Parse(cJSON_GetObjectItem(row, "metadata")->valuestring);
        bad += split[(int)cJSON_GetObjectItem(m, "uid")->valuedouble] != 0;
        cJSON_Delete(m);
        cJSON_Delete(row);
        rows++;
    }
    dtab_reader_close(r);
    CHECK(rows == 400 - rep.test_users && bad == 0);
    // label_pred benchmark: labels match the longview flags of the targets
    snprintf(path, sizeof path, "%s/benchmark/label_pred/label_pred_test.jsonl", conv);
    CHECK_OK(dtab_reader_open(&r, path));
    rows = bad = 0;
    int pos = 0;
    while (dtab_reader_next(r, &row) > 0) {
        cJSON *m = cJSON_Parse(cJSON_GetObjectItem(row, "metadata")->valuestring);
        int uid = (int)cJSON_GetObjectItem(m, "uid")->valuedouble, label = (int)cJSON_GetObjectItem(m, "label")->valuedouble;
        int64_t pid = (int64_t)cJSON_GetObjectItem(m, "pid")->valuedouble;
        int found = 0;
        for (int i = 0; i < 10; i++)
            if (tgt[uid][i] == pid) found = 1, bad += lv[uid][i] != label;
        bad += !found || strcmp(cJSON_GetObjectItem(m, "answer")->valuestring, label ? "是" : "否");
        pos += label;
        cJSON_Delete(m);
        cJSON_Delete(row);
        rows++;
    }
    dtab_reader_close(r);
    CHECK(rows == 10 * rep.test_users && bad == 0);
    CHECK(pos > rows / 5 && pos < rows * 19 / 20);   // both classes present
    // interactive benchmark: the keyword is one of the user's and the answer its items
    snprintf(path, sizeof path, "%s/benchmark/interactive/interactive_test.jsonl", conv);
    CHECK_OK(dtab_reader_open(&r, path));
    bad = 0;
    while (dtab_reader_next(r, &row) > 0) {
        cJSON *m = cJSON_Parse(cJSON_GetObjectItem(row, "metadata")->valuestring);
        int uid = (int)cJSON_GetObjectItem(m, "uid")->valuedouble;
        cJSON *k = cJSON_Parse(kw[uid]);
        cJSON *items = cJSON_GetObjectItem(k, cJSON_GetObjectItem(m, "keyword")->valuestring);
        char *a = cJSON_PrintUnformatted(items), *b = cJSON_PrintUnformatted(cJSON_GetObjectItem(m, "answer_pid"));
        bad += !a || !b || strcmp(a, b);
        free(a);
        free(b);
        cJSON_Delete(k);
        cJSON_Delete(m);
        cJSON_Delete(row);
    }
    dtab_reader_close(r);
    CHECK(bad == 0);
    for (int i = 0; i < 400; i++) free(kw[i]);
    // sid2pid.json: planted SIDs are unique, so each code maps to one item
    snprintf(path, sizeof path, "%s/benchmark/sid2pid.json", conv);
    cJSON *sp = json_load_file(path);
    CHECK(sp && cJSON_GetArraySize(sp) == (int)(c.videos + c.ads));
    cJSON_Delete(sp);
    // convert reports a missing side file clearly
    conv_options o2 = {out, g_dir, conv, LANG_ZH, 42, ".jsonl", conv_windows_reference()};
    CHECK_FAILS_WITH(conv_run(&o2, &st), "video_ad_pid2sid");
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/onerec_test_synth_%d", (int)getpid());
    file_remove_tree(g_dir);
    file_mkdirs(g_dir);
    log_set_level(LOG_WARN);
    RUN(test_world_determinism_and_invariants);
    RUN(test_oracle_calibration);
    RUN(test_synth_and_convert_end_to_end);
    file_remove_tree(g_dir);
    return test_summary("test_synth");
}
