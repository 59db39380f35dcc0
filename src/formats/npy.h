// NumPy .npy arrays (format versions 1-3): 2-D float32 or float64, C order, read in row chunks so
// an array larger than memory streams. Every row comes back as float32.
#pragma once
#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *path;   // borrowed: messages name it
    FILE *fp;
    long data_off;      // first byte of row 0
    int64_t rows;
    int cols;
    int f64;            // 1: stored as float64
    int64_t row;        // next row npy_read_rows returns
} npy_file;

// Checks the header (dtype, order, 2-D shape, cols >= 1, file length); messages start "PATH: ".
int npy_open(npy_file *f, const char *path);
void npy_close(npy_file *f);
// x out [m, cols] with m = min(max, rows left); *got = m (0 at the end).
int npy_read_rows(npy_file *f, float *x, int64_t max, int64_t *got);
int npy_rewind(npy_file *f);
