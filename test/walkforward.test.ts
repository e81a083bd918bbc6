import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { parseRange } from '../src/data/range.js';
import { envConfigFromConfig } from '../src/env/config.js';
import { loadMarket, type Market } from '../src/env/market.js';
import { Store } from '../src/store/db.js';
import { blockBounds, efficiency, gridPoints, parseGridArgs, walkForward, type WalkForwardOptions } from '../src/validation/walkforward.js';
import { ROOT, swt, tempDir } from './helpers/paths.js';
import { SYN, synthStore } from './helpers/synth-store.js';

const tmp = tempDir('swt-wf-');
let edgeDb = '';
let flatDb = '';
let edge: Market;
let flat: Market;
const config = loadConfig();
const env = envConfigFromConfig(config, SYN);

async function market(db: string): Promise<Market> {
  const store = await Store.open(db);
  try {
    return await loadMarket(store, { instrument: SYN, range: parseRange(), sessionLength: 360, maxGap: 10, sessions: 'all', seed: 1 });
  } finally {
    store.close();
  }
}

beforeAll(async () => {
  // Three months each: the same generator with and without the planted mean-reversion edge.
  edgeDb = await synthStore(tmp.dir, 'edge', { from: '2024-01-01', to: '2024-03-31', seed: 3, edge: true });
  flatDb = await synthStore(tmp.dir, 'flat', { from: '2024-01-01', to: '2024-03-31', seed: 3, edge: false });
  edge = await market(edgeDb);
  flat = await market(flatDb);
}, 120_000);
afterAll(() => tmp.cleanup());

const base: Omit<WalkForwardOptions, 'policy'> = { folds: 4, mode: 'rolling', isRatio: 3, objective: 'net_pips', minTrades: 30, seed: 1 };

describe('walk-forward of mean-reversion over its declared grid', () => {
  it('on the series with the planted edge, picks parameters that keep earning out of sample', async () => {
    const r = await walkForward(edge, env, { ...base, policy: 'mean-reversion' });
    expect(r.grid_points).toBe(4 * 4 * 3);
    expect(r.fold_results).toHaveLength(4);
    for (const f of r.fold_results) {
      expect(f.eligible).toBe(true);
      expect(f.in_sample.net_pips).toBeGreaterThan(0);
    }
    expect(r.oos_net_pips).toBeGreaterThan(0);
    expect(r.positive_oos_folds).toBeGreaterThanOrEqual(3);
    expect(r.oos_annual_return).toBeGreaterThan(0);
    expect(r.efficiency).not.toBeNull();
    expect(r.efficiency!).toBeGreaterThan(0.3);
    // The default parameters lose on this series (a 60-bar window fades moves the OU deviation has
    // not finished): the selection found better ones.
    expect(r.fold_results.every((f) => Number(f.params.window) >= 120)).toBe(true);
  });

  it('on the edge-free series, efficiency is at or below zero: in-sample winners do not carry over', async () => {
    const r = await walkForward(flat, env, { ...base, policy: 'mean-reversion' });
    expect(r.oos_net_pips).toBeLessThan(0);
    expect(r.efficiency).not.toBeNull();
    expect(r.efficiency!).toBeLessThanOrEqual(0.1);
    expect(r.positive_oos_folds).toBeLessThanOrEqual(1);
  });

  it('anchored mode grows the in-sample window from the first session; out-of-sample blocks are the same', async () => {
    const rolling = await walkForward(edge, env, { ...base, policy: 'mean-reversion', grid: { window: [120, 240] }, fixed: { exit_z: 0 } });
    const anchored = await walkForward(edge, env, { ...base, mode: 'anchored', policy: 'mean-reversion', grid: { window: [120, 240] }, fixed: { exit_z: 0 } });
    expect(rolling.grid).toEqual({ window: [120, 240] });
    expect(rolling.fixed).toEqual({ entry_z: 2, exit_z: 0 });
    const E = edge.episodes.start.length;
    const b = blockBounds(E, 4 + 3);
    anchored.fold_results.forEach((f, k) => {
      expect(f.in_sample.sessions).toBe(b[3 + k]);
      expect(f.in_sample.from).toBe(anchored.fold_results[0].in_sample.from);
      const o = rolling.fold_results[k].out_of_sample;
      expect([f.out_of_sample.from, f.out_of_sample.to, f.out_of_sample.sessions]).toEqual([o.from, o.to, o.sessions]);
    });
    rolling.fold_results.forEach((f, k) => {
      expect(f.in_sample.sessions).toBe(b[3 + k] - b[k]);
      expect(f.out_of_sample.sessions).toBe(b[4 + k] - b[3 + k]);
      // Out of sample starts where in sample ends, and folds never share out-of-sample sessions.
      expect(f.out_of_sample.from >= f.in_sample.to).toBe(true);
      if (k > 0) expect(f.out_of_sample.from >= rolling.fold_results[k - 1].out_of_sample.to).toBe(true);
    });
  });

  it('is deterministic', async () => {
    const o = { ...base, policy: 'random', grid: { p_open: [0.01, 0.1] }, minTrades: 5 };
    expect(await walkForward(edge, env, o)).toEqual(await walkForward(edge, env, o));
  });
});

