// Parquet footer (FileMetaData) and page headers from the Thrift compact protocol, and the schema
// tree turned into the list of leaf columns the cursor reads.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "formats/parquet_int.h"
#include "formats/thrift.h"

static void copy_str(char *dst, size_t cap, const uint8_t *s, size_t n) {
    if (n >= cap) n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
}

static const char *LOGICAL_NAMES[] = {"", "STRING", "MAP", "LIST", "ENUM", "DECIMAL", "DATE", "TIME",
                                      "TIMESTAMP", "", "INT", "UNKNOWN", "JSON", "BSON", "UUID", "FLOAT16"};

static void parse_logical(tr_reader *t, pq_schema_elem *e) {
    tr_struct_begin(t);
    int id, ty;
    while (tr_field(t, &id, &ty)) {
        if (id >= 1 && id <= 15 && ty == TT_STRUCT) {
            snprintf(e->logical, sizeof e->logical, "%s", LOGICAL_NAMES[id]);
            if (id == 10) {   // IntType { 1: i8 bitWidth, 2: bool isSigned }
                tr_struct_begin(t);
                int id2, ty2;
                while (tr_field(t, &id2, &ty2)) {
                    if (id2 == 1 && ty2 == TT_I8) {
                        if (t->p < t->end) e->int_bits = (int8_t)*t->p++; else t->bad = 1;
                    } else if (id2 == 2 && (ty2 == TT_TRUE || ty2 == TT_FALSE)) e->int_signed = ty2 == TT_TRUE;
                    else tr_skip(t, ty2);
                }
                tr_struct_end(t);
            } else tr_skip(t, ty);
        } else tr_skip(t, ty);
    }
    tr_struct_end(t);
}

static void parse_schema_elem(tr_reader *t, pq_schema_elem *e) {
    memset(e, 0, sizeof *e);
    e->converted = -1;
    e->int_signed = 1;
    tr_struct_begin(t);
    int id, ty;
    while (tr_field(t, &id, &ty)) {
        if (id == 1 && ty == TT_I32) { e->type = tr_i32(t); e->has_type = 1; }
        else if (id == 2 && ty == TT_I32) e->type_length = tr_i32(t);
        else if (id == 3 && ty == TT_I32) { e->repetition = tr_i32(t); e->has_repetition = 1; }
        else if (id == 4 && ty == TT_BINARY) { size_t n; const uint8_t *s = tr_binary(t, &n); copy_str(e->name, sizeof e->name, s, n); }
        else if (id == 5 && ty == TT_I32) e->num_children = tr_i32(t);
        else if (id == 6 && ty == TT_I32) e->converted = tr_i32(t);
        else if (id == 7 && ty == TT_I32) e->scale = tr_i32(t);
        else if (id == 8 && ty == TT_I32) e->precision = tr_i32(t);
        else if (id == 10 && ty == TT_STRUCT) parse_logical(t, e);
        else tr_skip(t, ty);
    }
    tr_struct_end(t);
}

static void parse_col_meta(tr_reader *t, pq_chunk_meta *c) {
    tr_struct_begin(t);
    int id, ty;
    while (tr_field(t, &id, &ty)) {
        if (id == 1 && ty == TT_I32) c->type = tr_i32(t);
        else if (id == 4 && ty == TT_I32) c->codec = tr_i32(t);
        else if (id == 2 && ty == TT_LIST) {
            int et;
            int64_t n = tr_list(t, &et);
            for (int64_t i = 0; i < n && !t->bad; i++) {
                if (et != TT_I32) { tr_skip(t, et); continue; }
                int32_t e = tr_i32(t);
                if (e >= 0 && e < 32) c->encodings |= 1u << e;
            }
        }
        else if (id == 5 && ty == TT_I64) c->num_values = tr_i64(t);
        else if (id == 6 && ty == TT_I64) c->total_uncompressed = tr_i64(t);
        else if (id == 7 && ty == TT_I64) c->total_compressed = tr_i64(t);
        else if (id == 9 && ty == TT_I64) c->data_page_offset = tr_i64(t);
        else if (id == 11 && ty == TT_I64) c->dict_page_offset = tr_i64(t);
        else tr_skip(t, ty);
    }
    tr_struct_end(t);
}

