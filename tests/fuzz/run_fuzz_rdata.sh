#!/usr/bin/env bash
# Bounded libFuzzer run of the R serialization reader under ASan/UBSan (clang). Seeds: the
# fixture's serializations (tests/ref/rdata_fixture.py --raw) and, when the data cache is there,
# the small records of dslabs' lazy-load DB. FUZZ_SECONDS (default 15) bounds the run.
# Prints "fuzz_rdata: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-${1:-15}}
source tests/fuzz/lib_fuzz.sh
out=$FUZZ_OUT
fuzz_build rdata "src/formats/rdata.c src/base/err.c src/base/mem.c" -lm
fuzz_regress rdata
corpus=$out/corpus_rdata
mkdir -p "$corpus"
/usr/bin/python3 tests/ref/rdata_fixture.py "$out/rdata_seed" --raw "$corpus" || { echo "fuzz_rdata: 0 passed, 1 failed (seeds)"; exit 1; }
ml=${ONEREC_DATA_CACHE:-data-cache}/r-cran-dslabs/usr/lib/R/site-library/dslabs/data/Rdata
if [ -f "$ml.rdb" ]; then
    /usr/bin/python3 - "$ml" "$corpus" <<'PY'
import gzip, sys, zlib
sys.path.insert(0, "tests/ref")
from rdata_real_ref import index
for name, (off, ln) in index(sys.argv[1]).items():
    if ln < 4000:
        with open(sys.argv[1] + ".rdb", "rb") as f:
            f.seek(off)
            open(f"{sys.argv[2]}/dslabs_{name}.xdr", "wb").write(zlib.decompress(f.read(ln)[4:]))
PY
fi
fuzz_run rdata "$corpus" "$SECS" -malloc_limit_mb=2048 -max_len=65536
