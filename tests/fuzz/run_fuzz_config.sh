#!/usr/bin/env bash
# Bounded libFuzzer run over the JSON configs: HF config.json (src/formats/hfconfig.c) and the
# training dataset config (src/train/dataset.c), one target (tests/fuzz/fuzz_config.c), clang with
# ASan + UBSan. usage: tests/fuzz/run_fuzz_config.sh [SECONDS=10]   (FUZZ_SECONDS wins)
# Prints "fuzz_config: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
source tests/fuzz/lib_fuzz.sh
fuzz_build config "src/formats/hfconfig.c src/train/dataset.c src/base/err.c src/base/mem.c src/base/file.c src/base/json.c" -lcjson -lm
fuzz_regress config
# seeds: byte 0 even = HF config.json, odd = dataset config
c=$FUZZ_OUT/corpus_config
mkdir -p "$c"
printf '\000{"architectures":["Qwen3ForCausalLM"],"model_type":"qwen3","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":16,"vocab_size":384,"max_position_embeddings":4096,"rms_norm_eps":1e-6,"rope_theta":1000000,"tie_word_embeddings":true,"torch_dtype":"bfloat16"}' >"$c/seed_hf"
printf '\000{"hidden_size":64,"intermediate_size":128,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":2,"vocab_size":10}' >"$c/seed_hf_min"
printf '\001{"name":"chat_completion_parquet","sources":["a.parquet","b/file_list.json"],"max_length":4096,"max_sample_length":2048,"num_epochs":1,"cut_to_pad":true,"itemic_id_range":[151669,176246],"add_think_pattern":false,"only_assistant_loss":true,"local_shuffle_random_fetch":0.5}' >"$c/seed_ds"
printf '\001{"name":"chat_completion_parquet","sources":"x.parquet"}' >"$c/seed_ds_min"
fuzz_run config "$c" "${FUZZ_SECONDS:-${1:-10}}" -max_len=4096