static int parse_row_group(tr_reader *t, pq_row_group *rg, int nleaves) {
    rg->chunks = mem_calloc((size_t)(nleaves ? nleaves : 1), sizeof *rg->chunks);
    if (!rg->chunks) return ERR_FAIL;
    int nchunks = 0;
    tr_struct_begin(t);
    int id, ty;
    while (tr_field(t, &id, &ty)) {
        if (id == 1 && ty == TT_LIST) {
            int et;
            int64_t n = tr_list(t, &et);
            if (et != TT_STRUCT && n) { t->bad = 1; break; }
            for (int64_t i = 0; i < n && !t->bad; i++) {
                pq_chunk_meta dummy, *c = i < nleaves ? &rg->chunks[i] : &dummy;
                memset(c, 0, sizeof *c);
                c->dict_page_offset = -1;
                tr_struct_begin(t);
                int id2, ty2;
                while (tr_field(t, &id2, &ty2)) {
                    if (id2 == 3 && ty2 == TT_STRUCT) parse_col_meta(t, c);
                    else if (id2 == 1 && ty2 == TT_BINARY) {
                        size_t len;
                        tr_binary(t, &len);
                        if (len) { tr_struct_end(t); return err_set("column chunks in other files (file_path) are not supported"); }
                    } else tr_skip(t, ty2);
                }
                tr_struct_end(t);
            }
            nchunks = (int)n;
        } else if (id == 3 && ty == TT_I64) rg->num_rows = tr_i64(t);
        else tr_skip(t, ty);
    }
    tr_struct_end(t);
    if (t->bad) return err_set("malformed footer (row group)");
    if (nchunks != nleaves)
        return err_set("row group has %d column chunks, the schema has %d leaf columns", nchunks, nleaves);
    if (rg->num_rows < 0) return err_set("row group has %lld rows", (long long)rg->num_rows);
    return 0;
}

// Walks the schema tree depth first; builds leaves with their levels and display names.
typedef struct {
    pq_meta *m;
    int pos;
    int cap;
} walk_ctx;

static int walk(walk_ctx *w, int depth, int def, int rep, int rep_def, int nullable, int elem_nullable,
                char *name, size_t name_len, int skip_next, int is_map_list) {
    if (depth > 32) return err_set("schema nested deeper than 32 levels");
    if (w->pos >= w->m->nschema) return err_set("schema ends early (num_children counts more elements)");
    int idx = w->pos++;
    pq_schema_elem *e = &w->m->schema[idx];
    if (e->repetition == REP_OPTIONAL) {
        def++;
        if (rep == 0) nullable = 1; else elem_nullable = 1;
    } else if (e->repetition == REP_REPEATED) {
        def++;
        rep++;
        if (rep == 1) rep_def = def;
    }
    // the name: skip a repeated node (unless it is the leaf itself), and the single child of a
    // LIST's repeated group ("element"/"item"); keep MAP keys and values
    int is_leaf = e->num_children <= 0;
    size_t nl = name_len;
    // (a repeated leaf right under a LIST group is the legacy 2-level list: its name goes too)
    int skip = skip_next || (e->repetition == REP_REPEATED && (!is_leaf || is_map_list));
    if (!skip || (is_leaf && e->repetition == REP_REPEATED && name_len == 0)) {
        size_t k = strlen(e->name);
        if (nl + k + 2 < 1024) {
            if (nl) name[nl++] = '.';
            memcpy(name + nl, e->name, k);
            nl += k;
            name[nl] = 0;
        }
    } else if (is_leaf && name_len == 0) {   // a leaf never ends up nameless
        size_t k = strlen(e->name);
        if (k < 1000) { memcpy(name, e->name, k); nl = k; name[nl] = 0; }
    }
    if (is_leaf) {
        pq_meta *m = w->m;
        if (!e->has_type) return err_set("leaf column '%s' has no type", e->name);
        if (m->nleaves == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 16;
            pq_leaf *nl2 = realloc(m->leaves, (size_t)w->cap * sizeof *nl2);
            parquet_column_info *nc = realloc(m->cols, (size_t)w->cap * sizeof *nc);
            char **nn = realloc(m->names, (size_t)w->cap * sizeof *nn);
            if (nl2) m->leaves = nl2;
            if (nc) m->cols = nc;
            if (nn) m->names = nn;
            if (!nl2 || !nc || !nn) return err_set("out of memory");
        }
        int li = m->nleaves++;
        pq_leaf *L = &m->leaves[li];
        L->leaf = idx;
        L->max_def = def;
        L->max_rep = rep;
        L->rep_def = rep_def;
        L->is_unsigned = (!strcmp(e->logical, "INT") && !e->int_signed) || (e->converted >= 11 && e->converted <= 14);
        m->names[li] = mem_strdup(nl ? name : e->name);
        if (!m->names[li]) return ERR_FAIL;
        parquet_column_info *ci = &m->cols[li];
        memset(ci, 0, sizeof *ci);
        ci->name = m->names[li];
        ci->is_list = rep > 1 ? 2 : rep;
        ci->nullable = nullable;
        ci->elem_nullable = elem_nullable;
        ci->physical = e->type;
        ci->logical = e->logical[0] ? e->logical : (e->converted == 0 ? "STRING" : e->converted == 5 ? "DECIMAL" : "");
        ci->supported = rep <= 1;
        switch (e->type) {
        case PT_BOOLEAN: ci->type = PQ_BOOL; break;
        case PT_INT32: ci->type = L->is_unsigned ? PQ_INT64 : PQ_INT32; break;
        case PT_INT64: ci->type = PQ_INT64; break;
        case PT_FLOAT: ci->type = PQ_FLOAT; break;
        case PT_DOUBLE: ci->type = PQ_DOUBLE; break;
        case PT_BYTE_ARRAY: case PT_FLBA: ci->type = PQ_STRING; break;
        default: ci->type = PQ_STRING; ci->supported = 0; break;   // INT96
        }
        if (!strcmp(ci->logical, "DECIMAL") || e->converted == 5) ci->supported = 0;
        if (e->type == PT_FLBA && e->type_length <= 0) return err_set("column '%s': FIXED_LEN_BYTE_ARRAY without a length", ci->name);
        if (e->type < 0 || e->type > 7) return err_set("column '%s': unknown physical type %d", ci->name, e->type);
        return 0;
    }
    int is_list = !strcmp(e->logical, "LIST") || e->converted == 3;
    for (int c = 0; c < e->num_children; c++) {
        // LIST's repeated group with one child: that child's name is the list element ("element")
        int skip_child = e->repetition == REP_REPEATED && is_map_list && e->num_children == 1;
        if (walk(w, depth + 1, def, rep, rep_def, nullable, elem_nullable, name, nl, skip_child,
                 is_list))
            return ERR_FAIL;
    }
    name[name_len] = 0;
    return 0;
}

