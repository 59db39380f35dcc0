// libFuzzer target over the two JSON configs a user writes or downloads: the first byte picks the
// HF config.json parser (src/formats/hfconfig.c) or the training dataset config
// (src/train/dataset.c); the rest is the JSON text. Either it parses, and then what it produced
// holds (a valid HF config survives to_json + from_json unchanged; a dataset config's itemic range
// is ordered), or it fails with a message. Never a crash. Built by tests/fuzz/run_fuzz_config.sh.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "formats/hfconfig.h"
#include "train/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void hf_case(const cJSON *j) {
    hf_config c;
    if (hf_config_from_json(&c, j, "config.json") || hf_config_validate(&c, "config.json")) {
        if (!err_msg()[0]) abort();   // a failure always says why
        hf_config_free(&c);
        return;
    }
    cJSON *back = hf_config_to_json(&c);
    hf_config d;
    if (!back || hf_config_from_json(&d, back, "round trip")) abort();   // our own output always parses
    if (d.hidden_size != c.hidden_size || d.num_hidden_layers != c.num_hidden_layers || d.vocab_size != c.vocab_size ||
        d.head_dim != c.head_dim || d.tie_word_embeddings != c.tie_word_embeddings)
        abort();
    hf_config_free(&d);
    cJSON_Delete(back);
    hf_config_free(&c);
}

static void dataset_case(const cJSON *j) {
    train_dataset_config c;
    train_dataset_config_default(&c);
    // base_dir: nowhere, so that relative source paths never reach real files
    if (train_dataset_config_from_json(&c, j, "dataset.json", "/nonexistent-fuzz-dir")) {
        if (!err_msg()[0]) abort();
    } else if (c.max_length < 1 || c.itemic_lo > c.itemic_hi) {
        abort();   // accepted values the trainer relies on
    }
    train_dataset_config_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    err_clear();
    cJSON *j = json_parse_text(text, "fuzz.json");
    if (j) {
        if (data[0] & 1) dataset_case(j);
        else hf_case(j);
        cJSON_Delete(j);
    } else if (!err_msg()[0]) {
        abort();
    }
    free(text);
    return 0;
}
