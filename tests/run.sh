#!/usr/bin/env bash
# Runs every compiled test (build/tests/test_*) and every script test (tests/test_*.sh), each of
# which prints "name: N passed, N failed"; prints the totals as the closing line.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
pass=0; fail=0; broken=()
run_one() {
    local name=$1; shift
    local log; log=$(mktemp)
    local t0=$SECONDS
    "$@" >"$log" 2>&1
    local rc=$?
    local line; line=$(grep -E '^[A-Za-z0-9_./-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "$name: no summary line (exit $rc)"; tail -n 30 "$log"
        fail=$((fail + 1)); broken+=("$name")
    else
        local p f
        p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
        f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
        pass=$((pass + p)); fail=$((fail + f))
        if [ "$f" != 0 ] || [ "$rc" != 0 ]; then
            [ "$f" = 0 ] && fail=$((fail + 1))
            broken+=("$name"); tail -n 40 "$log"
        fi
        echo "$line ($((SECONDS - t0))s)"
    fi
    rm -f "$log"
}
filter=${TESTS:-}
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    [ -n "$filter" ] && [[ "$(basename "$t")" != *$filter* ]] && continue
    run_one "$(basename "$t")" "$t"
done
if [ "$BUILD" = build ]; then
    for t in tests/test_*.sh; do
        [ -f "$t" ] || continue
        [ -n "$filter" ] && [[ "$(basename "$t")" != *$filter* ]] && continue
        run_one "$(basename "$t" .sh)" bash "$t"
    done
fi
[ ${#broken[@]} -gt 0 ] && echo "failing: ${broken[*]}"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
