# Shared by the script tests: source it after `cd` to the repository root. Gives PY (Debian's
# python3 with torch/numpy/faiss), ONEREC (the environment's, else build/onerec), a temporary
# dir $tmp removed on exit, the pass/fail counters with ok/bad, and expect_fail "needle" cmd...:
# the command must exit non-zero with the needle in its output.
PY=/usr/bin/python3
ONEREC=${ONEREC:-./build/onerec}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect_fail() {
    local needle=$1; shift
    local out; out=$("$@" 2>&1) && { bad "$* succeeded"; return; }
    grep -qF -- "$needle" <<<"$out" && ok || bad "$*: no \"$needle\" in: $out"
}
