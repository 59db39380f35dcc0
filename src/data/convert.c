#include "data/convert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/rng.h"
#include "data/msg.h"

// A growing string.
typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *t) {
    size_t k = strlen(t);
    if (b->oom) return;
    if (b->n + k + 1 > b->cap) {
        size_t nc = (b->n + k + 1) * 2 + 64;
        char *p = realloc(b->s, nc);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = nc;
    }
    memcpy(b->s + b->n, t, k + 1);
    b->n += k;
}
static void sb_reset(sbuf *b) {
    b->n = 0;
    if (b->s) b->s[0] = 0;
}
static const char *sb_str(sbuf *b) { return b->s && !b->oom ? b->s : ""; }

// SID text of a pid in the given map, or NULL (counted by callers).
static const char *conv_sid_text(const pid2sid *m, int64_t pid, char *buf, int cap) {
    const int32_t *codes = pid2sid_get(m, pid);
    if (!codes || sid_format(buf, cap, codes, m->nlev) < 0) return NULL;
    return buf;
}

// Appends the SIDs of pids[from:to] (items without SID dropped and counted); the kept pids go to
// `kept` when given. Returns the number appended.
static int add_sids(const pid2sid *m, sbuf *b, const int64_t *pids, int from, int to, conv_stats *st, i64vec *kept) {
    char buf[256];
    int n = 0;
    if (from < 0) from = 0;
    for (int i = from; i < to; i++) {
        if (!conv_sid_text(m, pids[i], buf, sizeof buf)) {
            st->items_without_sid++;
            continue;
        }
        sb_add(b, buf);
        if (kept) i64vec_push(kept, pids[i]);
        n++;
    }
    return n;
}

static uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// A deterministic UUID-shaped id for (seed, task, uid, k).
static void make_uuid(char *out, uint64_t seed, int task, int64_t uid, int k, int bench) {
    uint64_t a = mix64(seed ^ mix64((uint64_t)task * 1000003u + (uint64_t)bench));
    a = mix64(a ^ (uint64_t)uid);
    uint64_t b = mix64(a ^ (uint64_t)k * 0x2545f4914f6cdd1dULL);
    a = mix64(b ^ a);
    snprintf(out, 40, "%08llx-%04llx-4%03llx-%04llx-%012llx", (unsigned long long)(a >> 32),
             (unsigned long long)((a >> 16) & 0xffff), (unsigned long long)(a & 0xfff),
             (unsigned long long)(0x8000 | ((b >> 48) & 0x3fff)), (unsigned long long)(b & 0xffffffffffffULL));
}

typedef struct {
    const conv_ctx *c;
    const recif_user *u;
    int bench;
    conv_sink sink;
    void *sink_ctx;
    conv_stats *st;
    rng r;
    int k;   // samples emitted for this user (uuid index)
} emitter;

static int emit(emitter *e, task_id t, cJSON *row) {
    if (!row) return err_set("out of memory building a %s row", task_source(t));
    if (e->bench) e->st->bench_rows[t]++;
    else e->st->rows[t]++;
    return e->sink(e->sink_ctx, t, e->bench, row);
}

static int emit_segments(emitter *e, task_id t, const char *text) {
    char uuid[40];
    make_uuid(uuid, e->c->seed, t, e->u ? e->u->uid : -1, e->k++, 0);
    return emit(e, t, msg_row(uuid, task_source(t), NULL, NULL, msg_segments_text(text)));
}

// A Chat sample: system (unless the task has none) + user from the pools, and the answer. Bench
// rows leave the assistant turn out and put the answer into metadata.
static int emit_chat(emitter *e, task_id t, const char *const *args, int nargs, const char *answer, cJSON *meta) {
    data_lang l = e->c->lang;
    int ns = prompt_pool_size(l, t, 1), nu = prompt_pool_size(l, t, 0);
    const char *sys = ns ? prompt_get(l, t, 1, (int)rng_below(&e->r, (uint64_t)ns)) : NULL;
    char *user = prompt_fill(prompt_get(l, t, 0, (int)rng_below(&e->r, (uint64_t)nu)), args, nargs);
    if (!meta) meta = cJSON_CreateObject();
    if (e->u) cJSON_AddNumberToObject(meta, "uid", (double)e->u->uid);
    if (e->bench) cJSON_AddStringToObject(meta, "answer", answer);
    char uuid[40];
    make_uuid(uuid, e->c->seed, t, e->u ? e->u->uid : -1, e->k++, e->bench);
    char *msgs = user ? msg_chat(sys, user, e->bench ? NULL : answer) : NULL;
    free(user);
    if (!msgs) {
        cJSON_Delete(meta);
        return err_set("out of memory building a %s row", task_source(t));
    }
    return emit(e, t, msg_row(uuid, task_source(t), meta, msgs, NULL));
}

