// The small store the training-loop tests share: synthetic bars with the planted edge (2022-01-03..12),
// sessions of 60 bars, the default feature set built; and a read of the store's tables.
import { loadConfig } from '../../src/config/load.js';
import { indexSessions } from '../../src/data/sessions.js';
import { runFeatureBuild } from '../../src/app/features.js';
import { Store } from '../../src/store/db.js';
import { SYN, synthStore } from './synth-store.js';

export async function trainStore(dir: string): Promise<string> {
  const base = await synthStore(dir, 'base', { from: '2022-01-03', to: '2022-01-12', seed: 4, edge: true });
  const config = loadConfig({ overrides: { 'data.session_length': 60 } });
  const store = await Store.open(base);
  try {
    await indexSessions(store, config, SYN, 60, config.data.max_gap_minutes);
    await runFeatureBuild(store, config, SYN, 'default', { quiet: true });
  } finally {
    store.close();
  }
  return base;
}

export async function query<T extends Record<string, unknown>>(db: string, sql: string): Promise<T[]> {
  const store = await Store.open(db);
  try {
    return await store.all<T>(sql);
  } finally {
    store.close();
  }
}
