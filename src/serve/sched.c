#include "serve/sched.h"

#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "rec/generate.h"
#include "rec/sample.h"
#include "serve/work.h"

struct sjob {
    sreq req;
    rec_job rj;
    int prepared;
    int status;
    char *body;
    double t0;
    int finished, abandoned;
    // decode state (recommend): the beams and the KV slots they live in
    beam_state bs;
    int *slots, nslots, kv_need, fresh;
    int gen;       // the model generation its prompt was built with
    sjob *next;
};

struct sched {
    sched_opts o;
    pthread_t th;
    pthread_mutex_t mu, swap_mu;
    pthread_cond_t work, done;
    // the model: read by callers building prompts (rdlock), replaced by the scheduler (wrlock)
    pthread_rwlock_t lm_lock;
    int gen;
    char *name;
    lm *pending;        // a model waiting to be swapped in
    char *pending_name;
    int swap_rc;
    char swap_err[256];
    sjob *qhead, *qtail;
    int qlen, stopping, started;
    qwen3_kv *kv;
    int kv_used;
    sjob **active;
    int nactive;
    // step buffers, grown on demand
    int *seqs, *toks;
    uint8_t *want;
    float *logits;
    size_t rows_cap, logit_rows_cap;
};

static void job_free(sjob *j) {
    if (!j) return;
    sreq_free(&j->req);
    if (j->prepared) rec_job_free(&j->rj);
    beam_state_free(&j->bs);
    free(j->slots);
    free(j->body);
    free(j);
}

static void job_error(sjob *j, int status, const char *field, const char *msg) {
    sreq_error e = {.status = status};
    snprintf(e.field, sizeof e.field, "%s", field);
    snprintf(e.msg, sizeof e.msg, "%s", msg);
    free(j->body);
    j->body = sreq_error_json(&e);
    j->status = status;
}

static void deadline_in(struct timespec *dl, int ms) {
    clock_gettime(CLOCK_REALTIME, dl);
    dl->tv_sec += ms / 1000;
    dl->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl->tv_nsec >= 1000000000L) dl->tv_sec++, dl->tv_nsec -= 1000000000L;
}

// ---- one batched model step ------------------------------------------------------------------
static int grow(sched *s, size_t rows, size_t logit_rows) {
    int V = s->o.l->model.cfg.vocab;
    if (rows > s->rows_cap) {
        free(s->seqs), free(s->toks), free(s->want);
        s->seqs = mem_alloc(rows * sizeof(int));
        s->toks = mem_alloc(rows * sizeof(int));
        s->want = mem_alloc(rows);
        s->rows_cap = s->seqs && s->toks && s->want ? rows : 0;
        if (!s->rows_cap) return ERR_FAIL;
    }
    if (logit_rows > s->logit_rows_cap) {
        free(s->logits);
        s->logits = mem_alloc(logit_rows * V * sizeof(float));
        s->logit_rows_cap = s->logits ? logit_rows : 0;
        if (!s->logits) return ERR_FAIL;
    }
    return 0;
}

// Slot i takes a fork of the slot its beam came from (as generate.c's beam reorder).
static int job_reorder(sched *s, sjob *j) {
    int n = j->bs.nbeam, *fresh = mem_alloc((size_t)(n ? n : 1) * sizeof(int)), rc = fresh ? 0 : ERR_FAIL;
    for (int i = 0; !rc && i < n; i++) {
        fresh[i] = qwen3_kv_fork(s->kv, j->slots[j->bs.parents[i]]);
        if (fresh[i] < 0) {
            for (int k = 0; k < i; k++) qwen3_kv_free_seq(s->kv, fresh[k]);
            rc = ERR_FAIL;
        }
    }
    if (!rc) {
        for (int i = 0; i < j->nslots; i++) qwen3_kv_free_seq(s->kv, j->slots[i]);
        memcpy(j->slots, fresh, (size_t)n * sizeof(int));
        j->nslots = n;
    }
    free(fresh);
    return rc;
}

static void job_release_slots(sched *s, sjob *j) {
    for (int i = 0; i < j->nslots; i++) qwen3_kv_free_seq(s->kv, j->slots[i]);
    j->nslots = 0;
}

static void job_answer(sched *s, sjob *j) {
    beam_result br = {0};
    beam_state_take(&j->bs, &br);
    rec_item *items = mem_calloc((size_t)j->rj.k, sizeof(rec_item));
    int n = 0;
    if (items) rec_job_items(s->o.l, &j->rj, &br, items, &n);
    j->body = items ? serve_json_items(items, n, s->name, (time_now() - j->t0) * 1e3) : NULL;
    j->status = j->body ? 200 : 500;
    if (!j->body) job_error(j, 500, "", "out of memory");
    free(items);
    beam_result_free(&br);
}

