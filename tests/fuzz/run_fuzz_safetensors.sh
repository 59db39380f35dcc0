#!/usr/bin/env bash
# Bounded libFuzzer run over the safetensors parser (clang, ASan + UBSan). Not part of `make test`.
#   tests/fuzz/run_fuzz_safetensors.sh [seconds]      (default 60; FUZZ_JOBS=2 for both cores)
# Seeds: the numpy-written reference files (tests/ref/st_ref.py) plus a few small hand-made images.
# Crashes are saved as build/fuzz/crash-* and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
out=build/fuzz
mkdir -p "$out/corpus"
clang -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Wno-macro-redefined \
    tests/fuzz/fuzz_safetensors.c src/formats/safetensors.c src/base/err.c src/base/mem.c src/base/file.c \
    src/base/json.c -lcjson -lm -o "$out/fuzz_safetensors"
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
/usr/bin/python3 tests/ref/st_ref.py write "$seeds" >/dev/null
cp "$seeds"/*.safetensors "$seeds"/py_sharded/*.safetensors "$out/corpus/"
/usr/bin/python3 - "$out/corpus" <<'PY'
import struct, sys
for i, h in enumerate([b'{}', b'{"__metadata__":{"a":"b"}}',
                       b'{"t":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}}',
                       b'{"t":{"dtype":"F16","shape":[],"data_offsets":[0,2]},"u":{"dtype":"I8","shape":[0],"data_offsets":[2,2]}}']):
    open(f"{sys.argv[1]}/hand{i}.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + bytes(range(8)))
PY
jobs=${FUZZ_JOBS:-1}
par=()
[ "$jobs" -gt 1 ] && par=(-jobs="$jobs" -workers="$jobs")   # parallel runs log to fuzz-N.log in build/fuzz
cd "$out"
./fuzz_safetensors -max_total_time="$secs" -max_len=4096 "${par[@]}" -artifact_prefix=./ -print_final_stats=1 \
    corpus 2>&1 | tail -n 8
