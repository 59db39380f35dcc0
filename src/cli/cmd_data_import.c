// onerec data import: an interaction log + item text -> the RecIF raw files (docs/data.md,
// "Importing your own log").
#include <math.h>
#include <stdio.h>

#include "base/outdir.h"
#include "cli/args.h"
#include "data/import.h"

int cmd_data_import(int argc, char **argv) {
    import_options o;
    import_options_default(&o);
    char *interactions = NULL, *items = NULL, *out = NULL, *rating_col = NULL, *tag_col = NULL;
    char *user_col = (char *)o.user_col, *item_col = (char *)o.item_col, *time_col = (char *)o.time_col;
    char *item_id_col = (char *)o.item_id_col, *text_cols = (char *)o.text_cols;
    const arg_spec specs[] = {
        {"interactions", ARG_STR, &interactions, "the log: .csv (header line), .tsv, .jsonl or .parquet", 1},
        {"items", ARG_STR, &items, "item text table (without it every caption is the item id)", 0},
        {"out", ARG_STR, &out, "output directory (refused when it exists and is not empty, unless --force)", 1},
        {"user-col", ARG_STR, &user_col, "user id column (integers)", 0},
        {"item-col", ARG_STR, &item_col, "item id column (integers)", 0},
        {"time-col", ARG_STR, &time_col, "timestamp column (integers; order per user: time, then item id)", 0},
        {"rating-col", ARG_STR, &rating_col, "rating column (without it every row is a positive)", 0},
        {"item-id-col", ARG_STR, &item_id_col, "the items file's id column", 0},
        {"text-cols", ARG_STR, &text_cols, "item columns joined into the caption, comma-separated", 0},
        {"tag-col", ARG_STR, &tag_col, "`|`-separated tags for the user profile (default: genres, when present)", 0},
        {"min-rating", ARG_DOUBLE, &o.min_rating, "keep rows with rating >= this (needs --rating-col)", 0},
        {"kcore", ARG_INT, &o.kcore, "iterated K-core: drop users and items with < K interactions until stable", 0},
        {"max-history", ARG_INT, &o.max_history, "keep the last N training items per user (0: all)", 0},
        {"force", ARG_BOOL, &o.force, "write into a non-empty --out (files of the same names are replaced)", 0},
        {0}};
    int rc = args_parse(argc, argv, specs,
                        "onerec data import --interactions LOG --items ITEMS --out DIR [--rating-col rating] "
                        "[--min-rating R] [--kcore K] [--max-history N] [--force]",
                        "Turns an interaction log (user, item, time[, rating]) and item text into the RecIF raw\n"
                        "files with a leave-one-out split: per user the last item is the test, the second last\n"
                        "the validation, the rest the training sequence.",
                        NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    if (isfinite(o.min_rating) && !rating_col) {
        fprintf(stderr, "onerec data import: --min-rating needs --rating-col\n");
        return 2;
    }
    if (o.kcore < 0 || o.max_history < 0) {
        fprintf(stderr, "onerec data import: --kcore and --max-history must be >= 0\n");
        return 2;
    }
    o.interactions = interactions;
    o.items = items;
    o.out = out;
    o.user_col = user_col;
    o.item_col = item_col;
    o.time_col = time_col;
    o.rating_col = rating_col;
    o.item_id_col = item_id_col;
    o.text_cols = text_cols;
    o.tag_col = tag_col;
    import_stats st;
    outdir od;
    if (outdir_check_input(out, interactions) || outdir_check_input(out, items) || import_check_out(&o) ||
        outdir_open(&od, out, "data import", 0) || outdir_close(&od, import_run(&o, &st), NULL))
        return cli_fail("data import");
    printf("import: %lld users, %lld items, %lld interactions (mean %.1f per user) from %lld rows; "
           "%lld raw rows in %s\n",
           (long long)st.users, (long long)st.items, (long long)st.interactions, st.mean_length,
           (long long)st.rows_read, (long long)st.raw_rows, out);
    return 0;
}
