#!/usr/bin/env bash
# Builds the MPI flavour of the command and of the MPI test into build/mpi/, reusing build/'s
# objects: only src/train/dist.c depends on ONEREC_MPI, so it is the only file recompiled (with
# mpicc); everything is relinked with mpicc. Needs `make` to have built build/ first.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD_MPI:-build/mpi}
mkdir -p "$B/tests"
CFLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -fopenmp -O3 -march=native -g"
CPP="-Isrc -I/usr/include/x86_64-linux-gnu/openblas-openmp -DONEREC_MPI=1"
LIBS="-lopenblas -lcjson -lpcre2-8 -lutf8proc -lzstd -lsnappy -llz4 -lz -lm -lpthread"
mpicc $CPP $CFLAGS -c src/train/dist.c -o "$B/dist.o"
cp build/libonerec.a "$B/libonerec.a"
ar r "$B/libonerec.a" "$B/dist.o" 2>/dev/null   # replaces the archive's stub dist.o
mpicc -fopenmp -o "$B/onerec" build/obj/src/cli/*.o "$B/libonerec.a" $LIBS
for t in build/obj/tests/test_train_dist.o "$@"; do
    [ -f "$t" ] && mpicc -fopenmp -o "$B/tests/$(basename "$t" .o)" "$t" "$B/libonerec.a" $LIBS
done
echo "$B"
