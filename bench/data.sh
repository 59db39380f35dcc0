#!/usr/bin/env bash
# Data pipeline throughput and memory: `onerec synth` then `onerec data convert` on worlds of
# 20k and 200k users (default catalogue), printing users/s, rows/s and the peak RSS of each; the
# memory ratio 200k/20k shows that memory does not grow with the number of users. Rates are per
# CPU second (user + sys; the commands are single-threaded), so a busy machine does not skew them;
# wall seconds are printed too. The Parquet reader maps its input file, so the clean, file-backed
# pages of the raw table count in the peak RSS; `anon` subtracts the raw table's size.
#   bench/data.sh [USERS_SMALL USERS_LARGE] (default 20000 200000); FORMAT=jsonl|parquet
set -euo pipefail
cd "$(dirname "$0")/.."
make -j2 >/dev/null
small=${1:-20000}; large=${2:-200000}
fmt=${FORMAT:-}
T=$(mktemp -d /tmp/onerec_bench_data.XXXXXX)
trap 'rm -rf "$T"' EXIT
measure() {   # label, command... -> "cpu_seconds wall_seconds peak_kib"
    local label=$1; shift
    /usr/bin/time -f "%U %S %e %M" -o "$T/time" "$@" >"$T/$label.out" 2>"$T/$label.err"
    awk '{printf "%.2f %.1f %d\n", $1 + $2, $3, $4}' "$T/time"
}
declare -A peak
printf "%-10s %-8s %8s %8s %12s %12s %10s %10s\n" users step cpu_s wall_s users/cpu_s rows/cpu_s peak_MiB anon_MiB
for n in $small $large; do
    read -r s w m < <(measure synth$n build/onerec synth --out "$T/w$n" --users "$n" ${fmt:+--format $fmt})
    printf "%-10s %-8s %8.1f %8.1f %12.0f %12s %10.1f %10s\n" "$n" synth "$s" "$w" "$(echo "$n / $s" | bc -l)" - "$(echo "$m / 1024" | bc -l)" -
    raw_kib=$(du -k "$T/w$n"/onerec_bench_release.* | awk '{print $1}')
    read -r s w m < <(measure conv$n build/onerec data convert --raw "$T/w$n" --out "$T/c$n" ${fmt:+--format $fmt})
    rows=$(awk '/^RecIF_/ {r += $2 + $3} END {print r}' "$T/conv$n.out")
    anon=$m
    case "$(ls "$T/w$n"/onerec_bench_release.*)" in *.parquet) anon=$((m - raw_kib)) ;; esac
    printf "%-10s %-8s %8.1f %8.1f %12.0f %12.0f %10.1f %10.1f\n" "$n" convert "$s" "$w" "$(echo "$n / $s" | bc -l)" "$(echo "$rows / $s" | bc -l)" "$(echo "$m / 1024" | bc -l)" "$(echo "$anon / 1024" | bc -l)"
    peak[$n]=$anon
    rm -rf "$T/w$n" "$T/c$n"
done
echo "convert peak memory (anon) ratio ${large}/${small} users: $(echo "${peak[$large]} / ${peak[$small]}" | bc -l | cut -c1-5) (1.0 = flat)"
