#!/usr/bin/env bash
# Installs what onerec needs on a fresh Debian 12 machine, then builds.
#   scripts/setup.sh          build dependencies only (for `onerec demo`)
#   scripts/setup.sh --test   also the independent references used by the tests (PyTorch, faiss,
#                             DuckDB, HF tokenizers, ...), installed from Debian and npm
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

build_pkgs="gcc make libopenblas-openmp-dev libcjson-dev libpcre2-dev libutf8proc-dev libzstd-dev
  libsnappy-dev liblz4-dev zlib1g-dev libopenmpi-dev openmpi-bin gnuplot-nox libmicrohttpd-dev"
test_pkgs="python3-torch python3-numpy python3-faiss python3-protobuf python3-crc32c python3-sklearn
  python3-rdata clang libclang-rt-14-dev nodejs npm time apache2-utils"
pkgs=$build_pkgs
[ $want_test = 1 ] && pkgs="$pkgs $test_pkgs"

SUDO=""
[ "$(id -u)" != 0 ] && SUDO=sudo
missing=()
for p in $pkgs; do
    # node/npm may come from elsewhere on the image; a working binary is enough
    if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
    if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi

if [ $want_test = 1 ] && [ ! -f tools/npm/node_modules/.installed ]; then
    echo "setup: installing the npm reference tools into tools/npm/node_modules" >&2
    (cd tools/npm && npm ci --no-audit --no-fund >&2 && touch node_modules/.installed)
fi

# Real data (docs/data.md, "Real data from Debian's R packages"): the R packages' files are
# unpacked, R is not installed. `onerec data movielens|rtext` find them through rpkg_cache_dir()
# (src/data/rpkg.c), which reads the same ONEREC_DATA_CACHE.
cache=${ONEREC_DATA_CACHE:-data-cache}
for p in r-cran-dslabs r-cran-janeaustenr; do
    [ -f "$cache/$p/.complete" ] && continue
    echo "setup: downloading $p into $cache/$p" >&2
    mkdir -p "$cache"
    dl=$(mktemp -d "$cache/.download.XXXXXX")
    if ! (cd "$dl" && apt-get download -qq "$p" >&2 2>/dev/null); then
        $SUDO apt-get update -qq
        (cd "$dl" && apt-get download -qq "$p" >&2)
    fi
    rm -rf "$cache/$p"
    dpkg -x "$dl"/*.deb "$cache/$p"
    touch "$cache/$p/.complete"
    rm -rf "$dl"
done

make -j"$(nproc)" >&2
