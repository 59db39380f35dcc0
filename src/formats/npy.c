// .npy reader: the header is a Python dict literal; we read only 'descr', 'fortran_order' and a
// 2-tuple 'shape', which is all numpy.save writes for a C-ordered matrix.
#include "formats/npy.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

// Version 1 stores the header length in 2 bytes, versions 2 and 3 in 4.
static int npy_header_len(npy_file *f, size_t *hl, long *off) {
    unsigned char pre[10];
    if (fread(pre, 1, 10, f->fp) != 10 || memcmp(pre, "\x93NUMPY", 6)) return err_set("%s: not a .npy file", f->path);
    if (pre[6] == 1) {
        *hl = pre[8] | (size_t)pre[9] << 8;
        *off = 10;
        return 0;
    }
    unsigned char b[2];
    if (fread(b, 1, 2, f->fp) != 2) return err_set("%s: truncated header", f->path);
    *hl = pre[8] | (size_t)pre[9] << 8 | (size_t)b[0] << 16 | (size_t)b[1] << 24;
    *off = 12;
    return 0;
}

static int npy_parse_header(npy_file *f, const char *h, long long *n, long long *d) {
    const char *sh = strstr(h, "'shape'");
    if (strstr(h, "'<f4'")) f->f64 = 0;
    else if (strstr(h, "'<f8'")) f->f64 = 1;
    else return err_set("%s: dtype must be float32 or float64 (header %s)", f->path, h);
    if (strstr(h, "'fortran_order': True")) return err_set("%s: Fortran order is not supported", f->path);
    if (!sh || sscanf(strchr(sh, '('), "(%lld, %lld)", n, d) != 2)
        return err_set("%s: the array must be 2-D [items, dim] (header %s)", f->path, h);
    return 0;
}

static int npy_open_fp(npy_file *f) {
    size_t hl = 0;
    long off = 0;
    if (npy_header_len(f, &hl, &off)) return ERR_FAIL;
    char *h = mem_alloc(hl + 1);
    if (!h) return ERR_FAIL;
    if (fread(h, 1, hl, f->fp) != hl) {
        free(h);
        return err_set("%s: truncated header", f->path);
    }
    h[hl] = 0;
    long long n = -1, d = -1;
    int rc = npy_parse_header(f, h, &n, &d);
    free(h);
    if (rc) return rc;
    if (d <= 0) return err_set("%s: dimension is %lld: embeddings must have at least one component", f->path, d);
    f->rows = n, f->cols = (int)d, f->data_off = off + (long)hl;
    long long want = f->data_off + n * d * (f->f64 ? 8 : 4);
    fseek(f->fp, 0, SEEK_END);
    if (ftell(f->fp) < want) return err_set("%s: file is shorter than its %lld x %lld header says", f->path, n, d);
    fseek(f->fp, f->data_off, SEEK_SET);
    return 0;
}

int npy_open(npy_file *f, const char *path) {
    memset(f, 0, sizeof *f);
    f->path = path;
    f->fp = fopen(path, "rb");
    if (!f->fp) return err_errno("%s", path);
    int rc = npy_open_fp(f);
    if (rc) npy_close(f);
    return rc;
}

void npy_close(npy_file *f) {
    if (f->fp) fclose(f->fp);
    f->fp = NULL;
}

int npy_rewind(npy_file *f) {
    f->row = 0;
    return fseek(f->fp, f->data_off, SEEK_SET) ? err_errno("%s", f->path) : 0;
}

int npy_read_rows(npy_file *f, float *x, int64_t max, int64_t *got) {
    int64_t m = f->rows - f->row < max ? f->rows - f->row : max, d = f->cols;
    if (f->f64) {
        double buf[1024];
        for (int64_t i = 0; i < m * d;) {
            size_t t = (size_t)(m * d - i < 1024 ? m * d - i : 1024);
            if (fread(buf, 8, t, f->fp) != t) return err_set("%s: read failed", f->path);
            for (size_t j = 0; j < t; j++) x[i + (int64_t)j] = (float)buf[j];
            i += (int64_t)t;
        }
    } else if (fread(x, 4, (size_t)(m * d), f->fp) != (size_t)(m * d)) {
        return err_set("%s: read failed at row %lld", f->path, (long long)f->row);
    }
    f->row += m;
    *got = m;
    return 0;
}
