// A process that holds a store file, for the multi-process tests: `node hold-store.mjs DB [--for-ms N] [--raw]`.
// It opens the store (through swt's Store, which writes the holder record; with --raw through plain
// DuckDB, which leaves none), prints "held PID" on stdout, and keeps the file until --for-ms passes or
// it is sent SIGTERM. Runs the built dist/ like the CLI tests do.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const [db, ...rest] = process.argv.slice(2);
const forMs = rest.includes('--for-ms') ? Number(rest[rest.indexOf('--for-ms') + 1]) : Infinity;
let close;
if (rest.includes('--raw')) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(db);
  const conn = await instance.connect();
  await conn.run('SELECT 1');
  close = () => {
    conn.closeSync();
    instance.closeSync();
  };
} else {
  const { Store } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'store', 'db.js')).href);
  const store = await Store.open(db);
  close = () => store.close();
}
process.stdout.write(`held ${process.pid}\n`);
const done = () => {
  close();
  process.exit(0);
};
process.on('SIGTERM', done);
// keeps the event loop alive (an infinite timeout would fire at once)
if (Number.isFinite(forMs)) setTimeout(done, forMs);
else setInterval(() => undefined, 60_000);
