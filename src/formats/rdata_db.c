// R lazy-load databases: NAME.rdx is a (gzip'd) serialization of
// list(variables = list(name = c(offset, length), ...), references = ..., compressed = ...);
// each record of NAME.rdb is, for compressed = TRUE, a 4-byte big-endian inflated length and a
// zlib stream (types 2 and 3 add one byte naming the codec: '0' none, 'Z' zlib, '2' bzip2, 'X' xz).
// Only the record asked for is read and inflated.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "formats/rdata.h"

// deflate cannot expand more than ~1032:1; a declared length beyond that is a lie, not a big object
#define ZLIB_MAX_RATIO 1040

struct rdata_db {
    char *rdx, *rdb;
    int fd;
    int64_t rdb_size;
    int n;
    char **names;
    int64_t *off, *len;
    int compressed;
};

static const char *human(char *buf, size_t cap, uint64_t n) {
    if (n < 1000) snprintf(buf, cap, "%llu bytes", (unsigned long long)n);
    else if (n < 1000000) snprintf(buf, cap, "%.1f KB", n / 1e3);
    else if (n < 1000000000) snprintf(buf, cap, "%.1f MB", n / 1e6);
    else snprintf(buf, cap, "%.1f GB", n / 1e9);
    return buf;
}

// Inflates a whole gzip or zlib stream whose size is not known (an .rds or .rdx file).
static int gunzip_all(const uint8_t *in, size_t n, const char *what, uint8_t **out, size_t *outn) {
    size_t cap = n * 4 + 1024, max = n * ZLIB_MAX_RATIO + 1024;
    uint8_t *buf = mem_alloc(cap);
    if (!buf) return ERR_FAIL;
    z_stream zs = {0};
    if (inflateInit2(&zs, 15 + 32) != Z_OK) {
        free(buf);
        return err_set("%s: zlib initialisation failed", what);
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    int r;
    for (;;) {
        zs.next_out = buf + zs.total_out;
        zs.avail_out = (uInt)(cap - zs.total_out);
        r = inflate(&zs, Z_NO_FLUSH);
        if (r == Z_STREAM_END || (r != Z_OK && r != Z_BUF_ERROR)) break;
        if (zs.avail_out == 0 && cap < max) {
            cap = cap * 2 < max ? cap * 2 : max;
            uint8_t *nb = mem_realloc(buf, cap);
            if (!nb) {
                inflateEnd(&zs);
                free(buf);
                return ERR_FAIL;
            }
            buf = nb;
        } else if (zs.avail_in == 0 || zs.avail_out == 0) break;
    }
    size_t got = zs.total_out, used = zs.total_in;
    const char *zmsg = zs.msg ? zs.msg : "";
    char zm[128];
    snprintf(zm, sizeof zm, "%s", zmsg);
    inflateEnd(&zs);
    if (r != Z_STREAM_END) {
        free(buf);
        if (r == Z_DATA_ERROR) return err_set("%s: corrupt gzip data at compressed byte %zu: %s", what, used, zm);
        return err_set("%s: gzip stream truncated after %zu of %zu compressed bytes (%zu inflated)", what, used, n, got);
    }
    *out = buf;
    *outn = got;
    return 0;
}

int rdata_read_file(robj **out, const char *path) {
    *out = NULL;
    char *data;
    size_t n;
    if (file_read_all(path, &data, &n)) return ERR_FAIL;
    int rc;
    if (n >= 2 && (uint8_t)data[0] == 0x1f && (uint8_t)data[1] == 0x8b) {
        uint8_t *raw = NULL;
        size_t rn = 0;
        rc = gunzip_all((const uint8_t *)data, n, path, &raw, &rn);
        if (!rc) {
            char *name = mem_printf("%s (inflated)", path);   // offsets are in the inflated stream
            rc = name ? rdata_parse(out, raw, rn, name) : ERR_FAIL;
            free(name);
            free(raw);
        }
    } else if (n >= 3 && !memcmp(data, "BZh", 3)) rc = err_set("%s: bzip2-compressed; only gzip or uncompressed is supported", path);
    else if (n >= 6 && !memcmp(data, "\xfd" "7zXZ", 5)) rc = err_set("%s: xz-compressed; only gzip or uncompressed is supported", path);
    else rc = rdata_parse(out, data, n, path);
    free(data);
    return rc;
}

// ---------------------------------------------------------------------------------- index

static int index_entry(rdata_db *db, const char *name, const robj *v, int k) {
    int64_t a, b;
    int na1, na2;
    if (!v || (v->type != RSXP_INT && v->type != RSXP_REAL) || v->n != 2 || robj_int_at(v, 0, &a, &na1) ||
        robj_int_at(v, 1, &b, &na2) || na1 || na2 || a < 0 || b < 0)
        return err_set("%s: entry \"%s\" of variables is not an (offset, length) pair of non-negative numbers", db->rdx, name);
    if (!(db->names[k] = mem_strdup(name))) return ERR_FAIL;
    db->off[k] = a;
    db->len[k] = b;
    return 0;
}

static int index_load(rdata_db *db, const robj *ix) {
    const robj *vars = robj_get(ix, "variables"), *comp = robj_get(ix, "compressed");
    if (ix->type != RSXP_VEC || !vars || vars->type != RSXP_VEC)
        return err_set("%s: not a lazy-load index (expected a list with \"variables\", a named list of (offset, length) pairs; found a %s)",
                       db->rdx, robj_type_name(ix->type));
    const robj *names = robj_attr(vars, "names");
    if (vars->n > 0 && (!names || names->type != RSXP_STR || names->n != vars->n))
        return err_set("%s: \"variables\" has no names", db->rdx);
    int64_t c = 1;
    int na = 0;
    if (comp && (comp->n != 1 || robj_int_at(comp, 0, &c, &na) || na || c < 0 || c > 3))
        return err_set("%s: \"compressed\" must be TRUE, FALSE, 2 or 3", db->rdx);
    db->compressed = (int)c;
    if (vars->n > 1000000) return err_set("%s: %lld objects is not plausible", db->rdx, (long long)vars->n);
    db->n = (int)vars->n;
    if (!(db->names = mem_calloc((size_t)db->n + 1, sizeof *db->names)) || !(db->off = mem_calloc((size_t)db->n + 1, 8)) ||
        !(db->len = mem_calloc((size_t)db->n + 1, 8)))
        return ERR_FAIL;
    for (int k = 0; k < db->n; k++) {
        if (!names->s[k]) return err_set("%s: object %d of variables has an NA name", db->rdx, k + 1);
        if (index_entry(db, names->s[k], vars->v[k], k)) return ERR_FAIL;
    }
    return 0;
}

int rdata_db_open(rdata_db **out, const char *prefix) {
    *out = NULL;
    rdata_db *db = mem_calloc(1, sizeof *db);
    if (!db) return ERR_FAIL;
    db->fd = -1;
    robj *ix = NULL;
    if (!(db->rdx = mem_printf("%s.rdx", prefix)) || !(db->rdb = mem_printf("%s.rdb", prefix))) goto fail;
    if (rdata_read_file(&ix, db->rdx) || index_load(db, ix)) goto fail;
    robj_free(ix);
    ix = NULL;
    struct stat st;
    if ((db->fd = open(db->rdb, O_RDONLY | O_CLOEXEC)) < 0) {
        err_errno("%s: cannot open", db->rdb);
        goto fail;
    }
    if (fstat(db->fd, &st)) {
        err_errno("%s: stat", db->rdb);
        goto fail;
    }
    db->rdb_size = st.st_size;
    *out = db;
    return 0;
fail:
    robj_free(ix);
    rdata_db_close(db);
    return ERR_FAIL;
}

void rdata_db_close(rdata_db *db) {
    if (!db) return;
    if (db->fd >= 0) close(db->fd);
    for (int k = 0; db->names && k < db->n; k++) free(db->names[k]);
    free(db->names);
    free(db->off);
    free(db->len);
    free(db->rdx);
    free(db->rdb);
    free(db);
}

int rdata_db_count(const rdata_db *db) { return db->n; }
const char *rdata_db_name(const rdata_db *db, int i) { return i >= 0 && i < db->n ? db->names[i] : NULL; }
int64_t rdata_db_record_bytes(const rdata_db *db, int i) { return i >= 0 && i < db->n ? db->len[i] : -1; }

int rdata_db_find(const rdata_db *db, const char *name) {
    for (int k = 0; k < db->n; k++)
        if (!strcmp(db->names[k], name)) return k;
    return -1;
}

// ---------------------------------------------------------------------------------- records

// Inflates a zlib stream that must come out at exactly `want` bytes.
static int zlib_exact(const uint8_t *in, size_t n, size_t want, uint8_t *out, const char *where) {
    char a[32], b[32];
    if (want > (uint64_t)n * ZLIB_MAX_RATIO + 1024)
        return err_set("%s: declares %s inflated from %s compressed, more than zlib can produce (corrupt length?)", where,
                       human(a, sizeof a, want), human(b, sizeof b, n));
    z_stream zs = {0};
    if (inflateInit(&zs) != Z_OK) return err_set("%s: zlib initialisation failed", where);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)want;
    int r = inflate(&zs, Z_FINISH);
    char zm[128];
    snprintf(zm, sizeof zm, "%s", zs.msg ? zs.msg : "no message");
    size_t got = zs.total_out, used = zs.total_in;
    inflateEnd(&zs);
    if (r == Z_STREAM_END && got == want) return 0;
    if (r == Z_STREAM_END)
        return err_set("%s: zlib stream ends at %s, the record declares %s", where, human(a, sizeof a, got), human(b, sizeof b, want));
    if (r == Z_DATA_ERROR || r == Z_NEED_DICT || r == Z_STREAM_ERROR)
        return err_set("%s: corrupt zlib stream at compressed byte %zu: %s", where, used, zm);
    if (got == want) return err_set("%s: zlib stream longer than the declared %s", where, human(a, sizeof a, want));
    return err_set("%s: zlib stream truncated (expected %s, got %s)", where, human(a, sizeof a, want), human(b, sizeof b, got));
}

