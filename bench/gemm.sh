#!/usr/bin/env bash
# Our single-threaded GEMM (src/model/gemm.c) against OpenBLAS 0.3.21 on one thread, on a row
# lane's products (512 rows), alternating in one run; last line `gemm ratio=R (...)`, R the
# geometric mean over the shapes.
set -eu
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
make -s -j2 bench >/dev/null
build/bench/gemm_bench
