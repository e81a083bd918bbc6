// Small synthetic stores for validation tests: `swt data synth` + `swt data sessions` done in process.
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { weekCalendar } from '../../src/data/calendar.js';
import { importFiles } from '../../src/data/import.js';
import { indexSessions } from '../../src/data/sessions.js';
import { writeSynthCsv } from '../../src/data/synth.js';
import { Store } from '../../src/store/db.js';

export const SYN = 'SYN_GBPJPY';

/** Writes `dir/<name>.duckdb` holding synthetic bars (with or without the planted edge) and their session index. */
export async function synthStore(dir: string, name: string, opts: { from: string; to: string; seed: number; edge: boolean }): Promise<string> {
  const config = loadConfig();
  const csv = path.join(dir, `${name}.csv`);
  writeSynthCsv(csv, { from: opts.from, to: opts.to, seed: opts.seed, startPrice: 150, pipSize: 0.01, calendar: weekCalendar(config), edge: opts.edge });
  const db = path.join(dir, `${name}.duckdb`);
  const store = await Store.open(db);
  try {
    await importFiles(store, [csv], { instrument: SYN, format: 'csv' });
    await indexSessions(store, config, SYN, config.data.session_length, config.data.max_gap_minutes);
  } finally {
    store.close();
  }
  return db;
}
