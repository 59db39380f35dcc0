// R serialization (XDR binary, format "X\n", versions 2 and 3) and R's lazy-load databases
// (NAME.rdx index + NAME.rdb records, as R packages ship their data/ and R/ objects). Enough of
// the format for data frames, factors, character vectors and lists; language objects, closures
// and environments are read into the tree too (so a file holding them still parses) but get no
// helpers. Byte code and ALTREP classes other than compact_intseq/realseq, wrap_* and
// deferred_string are refused with a message naming the byte offset.
//
//   rdata_db *db;  robj *df;
//   rdata_db_open(&db, ".../dslabs/data/Rdata");        // reads and parses Rdata.rdx only
//   rdata_db_read(db, "movielens", &df);                // inflates that one record
//   const robj *title = robj_df_column(df, "title");    // STRSXP: title->s[i], NULL = NA
//   robj_free(df); rdata_db_close(db);
//
// The tree lives in one arena owned by the root: robj_free(root) releases every node, and nodes
// reached through R's reference table (symbols, environments) may be shared.
#pragma once
#include <stddef.h>
#include <stdint.h>

// R's SEXPTYPE codes (the ones the reader produces).
enum {
    RSXP_NIL = 0, RSXP_SYM = 1, RSXP_LIST = 2, RSXP_CLO = 3, RSXP_ENV = 4, RSXP_PROM = 5,
    RSXP_LANG = 6, RSXP_SPECIAL = 7, RSXP_BUILTIN = 8, RSXP_CHAR = 9, RSXP_LGL = 10, RSXP_INT = 13,
    RSXP_REAL = 14, RSXP_CPLX = 15, RSXP_STR = 16, RSXP_DOT = 17, RSXP_VEC = 19, RSXP_EXPR = 20,
    RSXP_EXTPTR = 22, RSXP_WEAKREF = 23, RSXP_RAW = 24, RSXP_S4 = 25,
    // serialization-only markers kept as leaf nodes: the special environments and persistent names
    RSXP_BASEENV = 241, RSXP_EMPTYENV = 242, RSXP_PERSIST = 247, RSXP_PACKAGE = 248,
    RSXP_NAMESPACE = 249, RSXP_BASENAMESPACE = 250, RSXP_MISSINGARG = 251, RSXP_UNBOUND = 252,
    RSXP_GLOBALENV = 253,
};

#define R_NA_INT INT32_MIN   // NA_integer_ and NA (logical)

typedef struct robj robj;
struct robj {
    int type;            // RSXP_*
    int is_object;       // R's OBJECT bit (has a class attribute)
    int64_t n;           // number of elements (vectors, pairlists)
    int32_t *i;          // LGL, INT (NA = R_NA_INT)
    double *d;           // REAL (n values), CPLX (2n: re, im)
    const char **s;      // STR, CHAR (1), PERSIST/PACKAGE/NAMESPACE: NUL-terminated UTF-8, NULL = NA
    uint8_t *raw;        // RAW
    robj **v;            // VEC, EXPR, pairlist values; ENV: enclos, frame, hashtab; CLO/PROM: env, car, cdr
    const char **tags;   // pairlists: the element names (NULL where untagged)
    const char *name;    // SYM, SPECIAL, BUILTIN
    robj *attr;          // the attribute pairlist, or NULL
    void *arena_;        // the root's arena (robj_free releases it); NULL on other nodes
};

// Parses one serialization ("X\n" + header + object) from memory; `name` is used in messages
// ("NAME: byte 1234: ..."). The tree does not refer to `data`.
int rdata_parse(robj **out, const void *data, size_t n, const char *name);
// A serialization in a file, gzip-compressed (.rds, .rdx) or not.
int rdata_read_file(robj **out, const char *path);
void robj_free(robj *root);

// The element of a VEC/pairlist by its name (the `names` attribute or pairlist tags); NULL if absent.
const robj *robj_get(const robj *o, const char *name);
const robj *robj_attr(const robj *o, const char *name);
int robj_inherits(const robj *o, const char *cls);     // `class` attribute contains cls
const char *robj_type_name(int type);                  // "integer", "character", "list", ...
// "a, b, c" into buf, cut with "..." where it does not fit (NULL names print as NA): for messages.
const char *rdata_join_names(char *buf, size_t cap, const char *const *names, int64_t n);
// A data frame's number of rows from its row.names (compact c(NA, -n), 1:n or names); -1 and a
// message when o is not a data frame.
int64_t robj_df_nrow(const robj *df);
// A column by name; NULL with a message listing the columns when absent.
const robj *robj_df_column(const robj *df, const char *name);
// A factor's levels (STRSXP) or NULL when f is not a factor.
const robj *robj_factor_levels(const robj *f);
// Element i of a character vector or factor as a string (NULL = NA); ERR_FAIL for other types or
// a factor code outside its levels (the message names the element).
int robj_string_at(const robj *o, int64_t i, const char **s);
// Element i of an integer/logical/double vector as int64 (*na = 1 for NA; non-integral doubles fail).
int robj_int_at(const robj *o, int64_t i, int64_t *v, int *na);

// ---------------------------------------------------------------------------------------------
// Lazy-load databases

typedef struct rdata_db rdata_db;

// prefix: the path without ".rdx"/".rdb". Reads the index; the .rdb is opened, not read.
int rdata_db_open(rdata_db **db, const char *prefix);
void rdata_db_close(rdata_db *db);
int rdata_db_count(const rdata_db *db);
const char *rdata_db_name(const rdata_db *db, int i);
int64_t rdata_db_record_bytes(const rdata_db *db, int i);   // compressed size in the .rdb
int rdata_db_find(const rdata_db *db, const char *name);    // -1 when absent
// Inflates and parses one object. An absent name is an error listing the DB's objects.
int rdata_db_read(rdata_db *db, const char *name, robj **out);
