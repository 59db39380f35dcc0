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

int rec_domain_index(const char *domain) {
    return !strcmp(domain, "video") ? 0 : !strcmp(domain, "ad") ? 1 : !strcmp(domain, "product") ? 2 : -1;
}

int rec_tables_open(rec_tables *t, const char *video_ad_pid2sid, const char *product_pid2sid) {
    memset(t, 0, sizeof *t);
    int rc = pid2sid_load(&t->va, video_ad_pid2sid);
    if (!rc) rc = sid_trie_build(&t->tva, t->va.codes, t->va.n, t->va.nlev);
    t->has_pm = product_pid2sid != NULL;
    if (!rc && t->has_pm) rc = pid2sid_load(&t->pm, product_pid2sid);
    if (!rc && t->has_pm) rc = sid_trie_build(&t->tpm, t->pm.codes, t->pm.n, t->pm.nlev);
    if (!rc && (t->va.nlev != 3 || (t->has_pm && t->pm.nlev != 3)))
        rc = err_set("%s: SIDs must have 3 codes (the model's itemic layers)",
                     t->va.nlev != 3 ? video_ad_pid2sid : product_pid2sid);
    if (rc) rec_tables_free(t);
    return rc;
}

void rec_tables_free(rec_tables *t) {
    sid_trie_free(&t->tva), sid_trie_free(&t->tpm);
    pid2sid_free(&t->va), pid2sid_free(&t->pm);
    memset(t, 0, sizeof *t);
}

// The domain's SFT chat prompt ids, ending in <|sid_begin|>.
static int job_prompt(lm *l, const rec_tables *t, const rec_request *q, task_id task, rec_job *j) {
    data_lang lang = q->lang_en ? LANG_EN : LANG_ZH;
    // the converter's caps: video_rec the last 512 videos; ad_rec 100 videos + 200 ads; product 100 + 100
    char *a0 = sid_text(&t->va, q->videos, q->nvideos, task == TASK_VIDEO_REC ? 512 : 100, q->lang_en, &j->unknown);
    char *a1 = task == TASK_VIDEO_REC ? mem_strdup("")
                                      : sid_text(task == TASK_AD_REC ? &t->va : &t->pm, q->others, q->nothers,
                                                 task == TASK_AD_REC ? 200 : 100, q->lang_en, &j->unknown);
    const char *args[2] = {a0, a1};
    char *user = a0 && a1 ? prompt_fill(prompt_get(lang, task, 0, 0), args, 2) : NULL;
    chat_msg msgs[2] = {{"system", prompt_get(lang, task, 1, 0), NULL}, {"user", user, NULL}};
    int rc = user ? lm_chat_prompt(l, msgs, 2, 0, "/no_think", &j->ids) : ERR_FAIL;
    if (!rc) rc = tok_buf_push(&j->ids, l->sid_begin, 0);
    free(a0), free(a1), free(user);
    return rc;
}

int rec_job_prepare(lm *l, const rec_tables *t, const rec_request *q, rec_job *j) {
    memset(j, 0, sizeof *j);
    int d = rec_domain_index(q->domain);
    task_id task = d == 0 ? TASK_VIDEO_REC : d == 1 ? TASK_AD_REC : d == 2 ? TASK_PRODUCT_REC : TASK_COUNT;
    if (task == TASK_COUNT) return err_usage("--domain must be video, ad or product (got \"%s\")", q->domain);
    if (!l->has_sid || l->sid.layers != 3) return err_set("the model has no 3-layer itemic tokens");
    if (q->k < 1 || q->k > GEN_BEAM_MAX) return err_usage("--k %d: must be in 1..%d (the beam width)", q->k, GEN_BEAM_MAX);
    if (q->nvideos + q->nothers == 0) return err_usage("--history is empty: give the user's items, oldest first");
    int vcap = task == TASK_VIDEO_REC ? 512 : 100;
    if (q->nvideos > vcap)   // as the converter builds prompts: said, not silent
        log_warn("--history has %d videos: the prompt shows the last %d, as in training", q->nvideos, vcap);
    if (task == TASK_PRODUCT_REC && !t->has_pm) return err_set("domain product needs the product pid2sid table");
    j->k = q->k;
    j->dom = task == TASK_PRODUCT_REC ? &t->pm : &t->va;
    j->sc = (sid_constraint){.trie = task == TASK_PRODUCT_REC ? &t->tpm : &t->tva, .vocab = &l->sid};
    int width = q->k > 32 ? q->k : 32;
    j->bp = (beam_params){width, 3, q->constrain ? sid_constraint_allowed : NULL, &j->sc};
    int rc = job_prompt(l, t, q, task, j);
    int ctx = l->model.cfg.max_pos > 0 ? l->model.cfg.max_pos : 32768;
    if (!rc && (int64_t)j->ids.n + 3 > ctx)
        rc = err_set("the prompt of this history has %lld tokens; the model's context (max_position_embeddings) is %d: "
                     "give a shorter --history", (long long)j->ids.n, ctx);
    // with exclude_history: the SIDs the prompt shows are never recommended
    if (!rc && q->constrain && q->exclude_history) rc = sid_constraint_ban_shown(&j->sc, j->ids.ids, (int64_t)j->ids.n);
    if (rc) rec_job_free(j);
    return rc;
}

void rec_job_items(const lm *l, const rec_job *j, const beam_result *br, rec_item *out, int *n) {
    *n = 0;
    int not_sid = 0;
    for (int b = 0; b < br->n && *n < j->k; b++) {
        rec_item *it = &out[*n];
        // a beam that is not three itemic tokens names nothing: left out, never shown as code -1
        if (!sid_beam_codes(&l->sid, br->tokens + (size_t)b * 3, 3, it->codes)) {
            not_sid++;
            continue;
        }
        it->score = br->scores[b];
        it->pid = pid_of(j->dom, it->codes);
        (*n)++;
    }
    if (not_sid) log_warn("%d beams were not SIDs and were left out (--constrain keeps beams on real items)", not_sid);
}

void rec_job_free(rec_job *j) {
    tok_buf_free(&j->ids);
    sid_constraint_free(&j->sc);
}

int recommend_items(lm *l, const rec_request *q, rec_item *out, int *n, int *unknown) {
    *n = 0;
    *unknown = 0;
    int d = rec_domain_index(q->domain);
    if (d < 0) return err_set("--domain must be video, ad or product (got \"%s\")", q->domain);
    rec_tables t;
    int rc = rec_tables_open(&t, q->video_ad_pid2sid, d == 2 ? q->product_pid2sid : NULL);
    rec_job j;
    if (!rc && d == 2 && !q->product_pid2sid) rc = err_set("--domain product needs --product-pid2sid");
    if (!rc) rc = rec_job_prepare(l, &t, q, &j);
    beam_result br = {0};
    qwen3_kv *kv = NULL;
    if (!rc) {
        *unknown = j.unknown;
        rc = qwen3_kv_init(&kv, &l->model, gen_kv_tokens_beam((int)j.ids.n, j.bp.width, 3));
        if (!rc) rc = gen_beam(&l->model, kv, j.ids.ids, (int)j.ids.n, &j.bp, &br);
        if (!rc) rec_job_items(l, &j, &br, out, n);
        qwen3_kv_free(kv);
        beam_result_free(&br);
        rec_job_free(&j);
    }
    rec_tables_free(&t);
    return rc;
}
