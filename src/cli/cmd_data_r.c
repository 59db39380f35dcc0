// onerec data movielens | rtext: real data from Debian's R packages (see docs/data.md).
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/outdir.h"
#include "cli/args.h"
#include "data/rpkg.h"

int cmd_data_movielens(int argc, char **argv) {
    char *out = NULL, *db = "dslabs";
    int force = 0;
    const arg_spec specs[] = {
        {"out", ARG_STR, &out, "output directory (interactions.parquet, items.parquet)", 1},
        {"db", ARG_STR, &db, "lazy-load DB path prefix (X for X.rdx/X.rdb) or an R package in the data cache", 0},
        {"force", ARG_BOOL, &force, "write into a non-empty --out (replaces only the two files)", 0},
        {NULL, 0, NULL, NULL, 0},
    };
    int rc = args_parse(argc, argv, specs, "onerec data movielens --out DIR [--db dslabs|PATH_PREFIX] [--force]",
                        "MovieLens ml-latest-small (the data frame `movielens` of r-cran-dslabs) as Parquet tables.",
                        NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    movielens_stats st;
    if (rpkg_export_movielens(db, out, force, &st)) return cli_fail("data movielens");
    printf("movielens: %lld ratings, %lld users, %lld movies -> %s/interactions.parquet, %s/items.parquet\n",
           (long long)st.ratings, (long long)st.users, (long long)st.movies, out, out);
    return 0;
}

static int list_objects(const char *db) {
    rdata_db *d;
    if (rpkg_open_db(&d, db)) return cli_fail("data rtext");
    for (int k = 0; k < rdata_db_count(d); k++)
        printf("%s\t%lld\n", rdata_db_name(d, k), (long long)rdata_db_record_bytes(d, k));
    rdata_db_close(d);
    return 0;
}

int cmd_data_rtext(int argc, char **argv) {
    char *db = NULL, *object = NULL, *column = NULL, *out = NULL;
    int list = 0;
    const arg_spec specs[] = {
        {"db", ARG_STR, &db, "lazy-load DB path prefix, or an R package in the data cache (janeaustenr, dslabs)", 1},
        {"object", ARG_STR, &object, "a character vector, factor, data frame or named list in the DB", 0},
        {"column", ARG_STR, &column, "the text column of a data frame (or element of a list)", 0},
        {"out", ARG_STR, &out, "F.parquet (string column `text`) or a text file (one element per line)", 0},
        {"list", ARG_BOOL, &list, "list the DB's objects (name, compressed bytes) and exit", 0},
        {NULL, 0, NULL, NULL, 0},
    };
    int rc = args_parse(argc, argv, specs,
                        "onerec data rtext --db PKG|PATH_PREFIX --object NAME [--column C] --out F.parquet|F.txt\n"
                        "       onerec data rtext --db PKG|PATH_PREFIX --list",
                        "Text of an R object (e.g. janeaustenr's `emma`, dslabs' trump_tweets$text), one element per line.",
                        NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    if (list) return list_objects(db);
    if (!object || !out) {
        fprintf(stderr, "onerec data rtext: error: --object and --out are required (or --list)\n");
        return 2;
    }
    rtext_stats st;
    if (outdir_prepare_file(out) || rpkg_export_text(db, object, column, out, &st)) return cli_fail("data rtext");
    printf("rtext: %lld lines (%lld NA, %lld bytes) from %s%s%s -> %s\n", (long long)st.lines, (long long)st.na,
           (long long)st.bytes, object, column ? "$" : "", column ? column : "", out);
    if (st.newlines) fprintf(stderr, "rtext: %lld elements had line breaks, written as spaces\n", (long long)st.newlines);
    return 0;
}