describe('walk-forward inputs', () => {
  it('parses --param-grid and expands the grid, skipping points that violate constraints', async () => {
    expect(parseGridArgs(['fast=5,10,10', 'slow=10,50'])).toEqual({ fast: [5, 10], slow: [10, 50] });
    const g = gridPoints('ma-crossover', { fast: [5, 10], slow: [10, 50] });
    expect(g.points).toEqual([
      { fast: 5, slow: 10 },
      { fast: 5, slow: 50 },
      { fast: 10, slow: 50 },
    ]);
    expect(g.skipped).toBe(1);
  });

  it.each<[string, () => unknown, RegExp]>([
    ['a grid entry without =', () => parseGridArgs(['window']), /not of the form name=v1,v2/],
    ['a non-number value', () => parseGridArgs(['window=10,abc']), /'abc' is not a number/],
    ['an unknown parameter', () => gridPoints('mean-reversion', { windw: [10] }), /has no parameter 'windw' to search \(its parameters: window, entry_z, exit_z\)/],
    ['a value out of range', () => gridPoints('mean-reversion', { window: [1] }), /window=1 is outside \[2, 5000\]/],
    ['a fractional integer', () => gridPoints('mean-reversion', { window: [10.5] }), /window must be an integer/],
    ['a parameter both fixed and searched', () => gridPoints('mean-reversion', { window: [10] }, { window: 20 }), /both fixed/],
    ['too few sessions for the folds', () => walkForward(edge, env, { ...base, policy: 'hold', folds: 500 }), /needs at least 503 sessions, the market has \d+/],
    ['zero folds', () => walkForward(edge, env, { ...base, policy: 'hold', folds: 0 }), /folds must be an integer >= 1/],
  ])('refuses %s', async (_what, fn, msg) => {
    await expect((async () => fn())()).rejects.toThrow(msg);
  });

  it('efficiency divides by |IS| so that losing in and out of sample is negative', async () => {
    expect(efficiency(0.2, 0.4)).toBe(0.5);
    expect(efficiency(-0.2, -0.1)).toBe(-2);
    expect(efficiency(0.1, 0)).toBeNull();
  });
});

describe('swt walkforward', () => {
  it.skipIf(!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js')))('prints the per-fold result as JSON', async () => {
    const r = await swt(['walkforward', '--db', edgeDb, '--policy', 'mean-reversion', '--param-grid', 'window=120,240', '--param', 'exit_z=0', '--folds', '3', '--mode', 'anchored', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.instrument).toBe(SYN);
    expect(j.mode).toBe('anchored');
    expect(j.fold_results).toHaveLength(3);
    expect(j.grid).toEqual({ window: [120, 240] });
    expect(j.oos_net_pips).toBeGreaterThan(0);
    const bad = await swt(['walkforward', '--db', edgeDb, '--policy', 'mean-reversion', '--param-grid', 'windw=1,2']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/swt: error: policy 'mean-reversion' has no parameter 'windw'/);
  });
});
