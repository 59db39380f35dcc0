// Independent helpers for tests/test_embed.sh (DuckDB and HF Rust tokenizers from npm):
//   node tests/ref/vocab_embed_ref.js captions OUT.parquet CAPTIONS.json
//       CAPTIONS.json = [[pid, caption], ...] -> a pid2caption-style Parquet written by DuckDB
//       (pid BIGINT, dense_caption VARCHAR; a null caption where the JSON has null)
//   node tests/ref/vocab_embed_ref.js ids TOKENIZER.json CAPTIONS.json MAX_LEN END_ID OUT.json
//       HF token ids per caption, cut to MAX_LEN - 1, END_ID appended (Qwen3-Embedding's input)
//   node tests/ref/vocab_embed_ref.js read FILE.parquet OUT.json
//       [[pid, [embedding...]], ...] as DuckDB reads our output
'use strict';
const path = require('path');
const fs = require('fs');
const NM = path.join(__dirname, '../../tools/npm/node_modules');

async function duck() {
  const { DuckDBInstance } = require(path.join(NM, '@duckdb/node-api'));
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  return inst.connect();
}

async function main() {
  const [cmd, ...a] = process.argv.slice(2);
  if (cmd === 'captions') {
    const rows = JSON.parse(fs.readFileSync(a[1], 'utf8'));
    const con = await duck();
    await con.run('CREATE TABLE t (pid BIGINT, dense_caption VARCHAR)');
    const ins = await con.prepare('INSERT INTO t VALUES ($1, $2)');
    for (const [pid, cap] of rows) {
      ins.bindBigInt(1, BigInt(pid));
      if (cap === null) ins.bindNull(2); else ins.bindVarchar(2, cap);
      await ins.run();
    }
    await con.run(`COPY t TO '${a[0]}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 3)`);
  } else if (cmd === 'ids') {
    const { Tokenizer } = require(path.join(NM, '@anush008/tokenizers'));
    const tok = Tokenizer.fromFile(a[0]);
    const rows = JSON.parse(fs.readFileSync(a[1], 'utf8'));
    const maxLen = parseInt(a[2], 10), end = parseInt(a[3], 10);
    const out = [];
    for (const [, cap] of rows) {
      const ids = cap ? Array.from((await tok.encode(cap, null, { addSpecialTokens: false })).getIds()) : [];
      out.push(ids.slice(0, maxLen - 1).concat([end]));
    }
    fs.writeFileSync(a[4], JSON.stringify(out));
  } else if (cmd === 'read') {
    const con = await duck();
    const r = await con.runAndReadAll(`SELECT pid, embedding FROM read_parquet('${a[0]}')`);
    const out = r.getRowObjectsJson().map(o => [Number(o.pid), o.embedding.map(Number)]);
    fs.writeFileSync(a[1], JSON.stringify(out));
  } else {
    throw new Error('usage: captions|ids|read ...');
  }
}
main().catch(e => { console.error(e); process.exit(1); });
