import { describe, it, expect } from 'vitest';
import { TradingEnv } from '../src/env/env.js';
import { envConfig, envConfigFromConfig, type EnvConfigInput } from '../src/env/config.js';
import { BUY, CLOSE, EnvInputError, HOLD, SELL, type BarSeries, type FeatureMatrix } from '../src/env/types.js';
import { TRADE_STATE_SIZE, markTrade, openTrade, writePositionFeatures } from '../src/features/position.js';
import { loadConfig } from '../src/config/load.js';
import { barsFrom, flatRows, MIN, T0 } from './helpers/series.js';

// Six bars (GBP_JPY prices, pip 0.01). Comments give each bar relative to 150.10, the entry of a BUY at t = 0.
const SIX = barsFrom([
  [150.0, 150.05, 149.95, 150.0], // 0
  [150.1, 150.2, 150.0, 150.15], // 1: h +10, l −10, c +5
  [150.15, 150.3, 150.1, 150.25], // 2: h +20, l 0,  c +15
  [150.2, 150.22, 149.9, 149.95], // 3: h +12, l −20, c −15
  [150.05, 150.1, 150.0, 150.08], // 4: o −5
  [150.08, 150.12, 150.02, 150.1], // 5: c 0
]);

function env1(bars: BarSeries = SIX, cfg: EnvConfigInput = {}, features: FeatureMatrix | null = null, observations = false): TradingEnv {
  const e = new TradingEnv(bars, features, envConfig(cfg), { batch: 1, observations });
  e.reset(0, 0, bars.ts.length, 0);
  return e;
}

/** Plays a script of actions on lane 0; returns the rewards of each step. */
function play(e: TradingEnv, actions: number[]): number[] {
  const rewards: number[] = [];
  for (const a of actions) {
    e.step([a]);
    rewards.push(e.reward[0]);
  }
  return rewards;
}

