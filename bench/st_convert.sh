#!/usr/bin/env bash
# bf16/f16 <-> f32 conversion throughput: ours (bench/st_convert.c) beside torch (one thread each).
#   bench/st_convert.sh [millions of elements, default 64]
set -euo pipefail
cd "$(dirname "$0")/.."
m=${1:-64}
make -s build/bench/st_convert
ours=$(OMP_NUM_THREADS=1 build/bench/st_convert "$m")
echo "$ours"
ref=$(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 - "$m" <<'PY'
import sys, time, torch
torch.set_num_threads(1)
n = int(float(sys.argv[1]) * 1e6)
f = (torch.arange(n, dtype=torch.float64) % 100003 * 1e-3 - 50).float()
def best(fn):
    b = 1e30
    for _ in range(5):
        t = time.perf_counter(); fn(); b = min(b, time.perf_counter() - t)
    return b
bf, hf = f.to(torch.bfloat16), f.to(torch.float16)
for name, fn in (("f32->bf16", lambda: f.to(torch.bfloat16)), ("bf16->f32", lambda: bf.float()),
                 ("f32->f16", lambda: f.to(torch.float16)), ("f16->f32", lambda: hf.float())):
    t = best(fn)
    print(f"torch {name:<17s} {n / t * 1e-6:8.1f} M elem/s")
PY
)
echo "$ref"
for k in f32-\>bf16 bf16-\>f32 f32-\>f16 f16-\>f32; do
    o=$(grep -F "ours $k " <<<"$ours" | awk '{print $3}')
    r=$(grep -F "torch $k " <<<"$ref" | awk '{print $3}')
    awk -v k="$k" -v o="$o" -v r="$r" 'BEGIN { printf "ratio %-10s ours/torch = %.2f\n", k, o / r }'
done
