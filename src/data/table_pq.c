#include "data/table_pq.h"

#include "base/err.h"

// Placeholder until src/formats/parquet.h (branch wt/pq) is merged.
int dtab_pq_available(void) { return 0; }
int dtab_pq_writer_open(dtab_pq_writer **w, const char *path, const dcol *cols, int ncols) {
    (void)cols, (void)ncols;
    *w = NULL;
    return err_set("%s: Parquet support is not built in", path);
}
int dtab_pq_writer_row(dtab_pq_writer *w, const cJSON *row) {
    (void)w, (void)row;
    return err_set("Parquet support is not built in");
}
int dtab_pq_writer_close(dtab_pq_writer *w) {
    (void)w;
    return err_set("Parquet support is not built in");
}
void dtab_pq_writer_abort(dtab_pq_writer *w) { (void)w; }
int dtab_pq_reader_open(dtab_pq_reader **r, const char *path) {
    *r = NULL;
    return err_set("%s: Parquet support is not built in", path);
}
int dtab_pq_reader_ncols(const dtab_pq_reader *r) { (void)r; return 0; }
const char *dtab_pq_reader_col_name(const dtab_pq_reader *r, int i) { (void)r, (void)i; return ""; }
int dtab_pq_reader_col_type(const dtab_pq_reader *r, int i) { (void)r, (void)i; return -1; }
int dtab_pq_reader_next(dtab_pq_reader *r, cJSON **row) {
    (void)r, (void)row;
    return err_set("Parquet support is not built in");
}
void dtab_pq_reader_close(dtab_pq_reader *r) { (void)r; }
