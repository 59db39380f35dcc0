#!/usr/bin/env node
// Fixtures for tests/test_bad_inputs.sh that our own writer would refuse to make, written by an
// independent Parquet writer (hyparquet-writer from npm):
//   node tests/ref/bad_tables.cjs dup-embeddings FILE   pid int64 + embedding list<float>, pid 3 twice
const path = require('path');
const { pathToFileURL } = require('url');
const NM = path.join(__dirname, '..', '..', 'tools', 'npm', 'node_modules');

async function dupEmbeddings(file) {
  const { parquetWriteFile } = await import(pathToFileURL(path.join(NM, 'hyparquet-writer/src/node.js')).href);
  const pid = [1n, 2n, 3n, 4n, 3n, 5n, 6n, 7n];
  const emb = pid.map((p, i) => [Math.sin(i + 1), Math.cos(i * 2), (i % 3) - 1, Number(p) / 8]);
  await parquetWriteFile({
    filename: file,
    columnData: [{ name: 'pid', data: pid }, { name: 'embedding', data: emb }],
    schema: [
      { name: 'root', num_children: 2 },
      { name: 'pid', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'embedding', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'FLOAT', repetition_type: 'OPTIONAL' },
    ],
  });
}

const [cmd, file] = process.argv.slice(2);
if (cmd === 'dup-embeddings') dupEmbeddings(file).catch(e => { console.error(e); process.exit(1); });
else { console.error('usage: bad_tables.cjs dup-embeddings FILE'); process.exit(2); }