int pq_meta_parse(pq_meta *m, const uint8_t *p, size_t n, int64_t file_size) {
    memset(m, 0, sizeof *m);
    tr_reader t;
    tr_init(&t, p, n);
    tr_struct_begin(&t);
    int id, ty, have_schema = 0;
    const uint8_t *rg_start = NULL;
    int64_t rg_count = 0;
    while (tr_field(&t, &id, &ty)) {
        if (id == 2 && ty == TT_LIST) {
            int et;
            int64_t cnt = tr_list(&t, &et);
            // a second schema list (a corrupt footer repeating field 2) is malformed, not a leak
            if (et != TT_STRUCT || cnt < 1 || m->schema) { t.bad = 1; break; }
            m->schema = mem_calloc((size_t)cnt, sizeof *m->schema);
            if (!m->schema) return ERR_FAIL;
            m->nschema = (int)cnt;
            for (int64_t i = 0; i < cnt && !t.bad; i++) parse_schema_elem(&t, &m->schema[i]);
            have_schema = 1;
        } else if (id == 3 && ty == TT_I64) m->num_rows = tr_i64(&t);
        else if (id == 4 && ty == TT_LIST) {
            // row groups need the leaf count: remember where they start, parse after the schema
            int et;
            rg_start = t.p;
            rg_count = tr_list(&t, &et);
            if (et != TT_STRUCT && rg_count) { t.bad = 1; break; }
            t.p = rg_start;
            tr_skip(&t, TT_LIST);
        } else if (id == 6 && ty == TT_BINARY) {
            size_t len;
            const uint8_t *s = tr_binary(&t, &len);
            copy_str(m->created_by, sizeof m->created_by, s, len);
        } else tr_skip(&t, ty);
    }
    if (t.bad) return err_set("malformed footer (Thrift FileMetaData)");
    if (!have_schema) return err_set("footer has no schema");
    // schema tree -> leaves
    char name[1024] = "";
    walk_ctx w = {m, 1, 0};
    pq_schema_elem *root = &m->schema[0];
    for (int c = 0; c < root->num_children; c++)
        if (walk(&w, 1, 0, 0, 0, 0, 0, name, 0, 0, 0)) return err_wrap("schema");
    if (w.pos != m->nschema) return err_set("schema: %d elements, the tree uses %d", m->nschema, w.pos);
    // row groups
    if (rg_start) {
        tr_reader t2;
        tr_init(&t2, rg_start, (size_t)(p + n - rg_start));
        int et;
        int64_t cnt = tr_list(&t2, &et);
        m->rgs = mem_calloc((size_t)(cnt ? cnt : 1), sizeof *m->rgs);
        if (!m->rgs) return ERR_FAIL;
        m->nrgs = (int)cnt;
        int64_t total = 0;
        for (int64_t i = 0; i < cnt; i++) {
            if (parse_row_group(&t2, &m->rgs[i], m->nleaves)) return err_wrap("row group %lld", (long long)i);
            total += m->rgs[i].num_rows;
            for (int c = 0; c < m->nleaves; c++) {
                pq_chunk_meta *cm = &m->rgs[i].chunks[c];
                int64_t start = cm->dict_page_offset > 0 && cm->dict_page_offset < cm->data_page_offset
                                    ? cm->dict_page_offset : cm->data_page_offset;
                if (start < 4 || cm->total_compressed < 0 || start + cm->total_compressed > file_size)
                    return err_set("row group %lld, column %s: chunk [%lld, +%lld) lies outside the file",
                                   (long long)i, m->names[c], (long long)start, (long long)cm->total_compressed);
                if (cm->type != m->schema[m->leaves[c].leaf].type)
                    return err_set("row group %lld, column %s: chunk type %d differs from the schema's %d",
                                   (long long)i, m->names[c], cm->type, m->schema[m->leaves[c].leaf].type);
            }
        }
        if (total != m->num_rows)
            return err_set("row groups hold %lld rows, the footer says %lld", (long long)total, (long long)m->num_rows);
    } else if (m->num_rows) return err_set("footer says %lld rows but has no row groups", (long long)m->num_rows);
    return 0;
}

