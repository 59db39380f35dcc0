#!/usr/bin/env bash
# The layering rule of DESIGN.md: a file of a lower layer never includes a header of a higher one.
# Checked over the `#include "..."` lines of src/**; the check itself must catch a planted
# violation (and a file in a folder that is no layer), or a green result would mean nothing.
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh

LAYERS="base formats text model rec data train post eval serve cli"

# Prints one line per violation under ROOT/src and returns how many there are (at most 255).
layer_violations() {
    local root=$1
    local files; files=$(cd "$root" && find src -name '*.[ch]' | sort)
    [ -n "$files" ] || { echo "no sources under $root/src"; return 1; }
    (cd "$root" && awk -v order="$LAYERS" '
        BEGIN { n = split(order, l, " "); for (i = 1; i <= n; i++) rank[l[i]] = i }
        FNR == 1 {
            split(FILENAME, p, "/"); own = p[2]
            if (!(own in rank)) { print FILENAME ": folder src/" own " is not a layer (add it to the order)"; bad++ }
        }
        /^[ \t]*#[ \t]*include[ \t]*"/ {
            inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*/, "", inc)
            if (index(inc, "/") == 0 || !(own in rank)) next   # same folder (or already reported)
            split(inc, q, "/"); to = q[1]
            if (!(to in rank)) { print FILENAME ":" FNR ": includes \"" inc "\" of no layer"; bad++ }
            else if (rank[to] > rank[own]) { print FILENAME ":" FNR ": " own " includes \"" inc "\" of the higher layer " to; bad++ }
        }
        END { exit bad > 255 ? 255 : bad }' $files)
}

# 1. the tree
out=$(layer_violations .) && ok || { bad "layer violations in src/:"; echo "$out"; }

# 2. planted: a clean tree passes; an upward include, an unknown include root and a stray folder fail
mkdir -p "$tmp/src/base" "$tmp/src/rec" "$tmp/src/eval"
printf '#include "base/err.h"\n#include <stdio.h>\n' >"$tmp/src/rec/ok.c"
printf '#include "rec/sid.h"\n#include "eval/results.h"\n#include "local.h"\n' >"$tmp/src/eval/ok.c"
out=$(layer_violations "$tmp") && ok || bad "a clean planted tree reported: $out"
printf '#include "base/mem.h"\n  # include "eval/metrics_rank.h"\n' >"$tmp/src/base/up.c"
out=$(layer_violations "$tmp"); rc=$?
[ $rc = 1 ] && grep -qF 'src/base/up.c:2: base includes "eval/metrics_rank.h" of the higher layer eval' <<<"$out" && ok ||
    bad "planted upward include not caught (exit $rc): $out"
rm "$tmp/src/base/up.c"
printf '#include "nowhere/x.h"\n' >"$tmp/src/rec/odd.h"
mkdir -p "$tmp/src/misc"; printf '\n' >"$tmp/src/misc/m.c"
out=$(layer_violations "$tmp"); rc=$?
[ $rc = 2 ] && grep -qF 'src/rec/odd.h:1: includes "nowhere/x.h" of no layer' <<<"$out" &&
    grep -qF 'src/misc/m.c: folder src/misc is not a layer' <<<"$out" && ok || bad "unknown layers not caught (exit $rc): $out"

echo "test_layers: $pass passed, $fail failed"
[ "$fail" = 0 ]