// The profile with "<pid:N>" placeholders (synthetic worlds) replaced by SIDs.
static char *resolve_profile(const conv_ctx *c, const char *p, conv_stats *st) {
    sbuf b = {0};
    sb_add(&b, "");
    char buf[256];
    while (p && *p) {
        const char *q = strstr(p, "<pid:");
        if (!q) {
            sb_add(&b, p);
            break;
        }
        char tmp[2] = {0};
        for (; p < q; p++) {
            tmp[0] = *p;
            sb_add(&b, tmp);
        }
        char *end;
        long long pid = strtoll(q + 5, &end, 10);
        if (*end != '>') {   // not a placeholder after all
            sb_add(&b, "<");
            p = q + 1;
            continue;
        }
        if (conv_sid_text(&c->va, pid, buf, sizeof buf)) sb_add(&b, buf);
        else st->items_without_sid++;
        p = end + 1;
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static cJSON *pids_json(const i64vec *v) { return dtab_int_array(v->v, v->n); }

// "<label>: SIDs" lines with the last CONV_LABEL_HIST positives of each interaction type.
static void label_block(const conv_ctx *c, const recif_user *u, sbuf *b, conv_stats *st) {
    char buf[256];
    for (int k = 0; k < RAW_NLABELS; k++) {
        snprintf(buf, sizeof buf, c->lang == LANG_ZH ? "%s：" : "%s: ", lex_label_name(c->lang, k));
        sb_add(b, buf);
        int idx[CONV_LABEL_HIST], n = 0;
        for (int i = u->hist_video.n - 1; i >= 0 && n < CONV_LABEL_HIST; i--)
            if (u->hist_flag[k].v[i] && pid2sid_get(&c->va, u->hist_video.v[i])) idx[n++] = i;
        if (!n) sb_add(b, c->lang == LANG_ZH ? "无" : "none");
        for (int j = n - 1; j >= 0; j--)   // oldest first
            sb_add(b, conv_sid_text(&c->va, u->hist_video.v[idx[j]], buf, sizeof buf));
        if (k < RAW_NLABELS - 1) sb_add(b, "\n");
    }
    (void)st;
}

static int rec_task(emitter *e, task_id t, const char *a0, const char *a1, const pid2sid *m, const i64vec *tgt) {
    sbuf ans = {0};
    i64vec kept = {0};
    add_sids(m, &ans, tgt->v, 0, tgt->n < CONV_TARGETS ? tgt->n : CONV_TARGETS, e->st, &kept);
    int rc = 0;
    if (kept.n == 0) e->st->samples_without_target++;
    else if (!ans.oom) {
        cJSON *meta = cJSON_CreateObject();
        cJSON_AddItemToObject(meta, "answer_pid", pids_json(&kept));
        const char *args[2] = {a0, a1};
        rc = emit_chat(e, t, args, 2, sb_str(&ans), meta);
    } else rc = err_set("out of memory");
    free(ans.s);
    i64vec_free(&kept);
    return rc;
}

// video_rec samples: window w ends `w * stride` items before the end of the history, in the
// sequence hist + target; its answer is the items after its end. Benchmark users get one sample
// whose history has the same cap as the training windows (the model's context) and whose answer
// is the reference's target[:10]. h is scratch.
static int video_rec_windows(emitter *e, sbuf *h) {
    const recif_user *u = e->u;
    conv_windows w = e->c->win.count > 0 ? e->c->win : conv_windows_reference();
    if (e->bench) w.count = 1, w.targets = CONV_TARGETS;
    int nh = u->hist_video.n, rc = 0;
    if (w.count == 1) {   // no copy needed: the history's last items -> the targets
        i64vec tgt = u->target_video;
        if (tgt.n > w.targets) tgt.n = w.targets;
        if (add_sids(&e->c->va, h, u->hist_video.v, nh - w.history, nh, e->st, NULL) > 0)
            rc = rec_task(e, TASK_VIDEO_REC, sb_str(h), "", &e->c->va, &tgt);
        return rc;
    }
    i64vec seq = {0};
    for (int i = 0; i < nh; i++) rc = rc || i64vec_push(&seq, u->hist_video.v[i]);
    for (int i = 0; i < u->target_video.n; i++) rc = rc || i64vec_push(&seq, u->target_video.v[i]);
    if (rc) rc = err_set("out of memory building video_rec windows");
    for (int k = 0; !rc && k < w.count; k++) {
        int end = nh - k * w.stride;
        if (end < 1) break;
        int n = seq.n - end < w.targets ? seq.n - end : w.targets;
        i64vec tgt = {.v = seq.v + end, .n = n, .cap = n};
        sb_reset(h);
        if (add_sids(&e->c->va, h, seq.v, end - w.history, end, e->st, NULL) > 0)
            rc = rec_task(e, TASK_VIDEO_REC, sb_str(h), "", &e->c->va, &tgt);
    }
    i64vec_free(&seq);
    return rc;
}

// Per-user scratch: history blocks and the resolved profile, shared by the tasks below.
typedef struct {
    sbuf h, h2, tg;
    char *profile;
} user_scratch;

// pretrain Segments (training users only)
static int pretrain_segments(emitter *e, user_scratch *s) {
    const recif_user *u = e->u;
    int nh = u->hist_video.n;
    int a = add_sids(&e->c->va, &s->h, u->hist_video.v, nh - CONV_VIDEO_HIST, nh, e->st, NULL);
    int b = add_sids(&e->c->va, &s->h, u->target_video.v, 0, u->target_video.n < CONV_TARGETS ? u->target_video.n : CONV_TARGETS,
                     e->st, NULL);
    int rc = 0;
    if (a + b > 0) rc = emit_segments(e, TASK_PT_VIDEO_REC, sb_str(&s->h));
    if (!rc && s->profile[0]) rc = emit_segments(e, TASK_PT_USER_PROFILE, s->profile);
    sb_reset(&s->h);
    return rc;
}

// ad_rec and product_rec: the last nvid videos + the last nh2 items of the other domain (own code
// space m2). No targets in a domain (a log without ads or products): no sample, nothing to count.
static int cross_rec(emitter *e, user_scratch *s, task_id t, const i64vec *videos, int nvid, const pid2sid *m2,
                     const i64vec *hist2, int nh2, const i64vec *tgt) {
    sb_reset(&s->h);
    sb_reset(&s->h2);
    int a = add_sids(&e->c->va, &s->h, videos->v, videos->n - nvid, videos->n, e->st, NULL);
    int b = add_sids(m2, &s->h2, hist2->v, hist2->n - nh2, hist2->n, e->st, NULL);
    if (!a) sb_add(&s->h, e->c->lang == LANG_ZH ? "无" : "none");
    if (!b) sb_add(&s->h2, e->c->lang == LANG_ZH ? "无" : "none");
    if (!tgt->n || a + b == 0) return 0;
    return rec_task(e, t, sb_str(&s->h), sb_str(&s->h2), m2, tgt);
}

// interactive_rec for one keyword: its items (a JSON array of pids) are the answer.
static int interactive_keyword(emitter *e, user_scratch *s, const cJSON *k) {
    i64vec items = {0};
    int ok = cJSON_IsArray(k), rc = 0;
    for (cJSON *x = ok ? k->child : NULL; x; x = x->next) {
        if (!cJSON_IsNumber(x)) ok = 0;
        else i64vec_push(&items, (int64_t)x->valuedouble);
    }
    if (!ok) {
        e->st->bad_keywords++;
        i64vec_free(&items);
        return 0;
    }
    sbuf ans = {0};
    i64vec kept = {0};
    add_sids(&e->c->va, &ans, items.v, 0, items.n < CONV_TARGETS ? items.n : CONV_TARGETS, e->st, &kept);
    if (kept.n == 0) {
        e->st->samples_without_target++;
    } else {
        cJSON *meta = cJSON_CreateObject();
        cJSON_AddItemToObject(meta, "answer_pid", pids_json(&kept));
        cJSON_AddStringToObject(meta, "keyword", k->string);
        const char *args[2] = {s->profile, k->string};
        rc = emit_chat(e, TASK_INTERACTIVE_REC, args, 2, sb_str(&ans), meta);
    }
    free(ans.s);
    i64vec_free(&kept);
    i64vec_free(&items);
    return rc;
}

// interactive_rec: one sample per keyword
static int interactive_rec(emitter *e, user_scratch *s) {
    const recif_user *u = e->u;
    if (!u->keywords || !u->keywords[0]) return 0;
    cJSON *kw = cJSON_Parse(u->keywords);
    if (!cJSON_IsObject(kw)) e->st->bad_keywords++;
    int rc = 0;
    for (cJSON *k = kw && cJSON_IsObject(kw) ? kw->child : NULL; k && !rc; k = k->next) rc = interactive_keyword(e, s, k);
    cJSON_Delete(kw);
    return rc;
}

// label_cond_rec: a random interaction type with >= 1 positive target (s->h: the label block)
static int label_cond_rec(emitter *e, user_scratch *s) {
    const recif_user *u = e->u;
    const pid2sid *va = &e->c->va;
    int types[RAW_NLABELS], nt = 0;
    for (int k = 0; k < RAW_NLABELS; k++)
        for (int i = 0; i < u->target_video.n; i++)
            if (u->target_flag[k].v[i] && pid2sid_get(va, u->target_video.v[i])) {
                types[nt++] = k;
                break;
            }
    if (nt == 0) {
        e->st->samples_without_target++;
        return 0;
    }
    int k = types[rng_below(&e->r, (uint64_t)nt)];
    i64vec pos = {0};
    for (int i = 0; i < u->target_video.n && pos.n < CONV_TARGETS; i++)
        if (u->target_flag[k].v[i] && pid2sid_get(va, u->target_video.v[i])) i64vec_push(&pos, u->target_video.v[i]);
    sb_reset(&s->tg);
    add_sids(va, &s->tg, pos.v, 0, pos.n, e->st, NULL);
    cJSON *meta = cJSON_CreateObject();
    cJSON_AddItemToObject(meta, "answer_pid", pids_json(&pos));
    cJSON_AddStringToObject(meta, "label", lex_label_key(k));
    const char *args[2] = {sb_str(&s->h), lex_label_name(e->c->lang, k)};
    int rc = emit_chat(e, TASK_LABEL_COND_REC, args, 2, sb_str(&s->tg), meta);
    i64vec_free(&pos);
    return rc;
}

// label_pred: one sample per target candidate (s->h: the label block)
static int label_pred(emitter *e, user_scratch *s) {
    const recif_user *u = e->u;
    data_lang l = e->c->lang;
    char buf[256];
    int lim = u->target_video.n < CONV_TARGETS ? u->target_video.n : CONV_TARGETS;
    for (int i = 0; i < lim; i++) {
        int64_t pid = u->target_video.v[i];
        if (!conv_sid_text(&e->c->va, pid, buf, sizeof buf)) {
            e->st->items_without_sid++;
            continue;
        }
        int y = u->target_flag[0].v[i] != 0;
        cJSON *meta = cJSON_CreateObject();
        cJSON_AddNumberToObject(meta, "label", y);
        cJSON_AddNumberToObject(meta, "pid", (double)pid);
        cJSON_AddStringToObject(meta, "pos", prompt_yes(l));
        cJSON_AddStringToObject(meta, "neg", prompt_no(l));
        const char *args[2] = {sb_str(&s->h), buf};
        int rc = emit_chat(e, TASK_LABEL_PRED, args, 2, y ? prompt_yes(l) : prompt_no(l), meta);
        if (rc) return rc;
    }
    return 0;
}

// rec_reason: profile + history captions + target caption -> reasoning (no system message)
static int rec_reason(emitter *e, user_scratch *s) {
    const recif_user *u = e->u;
    if (!u->cot || !u->cot[0] || !u->target_caption || !u->target_caption[0]) return 0;
    const char *args[3] = {s->profile, u->gsu_caption ? u->gsu_caption : "", u->target_caption};
    return emit_chat(e, TASK_REC_REASON, args, 3, u->cot, NULL);
}

// The tasks run in this order on purpose: each draws from the user's own RNG stream, so the order
// fixes which prompt and label every sample gets.
static int conv_user_tasks(emitter *e, user_scratch *s) {
    const recif_user *u = e->u;
    const conv_ctx *c = e->c;
    int rc = e->bench ? 0 : pretrain_segments(e, s);
    if (!rc) rc = video_rec_windows(e, &s->h);
    if (!rc) rc = cross_rec(e, s, TASK_AD_REC, &u->hist_longview, CONV_AD_VIDEOS, &c->va, &u->hist_ad, CONV_AD_HIST, &u->target_ad);
    if (!rc)
        rc = cross_rec(e, s, TASK_PRODUCT_REC, &u->hist_video, CONV_PRODUCT_VIDEOS, &c->prod, &u->hist_goods, CONV_PRODUCT_HIST,
                       &u->target_goods);
    if (!rc) rc = interactive_rec(e, s);
    if (rc) return rc;
    // label tasks share the history block
    sb_reset(&s->h);
    label_block(c, u, &s->h, e->st);
    if (u->hist_video.n > 0) {
        rc = label_cond_rec(e, s);
        if (!rc) rc = label_pred(e, s);
    }
    return rc ? rc : rec_reason(e, s);
}

int conv_user(const conv_ctx *c, const recif_user *u, int bench, conv_sink sink, void *sink_ctx, conv_stats *st) {
    emitter e = {.c = c, .u = u, .bench = bench, .sink = sink, .sink_ctx = sink_ctx, .st = st};
    rng_seed_stream(&e.r, c->seed, (uint64_t)u->uid * 2 + (uint64_t)bench);
    user_scratch s = {.profile = resolve_profile(c, u->profile, st)};
    if (!s.profile) return err_set("out of memory");
    if (u->hist_video.n == 0) st->empty_history++;
    int rc = conv_user_tasks(&e, &s);
    free(s.profile);
    free(s.h.s);
    free(s.h2.s);
    free(s.tg.s);
    return rc;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int conv_items(const conv_ctx *c, conv_sink sink, void *sink_ctx, conv_stats *st) {
    emitter e = {.c = c, .sink = sink, .sink_ctx = sink_ctx, .st = st};
    rng_seed_stream(&e.r, c->seed, 0x17e5);
    // items in pid order, so the output does not depend on hash-table layout
    int64_t n = c->va.n;
    int64_t *pids = mem_alloc(sizeof *pids * (size_t)(n + 1));
    if (!pids) return ERR_FAIL;
    memcpy(pids, c->va.pids, sizeof *pids * (size_t)n);
    qsort(pids, (size_t)n, sizeof *pids, cmp_i64);
    sbuf seg = {0};
    int lines = 0, rc = 0, nbench = 0;
    char sid[256];
    for (int64_t i = 0; i < n && !rc; i++) {
        const char *cap = caption_map_get(&c->cap, pids[i]);
        if (!cap || !cap[0]) continue;
        conv_sid_text(&c->va, pids[i], sid, sizeof sid);
        int held = mix64((uint64_t)pids[i] ^ c->seed) % 10 == 0;
        cJSON *meta = cJSON_CreateObject();
        cJSON_AddNumberToObject(meta, "pid", (double)pids[i]);
        const char *args[2] = {sid, cap};
        if (held) {
            if (nbench >= CONV_ITEM_BENCH) {
                cJSON_Delete(meta);
                continue;
            }
            nbench++;
            e.bench = 1;
            rc = emit_chat(&e, TASK_ITEM_UNDERSTAND, args, 1, cap, meta);
            e.bench = 0;
            continue;
        }
        rc = emit_chat(&e, TASK_ITEM_UNDERSTAND, args, 1, cap, meta);
        char *line = prompt_fill(prompt_get(c->lang, TASK_PT_ITEM_UNDERSTAND, 0, (int)rng_below(&e.r, 3)), args, 2);
        if (!line) rc = ERR_FAIL;
        else {
            sb_add(&seg, line);
            sb_add(&seg, "\n");
            free(line);
        }
        if (!rc && ++lines == CONV_ITEM_LINES) {
            rc = emit_segments(&e, TASK_PT_ITEM_UNDERSTAND, sb_str(&seg));
            sb_reset(&seg);
            lines = 0;
        }
    }
    if (!rc && lines) rc = emit_segments(&e, TASK_PT_ITEM_UNDERSTAND, sb_str(&seg));
    free(seg.s);
    free(pids);
    return rc;
}