// The rows one job feeds this step: its prompt (fresh) or one token per beam.
static int job_rows(const sjob *j) { return j->fresh ? (int)j->rj.ids.n : j->bs.nbeam; }

static int step_gather(sched *s, int *nrows, int *nlogit) {
    int n = 0, nl = 0;
    for (int a = 0; a < s->nactive; a++) n += job_rows(s->active[a]), nl += s->active[a]->fresh ? 1 : s->active[a]->bs.nbeam;
    if (grow(s, (size_t)n, (size_t)nl)) return ERR_FAIL;
    n = 0;
    for (int a = 0; a < s->nactive; a++) {
        sjob *j = s->active[a];
        if (j->fresh) {
            int seq = qwen3_kv_new_seq(s->kv);
            if (seq < 0) return ERR_FAIL;
            j->slots[0] = seq, j->nslots = 1;
            for (size_t t = 0; t < j->rj.ids.n; t++, n++) {
                s->seqs[n] = seq, s->toks[n] = j->rj.ids.ids[t];
                s->want[n] = t + 1 == j->rj.ids.n;
            }
        } else {
            for (int b = 0; b < j->bs.nbeam; b++, n++) s->seqs[n] = j->slots[b], s->toks[n] = j->bs.last[b], s->want[n] = 1;
        }
    }
    *nrows = n, *nlogit = nl;
    return 0;
}

// Moves job j one beam step on with its log-probs; 1 when it is complete.
static int job_advance(sched *s, sjob *j, float *logp) {
    int V = s->o.l->model.cfg.vocab, rows = j->fresh ? 1 : j->bs.nbeam, rc;
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++) sample_log_softmax(logp + (size_t)r * V, logp + (size_t)r * V, V);
    if (j->fresh) {
        j->fresh = 0;
        rc = beam_state_init(&j->bs, &j->rj.bp, V);
        if (!rc) rc = beam_state_first(&j->bs, logp);
    } else {
        rc = beam_state_next(&j->bs, logp);
    }
    if (!rc && !beam_state_done(&j->bs)) rc = job_reorder(s, j);
    if (rc) {
        job_error(j, 500, "", err_msg());
        return 1;
    }
    if (!beam_state_done(&j->bs)) return 0;
    job_answer(s, j);
    return 1;
}

// One forward for every active request; complete ones get their answer and done[a] = 1.
static void sched_step(sched *s, uint8_t *done) {
    double t0 = time_now();
    int n = 0, nl = 0, V = s->o.l->model.cfg.vocab;
    int rc = step_gather(s, &n, &nl);
    if (!rc) rc = qwen3_kv_forward(&s->o.l->model, s->kv, n, s->seqs, s->toks, s->want, s->logits);
    if (rc) {
        log_msg(LOG_WARN, "serve: model step failed: %s", err_msg());
        for (int a = 0; a < s->nactive; a++) job_error(s->active[a], 500, "", err_msg()), done[a] = 1;
        return;
    }
    size_t row = 0;
    for (int a = 0; a < s->nactive; a++) {
        sjob *j = s->active[a];
        int rows = j->fresh ? 1 : j->bs.nbeam;
        done[a] = (uint8_t)job_advance(s, j, s->logits + row * V);
        row += (size_t)rows;
    }
    serve_metrics_step(s->o.metrics, s->nactive, n, time_now() - t0);
}

// Builds the prompt: in the caller's thread (so tokenizing overlaps the model's work), again in the
// scheduler's for a job queued across a model swap.
static int job_prepare(sched *s, sjob *j) {
    j->gen = s->gen;
    if (j->prepared) rec_job_free(&j->rj), j->prepared = 0;
    if (j->req.kind == SREQ_GENERATE) return 0;
    rec_request q = sreq_rec_request(&j->req, s->o.lang_en);
    if (rec_job_prepare(s->o.l, s->o.tables, &q, &j->rj)) {
        job_error(j, 500, "", err_msg());
        return -1;
    }
    j->prepared = 1;
    if (j->req.kind != SREQ_RECOMMEND) return 0;
    j->kv_need = gen_kv_tokens_beam((int)j->rj.ids.n, j->rj.bp.width, 3);
    free(j->slots);
    j->slots = mem_alloc((size_t)j->rj.bp.width * sizeof(int));
    if (!j->slots) return job_error(j, 500, "", "out of memory"), -1;
    if (j->kv_need > s->o.kv_tokens) {
        job_error(j, 400, "history", "the prompt does not fit the server's KV cache (--kv-tokens): shorten the history or lower k");
        return -1;
    }
    return 0;
}

