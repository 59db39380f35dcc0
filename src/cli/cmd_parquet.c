// onerec parquet schema|head|count|cat FILE: inspect Parquet files (ours, DuckDB's, pyarrow's).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/args.h"
#include "formats/parquet.h"

static const char *USAGE = "onerec parquet schema|head|count|cat FILE [options]";
static const char *SUMMARY =
    "schema: columns, types, row groups, codec; count: the number of rows;\n"
    "cat: one JSON object per row (lists as arrays); head: the first --limit rows (default 10).";

static int print_schema(parquet_reader *r) {
    printf("file: %s\nrows: %lld\nrow_groups: %d\ncreated_by: %s\n", parquet_reader_path(r),
           (long long)parquet_reader_num_rows(r), parquet_reader_num_row_groups(r), parquet_reader_created_by(r));
    printf("columns: %d\n", parquet_reader_num_columns(r));
    for (int i = 0; i < parquet_reader_num_columns(r); i++) {
        const parquet_column_info *c = parquet_reader_column(r, i);
        static const char *phys[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
        char enc[160];
        parquet_reader_column_encodings(r, -1, i, enc, sizeof enc);
        printf("  %-24s %s%s%s%s  physical=%s%s%s codec=%s encodings=%s%s\n", c->name, c->is_list ? "list<" : "", pq_type_name(c->type),
               c->is_list && c->elem_nullable ? "?" : "", c->is_list ? ">" : "", phys[c->physical & 7],
               c->logical[0] ? " logical=" : "", c->logical, parquet_reader_num_row_groups(r) ? parquet_reader_column_codec(r, 0, i) : "-",
               enc[0] ? enc : "-", c->nullable ? " nullable" : "");
        if (!c->supported) printf("    (not readable: %s)\n", c->is_list > 1 ? "nested list" : "unsupported type");
    }
    return 0;
}

static int split_columns(char *spec, const char **names, int max) {
    int n = 0;
    for (char *tok = strtok(spec, ","); tok && n < max; tok = strtok(NULL, ",")) names[n++] = tok;
    return n;
}

int cmd_parquet(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        args_print_help(NULL, USAGE, SUMMARY);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "schema") && strcmp(sub, "head") && strcmp(sub, "count") && strcmp(sub, "cat")) {
        fprintf(stderr, "onerec parquet: unknown subcommand \"%s\" (schema, head, count, cat)\n", sub);
        return 2;
    }
    char *columns = NULL;
    int64_t limit = !strcmp(sub, "head") ? 10 : -1, offset = 0;
    arg_spec specs[] = {
        {"columns", ARG_STR, &columns, "comma-separated columns to print (cat, head); default all", 0},
        {"limit", ARG_I64, &limit, "print at most this many rows (-1 = all)", 0},
        {"offset", ARG_I64, &offset, "skip this many rows first", 0},
        {0},
    };
    char *pos[1];
    int npos = 0;
    int rc = args_parse(argc - 1, argv + 1, specs, USAGE, SUMMARY, pos, 1, &npos);
    if (rc) return rc > 0 ? 0 : 2;
    if (npos != 1) {
        fprintf(stderr, "onerec parquet %s: expected one FILE (see --help)\n", sub);
        return 2;
    }
    if (offset < 0) return err_usage("--offset %lld: must be >= 0", (long long)offset), cli_fail("parquet");
    parquet_reader *r;
    if (parquet_reader_open(&r, pos[0])) return cli_fail("parquet");
    if (!strcmp(sub, "count")) {
        printf("%lld\n", (long long)parquet_reader_num_rows(r));
        parquet_reader_close(r);
        return 0;
    }
    if (!strcmp(sub, "schema")) {
        print_schema(r);
        parquet_reader_close(r);
        return 0;
    }
    const char *names[1024];
    int nnames = 0;
    char *spec = columns ? strdup(columns) : NULL;
    if (spec) nnames = split_columns(spec, names, 1024);
    parquet_cursor *c;
    if (parquet_cursor_open(&c, r, spec ? names : NULL, nnames)) {
        free(spec);
        parquet_reader_close(r);
        return cli_fail("parquet");
    }
    int64_t printed = 0, seen = 0;
    while (limit < 0 || printed < limit) {
        rc = parquet_cursor_next(c);
        if (rc <= 0) break;
        if (seen++ < offset) continue;
        if (parquet_cursor_print_json(c, stdout)) { rc = ERR_FAIL; break; }
        printed++;
    }
    parquet_cursor_close(c);
    parquet_reader_close(r);
    free(spec);
    if (rc < 0) return cli_fail("parquet");
    return 0;
}
