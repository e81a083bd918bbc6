// `swt walkforward --policy muzero|ppo --train-preset P`: on each fold the agent is trained, by the
// policy's own learner, on that fold's in-sample range only, and the checkpoint it trained is tested on
// the out-of-sample part that follows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT, swt, tempDir } from './helpers/paths.js';
import { SYN, synthStore } from './helpers/synth-store.js';
import { Store } from '../src/store/db.js';

const BUILT = existsSync(path.join(ROOT, 'dist', 'workers', 'validate.js'));
const tmp = tempDir('swt-wf-train-');
afterAll(() => tmp.cleanup());
const env = { SWT_CHECKPOINTS__DIR: path.join(tmp.dir, 'checkpoints') };
let db = '';

beforeAll(async () => {
  if (!BUILT) return;
  db = await synthStore(tmp.dir, 'wf', { from: '2024-01-01', to: '2024-01-31', seed: 6, edge: true });
  expect((await swt(['features', 'build', '--instrument', SYN, '--db', db])).status).toBe(0);
}, 120_000);

describe.skipIf(!BUILT)('walk-forward with retraining', () => {
  // A ppo policy played from a MuZero checkpoint would be refused (wrong family): exit 0 means the
  // folds were trained by the ppo learner.
  it.each(['muzero', 'ppo'])('%s: trains one agent per fold on its in-sample range and tests that checkpoint out of sample', async (policy) => {
    const before = await countRuns();
    const r = await swt(['walkforward', '--policy', policy, '--train-preset', 'test', '--train-episodes', '32', '--folds', '2', '--is-ratio', '2', '--min-trades', '1', '--db', db, '--json'], { env, timeout: 600_000 });
    expect(r.status, r.stderr).toBe(0);
    const wf = JSON.parse(r.stdout) as { fold_results: Array<{ params: { checkpoint: string }; in_sample: { to: string }; out_of_sample: { from: string } }> };
    expect(wf.fold_results).toHaveLength(2);
    const [a, b] = wf.fold_results;
    expect(a.params.checkpoint).not.toBe(b.params.checkpoint);
    // each fold's agent is played with the search its training evaluated it with (the test preset: 4)
    if (policy === 'muzero') for (const f of wf.fold_results) expect(f.params).toMatchObject({ simulations: 4 });
    const store = await Store.open(db);
    try {
      const runs = (await store.all<{ range_to: string }>("SELECT strftime(range_to::TIMESTAMP, '%Y-%m-%dT%H:%M:%SZ') AS range_to FROM training_runs ORDER BY started_at")).slice(before);
      expect(runs).toHaveLength(2);
      // Each agent trained on data that ends where its out-of-sample test begins: no look-ahead.
      runs.forEach((run, i) => expect(Date.parse(run.range_to)).toBeLessThanOrEqual(Date.parse(wf.fold_results[i].out_of_sample.from)));
    } finally {
      store.close();
    }
  }, 600_000);

  async function countRuns(): Promise<number> {
    const store = await Store.open(db);
    try {
      return (await store.all('SELECT run_id FROM training_runs')).length;
    } finally {
      store.close();
    }
  }

  it('refuses --train-preset for a rule policy', async () => {
    const r = await swt(['walkforward', '--policy', 'ma-crossover', '--train-preset', 'test', '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/retrains a learned policy/);
  });
});
