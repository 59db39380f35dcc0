// Qwen3 chat template (tokenizer_config.json, the no-tools branch) written out in C, with the
// training think pattern, the evaluation soft switch and the assistant loss mask.
#include "text/chat.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        while (nc < b->n + n + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np, b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

// Python's s.strip('\n') / lstrip / rstrip on [*b, *e)
static void lstrip_nl(const char **b, const char *e) {
    while (*b < e && **b == '\n') (*b)++;
}
static void rstrip_nl(const char *b, const char **e) {
    while (*e > b && (*e)[-1] == '\n') (*e)--;
}

static const char *find_last(const char *s, const char *e, const char *needle) {
    size_t nl = strlen(needle);
    const char *last = NULL;
    for (const char *p = s; p + nl <= e; p++)
        if (!memcmp(p, needle, nl)) last = p;
    return last;
}

static int starts_with(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }
static int ends_with(const char *s, const char *p) {
    size_t a = strlen(s), b = strlen(p);
    return a >= b && !memcmp(s + a - b, p, b);
}

// Copies of the messages with the think pattern / soft switch applied (strings owned by *own).
static int prepare(const chat_msg *in, size_t n, const chat_opts *o, chat_msg **out, char ***own, size_t *nown) {
    chat_msg *m = mem_calloc(n ? n : 1, sizeof *m);
    char **keep = mem_calloc(2 * n + 1, sizeof *keep);
    if (!m || !keep) {
        free(m), free(keep);
        return ERR_FAIL;
    }
    memcpy(m, in, n * sizeof *m);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int bad = !m[i].role || !m[i].content;
        if (bad) err_set("chat message %zu has no role or no content", i);
        else if (strcmp(m[i].role, "system") && strcmp(m[i].role, "user") && strcmp(m[i].role, "assistant"))
            bad = err_set("chat message %zu: unsupported role \"%s\" (system, user, assistant)", i, m[i].role);
        if (bad) {
            free(m), free(keep);
            return ERR_FAIL;
        }
    }
    if (o && o->think_pattern) {
        for (size_t i = 1; i < n; i++) {
            if (strcmp(m[i].role, "assistant") || strcmp(m[i - 1].role, "user")) continue;
            const char *c = m[i].content, *sw;
            if (m[i].reasoning) {
                const char *r = m[i].reasoning;
                while (*r == ' ' || *r == '\n' || *r == '\t' || *r == '\r') r++;
                sw = *r ? "/think" : "/no_think";
            } else {
                const char *open = strstr(c, "<think>");
                if (!open) {
                    sw = "/no_think";
                    keep[k] = mem_printf("<think>\n</think>\n%s", c);
                    if (!keep[k]) goto oom;
                    m[i].content = keep[k++];
                } else {
                    const char *close = strstr(open, "</think>");
                    const char *r = open + 7, *e = close ? close : c + strlen(c);
                    while (r < e && (*r == ' ' || *r == '\n' || *r == '\t' || *r == '\r')) r++;
                    sw = r < e ? "/think" : "/no_think";
                }
            }
            keep[k] = mem_printf("%s%s", m[i - 1].content, sw);
            if (!keep[k]) goto oom;
            m[i - 1].content = keep[k++];
        }
    }
    if (o && o->soft_switch) {
        for (size_t i = n; i-- > 0;) {
            if (strcmp(m[i].role, "user")) continue;
            keep[k] = mem_printf("%s%s", m[i].content, o->soft_switch);
            if (!keep[k]) goto oom;
            m[i].content = keep[k++];
            break;
        }
    }
    *out = m, *own = keep, *nown = k;
    return 0;
oom:
    for (size_t j = 0; j < k; j++) free(keep[j]);
    free(m), free(keep);
    return ERR_FAIL;
}

