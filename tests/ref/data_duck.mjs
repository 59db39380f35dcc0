// Runs SQL statements through DuckDB (npm @duckdb/node-api), the independent reader of our
// Parquet/JSONL files in tests/test_data.sh. Prints each statement's rows as one JSON line.
//   node tests/ref/data_duck.mjs "SELECT ..." ["COPY ..."] ...
import { createRequire } from 'module';
import path from 'path';
import { fileURLToPath } from 'url';
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tools/npm/node_modules/'));
const { DuckDBInstance } = require('@duckdb/node-api');
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
for (const sql of process.argv.slice(2)) {
  const r = await con.runAndReadAll(sql);
  const rows = r.getRows().map(row => row.map(v => (typeof v === 'bigint' ? Number(v) : v === null ? null : typeof v === 'object' ? String(v) : v)));
  console.log(JSON.stringify(rows));
}
