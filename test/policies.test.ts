import { describe, it, expect } from 'vitest';
import { makePolicy } from './helpers/policy.js';
import {
  createPolicy,
  getPolicySpec,
  parseParamArgs,
  policyNames,
  PolicyError,
  resolvePolicyParams,
  type Policy,
} from '../src/agent/policies/index.js';
import { TradingEnv } from '../src/env/env.js';
import { envConfig } from '../src/env/config.js';
import { BUY, CLOSE, HOLD, SELL, type BarSeries } from '../src/env/types.js';
import { copyBars, randomWalk } from './helpers/series.js';

interface Step {
  t: number;
  side: number;
  action: number;
}

/** Runs `policy` on one episode [start, end) in a 1-lane env and records every decision. */
function trace(policy: Policy, bars: BarSeries, start: number, end: number, episode = 0): Step[] {
  const env = new TradingEnv(bars, null, envConfig(), { batch: 1, observations: false });
  policy.begin(env);
  env.reset(0, start, end, episode);
  policy.resetLane(0, episode, env);
  const out = new Uint8Array(1);
  const steps: Step[] = [];
  while (env.activeCount > 0) {
    void policy.act(null, env.mask, env, out);
    steps.push({ t: env.t[0], side: env.side[0], action: out[0] });
    env.step(out);
  }
  return steps;
}

const sma = (c: Float64Array, t: number, w: number) => {
  let s = 0;
  for (let j = t - w + 1; j <= t; j++) s += c[j];
  return s / w;
};

