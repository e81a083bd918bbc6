// `swt validate --watch`: beside a training run, every new best checkpoint (by evaluation SQN) is
// validated as it appears, and only those; the watcher holds the store only while it looks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { configHash } from '../src/config/load.js';
import { Store } from '../src/store/db.js';
import { saveAndRecord, featureSetObservation, hyperparametersHash } from '../src/agent/checkpoints/registry.js';
import { initWeights, networkSpecFromConfig } from '../src/agent/network/spec.js';
import { ROOT, swt, tempDir } from './helpers/paths.js';
import { spawnSwt } from './helpers/processes.js';
import { SYN, synthStore } from './helpers/synth-store.js';

const BUILT = existsSync(path.join(ROOT, 'dist', 'workers', 'validate.js'));
const tmp = tempDir('swt-watch-');
afterAll(() => tmp.cleanup());
const ckDir = path.join(tmp.dir, 'checkpoints');
const env = { SWT_CHECKPOINTS__DIR: ckDir };
let db = '';

beforeAll(async () => {
  if (!BUILT) return;
  db = await synthStore(tmp.dir, 'watch', { from: '2024-01-01', to: '2024-01-31', seed: 4, edge: true });
  const r = await swt(['features', 'build', '--instrument', SYN, '--db', db]);
  expect(r.status, r.stderr).toBe(0);
}, 120_000);

/** A checkpoint of the configured network whose evaluation says `sqn` (what training records). */
async function record(seed: number, sqn: number): Promise<string> {
  const config = loadConfig({ overrides: { 'checkpoints.dir': ckDir } });
  const fs = featureSetObservation(config, config.features.default_set);
  const spec = networkSpecFromConfig(config, fs.obsDim);
  // The watcher holds the file while it looks: wait for it as any other process would.
  const store = await Store.open(db, { hold: 'unit', lockWaitMs: 60_000 });
  try {
    const { meta } = await saveAndRecord(store, config, {
      spec,
      weights: initWeights(spec, seed),
      optimizer: null,
      rng: {},
      featureSet: { name: fs.name, hash: fs.hash },
      configHash: configHash(config),
      hyperparametersHash: hyperparametersHash(config),
      gitCommit: null,
      parent: null,
      episodes: 0,
      trainingSteps: 0,
      evaluation: { sqn, trades: 10, expectancy: 0 },
      backend: 'none',
    });
    return meta.id;
  } finally {
    store.close();
  }
}

describe.skipIf(!BUILT)('swt validate --watch', () => {
  it('validates each new best checkpoint as it appears, and not one that is worse', async () => {
    const first = await record(3, 0.5);
    const watcher = spawnSwt(
      ['validate', '--watch', '--policy', 'muzero', '--db', db, '--sessions', '6', '--scenarios', 'none', '--no-report', '--interval', '0.2', '--max-validations', '2'],
      { env },
    );
    await watcher.waitFor(new RegExp(`new best checkpoint ${first}:`), 120_000);
    const worse = await record(4, 0.1); // not a new best: never validated
    const better = await record(5, 2.0);
    const done = await watcher.done;
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toContain(`new best checkpoint ${better}:`);
    expect(done.stdout).not.toContain(worse);
    const store = await Store.open(db, { lockWaitMs: 60_000 });
    try {
      const rows = await store.all<{ params: string }>("SELECT params FROM validations WHERE policy = 'muzero' ORDER BY id");
      expect(rows.map((r) => JSON.parse(r.params).checkpoint)).toEqual([first, better]);
    } finally {
      store.close();
    }
  }, 300_000);

  it('refuses a rule policy: only learned policies have checkpoints to watch', async () => {
    const r = await swt(['validate', '--watch', '--policy', 'ma-crossover', '--db', db, '--max-validations', '1'], { env });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--watch validates new checkpoints: give a learned policy/);
  });
});