// The record's serialization: a malloc'd buffer, inflated as the index says.
static int record_load(rdata_db *db, int k, const char *where, uint8_t **out, size_t *outn) {
    int64_t off = db->off[k], len = db->len[k];
    char a[32];
    if (off > db->rdb_size || len > db->rdb_size - off)
        return err_set("%s: %lld bytes run past the end of the file (%lld bytes; truncated?)", where, (long long)len,
                       (long long)db->rdb_size);
    uint8_t *rec = mem_alloc((size_t)len);
    if (!rec) return ERR_FAIL;
    ssize_t got = pread(db->fd, rec, (size_t)len, off);
    if (got != (ssize_t)len) {
        free(rec);
        return got < 0 ? err_errno("%s: read", where) : err_set("%s: short read (%zd of %lld bytes)", where, got, (long long)len);
    }
    if (db->compressed == 0) {
        *out = rec;
        *outn = (size_t)len;
        return 0;
    }
    size_t hdr = db->compressed == 1 ? 4 : 5;
    if ((size_t)len < hdr) {
        free(rec);
        return err_set("%s: %lld bytes is too short for a compressed record header", where, (long long)len);
    }
    size_t want = (size_t)rec[0] << 24 | (size_t)rec[1] << 16 | (size_t)rec[2] << 8 | rec[3];
    char type = db->compressed == 1 ? 'Z' : (char)rec[4];
    int rc = 0;
    uint8_t *buf = NULL;
    if (type == '2' || type == 'X')
        rc = err_set("%s: %s-compressed records are not supported (only zlib or none)", where, type == '2' ? "bzip2" : "xz");
    else if (type != '0' && type != 'Z') rc = err_set("%s: unknown compression type byte 0x%02x", where, (unsigned char)type);
    else if (type == '0' && want != (size_t)len - hdr)
        rc = err_set("%s: uncompressed record declares %s, holds %lld bytes", where, human(a, sizeof a, want), (long long)len - (long long)hdr);
    else if (!(buf = mem_alloc(want))) rc = ERR_FAIL;
    else if (type == '0') memcpy(buf, rec + hdr, want);
    else rc = zlib_exact(rec + hdr, (size_t)len - hdr, want, buf, where);
    free(rec);
    if (rc) {
        free(buf);
        return ERR_FAIL;
    }
    *out = buf;
    *outn = want;
    return 0;
}

int rdata_db_read(rdata_db *db, const char *name, robj **out) {
    *out = NULL;
    int k = rdata_db_find(db, name);
    if (k < 0) {
        char list[600];
        rdata_join_names(list, sizeof list, (const char *const *)db->names, db->n);
        return err_set("%s: no object \"%s\" (it has: %s)", db->rdx, name, db->n ? list : "nothing");
    }
    char *where = mem_printf("%s: record \"%s\" at offset %lld", db->rdb, name, (long long)db->off[k]);
    if (!where) return ERR_FAIL;
    uint8_t *buf = NULL;
    size_t n = 0;
    int rc = record_load(db, k, where, &buf, &n);
    if (!rc) {
        char *pname = mem_printf("%s, inflated", where);
        rc = pname ? rdata_parse(out, buf, n, pname) : ERR_FAIL;
        free(pname);
        free(buf);
    }
    free(where);
    return rc;
}
