#include "eval/recommend.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/prompts.h"
#include "data/raw.h"
#include "rec/constrain.h"
#include "rec/generate.h"
#include "rec/trie.h"

// Concatenated SID strings of the last `cap` pids (unknown ones skipped), or the "none" word.
static char *sid_text(const pid2sid *m, const int64_t *pids, int n, int cap, int en, int *unknown) {
    size_t sz = 64 + (size_t)(n < cap ? n : cap) * 96;
    char *s = mem_alloc(sz), buf[128];
    if (!s) return NULL;
    s[0] = 0;
    size_t len = 0;
    for (int i = n > cap ? n - cap : 0; i < n; i++) {
        const int32_t *c = pid2sid_get(m, pids[i]);
        if (!c) {
            (*unknown)++;
            continue;
        }
        int w = sid_format(buf, sizeof buf, c, m->nlev);
        if (w > 0 && len + (size_t)w < sz) memcpy(s + len, buf, (size_t)w + 1), len += (size_t)w;
    }
    if (!len) strcpy(s, en ? "none" : "无");
    return s;
}

static int64_t pid_of(const pid2sid *m, const int32_t *codes) {
    for (int64_t i = 0; i < m->n; i++)
        if (!memcmp(m->codes + i * m->nlev, codes, 3 * sizeof(int32_t))) return m->pids[i];
    return -1;
}

int recommend_items(lm *l, const rec_request *q, rec_item *out, int *n, int *unknown) {
    *n = 0;
    *unknown = 0;
    task_id task = !strcmp(q->domain, "video") ? TASK_VIDEO_REC : !strcmp(q->domain, "ad") ? TASK_AD_REC
                 : !strcmp(q->domain, "product") ? TASK_PRODUCT_REC : TASK_COUNT;
    if (task == TASK_COUNT) return err_usage("--domain must be video, ad or product (got \"%s\")", q->domain);
    if (!l->has_sid || l->sid.layers != 3) return err_set("the model has no 3-layer itemic tokens");
    if (q->k < 1 || q->k > GEN_BEAM_MAX) return err_usage("--k %d: must be in 1..%d (the beam width)", q->k, GEN_BEAM_MAX);
    if (q->nvideos + q->nothers == 0) return err_usage("--history is empty: give the user's items, oldest first");
    int vcap = task == TASK_VIDEO_REC ? 512 : 100;
    if (q->nvideos > vcap)   // as the converter builds prompts: said, not silent
        log_warn("--history has %d videos: the prompt shows the last %d, as in training", q->nvideos, vcap);
    pid2sid va = {0}, pm = {0};
    int rc = pid2sid_load(&va, q->video_ad_pid2sid);
    if (!rc && task == TASK_PRODUCT_REC) rc = pid2sid_load(&pm, q->product_pid2sid);
    data_lang lang = q->lang_en ? LANG_EN : LANG_ZH;
    // the converter's caps: video_rec the last 512 videos; ad_rec 100 videos + 200 ads; product 100 + 100
    char *a0 = NULL, *a1 = NULL;
    if (!rc) {
        a0 = sid_text(&va, q->videos, q->nvideos, vcap, q->lang_en, unknown);
        a1 = task == TASK_VIDEO_REC ? mem_strdup("")
                                    : sid_text(task == TASK_AD_REC ? &va : &pm, q->others, q->nothers, task == TASK_AD_REC ? 200 : 100,
                                               q->lang_en, unknown);
        if (!a0 || !a1) rc = ERR_FAIL;
    }
    const char *args[2] = {a0, a1};
    char *user = rc ? NULL : prompt_fill(prompt_get(lang, task, 0, 0), args, 2);
    chat_msg msgs[2] = {{"system", prompt_get(lang, task, 1, 0), NULL}, {"user", user, NULL}};
    tok_buf ids = {0};
    if (!rc) rc = user ? lm_chat_prompt(l, msgs, 2, 0, "/no_think", &ids) : ERR_FAIL;
    if (!rc) rc = tok_buf_push(&ids, l->sid_begin, 0);
    int ctx = l->model.cfg.max_pos > 0 ? l->model.cfg.max_pos : 32768;
    if (!rc && (int64_t)ids.n + 3 > ctx)
        rc = err_set("the prompt of this history has %lld tokens; the model's context (max_position_embeddings) is %d: "
                     "give a shorter --history", (long long)ids.n, ctx);
    const pid2sid *dom = task == TASK_PRODUCT_REC ? &pm : &va;
    sid_trie t = {0};
    int width = q->k > 32 ? q->k : 32;
    if (!rc && q->constrain) rc = sid_trie_build(&t, dom->codes, dom->n, 3);
    sid_constraint sc = {.trie = &t, .vocab = &l->sid};
    beam_params bp = {width, 3, q->constrain ? sid_constraint_allowed : NULL, &sc};
    beam_result br = {0};
    qwen3_kv *kv = NULL;
    if (!rc) rc = qwen3_kv_init(&kv, &l->model, gen_kv_tokens_beam((int)ids.n, width, 3));
    if (!rc) rc = gen_beam(&l->model, kv, ids.ids, (int)ids.n, &bp, &br);
    if (kv) qwen3_kv_free(kv);
    int not_sid = 0;
    for (int b = 0; !rc && b < br.n && *n < q->k; b++) {
        rec_item *it = &out[*n];
        // a beam that is not three itemic tokens names nothing: left out, never printed as code -1
        if (!sid_beam_codes(&l->sid, br.tokens + (size_t)b * 3, 3, it->codes)) {
            not_sid++;
            continue;
        }
        it->score = br.scores[b];
        it->pid = pid_of(dom, it->codes);
        (*n)++;
    }
    if (!rc && not_sid) log_warn("%d beams were not SIDs and were left out (--constrain keeps beams on real items)", not_sid);
    beam_result_free(&br);
    if (q->constrain) sid_trie_free(&t);
    tok_buf_free(&ids);
    free(a0), free(a1), free(user);
    pid2sid_free(&va), pid2sid_free(&pm);
    return rc;
}