// ---- the thread --------------------------------------------------------------------------------
// Hands a finished job to its waiter (or frees it when the waiter gave up). Lock held.
static void deliver(sjob *j) {
    if (j->abandoned) job_free(j);
    else j->finished = 1;
}

// Takes queued jobs while there is room (batch slots and KV budget); *side gets a score/generate
// job when one is at the head. Called with the lock held.
static void admit(sched *s, sjob **side) {
    *side = NULL;
    while (s->qhead && !s->pending) {
        sjob *j = s->qhead;
        if (j->gen != s->gen && job_prepare(s, j)) {
            s->qhead = j->next;
            if (!s->qhead) s->qtail = NULL;
            s->qlen--;
            deliver(j);
            continue;
        }
        if (j->req.kind != SREQ_RECOMMEND) {
            if (*side) break;
        } else if (s->nactive >= s->o.max_batch || s->kv_used + j->kv_need > s->o.kv_tokens) {
            break;
        }
        s->qhead = j->next;
        if (!s->qhead) s->qtail = NULL;
        s->qlen--;
        if (j->req.kind != SREQ_RECOMMEND) {
            *side = j;
            continue;
        }
        s->kv_used += j->kv_need;
        j->fresh = 1;
        s->active[s->nactive++] = j;
    }
    serve_metrics_queue(s->o.metrics, s->qlen, s->nactive);
}

// An idle scheduler that just got work waits a moment for company (a fuller first batch). Lock held.
static void gather(sched *s) {
    struct timespec dl;
    deadline_in(&dl, s->o.batch_wait_ms);
    while (s->qlen < s->o.max_batch && !s->stopping)
        if (pthread_cond_timedwait(&s->work, &s->mu, &dl) == ETIMEDOUT) break;
}

// Replaces the model once nothing is being decoded (the lock is not held: callers building a
// prompt hold lm_lock while they do, and may wait on the mutex).
static void swap_model(sched *s) {
    lm *fresh = s->pending;
    qwen3_kv *kv = NULL;
    int rc = qwen3_kv_init(&kv, &fresh->model, s->o.kv_tokens);
    pthread_rwlock_wrlock(&s->lm_lock);
    lm *old = rc ? fresh : s->o.l;
    if (!rc) {
        qwen3_kv_free(s->kv);
        s->kv = kv;
        s->o.l = fresh;
        s->gen++;
    }
    pthread_rwlock_unlock(&s->lm_lock);
    if (rc) snprintf(s->swap_err, sizeof s->swap_err, "%s", err_msg());
    lm_close(old);
    free(old);
    pthread_mutex_lock(&s->mu);
    if (!rc) {
        free(s->name);
        s->name = s->pending_name;
        s->pending_name = NULL;
    }
    s->swap_rc = rc;
    s->pending = NULL;
    pthread_cond_broadcast(&s->done);
    pthread_mutex_unlock(&s->mu);
}

static void *sched_main(void *arg) {
    sched *s = arg;
    if (s->o.threads > 0) omp_set_num_threads(s->o.threads);
    uint8_t *done = mem_calloc((size_t)s->o.max_batch, 1);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->qhead && !s->nactive && !s->stopping && !s->pending) pthread_cond_wait(&s->work, &s->mu);
        if (s->pending && !s->nactive) {
            pthread_mutex_unlock(&s->mu);
            swap_model(s);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        if (!s->qhead && !s->nactive) break;
        if (!s->nactive && s->o.batch_wait_ms > 0 && !s->pending) gather(s);
        sjob *side;
        admit(s, &side);
        pthread_mutex_unlock(&s->mu);
        if (side) serve_run_side(s->o.l, side->req.kind == SREQ_SCORE ? &side->rj : NULL, &side->req, s->name, side->t0,
                                 &side->status, &side->body);
        memset(done, 0, (size_t)s->o.max_batch);
        if (s->nactive) sched_step(s, done);
        pthread_mutex_lock(&s->mu);
        if (side) deliver(side);
        int keep = 0;
        for (int a = 0; a < s->nactive; a++) {
            sjob *j = s->active[a];
            if (!done[a]) {
                s->active[keep++] = j;
                continue;
            }
            job_release_slots(s, j);
            s->kv_used -= j->kv_need;
            deliver(j);
        }
        s->nactive = keep;
        serve_metrics_queue(s->o.metrics, s->qlen, s->nactive);
        pthread_cond_broadcast(&s->done);
    }
    pthread_mutex_unlock(&s->mu);
    free(done);
    return NULL;
}

