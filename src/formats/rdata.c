// R's XDR serialization into an robj tree (see rdata.h). Every length is checked against the
// bytes left before anything is allocated, so a hostile stream cannot make us allocate more than
// a small multiple of its size (ALTREP sequences, which expand, have their own budget), and
// nesting is capped so a deep stream cannot exhaust the C stack.
#include "formats/rdata.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/mem.h"

#define MAX_DEPTH 256
// at most this many elements materialised from compact ALTREP sequences per stream (512 MiB
// of doubles): their serialized form is 3 numbers whatever their length
#define MAX_EXPAND ((int64_t)1 << 26)

enum { ALTREP_SXP = 238, ATTRLIST_SXP = 239, ATTRLANG_SXP = 240, BCODE_SXP = 21, REF_SXP = 255, NILVALUE_SXP = 254 };
enum { IS_OBJECT = 1 << 8, HAS_ATTR = 1 << 9, HAS_TAG = 1 << 10 };
enum { LATIN1_MASK = 1 << 2, UTF8_MASK = 1 << 3, ASCII_MASK = 1 << 6 };

// ---------------------------------------------------------------------------------- arena

typedef struct achunk {
    struct achunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} achunk;

typedef struct {
    achunk *head;
} arena;

static void *arena_alloc(arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > (1u << 20) / 4 ? n : (1u << 20);
        achunk *c = mem_alloc(sizeof *c + cap);
        if (!c) return NULL;
        c->cap = cap;
        c->used = 0;
        if (cap == n && a->head) {   // a big block goes behind the current chunk, which keeps filling
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
        c->used = n;
        memset(c->data, 0, n);
        return c->data;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

static void arena_free(arena *a) {
    if (!a) return;
    for (achunk *c = a->head, *nx; c; c = nx) {
        nx = c->next;
        free(c);
    }
    free(a);
}

void robj_free(robj *root) {
    if (root) arena_free(root->arena_);
}

// ---------------------------------------------------------------------------------- reader

typedef struct {
    const uint8_t *p;
    size_t n, pos;
    const char *name;
    arena *a;
    robj **refs;
    size_t nrefs, caprefs;
    int depth;
    int native_latin1;    // the writer's native encoding was latin1: unflagged bytes are latin1
    int64_t expand_left;
} rparse;

static int perr(const rparse *P, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(const rparse *P, size_t at, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set("%s: byte %zu: %s", P->name, at, msg);
}

static uint32_t be32(const uint8_t *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static double be_double(const uint8_t *b) {
    uint64_t u = (uint64_t)be32(b) << 32 | be32(b + 4);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static int need(const rparse *P, size_t bytes, const char *what) {
    if (P->n - P->pos < bytes)
        return perr(P, P->pos, "stream truncated: %s needs %zu bytes, %zu left", what, bytes, P->n - P->pos);
    return 0;
}

static int rd_int(rparse *P, int32_t *v, const char *what) {
    if (need(P, 4, what)) return ERR_FAIL;
    *v = (int32_t)be32(P->p + P->pos);
    P->pos += 4;
    return 0;
}

// A vector length (-1 introduces a 64-bit long-vector length); elt = the fewest bytes one element
// takes in the stream, so a length the stream cannot hold fails before any allocation.
static int rd_len(rparse *P, int64_t *len, size_t elt, const char *what) {
    size_t at = P->pos;
    int32_t l;
    if (rd_int(P, &l, what)) return ERR_FAIL;
    int64_t L = l;
    if (l == -1) {
        int32_t hi, lo;
        if (rd_int(P, &hi, what) || rd_int(P, &lo, what)) return ERR_FAIL;
        L = (int64_t)((uint64_t)(uint32_t)hi << 32 | (uint32_t)lo);
    }
    if (L < 0) return perr(P, at, "negative length %lld for %s", (long long)L, what);
    if (elt && (uint64_t)L > (P->n - P->pos) / elt)
        return perr(P, at, "%s of length %lld needs at least %llu bytes, only %zu left (truncated?)", what,
                    (long long)L, (unsigned long long)L * elt, P->n - P->pos);
    *len = L;
    return 0;
}

static robj *node(rparse *P, int type) {
    robj *o = arena_alloc(P->a, sizeof *o);
    if (o) o->type = type;
    return o;
}

static void *arr(rparse *P, int64_t n, size_t elt) { return arena_alloc(P->a, (size_t)n * elt); }

static int add_ref(rparse *P, robj *o) {
    if (P->nrefs == P->caprefs) {
        size_t cap = P->caprefs ? 2 * P->caprefs : 64;
        robj **r = mem_realloc(P->refs, cap * sizeof *r);
        if (!r) return ERR_FAIL;
        P->refs = r;
        P->caprefs = cap;
    }
    P->refs[P->nrefs++] = o;
    return 0;
}

// A CHARSXP's bytes (the flags are already read) as a NUL-terminated UTF-8 copy; NULL for NA.
static int rd_chars(rparse *P, int32_t flags, const char **out) {
    size_t at = P->pos;
    int32_t len;
    if (rd_int(P, &len, "string length")) return ERR_FAIL;
    *out = NULL;
    if (len == -1) return 0;
    if (len < 0) return perr(P, at, "negative string length %d", len);
    if (need(P, (size_t)len, "string")) return ERR_FAIL;
    const uint8_t *b = P->p + P->pos;
    int lev = (flags >> 12) & 0xffff;
    int latin1 = (lev & LATIN1_MASK) || (P->native_latin1 && !(lev & (UTF8_MASK | ASCII_MASK)));
    size_t high = 0;
    if (latin1)
        for (int32_t k = 0; k < len; k++) high += b[k] >= 0x80;
    char *s = arena_alloc(P->a, (size_t)len + high + 1);
    if (!s) return ERR_FAIL;
    if (!high) memcpy(s, b, (size_t)len);
    else
        for (size_t k = 0, j = 0; k < (size_t)len; k++) {
            if (b[k] < 0x80) s[j++] = (char)b[k];
            else {
                s[j++] = (char)(0xc0 | b[k] >> 6);
                s[j++] = (char)(0x80 | (b[k] & 0x3f));
            }
        }
    P->pos += (size_t)len;
    *out = s;
    return 0;
}

static int rd_item(rparse *P, robj **out);
static int rd_item_flags(rparse *P, int32_t flags, size_t at, robj **out);

static int rd_strings(rparse *P, robj *o, const char *what) {
    if (rd_len(P, &o->n, 8, what)) return ERR_FAIL;
    if (!(o->s = arr(P, o->n, sizeof *o->s))) return ERR_FAIL;
    for (int64_t k = 0; k < o->n; k++) {
        size_t at = P->pos;
        int32_t fl;
        if (rd_int(P, &fl, "string flags")) return ERR_FAIL;
        if ((fl & 0xff) != RSXP_CHAR)
            return perr(P, at, "element %lld of a %s: expected a string (CHARSXP, type 9), found type %d", (long long)k,
                        what, fl & 0xff);
        if (rd_chars(P, fl, &o->s[k])) return ERR_FAIL;
    }
    return 0;
}

static int rd_vector(rparse *P, robj *o) {
    int t = o->type;
    size_t elt = t == RSXP_REAL ? 8 : t == RSXP_CPLX ? 16 : t == RSXP_RAW ? 1 : 4;
    if (t == RSXP_STR) return rd_strings(P, o, "character vector");
    if (rd_len(P, &o->n, elt, robj_type_name(t))) return ERR_FAIL;
    const uint8_t *b = P->p + P->pos;
    if (t == RSXP_LGL || t == RSXP_INT) {
        if (!(o->i = arr(P, o->n, 4))) return ERR_FAIL;
        for (int64_t k = 0; k < o->n; k++) o->i[k] = (int32_t)be32(b + 4 * k);
    } else if (t == RSXP_REAL || t == RSXP_CPLX) {
        int64_t m = t == RSXP_CPLX ? 2 * o->n : o->n;
        if (!(o->d = arr(P, m, 8))) return ERR_FAIL;
        for (int64_t k = 0; k < m; k++) o->d[k] = be_double(b + 8 * k);
    } else if (t == RSXP_RAW) {
        if (!(o->raw = arr(P, o->n, 1))) return ERR_FAIL;
        memcpy(o->raw, b, (size_t)o->n);
    } else {   // VEC, EXPR
        if (!(o->v = arr(P, o->n, sizeof *o->v))) return ERR_FAIL;
        for (int64_t k = 0; k < o->n; k++)
            if (rd_item(P, &o->v[k])) return ERR_FAIL;
        return 0;
    }
    P->pos += (size_t)o->n * elt;
    return 0;
}

static int is_pairlist_type(int t) {
    return t == RSXP_LIST || t == RSXP_LANG || t == RSXP_DOT || t == ATTRLIST_SXP || t == ATTRLANG_SXP;
}

// A chain of pairlist cells, flattened into one node (values + tags) without recursing along the
// CDRs. A dotted tail (a CDR that is no pairlist, as in ALTREP wrapper states) is read and dropped.
static int rd_pairlist(rparse *P, int32_t flags, robj **out) {
    robj *o = node(P, (flags & 0xff) == ATTRLANG_SXP ? RSXP_LANG : (flags & 0xff) == ATTRLIST_SXP ? RSXP_LIST : flags & 0xff);
    if (!o) return ERR_FAIL;
    o->is_object = !!(flags & IS_OBJECT);
    size_t cap = 0;
    robj **vals = NULL;
    const char **tags = NULL;
    int rc = ERR_FAIL;
    for (;;) {
        int t = flags & 0xff;
        robj *attr = NULL, *tag = NULL, *car = NULL;
        if ((flags & HAS_ATTR) || t == ATTRLIST_SXP || t == ATTRLANG_SXP)
            if (rd_item(P, &attr)) goto done;
        if ((flags & HAS_TAG) && rd_item(P, &tag)) goto done;
        if (rd_item(P, &car)) goto done;
        if (o->n == 0 && attr && attr->type != RSXP_NIL) o->attr = attr;
        if ((size_t)o->n == cap) {
            cap = cap ? 2 * cap : 8;
            robj **nv = mem_realloc(vals, cap * sizeof *nv);
            if (!nv) goto done;
            vals = nv;
            const char **nt = mem_realloc(tags, cap * sizeof *nt);
            if (!nt) goto done;
            tags = nt;
        }
        vals[o->n] = car;
        tags[o->n] = tag && tag->type == RSXP_SYM ? tag->name : NULL;
        o->n++;
        size_t at = P->pos;
        if (rd_int(P, &flags, "pairlist cell")) goto done;
        if (is_pairlist_type(flags & 0xff)) continue;
        if ((flags & 0xff) != NILVALUE_SXP) {
            robj *tail;
            if (rd_item_flags(P, flags, at, &tail)) goto done;
        }
        break;
    }
    if (!(o->v = arr(P, o->n, sizeof *o->v)) || !(o->tags = arr(P, o->n, sizeof *o->tags))) goto done;
    memcpy(o->v, vals, (size_t)o->n * sizeof *vals);
    memcpy(o->tags, tags, (size_t)o->n * sizeof *tags);
    *out = o;
    rc = 0;
done:
    free(vals);
    free(tags);
    return rc;
}

// Closures and promises: attributes, tag (the environment), CAR, CDR kept as v[0..2].
static int rd_closure(rparse *P, int32_t flags, robj *o) {
    robj *attr = NULL;
    o->n = 3;
    if (!(o->v = arr(P, 3, sizeof *o->v))) return ERR_FAIL;
    if ((flags & HAS_ATTR) && rd_item(P, &attr)) return ERR_FAIL;
    if ((flags & HAS_TAG) && rd_item(P, &o->v[0])) return ERR_FAIL;
    if (rd_item(P, &o->v[1]) || rd_item(P, &o->v[2])) return ERR_FAIL;
    o->attr = attr && attr->type != RSXP_NIL ? attr : NULL;
    return 0;
}

static int rd_env(rparse *P, robj *o) {
    int32_t locked;
    robj *attr;
    if (rd_int(P, &locked, "environment lock") || add_ref(P, o)) return ERR_FAIL;
    o->n = 3;
    if (!(o->v = arr(P, 3, sizeof *o->v))) return ERR_FAIL;
    for (int k = 0; k < 3; k++)
        if (rd_item(P, &o->v[k])) return ERR_FAIL;
    if (rd_item(P, &attr)) return ERR_FAIL;
    o->attr = attr->type != RSXP_NIL ? attr : NULL;
    return 0;
}

static int altrep_seq(rparse *P, size_t at, const char *cls, const robj *st, int as_int, robj **out) {
    if (!st || (st->type != RSXP_REAL && st->type != RSXP_INT) || st->n != 3)
        return perr(P, at, "ALTREP %s: expected a state of 3 numbers (length, start, step)", cls);
    double n = st->type == RSXP_REAL ? st->d[0] : st->i[0], n1 = st->type == RSXP_REAL ? st->d[1] : st->i[1];
    double inc = st->type == RSXP_REAL ? st->d[2] : st->i[2];
    if (!(n >= 0 && n <= (double)P->expand_left) || (inc != 1 && inc != -1) || !(n1 > -1e15 && n1 < 1e15))
        return perr(P, at, "ALTREP %s: unsupported or too long sequence (length %.0f, step %g)", cls, n, inc);
    if (as_int && (n1 < INT32_MIN || n1 + inc * (n - 1) < INT32_MIN || n1 > INT32_MAX || n1 + inc * (n - 1) > INT32_MAX))
        return perr(P, at, "ALTREP %s: integer sequence out of range", cls);
    robj *o = node(P, as_int ? RSXP_INT : RSXP_REAL);
    if (!o) return ERR_FAIL;
    o->n = (int64_t)n;
    P->expand_left -= o->n;
    if (as_int ? !(o->i = arr(P, o->n, 4)) : !(o->d = arr(P, o->n, 8))) return ERR_FAIL;
    for (int64_t k = 0; k < o->n; k++) {
        if (as_int) o->i[k] = (int32_t)(n1 + inc * (double)k);
        else o->d[k] = n1 + inc * (double)k;
    }
    *out = o;
    return 0;
}

// deferred_string: a number vector whose as.character() is still to be done.
static int altrep_deferred(rparse *P, size_t at, const robj *st, robj **out) {
    const robj *x = st && st->type == RSXP_LIST && st->n >= 1 ? st->v[0] : NULL;
    if (!x || (x->type != RSXP_INT && x->type != RSXP_REAL))
        return perr(P, at, "ALTREP deferred_string: expected an integer or double vector in its state");
    robj *o = node(P, RSXP_STR);
    if (!o || !(o->s = arr(P, x->n, sizeof *o->s))) return ERR_FAIL;
    o->n = x->n;
    for (int64_t k = 0; k < x->n; k++) {
        char buf[40];
        if (x->type == RSXP_INT && x->i[k] == R_NA_INT) continue;
        if (x->type == RSXP_REAL && x->d[k] != x->d[k]) continue;
        if (x->type == RSXP_INT) snprintf(buf, sizeof buf, "%d", x->i[k]);
        else snprintf(buf, sizeof buf, "%.15g", x->d[k]);
        char *s = arena_alloc(P->a, strlen(buf) + 1);
        if (!s) return ERR_FAIL;
        strcpy(s, buf);
        o->s[k] = s;
    }
    *out = o;
    return 0;
}

// An ALTREP object: (class, package, type), state, attributes. The compact classes are
// materialised; wrappers give their wrapped vector.
static int rd_altrep(rparse *P, int32_t flags, size_t at, robj **out) {
    robj *info, *state, *attr;
    if (rd_item(P, &info) || rd_item(P, &state) || rd_item(P, &attr)) return ERR_FAIL;
    const char *cls = info->type == RSXP_LIST && info->n >= 1 && info->v[0]->type == RSXP_SYM ? info->v[0]->name : NULL;
    if (!cls) return perr(P, at, "ALTREP object without a class symbol");
    robj *o = NULL;
    if (!strcmp(cls, "compact_intseq") || !strcmp(cls, "compact_realseq")) {
        if (altrep_seq(P, at, cls, state, cls[8] == 'i', &o)) return ERR_FAIL;
    } else if (!strcmp(cls, "deferred_string")) {
        if (altrep_deferred(P, at, state, &o)) return ERR_FAIL;
    } else if (!strncmp(cls, "wrap_", 5)) {
        if (state->type != RSXP_LIST || state->n < 1) return perr(P, at, "ALTREP %s: expected (vector, metadata) as its state", cls);
        robj *w = state->v[0];
        if (!(o = node(P, w->type))) return ERR_FAIL;
        *o = *w;   // a shallow copy: the wrapper's own attributes replace the wrapped vector's
        o->arena_ = NULL;
    } else {
        const char *pkg = info->n >= 2 && info->v[1]->type == RSXP_SYM ? info->v[1]->name : "?";
        return perr(P, at, "ALTREP class \"%s\" (package %s) is not supported", cls, pkg);
    }
    o->attr = attr->type != RSXP_NIL ? attr : NULL;
    o->is_object = !!(flags & IS_OBJECT);
    *out = o;
    return 0;
}

// PERSISTSXP, PACKAGESXP, NAMESPACESXP: a 0 then a character vector; entered in the ref table.
static int rd_string_vec(rparse *P, robj *o) {
    size_t at = P->pos;
    int32_t zero;
    if (rd_int(P, &zero, "persistent name")) return ERR_FAIL;
    if (zero != 0) return perr(P, at, "persistent name: expected 0, found %d", zero);
    return rd_strings(P, o, "persistent name") || add_ref(P, o) ? ERR_FAIL : 0;
}

static int rd_ref(rparse *P, int32_t flags, size_t at, robj **out) {
    int64_t idx = (uint32_t)flags >> 8;
    if (idx == 0) {
        int32_t v;
        if (rd_int(P, &v, "reference index")) return ERR_FAIL;
        idx = v;
    }
    if (idx < 1 || (size_t)idx > P->nrefs)
        return perr(P, at, "reference %lld to an object not read yet (%zu so far)", (long long)idx, P->nrefs);
    *out = P->refs[idx - 1];
    return 0;
}

static int rd_attr_of(rparse *P, int32_t flags, robj *o) {
    if (!(flags & HAS_ATTR)) return 0;
    size_t at = P->pos;
    robj *a;
    if (rd_item(P, &a)) return ERR_FAIL;
    if (a->type != RSXP_NIL && a->type != RSXP_LIST)
        return perr(P, at, "attributes of a %s: expected a pairlist, found %s", robj_type_name(o->type), robj_type_name(a->type));
    if (o->type != RSXP_CHAR) o->attr = a->type == RSXP_LIST ? a : NULL;
    return 0;
}

static int rd_leaf(rparse *P, int type, robj **out) {
    static const int leaves[] = {RSXP_BASEENV, RSXP_EMPTYENV, RSXP_BASENAMESPACE, RSXP_MISSINGARG, RSXP_UNBOUND,
                                 RSXP_GLOBALENV, NILVALUE_SXP};
    for (size_t k = 0; k < sizeof leaves / sizeof leaves[0]; k++)
        if (type == leaves[k]) return (*out = node(P, type == NILVALUE_SXP ? RSXP_NIL : type)) ? 1 : ERR_FAIL;
    return 0;
}

static int rd_item_flags(rparse *P, int32_t flags, size_t at, robj **out) {
    int t = flags & 0xff, rc;
    if ((rc = rd_leaf(P, t, out))) return rc < 0 ? ERR_FAIL : 0;
    if (t == REF_SXP) return rd_ref(P, flags, at, out);
    if (t == ALTREP_SXP) return rd_altrep(P, flags, at, out);
    if (is_pairlist_type(t)) return rd_pairlist(P, flags, out);
    if (t == BCODE_SXP) return perr(P, at, "byte code (BCODESXP) is not supported");
    robj *o = node(P, t);
    if (!o) return ERR_FAIL;
    o->is_object = !!(flags & IS_OBJECT);
    *out = o;
    switch (t) {
    case RSXP_SYM: {
        robj *c;
        size_t cat = P->pos;
        if (rd_item(P, &c)) return ERR_FAIL;
        if (c->type != RSXP_CHAR || !c->s[0]) return perr(P, cat, "a symbol's name must be a non-NA string");
        o->name = c->s[0];
        return add_ref(P, o);
    }
    case RSXP_PERSIST: case RSXP_PACKAGE: case RSXP_NAMESPACE: return rd_string_vec(P, o);
    case RSXP_ENV: return rd_env(P, o);
    case RSXP_CLO: case RSXP_PROM: return rd_closure(P, flags, o);
    case RSXP_CHAR:
        o->n = 1;
        if (!(o->s = arr(P, 1, sizeof *o->s)) || rd_chars(P, flags, &o->s[0])) return ERR_FAIL;
        return rd_attr_of(P, flags, o);
    case RSXP_SPECIAL: case RSXP_BUILTIN: {
        int32_t len;
        if (rd_int(P, &len, "primitive name length")) return ERR_FAIL;
        if (len < 0 || need(P, (size_t)len, "primitive name")) return len < 0 ? perr(P, at, "negative name length") : ERR_FAIL;
        char *s = arena_alloc(P->a, (size_t)len + 1);
        if (!s) return ERR_FAIL;
        memcpy(s, P->p + P->pos, (size_t)len);
        P->pos += (size_t)len;
        o->name = s;
        return 0;
    }
    case RSXP_EXTPTR:
        o->n = 2;
        if (add_ref(P, o) || !(o->v = arr(P, 2, sizeof *o->v)) || rd_item(P, &o->v[0]) || rd_item(P, &o->v[1])) return ERR_FAIL;
        return rd_attr_of(P, flags, o);
    case RSXP_WEAKREF:
        return add_ref(P, o) ? ERR_FAIL : rd_attr_of(P, flags, o);
    case RSXP_S4:
        return rd_attr_of(P, flags, o);
    case RSXP_LGL: case RSXP_INT: case RSXP_REAL: case RSXP_CPLX: case RSXP_STR: case RSXP_VEC: case RSXP_EXPR:
    case RSXP_RAW:
        return rd_vector(P, o) ? ERR_FAIL : rd_attr_of(P, flags, o);
    default:
        return perr(P, at, "unknown object type %d (flags 0x%08x): not an R serialization, or corrupt", t, (unsigned)flags);
    }
}

static int rd_item(rparse *P, robj **out) {
    size_t at = P->pos;
    int32_t flags;
    if (rd_int(P, &flags, "object header")) return ERR_FAIL;
    if (++P->depth > MAX_DEPTH) return perr(P, at, "objects nested deeper than %d levels", MAX_DEPTH);
    int rc = rd_item_flags(P, flags, at, out);
    P->depth--;
    return rc;
}

static int rd_header(rparse *P) {
    if (P->n >= 5 && (!memcmp(P->p, "RDX2\n", 5) || !memcmp(P->p, "RDX3\n", 5))) P->pos = 5;   // save() files
    if (need(P, 2, "format")) return ERR_FAIL;
    const uint8_t *m = P->p + P->pos;
    if (m[0] == 'A' && m[1] == '\n') return perr(P, P->pos, "ASCII serialization is not supported (only XDR, \"X\\n\")");
    if (m[0] == 'B' && m[1] == '\n') return perr(P, P->pos, "native binary serialization is not supported (only XDR, \"X\\n\")");
    if (m[0] != 'X' || m[1] != '\n')
        return perr(P, P->pos, "bad magic %02x %02x: expected \"X\\n\" (an XDR R serialization)", m[0], m[1]);
    P->pos += 2;
    size_t at = P->pos;
    int32_t version, writer, minreader;
    if (rd_int(P, &version, "version") || rd_int(P, &writer, "writer version") || rd_int(P, &minreader, "reader version"))
        return ERR_FAIL;
    if (version != 2 && version != 3) return perr(P, at, "serialization version %d (only 2 and 3 are known)", version);
    if (version == 3) {
        int32_t elen;
        at = P->pos;
        if (rd_int(P, &elen, "native encoding length")) return ERR_FAIL;
        if (elen < 0 || elen > 255) return perr(P, at, "native encoding name of %d bytes", elen);
        if (need(P, (size_t)elen, "native encoding")) return ERR_FAIL;
        char enc[256];
        memcpy(enc, P->p + P->pos, (size_t)elen);
        enc[elen] = 0;
        P->native_latin1 = !strcasecmp(enc, "latin1") || !strcasecmp(enc, "ISO-8859-1") || !strcasecmp(enc, "ISO8859-1");
        P->pos += (size_t)elen;
    }
    return 0;
}

int rdata_parse(robj **out, const void *data, size_t n, const char *name) {
    *out = NULL;
    rparse P = {.p = data, .n = n, .name = name ? name : "<memory>", .expand_left = MAX_EXPAND};
    if (!(P.a = mem_calloc(1, sizeof *P.a))) return ERR_FAIL;
    robj *root = NULL;
    int rc = rd_header(&P) || rd_item(&P, &root) ? ERR_FAIL : 0;
    free(P.refs);
    if (rc) {
        arena_free(P.a);
        return ERR_FAIL;
    }
    root->arena_ = P.a;
    *out = root;
    return 0;
}

// ---------------------------------------------------------------------------------- the tree

const char *robj_type_name(int type) {
    switch (type) {
    case RSXP_NIL: return "NULL";
    case RSXP_SYM: return "symbol";
    case RSXP_LIST: return "pairlist";
    case RSXP_CLO: return "closure";
    case RSXP_ENV: return "environment";
    case RSXP_PROM: return "promise";
    case RSXP_LANG: return "language";
    case RSXP_SPECIAL: case RSXP_BUILTIN: return "builtin";
    case RSXP_CHAR: return "string";
    case RSXP_LGL: return "logical";
    case RSXP_INT: return "integer";
    case RSXP_REAL: return "double";
    case RSXP_CPLX: return "complex";
    case RSXP_STR: return "character";
    case RSXP_DOT: return "...";
    case RSXP_VEC: return "list";
    case RSXP_EXPR: return "expression";
    case RSXP_EXTPTR: return "externalptr";
    case RSXP_WEAKREF: return "weakref";
    case RSXP_RAW: return "raw";
    case RSXP_S4: return "S4";
    default: return "special";
    }
}

const char *rdata_join_names(char *buf, size_t cap, const char *const *names, int64_t n) {
    size_t used = 0;
    buf[0] = 0;
    for (int64_t k = 0; k < n && used + 4 < cap; k++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", k ? ", " : "", names[k] ? names[k] : "NA");
    if (used >= cap && cap >= 4) strcpy(buf + cap - 4, "...");
    return buf;
}

static const robj *pairlist_get(const robj *pl, const char *name) {
    if (!pl || (pl->type != RSXP_LIST && pl->type != RSXP_LANG)) return NULL;
    for (int64_t k = 0; k < pl->n; k++)
        if (pl->tags[k] && !strcmp(pl->tags[k], name)) return pl->v[k];
    return NULL;
}

const robj *robj_attr(const robj *o, const char *name) { return o ? pairlist_get(o->attr, name) : NULL; }

static int64_t name_index(const robj *o, const char *name) {
    const robj *nm = robj_attr(o, "names");
    if (!nm || nm->type != RSXP_STR) return -1;
    for (int64_t k = 0; k < nm->n && k < o->n; k++)
        if (nm->s[k] && !strcmp(nm->s[k], name)) return k;
    return -1;
}

const robj *robj_get(const robj *o, const char *name) {
    if (!o) return NULL;
    if (o->type == RSXP_LIST || o->type == RSXP_LANG) return pairlist_get(o, name);
    if (o->type != RSXP_VEC && o->type != RSXP_EXPR) return NULL;
    int64_t k = name_index(o, name);
    return k < 0 ? NULL : o->v[k];
}

int robj_inherits(const robj *o, const char *cls) {
    const robj *c = robj_attr(o, "class");
    if (!c || c->type != RSXP_STR) return 0;
    for (int64_t k = 0; k < c->n; k++)
        if (c->s[k] && !strcmp(c->s[k], cls)) return 1;
    return 0;
}

int64_t robj_df_nrow(const robj *df) {
    if (!df || df->type != RSXP_VEC || !robj_inherits(df, "data.frame")) {
        err_set("not a data frame (a %s%s)", df ? robj_type_name(df->type) : "NULL",
                df && df->type == RSXP_VEC ? " without class \"data.frame\"" : "");
        return -1;
    }
    const robj *rn = robj_attr(df, "row.names");
    if (!rn) {
        if (df->n == 0) return 0;
        err_set("data frame without row.names");
        return -1;
    }
    // R's compact form: c(NA_integer_, -n) (or +n)
    if (rn->type == RSXP_INT && rn->n == 2 && rn->i[0] == R_NA_INT && rn->i[1] != R_NA_INT)
        return rn->i[1] < 0 ? -(int64_t)rn->i[1] : rn->i[1];
    return rn->n;
}

const robj *robj_df_column(const robj *df, const char *name) {
    if (robj_df_nrow(df) < 0) return NULL;
    const robj *c = robj_get(df, name);
    if (c) return c;
    char list[600];
    const robj *nm = robj_attr(df, "names");
    int ok = nm && nm->type == RSXP_STR;
    err_set("no column \"%s\" (columns: %s)", name, rdata_join_names(list, sizeof list, ok ? nm->s : NULL, ok ? nm->n : 0));
    return NULL;
}

const robj *robj_factor_levels(const robj *f) {
    if (!f || f->type != RSXP_INT || !robj_inherits(f, "factor")) return NULL;
    const robj *lv = robj_attr(f, "levels");
    return lv && lv->type == RSXP_STR ? lv : NULL;
}

int robj_string_at(const robj *o, int64_t i, const char **s) {
    *s = NULL;
    if (!o || i < 0 || i >= o->n) return err_set("element %lld out of range (length %lld)", (long long)i, o ? (long long)o->n : 0LL);
    if (o->type == RSXP_STR) {
        *s = o->s[i];
        return 0;
    }
    const robj *lv = robj_factor_levels(o);
    if (!lv) return err_set("a %s vector is not text (expected character or factor)", robj_type_name(o->type));
    int32_t code = o->i[i];
    if (code == R_NA_INT) return 0;
    if (code < 1 || code > lv->n)
        return err_set("element %lld: factor code %d outside its %lld levels", (long long)i + 1, code, (long long)lv->n);
    *s = lv->s[code - 1];
    return 0;
}

int robj_int_at(const robj *o, int64_t i, int64_t *v, int *na) {
    *v = 0;
    *na = 0;
    if (!o || i < 0 || i >= o->n) return err_set("element %lld out of range (length %lld)", (long long)i, o ? (long long)o->n : 0LL);
    if (o->type == RSXP_INT || o->type == RSXP_LGL) {
        if (o->i[i] == R_NA_INT) *na = 1;
        else *v = o->i[i];
        return 0;
    }
    if (o->type != RSXP_REAL) return err_set("a %s vector is not numeric", robj_type_name(o->type));
    double d = o->d[i];
    if (d != d) {
        *na = 1;
        return 0;
    }
    if (!(d >= -9.2e18 && d <= 9.2e18) || d != (double)(int64_t)d)
        return err_set("element %lld: %g is not an integer", (long long)i + 1, d);
    *v = (int64_t)d;
    return 0;
}
