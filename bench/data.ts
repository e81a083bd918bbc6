// Data pipeline benchmark on the 1.3-million-bar synthetic series: import (file → DuckDB, including
// hashing, parsing, validation and writes), quality check, session index. Medians of RUNS runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Store } from '../src/store/db.js';
import { loadConfig } from '../src/config/load.js';
import { writeSynthCsv } from '../src/data/synth.js';
import { weekCalendar } from '../src/data/calendar.js';
import { importFiles } from '../src/data/import.js';
import { qualityReport } from '../src/data/quality.js';
import { indexSessions } from '../src/data/sessions.js';
import { median, report, reportCores } from './util.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const config = loadConfig();
const dir = mkdtempSync(path.join(tmpdir(), 'swt-bench-data-'));
try {
  const file = path.join(dir, 'syn.csv');
  const t0 = performance.now();
  const summary = writeSynthCsv(file, { from: config.synth.from, to: config.synth.to, seed: 1, startPrice: 150, pipSize: 0.01, calendar: weekCalendar(config) });
  report('synth_seconds', (performance.now() - t0) / 1000);
  report('bars', summary.bars, 0);
  const imp: number[] = [];
  const chk: number[] = [];
  const ses: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const db = path.join(dir, `bench-${run}.duckdb`);
    const store = await Store.open(db);
    let t = performance.now();
    const [r] = await importFiles(store, [file], { instrument: 'SYN_GBPJPY', format: 'csv' });
    imp.push(r.rows_accepted / ((performance.now() - t) / 1000));
    t = performance.now();
    const q = await qualityReport(store, config, 'SYN_GBPJPY', { from: null, to: null });
    chk.push((performance.now() - t) / 1000);
    if (q.verdict !== 'PASS') throw new Error(`synthetic data did not PASS: ${q.reasons.join('; ')}`);
    t = performance.now();
    await indexSessions(store, config, 'SYN_GBPJPY', 360, 10);
    ses.push((performance.now() - t) / 1000);
    store.close();
    process.stderr.write(`run ${run + 1}/${RUNS}: import ${imp[run].toFixed(0)} bars/s, check ${chk[run].toFixed(2)} s, sessions ${ses[run].toFixed(2)} s\n`);
  }
  report('import_bars_per_s', median(imp), 0);
  report('check_seconds', median(chk));
  report('sessions_seconds', median(ses));
  reportCores();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
