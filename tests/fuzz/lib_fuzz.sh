# Shared by the tests/fuzz/run_fuzz_*.sh scripts that print "fuzz_NAME: N passed, N failed":
# source it after `cd` to the repository root. Outputs in build/fuzz/.
#   fuzz_build NAME "SOURCES" [LIBS...]   clang + libFuzzer + ASan/UBSan -> build/fuzz/fuzz_NAME
#   fuzz_regress NAME                      replays tests/fuzz/regress/NAME/* (inputs it once failed on)
#   fuzz_run NAME CORPUS SECONDS [FLAGS...] the bounded run, its first error and stats; the verdict
FUZZ_OUT=build/fuzz
mkdir -p "$FUZZ_OUT"

fuzz_verdict() {   # NAME RC: the closing line, and exit 1 on a failure
    if [ "$2" = 0 ]; then echo "fuzz_$1: 1 passed, 0 failed"; else echo "fuzz_$1: 0 passed, 1 failed${3:+ ($3)}"; exit 1; fi
}

fuzz_build() {
    local name=$1 src=$2; shift 2
    # shellcheck disable=SC2086
    clang -std=c11 -D_GNU_SOURCE -O1 -g -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        "tests/fuzz/fuzz_$name.c" $src -o "$FUZZ_OUT/fuzz_$name" "$@" 2>"$FUZZ_OUT/build_$name.log" ||
        { cat "$FUZZ_OUT/build_$name.log"; fuzz_verdict "$name" 1 build; }
}

fuzz_regress() {
    local name=$1 f
    for f in tests/fuzz/regress/"$name"/*; do
        [ -f "$f" ] || continue
        if ! "$FUZZ_OUT/fuzz_$name" "$f" >"$FUZZ_OUT/regress_$name.log" 2>&1; then
            grep -A25 -m1 "ERROR\|runtime error" "$FUZZ_OUT/regress_$name.log"; fuzz_verdict "$name" 1 "$f"
        fi
    done
}

fuzz_run() {
    local name=$1 corpus=$2 secs=$3 log="$FUZZ_OUT/fuzz_$1.log"; shift 3
    "$FUZZ_OUT/fuzz_$name" "$corpus" -max_total_time="$secs" -rss_limit_mb=4096 -timeout=10 \
        -artifact_prefix="$FUZZ_OUT/$name-" -print_final_stats=1 "$@" >"$log" 2>&1
    local rc=$?
    grep -A25 -m1 "ERROR\|runtime error" "$log"; tail -n 6 "$log"
    fuzz_verdict "$name" $rc
}