int chat_render(const chat_msg *msgs_in, size_t n, const chat_opts *o, char **text, size_t *len,
                chat_span **spans_out, size_t *nspans) {
    *text = NULL;
    if (spans_out) *spans_out = NULL;
    if (nspans) *nspans = 0;
    chat_msg *msgs = NULL;
    char **own = NULL;
    size_t nown = 0;
    if (prepare(msgs_in, n, o, &msgs, &own, &nown)) return ERR_FAIL;
    sbuf b = {0};
    chat_span *spans = mem_calloc(n + 1, sizeof *spans);
    size_t ns = 0;
    if (!spans) goto fail;
    sb_add(&b, "", 0);
    if (n && !strcmp(msgs[0].role, "system")) {
        sb_str(&b, "<|im_start|>system\n");
        sb_str(&b, msgs[0].content);
        sb_str(&b, "<|im_end|>\n");
    }
    // the last user turn that is not a wrapped tool response
    size_t last_query = n ? n - 1 : 0;
    for (size_t i = n; i-- > 0;) {
        const char *c = msgs[i].content;
        if (!strcmp(msgs[i].role, "user") && !(starts_with(c, "<tool_response>") && ends_with(c, "</tool_response>"))) {
            last_query = i;
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const chat_msg *m = &msgs[i];
        if (!strcmp(m->role, "user") || (!strcmp(m->role, "system") && i > 0)) {
            sb_str(&b, "<|im_start|>");
            sb_str(&b, m->role);
            sb_str(&b, "\n");
            sb_str(&b, m->content);
            sb_str(&b, "<|im_end|>\n");
        } else if (!strcmp(m->role, "assistant")) {
            const char *c = m->content, *ce = c + strlen(c);
            const char *rb = "", *re = rb;
            if (m->reasoning) {
                rb = m->reasoning, re = rb + strlen(rb);
            } else if (strstr(c, "</think>")) {
                // content = after the last </think>, lstrip('\n'); reasoning = before the first
                // </think>, rstrip('\n'), after its last <think>, lstrip('\n')
                const char *first_close = strstr(c, "</think>");
                rb = c, re = first_close;
                rstrip_nl(rb, &re);
                const char *lo = find_last(rb, re, "<think>");
                if (lo) rb = lo + 7;
                lstrip_nl(&rb, re);
                c = find_last(c, ce, "</think>") + 8;
                lstrip_nl(&c, ce);
            }
            sb_str(&b, "<|im_start|>assistant\n");
            spans[ns].begin = b.n;
            if (i > last_query && (i == n - 1 || re > rb)) {
                // reasoning.strip('\n'), content.lstrip('\n')
                lstrip_nl(&rb, re);
                rstrip_nl(rb, &re);
                lstrip_nl(&c, ce);
                sb_str(&b, "<think>\n");
                sb_add(&b, rb, (size_t)(re - rb));
                sb_str(&b, "\n</think>\n\n");
            }
            sb_add(&b, c, (size_t)(ce - c));
            sb_str(&b, "<|im_end|>");
            spans[ns++].end = b.n;
            sb_str(&b, "\n");
        }
    }
    if (o && o->add_generation_prompt) {
        sb_str(&b, "<|im_start|>assistant\n");
        if (o->enable_thinking == 0) sb_str(&b, "<think>\n\n</think>\n\n");
    }
    if (b.oom) goto fail;
    for (size_t j = 0; j < nown; j++) free(own[j]);
    free(own), free(msgs);
    *text = b.p;
    if (len) *len = b.n;
    if (spans_out) *spans_out = spans;
    else free(spans);
    if (nspans) *nspans = ns;
    return 0;
fail:
    for (size_t j = 0; j < nown; j++) free(own[j]);
    free(own), free(msgs), free(b.p), free(spans);
    return err_set("chat_render: out of memory");
}

int chat_encode(const tokenizer *t, const chat_msg *msgs, size_t n, const chat_opts *o, chat_encoded *out) {
    memset(out, 0, sizeof *out);
    chat_span *sp;
    size_t ns;
    if (chat_render(msgs, n, o, &out->text, &out->len, &sp, &ns)) return ERR_FAIL;
    tok_buf b = {0};
    b.want_offs = 1;
    if (tokenizer_encode(t, out->text, out->len, &b)) {
        free(sp);
        chat_encoded_free(out);
        tok_buf_free(&b);
        return err_wrap("chat_encode: ");
    }
    out->mask = mem_calloc(b.n ? b.n : 1, 1);
    if (!out->mask) {
        free(sp);
        chat_encoded_free(out);
        tok_buf_free(&b);
        return ERR_FAIL;
    }
    // a token belongs to the loss when its bytes overlap an assistant span: the one token that can
    // straddle the boundary ("\n" of the header merged with the content's leading newlines) counts
    size_t s = 0;
    for (size_t i = 0; i < b.n; i++) {
        size_t beg = b.offs[i], end = i + 1 < b.n ? b.offs[i + 1] : out->len;
        if (end <= beg) end = beg + 1;
        while (s < ns && beg >= sp[s].end) s++;
        out->mask[i] = s < ns && end > sp[s].begin;
    }
    out->ids = b.ids;
    out->n = b.n;
    free(b.offs);
    free(sp);
    return 0;
}

void chat_encoded_free(chat_encoded *e) {
    free(e->text), free(e->ids), free(e->mask);
    memset(e, 0, sizeof *e);
}
