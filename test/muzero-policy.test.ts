// The `muzero` policy: a checkpoint (here a randomly initialised one) served by ONNX Runtime and the
// native search, run through the same CLI as every other policy, on the real 2016 data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { HAS_SHARED, ROOT, SHARED, swt, tempDir } from './helpers/paths.js';
import { Store } from '../src/store/db.js';

const BUILT = existsSync(path.join(ROOT, 'dist', 'workers', 'validate.js'));
const t = tempDir('swt-muzero-');
afterAll(t.cleanup);
const db = path.join(t.dir, 'mz.duckdb');
const env = { SWT_CHECKPOINTS__DIR: path.join(t.dir, 'checkpoints') };
const run = (args: string[]) => swt([...args, '--db', db], { env });
let ckpt = '';

beforeAll(async () => {
  if (!HAS_SHARED || !BUILT) return;
  expect((await run(['data', 'import', path.join(SHARED, 'data', 'GBPJPY_M1_20160422_20160624.csv.gz'), '--instrument', 'GBP_JPY', '--format', 'csv'])).status).toBe(0);
  expect((await run(['data', 'sessions', '--instrument', 'GBP_JPY'])).status).toBe(0);
  expect((await run(['features', 'build', '--instrument', 'GBP_JPY'])).status).toBe(0);
  const init = await run(['checkpoints', 'init', '--seed', '3', '--json']);
  expect(init.status, init.stderr).toBe(0);
  ckpt = (JSON.parse(init.stdout) as { id: string }).id;
}, 240_000);

describe.skipIf(!HAS_SHARED || !BUILT)('the muzero policy', () => {
  it('backtests a checkpoint on the 2016 data; the run records the checkpoint id that `latest` named', async () => {
    const r = await run(['backtest', '--policy', 'muzero', '--param', 'checkpoint=latest', '--instrument', 'GBP_JPY', '--sessions', '12', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { run: { run_id: string; params: Record<string, unknown>; feature_set: string; metrics: { actions: { decisions: number } } } };
    expect(out.run.params).toEqual({ checkpoint: ckpt, simulations: 15, temperature: 0 });
    expect(out.run.feature_set).toBe('default');
    expect(out.run.metrics.actions.decisions).toBe(12 * 359);
    const store = await Store.open(db);
    try {
      const row = await store.one<{ params: string }>('SELECT params FROM runs WHERE run_id = $1', [out.run.run_id]);
      expect(JSON.parse(row!.params).checkpoint).toBe(ckpt);
    } finally {
      store.close();
    }
    // The same checkpoint by id gives the same trades (the search is seeded per decision).
    const again = JSON.parse((await run(['backtest', '--policy', 'muzero', '--param', `checkpoint=${ckpt}`, '--instrument', 'GBP_JPY', '--sessions', '12', '--json'])).stdout);
    expect(again.run.metrics).toEqual(out.run.metrics);
  }, 180_000);

  it('validates with 1 and 2 workers (each opens its own ONNX session) to identical results', async () => {
    const args = ['validate', '--policy', `muzero:checkpoint=${ckpt}`, '--policy', `muzero:checkpoint=${ckpt},simulations=8`, '--sessions', '12', '--scenarios', 'none', '--no-report', '--json'];
    const one = await run([...args, '--workers', '1']);
    const two = await run([...args, '--workers', '2']);
    expect(one.status, one.stderr).toBe(0);
    expect(two.status, two.stderr).toBe(0);
    const strip = (s: string) => (JSON.parse(s) as { validations: Array<{ result: Record<string, unknown> }> }).validations.map((v) => ({ ...v.result, timings: null }));
    expect(strip(two.stdout)).toEqual(strip(one.stdout));
  }, 300_000);

  it('refuses an unknown checkpoint with exit code 2', async () => {
    const bad = await run(['backtest', '--policy', 'muzero', '--param', 'checkpoint=nope', '--instrument', 'GBP_JPY', '--sessions', '1']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/no checkpoint "nope"/);
  });
});
