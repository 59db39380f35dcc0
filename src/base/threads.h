// One thread count for both pools a command uses: OpenMP loops and OpenBLAS's GEMMs.
#pragma once

// n > 0: both pools use n threads; n <= 0 leaves OMP_NUM_THREADS / all cores.
void threads_set(int n);