void pq_meta_free(pq_meta *m) {
    for (int i = 0; i < m->nrgs; i++) free(m->rgs[i].chunks);
    free(m->rgs);
    for (int i = 0; i < m->nleaves; i++) free(m->names[i]);
    free(m->names);
    free(m->leaves);
    free(m->cols);
    free(m->schema);
    memset(m, 0, sizeof *m);
}

static void parse_data_header(tr_reader *t, pq_page_header *h, int v2) {
    tr_struct_begin(t);
    int id, ty;
    while (tr_field(t, &id, &ty)) {
        if (id == 1 && ty == TT_I32) h->num_values = tr_i32(t);
        else if (!v2 && id == 2 && ty == TT_I32) h->encoding = tr_i32(t);
        else if (!v2 && id == 3 && ty == TT_I32) h->def_encoding = tr_i32(t);
        else if (!v2 && id == 4 && ty == TT_I32) h->rep_encoding = tr_i32(t);
        else if (v2 && id == 2 && ty == TT_I32) h->num_nulls = tr_i32(t);
        else if (v2 && id == 3 && ty == TT_I32) h->num_rows = tr_i32(t);
        else if (v2 && id == 4 && ty == TT_I32) h->encoding = tr_i32(t);
        else if (v2 && id == 5 && ty == TT_I32) h->def_len = tr_i32(t);
        else if (v2 && id == 6 && ty == TT_I32) h->rep_len = tr_i32(t);
        else if (v2 && id == 7 && (ty == TT_TRUE || ty == TT_FALSE)) h->is_compressed = ty == TT_TRUE;
        else tr_skip(t, ty);
    }
    tr_struct_end(t);
}

int pq_page_header_parse(pq_page_header *h, const uint8_t *p, size_t n, size_t *hlen) {
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->is_compressed = 1;
    h->def_encoding = h->rep_encoding = ENC_RLE;
    tr_reader t;
    tr_init(&t, p, n);
    tr_struct_begin(&t);
    int id, ty;
    while (tr_field(&t, &id, &ty)) {
        if (id == 1 && ty == TT_I32) h->type = tr_i32(&t);
        else if (id == 2 && ty == TT_I32) h->uncompressed = tr_i32(&t);
        else if (id == 3 && ty == TT_I32) h->compressed = tr_i32(&t);
        else if (id == 5 && ty == TT_STRUCT) parse_data_header(&t, h, 0);
        else if (id == 7 && ty == TT_STRUCT) parse_data_header(&t, h, 0);   // dict: 1 num_values, 2 encoding
        else if (id == 8 && ty == TT_STRUCT) parse_data_header(&t, h, 1);
        else tr_skip(&t, ty);
    }
    if (t.bad) return err_set("malformed page header");
    if (h->uncompressed < 0 || h->compressed < 0 || h->num_values < 0 || h->def_len < 0 || h->rep_len < 0)
        return err_set("page header with negative sizes");
    *hlen = (size_t)(t.p - p);
    return 0;
}
