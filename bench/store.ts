// What giving the store file back costs. A store in `unit` mode closes its DuckDB instance whenever
// nothing runs and opens it again for the next statement, so long-running processes pay one open and
// one close (with its checkpoint) per unit of work. Measured on a store holding 6 months of synthetic
// bars and their default feature set (about 190,000 rows of 71 columns): the open and close of an
// idle instance, the close right after a committed chunk, and the feature build with and without
// releases between chunks. Medians of RUNS runs.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Store } from '../src/store/db.js';
import { loadConfig } from '../src/config/load.js';
import { writeSynthCsv } from '../src/data/synth.js';
import { weekCalendar } from '../src/data/calendar.js';
import { importFiles } from '../src/data/import.js';
import { buildFeatures, dropFeatureSet } from '../src/features/store.js';
import { median, report, reportCores } from './util.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const REOPENS = 20;
const CHUNK = 4096;
const config = loadConfig();
const dir = mkdtempSync(path.join(tmpdir(), 'swt-bench-store-'));
const ms = (t: number) => performance.now() - t;
try {
  const csv = path.join(dir, 'syn.csv');
  writeSynthCsv(csv, { from: '2024-01-01', to: '2024-06-30', seed: 1, startPrice: 150, pipSize: 0.01, calendar: weekCalendar(config) });
  const db = path.join(dir, 'bench.duckdb');
  const setup = await Store.open(db);
  await importFiles(setup, [csv], { instrument: 'SYN_GBPJPY', format: 'csv' });
  const full = await buildFeatures(setup, config, { instrument: 'SYN_GBPJPY', set: 'default' });
  setup.close();
  report('bars', full.rows_added, 0);

  // The DuckDB instance alone: open + connect, and close, on the populated file.
  const open: number[] = [];
  const close: number[] = [];
  for (let i = 0; i < REOPENS; i++) {
    let t = performance.now();
    const inst = await DuckDBInstance.create(db);
    const conn = await inst.connect();
    await conn.run('SELECT 1');
    open.push(ms(t));
    t = performance.now();
    conn.closeSync();
    inst.closeSync();
    close.push(ms(t));
  }
  report('open_ms', median(open));
  report('close_ms', median(close));

  // Through Store in unit mode: one statement = open, statement, holder record, close.
  const unit = await Store.open(db, { hold: 'unit' });
  const stmt: number[] = [];
  for (let i = 0; i < REOPENS; i++) {
    const t = performance.now();
    await unit.one('SELECT count(*) FROM bars');
    stmt.push(ms(t));
  }
  report('unit_statement_ms', median(stmt));
  unit.close();
  // A chunk of feature rows written on a held store, and on a released one (open, write, close with
  // its checkpoint of the chunk).
  const insert = `INSERT INTO features_default SELECT * FROM features_default LIMIT ${CHUNK}`;
  for (const hold of ['run', 'unit'] as const) {
    const s = await Store.open(db, { hold });
    const t: number[] = [];
    for (let i = 0; i < REOPENS; i++) {
      const t0 = performance.now();
      await s.run(insert);
      t.push(ms(t0));
    }
    s.close();
    report(`write_chunk${CHUNK}_ms_${hold === 'run' ? 'held' : 'released'}`, median(t));
  }

  // The feature build in CHUNK-row chunks, holding the file throughout vs giving it back between chunks.
  const rate = { run: [] as number[], unit: [] as number[] };
  for (let r = 0; r < RUNS; r++) {
    for (const hold of ['run', 'unit'] as const) {
      const copy = path.join(dir, `copy-${hold}.duckdb`);
      copyFileSync(db, copy);
      const s = await Store.open(copy, { hold });
      await dropFeatureSet(s, 'default');
      const b = await buildFeatures(s, config, { instrument: 'SYN_GBPJPY', set: 'default', chunkRows: CHUNK });
      rate[hold].push(b.rows_per_s);
      process.stderr.write(`run ${r + 1}/${RUNS} hold=${hold}: ${b.rows_per_s} rows/s, ${s.opens} opens\n`);
      s.close();
      rmSync(copy, { force: true });
      rmSync(`${copy}.wal`, { force: true });
    }
  }
  report(`build_rows_per_s_chunk${CHUNK}_held`, median(rate.run), 0);
  report(`build_rows_per_s_chunk${CHUNK}_released`, median(rate.unit), 0);
  reportCores();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
