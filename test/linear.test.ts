// `linear`: a ridge regression of the next-horizon move on the observed features, fitted in sample.
// It must recover a relation that is there, find the planted edge out of sample after costs, and find
// nothing on a series that has none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fitLinear, ridgeSolve } from '../src/agent/policies/linear.js';
import type { FitSample } from '../src/agent/policies/types.js';
import { ROOT, swt, tempDir } from './helpers/paths.js';
import { synthStore, SYN } from './helpers/synth-store.js';
import { makePolicy } from './helpers/policy.js';
import { envConfig } from '../src/env/config.js';

describe('ridge regression', () => {
  it('solves (A + λI) w = b', () => {
    // A = [[4, 1], [1, 3]], λ = 1 → [[5, 1], [1, 4]] w = [1, 2] → w = [2/19, 9/19].
    const w = ridgeSolve(Float64Array.of(4, 1, 1, 3), Float64Array.of(1, 2), 2, 1);
    expect(w[0]).toBeCloseTo(2 / 19, 14);
    expect(w[1]).toBeCloseTo(9 / 19, 14);
  });

  it('recovers a planted linear relation of the move on a feature, and gives a constant feature no weight', () => {
    // Closes follow a walk whose next-bar move is 0.5 pip · feature 0; feature 1 is noise, feature 2 constant.
    const n = 4000;
    const close = new Float64Array(n);
    const data = new Float32Array(n * 3);
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    close[0] = 150;
    for (let t = 0; t < n; t++) {
      data[t * 3] = Math.fround(rnd());
      data[t * 3 + 1] = Math.fround(rnd());
      data[t * 3 + 2] = 1;
      if (t + 1 < n) close[t + 1] = close[t] + 0.01 * 0.5 * data[t * 3];
    }
    const bars = { ts: Float64Array.from({ length: n }, (_, i) => i * 60_000), open: close, high: close, low: close, close };
    const sample: FitSample = { bars, features: { data, nFeatures: 3 }, episodes: { start: Int32Array.of(0), end: Int32Array.of(n) } };
    const m = fitLinear(sample, 1, 1, 0, 100);
    expect(m.rows).toBe(n - 1);
    // Standardised weight = 0.5 pip · sd(feature 0); on the original scale 0.5 pip per unit of feature 0.
    expect(m.weights[0] * m.invSd[0]).toBeCloseTo(0.5, 6);
    expect(Math.abs(m.weights[1] * m.invSd[1])).toBeLessThan(1e-6);
    expect(m.weights[2]).toBe(0);
  });

  it('refuses to run without a fit sample, and on too few rows', async () => {
    await expect(makePolicy('linear')).rejects.toThrow(/fitted on in-sample data before it trades/);
    const bars = { ts: Float64Array.of(0, 1, 2), open: Float64Array.of(1, 1, 1), high: Float64Array.of(1, 1, 1), low: Float64Array.of(1, 1, 1), close: Float64Array.of(1, 1, 1) };
    const fit: FitSample = { bars, features: { data: new Float32Array(9), nFeatures: 3 }, episodes: { start: Int32Array.of(0), end: Int32Array.of(3) } };
    await expect(makePolicy('linear', { horizon: 1 }, 0, envConfig(), fit)).rejects.toThrow(/the fit sample has 2 rows for 3 features/);
  });
});

const BUILT = existsSync(path.join(ROOT, 'dist', 'workers', 'validate.js'));
const tmp = tempDir('swt-linear-');
let edgeDb = '';
let flatDb = '';
afterAll(() => tmp.cleanup());

beforeAll(async () => {
  if (!BUILT) return;
  edgeDb = await synthStore(tmp.dir, 'edge', { from: '2024-01-01', to: '2024-06-30', seed: 5, edge: true });
  flatDb = await synthStore(tmp.dir, 'flat', { from: '2024-01-01', to: '2024-06-30', seed: 5, edge: false });
  for (const db of [edgeDb, flatDb]) {
    const r = await swt(['features', 'build', '--instrument', SYN, '--db', db]);
    expect(r.status, r.stderr).toBe(0);
  }
}, 240_000);

type Validation = { result: { metrics: Record<string, unknown>; grade: { letter: string; recommendation: string }; walkforward: { efficiency: number | null; oos_net_pips: number } | null; provenance: Record<string, unknown> } };

async function validate(db: string, extra: string[]): Promise<Validation[]> {
  const r = await swt(['validate', '--db', db, '--from', '2024-03-01', '--no-report', '--json', ...extra]);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { validations: Validation[] }).validations;
}

const netPips = (m: Record<string, unknown>) => Number(m.net_pips ?? m.netPips);

describe.skipIf(!BUILT)('linear on the synthetic series', () => {
  it('finds the planted edge: fitted before March, it earns after costs from March on, and walk-forward keeps > 0.3 of it', async () => {
    const [v] = await validate(edgeDb, ['--policy', 'linear', '--walk-forward']);
    expect(Number(v.result.metrics.trades)).toBeGreaterThan(100);
    expect(netPips(v.result.metrics)).toBeGreaterThan(0);
    expect(v.result.walkforward!.oos_net_pips).toBeGreaterThan(0);
    expect(v.result.walkforward!.efficiency!).toBeGreaterThan(0.3);
  }, 300_000);

  it('finds nothing where there is nothing: REJECT on the edge-free series', async () => {
    const [v] = await validate(flatDb, ['--policy', 'linear']);
    expect(v.result.grade.recommendation).toBe('REJECT');
  }, 300_000);

  it('validates with 1 and 2 workers to identical results (features shared with the workers)', async () => {
    const args = ['--policy', 'linear:horizon=15', '--policy', 'linear:horizon=60,margin=2', '--policy', 'mean-reversion:window=240,entry_z=1.5,exit_z=0'];
    const strip = (vs: Validation[]) => vs.map((v) => ({ ...v.result, timings: null }));
    const one = strip((await validate(edgeDb, [...args, '--workers', '1'])));
    const two = strip((await validate(edgeDb, [...args, '--workers', '2'])));
    expect(two).toEqual(one);
    expect(new Set(one.map((r) => JSON.stringify(r.metrics))).size).toBe(3);
  }, 300_000);
});