describe('environment rules', () => {
  it('an episode of L bars has L − 1 decisions; the step into the last bar ends it', () => {
    const e = env1();
    const done: number[] = [];
    for (let k = 0; k < 5; k++) {
      expect(e.t[0]).toBe(k);
      e.step([HOLD]);
      done.push(e.done[0]);
    }
    expect(done).toEqual([0, 0, 0, 0, 1]);
    expect(e.active[0]).toBe(0);
    expect(e.activeCount).toBe(0);
    expect(e.steps).toBe(5);
    expect(e.trades.count).toBe(0);
  });

  it('fills a decision at bar t at the open of bar t + 1 and charges half the spread at each side', () => {
    const e = env1();
    play(e, [BUY, HOLD, HOLD, CLOSE, HOLD]);
    expect(e.trades.count).toBe(1);
    const tr = e.trades.record(0);
    expect(tr).toMatchObject({ side: 'long', entryIndex: 1, exitIndex: 4, entryTs: T0 + MIN, exitTs: T0 + 4 * MIN, entryPrice: 150.1, exitPrice: 150.05, forced: false, costPips: 4, barsHeld: 3 });
    expect(tr.grossPips).toBeCloseTo(-5, 9);
    expect(tr.netPips).toBeCloseTo(-9, 9); // −5 − 2 (entry half) − 2 (exit half)
    expect(tr.maePips).toBeCloseTo(20, 9);
    expect(tr.mfePips).toBeCloseTo(20, 9);
    // Right after the entry bar the marked equity already counts both half-spreads: +5 − 4.
    const e2 = env1();
    e2.step([BUY]);
    const pf = e2.positionFeatures(0);
    expect(pf[0]).toBeCloseTo((2 / Math.PI) * Math.atan(1 / 150), 6);
  });

  it('the end of a session force-closes in a backtest and only truncates in training (no close, no cost, the position stays open)', () => {
    const closing = env1();
    const r1 = play(closing, [BUY, HOLD, HOLD, HOLD, HOLD]);
    expect(closing.trades.count).toBe(1);
    expect(closing.trades.record(0)).toMatchObject({ forced: true, exitIndex: 5, exitTs: T0 + 6 * MIN, exitPrice: 150.1 });
    const truncating = new TradingEnv(SIX, null, envConfig(), { batch: 1, observations: false, sessionEnd: 'truncate' });
    truncating.reset(0, 0, 6, 0);
    const r2 = play(truncating, [BUY, HOLD, HOLD, HOLD, HOLD]);
    expect(truncating.trades.count).toBe(0);
    expect(truncating.done[0]).toBe(1);
    expect(truncating.side[0]).toBe(1); // still long: training bootstraps from this state
    expect(r2.slice(0, 4)).toEqual(r1.slice(0, 4));
    expect(r2[4]).toBe(0); // amddp pays nothing without a close
    expect(r1[4]).toBeCloseTo(closing.trades.record(0).netPips - 0.01 * closing.trades.record(0).maePips, 12);
    expect(() => new TradingEnv(SIX, null, envConfig(), { batch: 1, sessionEnd: 'stop' as never })).toThrow(/sessionEnd must be 'close' or 'truncate'/);
  });

  it('a round trip at an unchanged price loses exactly the spread; the spread comes from the instrument', () => {
    const flat = barsFrom(flatRows(4, 1.1));
    const eur = envConfigFromConfig(loadConfig({ env: {} }), 'EUR_USD');
    expect(eur.pipSize).toBe(0.0001);
    expect(eur.spreadPips).toBe(1.2);
    const e = new TradingEnv(flat, null, eur, { batch: 1, observations: false });
    e.reset(0, 0, 4, 0);
    play(e, [SELL, CLOSE, HOLD]);
    expect(e.trades.record(0).grossPips).toBe(0);
    expect(e.trades.record(0).netPips).toBeCloseTo(-1.2, 12);
    expect(() => envConfigFromConfig(loadConfig({ env: {} }), 'XAU_XXX')).toThrow(/unknown instrument 'XAU_XXX'.*GBP_JPY/);
  });

  it('closes a position still open at the end at the last close and marks it forced', () => {
    const e = env1();
    const r = play(e, [BUY, HOLD, HOLD, HOLD, HOLD]);
    const tr = e.trades.record(0);
    expect(tr).toMatchObject({ entryIndex: 1, exitIndex: 5, exitPrice: 150.1, exitTs: T0 + 5 * MIN + MIN, forced: true, barsHeld: 5 });
    expect(tr.grossPips).toBeCloseTo(0, 9);
    expect(tr.netPips).toBeCloseTo(-4, 9);
    expect(tr.maePips).toBeCloseTo(20, 9);
    expect(r.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(r[4]).toBeCloseTo(-4 - 0.01 * 20, 9);
    expect(e.done[0]).toBe(1);
  });

  it('a position opened by the last decision is held one bar and force-closed', () => {
    const e = env1();
    play(e, [HOLD, HOLD, HOLD, HOLD, SELL]);
    const tr = e.trades.record(0);
    expect(tr).toMatchObject({ side: 'short', entryIndex: 5, entryPrice: 150.08, exitIndex: 5, exitPrice: 150.1, forced: true, barsHeld: 1 });
    expect(tr.netPips).toBeCloseTo(-2 - 4, 9);
    expect(tr.maePips).toBeCloseTo(4, 9); // high 150.12 against a short from 150.08
    expect(tr.mfePips).toBeCloseTo(6, 9); // low 150.02
  });

  it('a CLOSE at the last decision fills at the last open; nothing is forced', () => {
    const e = env1();
    play(e, [BUY, HOLD, HOLD, HOLD, CLOSE]);
    const tr = e.trades.record(0);
    expect(tr).toMatchObject({ exitIndex: 5, exitPrice: 150.08, forced: false, barsHeld: 4 });
    expect(e.trades.count).toBe(1);
  });

  it('exposes the legal-action mask and refuses illegal actions with a clear error', () => {
    const e = env1();
    expect([...e.mask]).toEqual([1, 1, 1, 0]); // flat: HOLD BUY SELL
    e.step([BUY]);
    expect([...e.mask]).toEqual([1, 0, 0, 1]); // in a position: HOLD CLOSE
    expect(() => e.step([SELL])).toThrow(EnvInputError);
    expect(() => e.step([BUY])).toThrow(/action 1 \(BUY\) is not legal in a position \(legal: HOLD, CLOSE\)/);
    e.step([CLOSE]);
    expect([...e.mask]).toEqual([1, 1, 1, 0]);
    expect(() => e.step([CLOSE])).toThrow(/action 3 \(CLOSE\) is not legal while flat/);
    expect(() => e.step([7])).toThrow(/action 7 \(not an action\)/);
  });

  it('amddp reward: zero while holding, net − penalty · MAE at the close', () => {
    const r = play(env1(), [BUY, HOLD, HOLD, CLOSE, HOLD]);
    expect(r.slice(0, 3)).toEqual([0, 0, 0]);
    expect(r[3]).toBeCloseTo(-9 - 0.01 * 20, 9);
    expect(r[4]).toBe(0);
    const r2 = play(env1(SIX, { reward: { penalty: 0.5 } }), [BUY, HOLD, HOLD, CLOSE, HOLD]);
    expect(r2[3]).toBeCloseTo(-9 - 0.5 * 20, 9);
  });

  it('dense reward: change of marked-to-market net pips each bar, penalty at the close, same total', () => {
    const e = env1(SIX, { reward: { mode: 'dense' } });
    const r = play(e, [BUY, HOLD, HOLD, CLOSE, HOLD]);
    // Marks (net): bar1 +5−4 = 1, bar2 11, bar3 −19; exit at −5 gross = −9 net.
    expect(r[0]).toBeCloseTo(1, 9);
    expect(r[1]).toBeCloseTo(10, 9);
    expect(r[2]).toBeCloseTo(-30, 9);
    expect(r[3]).toBeCloseTo(-9 - -19 - 0.01 * 20, 9);
    expect(r[4]).toBe(0);
    expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(-9.2, 9);
    // Forced close: the last mark is the exit, so only the penalty is paid on the final step.
    const f = play(env1(SIX, { reward: { mode: 'dense' } }), [BUY, HOLD, HOLD, HOLD, HOLD]);
    // Mark at bar 4: close 150.08 = −2 gross = −6 net; bar 5 closes at 0 gross = −4 net = the exit.
    expect(f[4]).toBeCloseTo(-4 - -6 - 0.01 * 20, 9);
    expect(f.reduce((a, b) => a + b, 0)).toBeCloseTo(-4.2, 9);
  });

  it('idle penalty: paid for each HOLD while flat, in both modes, and only then', () => {
    for (const mode of ['amddp', 'dense'] as const) {
      const r = play(env1(SIX, { reward: { mode, idlePenalty: 0.5 } }), [HOLD, BUY, HOLD, CLOSE, HOLD]);
      expect(r[0]).toBe(-0.5);
      expect(r[4]).toBe(-0.5);
      if (mode === 'amddp') expect(r[2]).toBe(0);
    }
    expect(play(env1(), [HOLD])[0]).toBe(0); // default idle penalty is 0
  });

  it('defaults: GBP_JPY costs, amddp with penalty 0.01, no idle penalty, K = 1, 1 unit', () => {
    const d = envConfig();
    expect(d).toEqual({ pipSize: 0.01, spreadPips: 4, spread: 'constant', units: 1, reward: { mode: 'amddp', penalty: 0.01, idlePenalty: 0 }, stack: 1, barMs: 60000 });
    const c = envConfigFromConfig(loadConfig({ env: {} }), 'GBP_JPY');
    expect(c).toEqual(d);
    expect(() => envConfig({ reward: { mode: 'sparse' as 'amddp' } })).toThrow(/reward.mode must be 'amddp' or 'dense'/);
    expect(() => envConfig({ stack: 0 })).toThrow(/stack must be an integer >= 1/);
    expect(() => envConfig({ spreadPips: -1 })).toThrow(/spreadPips must be a number >= 0/);
  });

  it('refuses episodes outside the series or shorter than two bars', () => {
    const e = new TradingEnv(SIX, null, envConfig(), { batch: 2, observations: false });
    expect(() => e.reset(0, 3, 9, 0)).toThrow(/bars \[3, 9\) must lie in \[0, 6\)/);
    expect(() => e.reset(0, 3, 4, 0)).toThrow(/at least 2 bars/);
    expect(() => e.reset(2, 0, 6, 0)).toThrow(/lane must be in \[0, 2\)/);
    expect(() => new TradingEnv(SIX, { data: new Float32Array(5), nFeatures: 2 }, envConfig(), { batch: 1 })).toThrow(/expected 6 bars × 2 features = 12/);
  });

  it('lanes are independent: a lane\'s trades do not depend on its neighbours', () => {
    const e = new TradingEnv(SIX, null, envConfig(), { batch: 3, observations: false });
    e.reset(0, 0, 6, 0);
    e.reset(1, 0, 6, 1);
    e.reset(2, 1, 5, 2);
    e.step([BUY, SELL, HOLD]);
    e.step([HOLD, CLOSE, BUY]);
    e.step([HOLD, HOLD, HOLD]);
    e.step([CLOSE, HOLD, HOLD]); // lane 2 ends here (bar 4 of [1, 5)): forced
    e.step([HOLD, BUY, HOLD]);
    const recs = e.trades.records();
    const lane0 = recs.find((r) => r.episode === 0);
    const solo = env1();
    play(solo, [BUY, HOLD, HOLD, CLOSE, HOLD]);
    expect(lane0).toEqual(solo.trades.record(0));
    expect(recs.filter((r) => r.episode === 2)).toMatchObject([{ entryIndex: 3, exitIndex: 4, forced: true }]);
    expect(recs.filter((r) => r.episode === 1).map((r) => r.forced)).toEqual([false, true]);
  });
});

describe('observations', () => {
  // Eight bars; feature row t = [t, −t] so each row is recognisable.
  const bars = barsFrom([
    [150, 150.1, 149.9, 150],
    [150, 150.1, 149.9, 150.02],
    [150.02, 150.1, 149.9, 150.05],
    [150.05, 150.1, 149.9, 150.03],
    [150.03, 150.2, 149.95, 150.1],
    [150.1, 150.15, 149.8, 149.9],
    [149.9, 150, 149.85, 149.95],
    [149.95, 150, 149.9, 150],
  ]);
  // An independent reference built from the position primitives alone (pip 0.01, spread 4, penalty 0.01).
  const longFrom = (entry: number) => {
    const st = new Float64Array(TRADE_STATE_SIZE);
    openTrade(st, 0, 1, entry, 4);
    return {
      mark: (h: number, l: number, c: number) => markTrade(st, 0, h, l, c, 100, 4),
      features: () => {
        const out = new Float32Array(9);
        writePositionFeatures(st, 0, 0.01, out, 0);
        return [...out];
      },
    };
  };
  const features: FeatureMatrix = { data: Float32Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? i / 2 : -(i - 1) / 2)), nFeatures: 2 };

  it('hold the feature row of bar t and the 9 position features at its close', () => {
    const e = new TradingEnv(bars, features, envConfig(), { batch: 1 });
    expect(e.obsDim).toBe(11);
    e.reset(0, 3, 8, 0);
    const obs = new Float32Array(11);
    e.observe(obs);
    expect([...obs]).toEqual([3, -3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    e.step([BUY]); // fills at open[4] = 150.03, marked at bar 4
    e.observe(obs);
    const ref = longFrom(150.03);
    ref.mark(150.2, 149.95, 150.1);
    expect([...obs.subarray(0, 2)]).toEqual([4, -4]);
    expect([...obs.subarray(2)]).toEqual(ref.features());
    expect(obs[2 + 8]).toBe(1); // has_position
  });

  it('stack the last K rows oldest first, with real earlier feature rows and flat position features before the episode', () => {
    const e = new TradingEnv(bars, features, envConfig({ stack: 3 }), { batch: 1 });
    expect(e.obsDim).toBe(33);
    e.reset(0, 3, 8, 0);
    e.step([BUY]);
    e.step([HOLD]); // now at bar 5
    const obs = new Float32Array(33);
    e.observe(obs);
    const ref = longFrom(150.03);
    ref.mark(150.2, 149.95, 150.1);
    const at4 = ref.features();
    ref.mark(150.15, 149.8, 149.9);
    const at5 = ref.features();
    expect([...obs]).toEqual([3, -3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, -4, ...at4, 5, -5, ...at5]);
    // Before the first episode bar: real rows 1 and 2 of the series, flat position features.
    e.reset(0, 3, 8, 1);
    e.observe(obs);
    expect([...obs]).toEqual([1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, -2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, -3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // Before bar 0 of the series: zeros.
    e.reset(0, 0, 8, 2);
    e.observe(obs);
    expect([...obs.subarray(0, 22)].every((v) => v === 0)).toBe(true);
    expect([...obs.subarray(22, 24)]).toEqual([0, -0]);
  });

  it('are refused when the env was built without them', () => {
    const e = env1();
    expect(() => e.observe(new Float32Array(9))).toThrow(/observations are disabled/);
  });
});
