#!/usr/bin/env bash
# Bounded libFuzzer run of the R serialization reader under ASan/UBSan (clang). Seeds: the
# fixture's serializations (tests/ref/rdata_fixture.py --raw) and, when the data cache is there,
# the small records of dslabs' lazy-load DB. FUZZ_SECONDS (default 60) bounds the run.
# Prints "fuzz_rdata: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-${1:-60}}
out=build/fuzz
mkdir -p "$out"
if ! clang -std=c11 -D_GNU_SOURCE -O1 -g -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        tests/fuzz/fuzz_rdata.c src/formats/rdata.c src/base/err.c src/base/mem.c -o "$out/fuzz_rdata" -lm 2>"$out/build_rdata.log"; then
    cat "$out/build_rdata.log"; echo "fuzz_rdata: 0 passed, 1 failed"; exit 1
fi
for f in tests/fuzz/regress/rdata/*; do
    [ -f "$f" ] || continue
    if ! "$out/fuzz_rdata" "$f" >"$out/regress_rdata.log" 2>&1; then
        grep -A25 -m1 "ERROR\|runtime error" "$out/regress_rdata.log"; echo "fuzz_rdata: 0 passed, 1 failed ($f)"; exit 1
    fi
done
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
"$out/fuzz_rdata" "$corpus" -max_total_time="$SECS" -rss_limit_mb=4096 -malloc_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$out/" -print_final_stats=1 >"$out/fuzz_rdata.log" 2>&1
rc=$?
grep -A25 -m1 "ERROR\|runtime error" "$out/fuzz_rdata.log"; tail -n 6 "$out/fuzz_rdata.log"
if [ $rc = 0 ]; then echo "fuzz_rdata: 1 passed, 0 failed"; else echo "fuzz_rdata: 0 passed, 1 failed"; exit 1; fi
