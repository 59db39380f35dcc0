// Real data shipped in Debian's R packages (r-cran-dslabs: MovieLens ml-latest-small and
// trump_tweets; r-cran-janeaustenr: six novels), read from their lazy-load databases with
// src/formats/rdata.h and written as Parquet / text. scripts/setup.sh downloads the packages into
// the data cache; see docs/data.md "Real data from Debian's R packages".
#pragma once
#include <stdint.h>

#include "formats/rdata.h"

// Resolves and opens; a package missing from the cache fails with the command that fetches it.
int rpkg_open_db(rdata_db **out, const char *db);

typedef struct {
    int64_t ratings, users, movies;
    int64_t inconsistent;   // ratings whose title/year/genres differ from their movie's first rating
} movielens_stats;

// The data frame `movielens` of db -> out_dir/interactions.parquet (user_id, item_id, timestamp
// int64, rating double; the frame's row order) and out_dir/items.parquet (item_id int64, title
// string, year int32, genres string; one row per movie sorted by item_id, its first rating's
// values). An existing non-empty out_dir is refused unless force (then only those two files are
// replaced). Both files appear together or not at all.
int rpkg_export_movielens(const char *db, const char *out_dir, int force, movielens_stats *st);

typedef struct {
    int64_t lines, na, bytes;
    int64_t newlines;   // .txt only: elements whose line breaks became spaces
} rtext_stats;

// A character vector (or factor) object, or column `column` of a data frame / named list, one
// element per line: out ending in ".parquet" gets one string column `text` (NA = null, text
// exact), anything else is UTF-8 text (NA = empty line, CR/LF inside an element = space).
int rpkg_export_text(const char *db, const char *object, const char *column, const char *out, rtext_stats *st);