describe('policy registry', () => {
  it('knows the baselines and declares their tunable parameters', async () => {
    expect(policyNames()).toEqual(expect.arrayContaining(['hold', 'random', 'buy-and-hold', 'ma-crossover', 'mean-reversion']));
    const ma = getPolicySpec('ma-crossover');
    expect(ma.params.map((p) => [p.name, p.type, p.default])).toEqual([
      ['fast', 'int', 10],
      ['slow', 'int', 50],
    ]);
    for (const name of policyNames()) {
      // Numeric parameters of the rule policies are searched over their grids; references (strings) and
      // the search settings of learned policies are not.
      for (const p of getPolicySpec(name).params) {
        if (p.type === 'string' || getPolicySpec(name).resolve || (name === 'linear' && p.name === 'margin')) {
          expect(p.grid).toEqual([]);
          continue;
        }
        expect(p.grid.length).toBeGreaterThan(0);
        for (const g of p.grid) expect(g >= p.min! && g <= p.max!).toBe(true);
      }
    }
    expect(resolvePolicyParams('mean-reversion')).toEqual({ window: 60, entry_z: 2, exit_z: 0.5 });
    expect(resolvePolicyParams('ma-crossover', { fast: '5', slow: 20 })).toEqual({ fast: 5, slow: 20 });
  });

  it('refuses an unknown policy, naming the known ones', async () => {
    await expect(makePolicy('muzero-magic', {}, 0)).rejects.toThrow(PolicyError);
    await expect(makePolicy('muzero-magic', {}, 0)).rejects.toThrow(/unknown policy 'muzero-magic' \(known: hold, random, buy-and-hold, ma-crossover, mean-reversion/);
  });

  it('refuses unknown, malformed, out-of-range and inconsistent parameters with a clear message', async () => {
    await expect(makePolicy('ma-crossover', { fats: 5 }, 0)).rejects.toThrow(/policy 'ma-crossover' has no parameter 'fats' \(its parameters: fast \(int, 1\.\.1000\), slow \(int, 2\.\.5000\)\)/);
    await expect(makePolicy('hold', { x: 1 }, 0)).rejects.toThrow(/has no parameter 'x' \(it takes no parameters\)/);
    await expect(makePolicy('ma-crossover', { fast: 'ten' }, 0)).rejects.toThrow(/fast=ten is not a number/);
    await expect(makePolicy('ma-crossover', { fast: '2.5' }, 0)).rejects.toThrow(/fast=2.5 must be an integer/);
    await expect(makePolicy('random', { p_open: 1.5 }, 0)).rejects.toThrow(/p_open=1.5 is outside \[0, 1\]/);
    await expect(makePolicy('ma-crossover', { fast: 60, slow: 50 }, 0)).rejects.toThrow(/fast \(60\) must be smaller than slow \(50\)/);
    await expect(makePolicy('mean-reversion', { exit_z: 3 }, 0)).rejects.toThrow(/exit_z \(3\) must be smaller than entry_z \(2\)/);
    await expect(makePolicy('ma-crossover', { toString: 1 }, 0)).rejects.toThrow(/has no parameter 'toString'/);
  });

  it('parses --param name=value arguments', async () => {
    expect(parseParamArgs(['fast=5', 'slow = 30 ', 'x=a=b'])).toEqual({ fast: '5', 'slow': ' 30 ', x: 'a=b' });
    expect(() => parseParamArgs(['fast'])).toThrow(/--param 'fast' is not of the form name=value/);
    expect(() => parseParamArgs(['fast=1', 'fast=2'])).toThrow(/--param fast given twice/);
    expect((await makePolicy('ma-crossover', parseParamArgs(['fast=5', 'slow=30']), 0)).params).toEqual({ fast: 5, slow: 30 });
  });
});

describe('baseline policies', () => {
  const bars = randomWalk(3000, 11);

  it('hold never trades', async () => {
    const s = trace((await makePolicy('hold', {}, 0)), bars, 100, 460);
    expect(s.length).toBe(359);
    expect(s.every((x) => x.action === HOLD)).toBe(true);
  });

  it('buy-and-hold buys at the first decision and holds to the end', async () => {
    const s = trace((await makePolicy('buy-and-hold', {}, 0)), bars, 100, 460);
    expect(s[0]).toEqual({ t: 100, side: 0, action: BUY });
    expect(s.slice(1).every((x) => x.action === HOLD && x.side === 1)).toBe(true);
  });

  it('ma-crossover follows the sign of SMA(fast) − SMA(slow) computed independently', async () => {
    const fast = 7;
    const slow = 31;
    const s = trace((await makePolicy('ma-crossover', { fast, slow }, 0)), bars, 1000, 1360);
    let trades = 0;
    for (const x of s) {
      const d = sma(bars.close, x.t, fast) - sma(bars.close, x.t, slow);
      const want = d > 0 ? 1 : -1;
      const expected = x.side === 0 ? (want > 0 ? BUY : SELL) : want !== x.side ? CLOSE : HOLD;
      expect(x.action, `bar ${x.t}`).toBe(expected);
      if (x.action === CLOSE) trades++;
    }
    expect(trades).toBeGreaterThan(3);
  });

  it('ma-crossover holds until `slow` closes exist at the start of the series', async () => {
    const s = trace((await makePolicy('ma-crossover', { fast: 5, slow: 50 }, 0)), bars, 0, 100);
    expect(s.slice(0, 49).every((x) => x.action === HOLD)).toBe(true);
    expect(s[49].action).not.toBe(HOLD); // t = 49: 50 closes available → opens
  });

  it('mean-reversion fades the z-score of the close computed independently', async () => {
    const window = 40;
    const entry = 1.5;
    const exit = 0.3;
    const s = trace((await makePolicy('mean-reversion', { window, entry_z: entry, exit_z: exit }, 0)), bars, 500, 1500);
    const seen = new Set<number>();
    for (const x of s) {
      const mean = sma(bars.close, x.t, window);
      let q = 0;
      for (let j = x.t - window + 1; j <= x.t; j++) q += (bars.close[j] - mean) ** 2;
      const z = (bars.close[x.t] - mean) / Math.sqrt(q / window);
      const expected = x.side === 0 ? (z > entry ? SELL : z < -entry ? BUY : HOLD) : x.side > 0 ? (z >= -exit ? CLOSE : HOLD) : z <= exit ? CLOSE : HOLD;
      expect(x.action, `bar ${x.t} z=${z}`).toBe(expected);
      seen.add(x.action);
    }
    expect([...seen].sort()).toEqual([HOLD, BUY, SELL, CLOSE]);
  });

  it('random is seeded, uniform over legal actions by default, and never illegal', async () => {
    const a = trace((await makePolicy('random', {}, 5)), bars, 0, 3000);
    const b = trace((await makePolicy('random', {}, 5)), bars, 0, 3000);
    const c = trace((await makePolicy('random', {}, 6)), bars, 0, 3000);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const flat = a.filter((x) => x.side === 0);
    const held = a.filter((x) => x.side !== 0);
    const share = (xs: Step[], act: number) => xs.filter((x) => x.action === act).length / xs.length;
    for (const act of [HOLD, BUY, SELL]) {
      expect(share(flat, act)).toBeGreaterThan(0.28);
      expect(share(flat, act)).toBeLessThan(0.39);
    }
    expect(share(held, CLOSE)).toBeGreaterThan(0.44);
    expect(share(held, CLOSE)).toBeLessThan(0.56);
    // Another episode number gives another stream: episodes are seeded by (seed, episode), not by lane.
    expect(trace((await makePolicy('random', {}, 5)), bars, 0, 3000, 1)).not.toEqual(a);
  });

  it('random honours p_open / p_close', async () => {
    const s = trace((await makePolicy('random', { p_open: 0.02, p_close: 0.1 }, 1)), bars, 0, 3000);
    const flat = s.filter((x) => x.side === 0);
    const opens = flat.filter((x) => x.action !== HOLD).length / flat.length;
    expect(opens).toBeGreaterThan(0.01);
    expect(opens).toBeLessThan(0.04);
  });

  it('no baseline looks ahead: changing bars after t changes no decision up to t', async () => {
    const cut = 1200;
    const changed = copyBars(bars);
    const noise = randomWalk(3000, 99, { start: 120 });
    for (let i = cut + 1; i < 3000; i++) {
      changed.open[i] = noise.open[i];
      changed.high[i] = noise.high[i];
      changed.low[i] = noise.low[i];
      changed.close[i] = noise.close[i];
    }
    const specs: Array<[string, Record<string, number>]> = [
      ['ma-crossover', { fast: 3, slow: 20 }],
      ['mean-reversion', { window: 20, entry_z: 1, exit_z: 0.2 }],
      ['random', {}],
      ['buy-and-hold', {}],
    ];
    for (const [name, params] of specs) {
      const a = trace((await makePolicy(name, params, 3)), bars, 1000, 1400);
      const b = trace((await makePolicy(name, params, 3)), changed, 1000, 1400);
      const upTo = (s: Step[]) => s.filter((x) => x.t <= cut);
      expect(upTo(a).length).toBe(cut - 1000 + 1);
      expect(upTo(b), name).toEqual(upTo(a));
      if (name === 'ma-crossover' || name === 'mean-reversion') expect(b, `${name} reacts to the changed future at all`).not.toEqual(a);
    }
  });
});