int sched_start(sched **out, const sched_opts *o) {
    sched *s = mem_calloc(1, sizeof *s);
    if (!s) {
        lm_close(o->l);
        free(o->l);
        return ERR_FAIL;
    }
    s->o = *o;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->swap_mu, NULL);
    // a swap must not wait behind an endless stream of prompt builders
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->lm_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->done, NULL);
    s->active = mem_calloc((size_t)o->max_batch, sizeof(sjob *));
    s->name = mem_strdup(o->model_name);
    int rc = s->active && s->name ? qwen3_kv_init(&s->kv, &o->l->model, o->kv_tokens) : ERR_FAIL;
    if (!rc && pthread_create(&s->th, NULL, sched_main, s)) rc = err_set("cannot start the scheduler thread");
    if (rc) {
        s->started = 0;
        sched_stop(s);
        return rc;
    }
    s->started = 1;
    *out = s;
    return 0;
}

void sched_stop(sched *s) {
    if (!s) return;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = 1;
        pthread_cond_broadcast(&s->work);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->th, NULL);
    }
    qwen3_kv_free(s->kv);
    lm_close(s->o.l);
    free(s->o.l);
    free(s->name);
    free(s->active), free(s->seqs), free(s->toks), free(s->want), free(s->logits);
    pthread_rwlock_destroy(&s->lm_lock);
    pthread_mutex_destroy(&s->swap_mu);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->done);
    free(s);
}

// Takes a job that is still waiting out of the queue: 1 when it was there. Lock held.
static int unqueue(sched *s, sjob *j) {
    sjob *prev = NULL;
    for (sjob *q = s->qhead; q; prev = q, q = q->next) {
        if (q != j) continue;
        if (prev) prev->next = q->next;
        else s->qhead = q->next;
        if (s->qtail == q) s->qtail = prev;
        s->qlen--;
        serve_metrics_queue(s->o.metrics, s->qlen, s->nactive);
        return 1;
    }
    return 0;
}

static void take_answer(sjob *j, int *status, char **body) {
    *status = j->status;
    *body = j->body;
    j->body = NULL;
}

void sched_run(sched *s, sreq *r, int timeout_ms, int *status, char **body) {
    sjob *j = mem_calloc(1, sizeof *j);
    *status = 500, *body = NULL;
    if (!j) return;
    j->req = *r;
    memset(r, 0, sizeof *r);
    j->t0 = time_now();
    pthread_rwlock_rdlock(&s->lm_lock);
    int bad = job_prepare(s, j);
    pthread_rwlock_unlock(&s->lm_lock);
    if (bad) {
        take_answer(j, status, body);
        job_free(j);
        return;
    }
    pthread_mutex_lock(&s->mu);
    if (s->stopping || s->qlen >= s->o.max_queue) {
        int stopping = s->stopping;
        pthread_mutex_unlock(&s->mu);
        job_error(j, 503, "", stopping ? "the server is shutting down" : "the queue is full: retry later");
        take_answer(j, status, body);
        job_free(j);
        return;
    }
    if (s->qtail) s->qtail->next = j;
    else s->qhead = j;
    s->qtail = j;
    s->qlen++;
    serve_metrics_queue(s->o.metrics, s->qlen, s->nactive);
    pthread_cond_signal(&s->work);
    struct timespec dl;
    deadline_in(&dl, timeout_ms);
    int w = 0;
    while (!j->finished && w != ETIMEDOUT) w = pthread_cond_timedwait(&s->done, &s->mu, &dl);
    int late = !j->finished, queued = late && unqueue(s, j);
    // a job being decoded is the scheduler's to free once it completes
    if (late && !queued) j->abandoned = 1;
    pthread_mutex_unlock(&s->mu);
    if (late) {
        if (queued) job_free(j);
        sjob tmp = {0};
        job_error(&tmp, 504, "", "the request timed out");
        take_answer(&tmp, status, body);
        return;
    }
    take_answer(j, status, body);
    job_free(j);
}

int sched_swap_model(sched *s, lm *fresh, const char *name) {
    char *nm = mem_strdup(name);
    pthread_mutex_lock(&s->swap_mu);   // one swap at a time
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    if (s->stopping || !nm) {
        rc = err_set("the server is shutting down");
    } else {
        s->pending = fresh, s->pending_name = nm;
        fresh = NULL, nm = NULL;
        pthread_cond_signal(&s->work);
        while (s->pending) pthread_cond_wait(&s->done, &s->mu);
        if (s->swap_rc) rc = err_set("%s", s->swap_err);
        free(s->pending_name), s->pending_name = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&s->swap_mu);
    if (fresh) lm_close(fresh), free(fresh);
    free(nm);
    return rc;
}

void sched_model_name(sched *s, char *buf, size_t n) {
    pthread_mutex_lock(&s->mu);
    snprintf(buf, n, "%s", s->name ? s->name : "");
    pthread_mutex_unlock(&s->mu);
}
