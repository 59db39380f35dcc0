// TensorBoard event files: TFRecord framing with masked crc32c, and the few Event/Summary
// protobuf fields scalars need, encoded and decoded by hand.
#include "formats/tfevents.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"

// ---- crc32c ---------------------------------------------------------------------------------

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        crc_table[i] = c;
    }
}

uint32_t tfevents_crc32c(const void *data, size_t n) {
    pthread_once(&crc_once, crc_init);
    const uint8_t *p = data;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xffu] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

uint32_t tfevents_masked_crc(const void *data, size_t n) {
    uint32_t c = tfevents_crc32c(data, n);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

// ---- protobuf encoding ----------------------------------------------------------------------

typedef struct {
    uint8_t *p;
    size_t n, cap;
} pbuf;

static int pb_reserve(pbuf *b, size_t extra) {
    if (b->n + extra <= b->cap) return 0;
    size_t nc = b->cap ? b->cap : 128;
    while (nc < b->n + extra) nc *= 2;
    uint8_t *np = mem_realloc(b->p, nc);
    if (!np) return ERR_FAIL;
    b->p = np;
    b->cap = nc;
    return 0;
}

static int pb_bytes(pbuf *b, const void *s, size_t n) {
    if (pb_reserve(b, n)) return ERR_FAIL;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}

static int pb_varint(pbuf *b, uint64_t v) {
    uint8_t tmp[10];
    size_t k = 0;
    do {
        tmp[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return pb_bytes(b, tmp, k);
}

static int pb_key(pbuf *b, int field, int wire) { return pb_varint(b, (uint64_t)(field << 3 | wire)); }

static int pb_len_field(pbuf *b, int field, const void *s, size_t n) {
    return pb_key(b, field, 2) || pb_varint(b, n) || pb_bytes(b, s, n);
}

// Event { wall_time = 1 (double); step = 2 (int64); file_version = 3 (string); summary = 5 }
// Summary { repeated Value value = 1 }  Value { tag = 1 (string); simple_value = 2 (float) }
static int event_encode(pbuf *ev, double wall, int64_t step, const char *file_version, const char *tag, float value) {
    int rc = pb_key(ev, 1, 1) || pb_bytes(ev, &wall, 8);
    if (!rc && step) rc = pb_key(ev, 2, 0) || pb_varint(ev, (uint64_t)step);
    if (!rc && file_version) rc = pb_len_field(ev, 3, file_version, strlen(file_version));
    if (!rc && tag) {
        pbuf val = {0}, sum = {0};
        rc = pb_len_field(&val, 1, tag, strlen(tag)) || pb_key(&val, 2, 5) || pb_bytes(&val, &value, 4) ||
             pb_len_field(&sum, 1, val.p, val.n) || pb_len_field(ev, 5, sum.p, sum.n);
        free(val.p);
        free(sum.p);
    }
    return rc ? ERR_FAIL : 0;
}

// ---- writer ---------------------------------------------------------------------------------

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int write_record(tfevents_writer *w, const pbuf *ev) {
    uint64_t len = ev->n;
    uint32_t lc = tfevents_masked_crc(&len, 8), dc = tfevents_masked_crc(ev->p, ev->n);
    if (fwrite(&len, 8, 1, w->fp) != 1 || fwrite(&lc, 4, 1, w->fp) != 1 || fwrite(ev->p, 1, ev->n, w->fp) != ev->n ||
        fwrite(&dc, 4, 1, w->fp) != 1)
        return err_errno("writing %s", w->path);
    if (++w->pending >= (w->flush_every > 0 ? w->flush_every : 1)) return tfevents_flush(w);
    return 0;
}

int tfevents_open(tfevents_writer *w, const char *dir) {
    memset(w, 0, sizeof *w);
    w->flush_every = 1;
    if (file_mkdirs(dir)) return ERR_FAIL;
    char host[256] = "localhost";
    if (gethostname(host, sizeof host - 1) != 0) strcpy(host, "localhost");
    host[sizeof host - 1] = 0;
    for (char *h = host; *h; h++)
        if (*h == '/') *h = '_';
    char name[400];
    long long now = (long long)time(NULL);
    for (int attempt = 0; attempt < 100 && !w->fp; attempt++) {
        if (attempt == 0)
            snprintf(name, sizeof name, "events.out.tfevents.%lld.%s", now, host);
        else
            snprintf(name, sizeof name, "events.out.tfevents.%lld.%s.%d.%d", now, host, (int)getpid(), attempt);
        free(w->path);
        if (!(w->path = path_join(dir, name))) return ERR_FAIL;
        w->fp = fopen(w->path, "wbx");   // never append to or clobber another writer's file
        if (!w->fp && errno != EEXIST) break;
    }
    if (!w->fp) {
        int rc = err_errno("cannot create event file %s", w->path);
        free(w->path);
        w->path = NULL;
        return rc;
    }
    pbuf ev = {0};
    int rc = event_encode(&ev, wall_now(), 0, "brain.Event:2", NULL, 0) || write_record(w, &ev) || tfevents_flush(w);
    free(ev.p);
    if (rc) {
        tfevents_close(w);
        return ERR_FAIL;
    }
    return 0;
}

int tfevents_add_scalar(tfevents_writer *w, const char *tag, int64_t step, float value) {
    if (!w->fp) return err_set("tfevents: writer is not open");
    if (!tag || !*tag) return err_set("%s: a scalar needs a non-empty tag", w->path);
    pbuf ev = {0};
    int rc = event_encode(&ev, wall_now(), step, NULL, tag, value) || write_record(w, &ev);
    free(ev.p);
    return rc ? ERR_FAIL : 0;
}

int tfevents_flush(tfevents_writer *w) {
    if (!w->fp) return 0;
    w->pending = 0;
    if (fflush(w->fp) != 0) return err_errno("writing %s", w->path);
    return 0;
}

int tfevents_close(tfevents_writer *w) {
    int rc = 0;
    if (w->fp) {
        rc = tfevents_flush(w);
        if (fclose(w->fp) != 0 && !rc) rc = err_errno("closing %s", w->path);
    }
    free(w->path);
    memset(w, 0, sizeof *w);
    return rc;
}

// ---- reader ---------------------------------------------------------------------------------

typedef struct {
    const uint8_t *p, *end;
} pcur;

static int pc_varint(pcur *c, uint64_t *v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end) return ERR_FAIL;
        uint8_t b = *c->p++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return 0;
    }
    return ERR_FAIL;
}

// Reads one field key and positions `val` on its payload (for wire type 2, the bytes).
static int pc_field(pcur *c, int *field, int *wire, pcur *val) {
    uint64_t key, len;
    if (pc_varint(c, &key)) return ERR_FAIL;
    *field = (int)(key >> 3);
    *wire = (int)(key & 7);
    size_t need;
    switch (*wire) {
    case 0:
        val->p = c->p;
        if (pc_varint(c, &len)) return ERR_FAIL;
        val->end = c->p;
        return 0;
    case 1: need = 8; break;
    case 5: need = 4; break;
    case 2:
        if (pc_varint(c, &len)) return ERR_FAIL;
        need = (size_t)len;
        if (len > (uint64_t)(c->end - c->p)) return ERR_FAIL;
        break;
    default: return ERR_FAIL;
    }
    if (need > (size_t)(c->end - c->p)) return ERR_FAIL;
    val->p = c->p;
    val->end = c->p + need;
    c->p += need;
    return 0;
}

typedef struct {
    tfevents_scalar *s;
    int n, cap;
} scalars;

static int push_scalar(scalars *out, const pcur *tag, double wall, int64_t step, float v) {
    if (out->n == out->cap) {
        int nc = out->cap ? out->cap * 2 : 64;
        tfevents_scalar *ns = mem_realloc(out->s, sizeof *ns * (size_t)nc);
        if (!ns) return ERR_FAIL;
        out->s = ns;
        out->cap = nc;
    }
    char *t = mem_strndup((const char *)tag->p, (size_t)(tag->end - tag->p));
    if (!t) return ERR_FAIL;
    out->s[out->n++] = (tfevents_scalar){t, step, wall, v};
    return 0;
}

// Returns 1 on a malformed message (the caller names the record), ERR_FAIL on out of memory.
static int decode_event(pcur ev, scalars *out) {
    double wall = 0;
    int64_t step = 0;
    pcur val, sum = {0};
    int field, wire, have_sum = 0;
    while (ev.p < ev.end) {
        if (pc_field(&ev, &field, &wire, &val)) return 1;
        if (field == 1 && wire == 1)
            memcpy(&wall, val.p, 8);
        else if (field == 2 && wire == 0) {
            uint64_t u;
            pc_varint(&val, &u);
            step = (int64_t)u;
        } else if (field == 5 && wire == 2) {
            sum = val;
            have_sum = 1;
        }
    }
    // values are read after the whole event, since step may follow the summary on the wire
    while (have_sum && sum.p < sum.end) {
        pcur v;
        if (pc_field(&sum, &field, &wire, &v)) return 1;
        if (field != 1 || wire != 2) continue;
        pcur tag = {0};
        int has_tag = 0, has_value = 0;
        float fv = 0;
        while (v.p < v.end) {
            if (pc_field(&v, &field, &wire, &val)) return 1;
            if (field == 1 && wire == 2) tag = val, has_tag = 1;
            if (field == 2 && wire == 5) memcpy(&fv, val.p, 4), has_value = 1;
        }
        if (has_tag && has_value && push_scalar(out, &tag, wall, step, fv)) return ERR_FAIL;
    }
    return 0;
}

int tfevents_read(const char *path, tfevents_scalar **out, int *n) {
    *out = NULL;
    *n = 0;
    char *data;
    size_t size;
    if (file_read_all(path, &data, &size)) return ERR_FAIL;
    scalars acc = {0};
    int rc = 0;
    const uint8_t *p = (const uint8_t *)data;
    size_t off = 0;
    while (off < size && !rc) {
        if (size - off < 12) {
            rc = err_set("%s: truncated record header at byte %zu", path, off);
            break;
        }
        uint64_t len;
        uint32_t lc, dc;
        memcpy(&len, p + off, 8);
        memcpy(&lc, p + off + 8, 4);
        if (lc != tfevents_masked_crc(p + off, 8)) {
            rc = err_set("%s: record at byte %zu: length CRC mismatch (corrupt file)", path, off);
            break;
        }
        if (len > size - off - 12 || size - off - 12 - len < 4) {
            rc = err_set("%s: record at byte %zu: %llu data bytes run past the end (truncated file)", path, off,
                         (unsigned long long)len);
            break;
        }
        memcpy(&dc, p + off + 12 + len, 4);
        if (dc != tfevents_masked_crc(p + off + 12, (size_t)len)) {
            rc = err_set("%s: record at byte %zu: data CRC mismatch (corrupt file)", path, off);
            break;
        }
        pcur ev = {p + off + 12, p + off + 12 + len};
        int d = decode_event(ev, &acc);
        if (d == 1) rc = err_set("%s: record at byte %zu: malformed Event protobuf", path, off);
        else if (d) rc = ERR_FAIL;
        off += 12 + (size_t)len + 4;
    }
    free(data);
    if (rc) {
        tfevents_scalars_free(acc.s, acc.n);
        return ERR_FAIL;
    }
    *out = acc.s;
    *n = acc.n;
    return 0;
}

void tfevents_scalars_free(tfevents_scalar *s, int n) {
    for (int i = 0; i < n; i++) free(s[i].tag);
    free(s);
}
