#!/usr/bin/env bash
# MPI data parallelism: the MPI build (scripts/train_mpi_build.sh) under
# `mpirun --allow-run-as-root -np 2`: collective operations agree on every rank.
set -uo pipefail
cd "$(dirname "$0")/.."
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1   # 2 ranks on 2 cores: one thread each
MPIRUN="mpirun --allow-run-as-root --oversubscribe -np 2"
if ! B=$(bash scripts/train_mpi_build.sh 2>/tmp/onerec_mpi_build.$$); then
    cat /tmp/onerec_mpi_build.$$; bad "MPI build"; B=
fi
rm -f /tmp/onerec_mpi_build.$$
if [ -n "$B" ]; then
    out=$($MPIRUN "$B/tests/test_train_dist" 2>&1)
    if grep -q "^test_train_dist_np2: 1 passed, 0 failed" <<<"$out"; then ok; else bad "collectives under mpirun: $out"; fi
    # the same binary without mpirun runs as one process
    out=$("$B/tests/test_train_dist" 2>&1)
    if grep -q "^test_train_dist: 1 passed, 0 failed" <<<"$out"; then ok; else bad "MPI build run alone: $out"; fi
fi
echo "test_mpi: $pass passed, $fail failed"
[ $fail = 0 ]
