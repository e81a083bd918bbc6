// Position sizing (issue 14, acceptance 2): fixed, fractional Kelly and Bandy's safe-f against values
// worked out by hand, the [2 %, 15 %] clamp, the risk engine's caps, and a replay whose every sized
// entry is journaled with its inputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { kellyOptimal, rollingStats, sizePosition, SIZING_DEFAULTS, type SizingConfig } from '../src/live/sizing.js';
import { tradeColumns } from '../src/validation/metrics.js';
import { createLiveRun, latestSafeF } from '../src/app/live.js';
import { resolvePolicyParams } from '../src/agent/policies/registry.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { Journal } from '../src/live/journal.js';
import type { SizingEvent } from '../src/live/events.js';
import { Store } from '../src/store/db.js';
import { realBarsStore, I } from './helpers/live-run.js';
import { HAS_SHARED, tempDir } from './helpers/paths.js';

const t = tempDir();
afterAll(t.cleanup);

/** The rolling figures of `wins` trades of +win pips and `losses` of −loss pips. */
function record(wins: number, losses: number, win: number, loss: number) {
  const pips = [...Array<number>(wins).fill(win), ...Array<number>(losses).fill(-loss)];
  return rollingStats(tradeColumns(pips.map((netPips, i) => ({ netPips, side: 'long' as const, barsHeld: 3, exitTs: i * 60_000 }))));
}

const kelly: SizingConfig = { ...SIZING_DEFAULTS, method: 'kelly', units: 1 };
const wide = { max_order_units: 1e9, max_position_units: 1e9 };
const at = { balance: 100_000, price: 150, caps: wide, safeF: null };

describe('sizing by hand', () => {
  it("Kelly's f* = W − (1 − W) / R", () => {
    expect(kellyOptimal(0.6, 1.5)).toBeCloseTo(0.6 - 0.4 / 1.5, 12);
    expect(kellyOptimal(0.5, 1)).toBe(0);
  });

  it('kelly: 24 wins of 15 pips and 16 losses of 10 (W 0.6, R 1.5): f* = 1/3, a quarter of it, 8.33 % of 100 000 at 150 → 55 units', () => {
    const stats = record(24, 16, 15, 10);
    expect(stats).toEqual({ trades: 40, win_rate: 0.6, payoff_ratio: 1.5 });
    const d = sizePosition({ ...at, config: kelly, stats });
    expect(d.raw_fraction).toBeCloseTo(1 / 3, 12);
    expect(d.fraction).toBeCloseTo(1 / 12, 12);
    // 100 000 × (1/12) / 150 = 55.56 → 55 whole units
    expect(d).toMatchObject({ method: 'kelly', units: 55, requested_units: 55, clamp: null, cap: null, fallback: null, win_rate: 0.6, payoff_ratio: 1.5, trades: 40, balance: 100_000, price: 150, scale: 1, kelly_multiplier: 0.25 });
  });

  it('kelly is clamped to 15 % (W 0.8, R 2: a quarter of f* = 0.7 is 17.5 %) and to 2 % (a losing record: f* < 0)', () => {
    const hi = sizePosition({ ...at, config: kelly, stats: record(32, 8, 20, 10) });
    expect(hi.raw_fraction).toBeCloseTo(0.7, 12);
    expect(hi).toMatchObject({ fraction: 0.15, clamp: 'max', units: 100 }); // 15 000 / 150
    const lo = sizePosition({ ...at, config: kelly, stats: record(16, 24, 10, 10) });
    expect(lo.raw_fraction).toBeCloseTo(0.4 - 0.6, 12);
    expect(lo).toMatchObject({ fraction: 0.02, clamp: 'min', units: 13 }); // 2 000 / 150 = 13.3
  });

  it('kelly falls back to fixed units, saying why, with too few trades or no loss yet', () => {
    const few = sizePosition({ ...at, config: { ...kelly, units: 7 }, stats: record(6, 4, 15, 10) });
    expect(few).toMatchObject({ units: 7, fraction: null, fallback: 'kelly needs 30 closed trades, the strategy has 10' });
    const noLoss = sizePosition({ ...at, config: { ...kelly, units: 7 }, stats: record(40, 0, 15, 10) });
    expect(noLoss.units).toBe(7);
    expect(noLoss.fallback).toMatch(/payoff ratio is undefined/);
  });

  it('safe_f: notional = safe-f × balance (0.8 × 100 000 / 150 → 533 units); the rollout scale multiplies it', () => {
    const config: SizingConfig = { ...SIZING_DEFAULTS, method: 'safe_f', units: 1 };
    const stats = record(0, 0, 0, 0);
    const d = sizePosition({ ...at, config, stats, safeF: { safe_f: 0.8, validation_id: 4 } });
    expect(d).toMatchObject({ method: 'safe_f', units: 533, fraction: 0.8, raw_fraction: 0.8, safe_f: 0.8, validation_id: 4, clamp: null, fallback: null });
    expect(sizePosition({ ...at, config, stats, safeF: { safe_f: 0.8, validation_id: 4 }, scale: 0.25 }).units).toBe(133);
    // the balance in the quote currency: an account in USD trading a JPY quote at 110 JPY per USD
    expect(sizePosition({ ...at, config: { ...config, quote_per_account: 110 }, stats, safeF: { safe_f: 0.01, validation_id: 4 } }).units).toBe(733);
    expect(sizePosition({ ...at, config: { ...config, units: 3 }, stats, safeF: null })).toMatchObject({ units: 3, fallback: 'no validation of the strategy: no safe-f' });
    expect(() => sizePosition({ ...at, config, stats, safeF: null, scale: 0 })).toThrow(/scale must be in \(0, 1\]/);
  });

  it("the risk engine's caps cut the size and say which one did", () => {
    const stats = record(24, 16, 15, 10);
    expect(sizePosition({ ...at, config: kelly, stats, caps: { max_order_units: 40, max_position_units: 50 } })).toMatchObject({ requested_units: 55, units: 40, cap: 'max_order_units' });
    expect(sizePosition({ ...at, config: kelly, stats, caps: { max_order_units: 80, max_position_units: 30 } })).toMatchObject({ requested_units: 55, units: 30, cap: 'max_position_units' });
    expect(sizePosition({ ...at, config: { ...SIZING_DEFAULTS, units: 5 }, stats, caps: { max_order_units: 2, max_position_units: 1 } })).toMatchObject({ method: 'fixed', units: 1, cap: 'max_position_units' });
  });
});

describe('safe-f from the newest validation of the strategy', () => {
  let store: Store;
  beforeAll(async () => {
    store = await Store.open(path.join(t.dir, 'validations.duckdb'));
    const insert = (policy: string, params: object, safeF: number) =>
      store.run(
        `INSERT INTO validations (run_id, policy, params, instrument, range, config_hash, seed, grade, score, recommendation, result, report_dir)
         VALUES (NULL, $1, $2, $3, '..', 'h', 1, 'TEST', 50, 'paper', $4, NULL)`,
        [policy, JSON.stringify(params), I, JSON.stringify({ montecarlo: { safe_f_mean: safeF } })],
      );
    await insert('mean-reversion', { window: 60, entry_z: 2, exit_z: 0 }, 0.5);
    await insert('mean-reversion', { exit_z: 0, window: 60, entry_z: 2 }, 0.8);
    await insert('mean-reversion', { window: 120, entry_z: 2, exit_z: 0 }, 1.4);
  });
  afterAll(() => store?.close());

  it('matches the policy and its parameters (in any key order) and takes the newest', async () => {
    expect(await latestSafeF(store, 'mean-reversion', { entry_z: 2, exit_z: 0, window: 60 }, I)).toEqual({ safe_f: 0.8, validation_id: 2 });
    expect(await latestSafeF(store, 'mean-reversion', { window: 120, entry_z: 2, exit_z: 0 }, I)).toEqual({ safe_f: 1.4, validation_id: 3 });
    expect(await latestSafeF(store, 'mean-reversion', { window: 30, entry_z: 2, exit_z: 0 }, I)).toBeNull();
    expect(await latestSafeF(store, 'ma-crossover', {}, I)).toBeNull();
  });
});

describe.skipIf(!HAS_SHARED)('a replay whose shadow sizes by Kelly or safe-f (live.strategies), capped by its own risk limits', () => {
  let store: Store;
  beforeAll(async () => {
    store = await realBarsStore(path.join(t.dir, 'bars.duckdb'));
  }, 60_000);
  afterAll(() => store?.close());

  it('journals every sized entry with its inputs; the orders carry the sized units; fixed units until Kelly has its trades', async () => {
    const j = await Store.open(path.join(t.dir, 'journal.duckdb'));
    const shadow = 'ma-crossover:fast=5,slow=20';
    const base = loadConfig();
    const config: Config = {
      ...base,
      live: {
        ...base.live,
        risk: { ...base.live.risk, daily_loss_pips: 1e9, max_orders_per_minute: 1000 },
        reconcile_every_s: 3600,
        strategies: { [shadow]: { sizing: { method: 'kelly', min_trades: 8, units: 3 }, risk: { max_position_units: 20, max_order_units: 40 } } },
      },
    };
    const journal = new Journal(j, 'sized', 'ma-crossover');
    const from = new Date('2016-06-01T06:00:00Z');
    const run = await createLiveRun(store, config, { broker: 'paper', mode: 'practice', policy: 'ma-crossover', params: {}, instrument: I, feed: 'replay', speed: Infinity, start: from, range: { from, to: new Date('2016-06-01T18:00:00Z') }, sessions: false, seed: 1, runId: 'sized', journal, journalStore: j, shadows: [shadow] });
    journal.attach(run.bus);
    try {
      await run.runner.run();
      await journal.close();
      await run.close();
      const sized = (await j.all<{ payload: string; strategy: string }>(`SELECT payload, strategy FROM events WHERE name = 'sizing' ORDER BY ts`)).map((r) => ({ ...(JSON.parse(r.payload) as SizingEvent), tag: r.strategy }));
      const entries = await j.all<{ client_id: string; strategy: string; units: number; intent: string }>(`SELECT client_id, strategy, abs(units) AS units, intent FROM orders WHERE intent IN ('BUY', 'SELL') ORDER BY created_at, client_id`);
      // one sizing record per entry order, for the live strategy (fixed) and the shadow (kelly), same units
      expect(entries.length).toBeGreaterThan(20);
      expect(sized.map((s) => [s.client_id, s.tag, s.units]).sort()).toEqual(entries.map((e) => [e.client_id, e.strategy, e.units]).sort());
      const live = sized.filter((s) => s.strategy === 'ma-crossover');
      expect(live.length).toBeGreaterThan(0);
      for (const s of live) expect(s).toMatchObject({ method: 'fixed', units: 1, fraction: null, fallback: null, cap: null });
      const mine = sized.filter((s) => s.strategy === shadow);
      // Kelly's first entries fall back to the fixed 3 units, with the reason, while fewer than 8 trades closed
      const early = mine.filter((s) => s.trades < 8);
      expect(early.length).toBeGreaterThan(0);
      for (const s of early) expect(s).toMatchObject({ method: 'kelly', units: 3, fraction: null, fallback: `kelly needs 8 closed trades, the strategy has ${s.trades}` });
      const later = mine.filter((s) => s.trades >= 8);
      expect(later.length).toBeGreaterThan(3);
      for (const s of later) {
        // the size follows from its journaled inputs: a quarter of W − (1 − W)/R, clamped, of the balance, capped at 20
        const w = s.win_rate!;
        const r = s.payoff_ratio!;
        const f = Math.min(0.15, Math.max(0.02, 0.25 * (w - (1 - w) / r)));
        expect(s.fraction).toBeCloseTo(f, 12);
        expect(s.clamp).toBe(0.25 * (w - (1 - w) / r) < 0.02 ? 'min' : 0.25 * (w - (1 - w) / r) > 0.15 ? 'max' : null);
        expect(s.balance).toBe(config.live.paper.balance);
        const units = Math.floor((f * 100_000) / s.price + 1e-9);
        expect(s.requested_units).toBe(units);
        expect(s.units).toBe(Math.min(units, 20));
        expect(s.cap).toBe(units > 20 ? 'max_position_units' : null);
      }
      // both the clamp and the cap were reached on these bars
      expect(later.some((s) => s.clamp === 'min')).toBe(true);
      expect(later.some((s) => s.cap === 'max_position_units')).toBe(true);
      // the inputs are the strategy's record: the trades closed before the entry, as strategy_trades holds them
      const rows = await j.all<{ net_pips: number; units: number; pnl: number }>(`SELECT net_pips, units, pnl FROM strategy_trades WHERE strategy = $1 ORDER BY exit_ts`, [shadow]);
      const last = later[later.length - 1];
      const before = rows.slice(0, last.trades as number);
      expect(rollingStats(tradeColumns(before.map((x, i) => ({ netPips: x.net_pips, side: 'long' as const, barsHeld: 1, exitTs: i }))))).toEqual({ trades: last.trades, win_rate: last.win_rate, payoff_ratio: last.payoff_ratio });
      // pnl in the account currency from the sized units: pips × units × pip size (quote = account here)
      for (const x of rows) expect(x.pnl).toBeCloseTo(x.net_pips * x.units * 0.01, 9);
      expect(new Set(rows.map((x) => x.units)).size).toBeGreaterThan(1);
      // the performance row: the validation metrics of the record
      const perf = await j.one<Record<string, number>>(`SELECT * FROM strategy_performance WHERE strategy = $1`, [shadow]);
      expect(perf).toMatchObject({ trades: rows.length, shadow: true, window_trades: 100 });
      expect(perf!.expectancy).toBeCloseTo(rows.reduce((a, x) => a + x.net_pips, 0) / rows.length, 9);
    } finally {
      j.close();
    }
  }, 120_000);

  it("safe_f sizes from the strategy's newest validation in the store, with its id journaled", async () => {
    const shadow = 'ma-crossover:fast=5,slow=20';
    const params = resolvePolicyParams('ma-crossover', { fast: 5, slow: 20 });
    const row = await store.one<{ id: number }>(
      `INSERT INTO validations (run_id, policy, params, instrument, range, config_hash, seed, grade, score, recommendation, result, report_dir)
       VALUES (NULL, 'ma-crossover', $1, $2, '..', 'h', 1, 'TEST', 50, 'paper', $3, NULL) RETURNING id`,
      [JSON.stringify(params), I, JSON.stringify({ montecarlo: { safe_f_mean: 0.012 } })],
    );
    const base = loadConfig();
    const config: Config = { ...base, live: { ...base.live, strategies: { [shadow]: { sizing: { method: 'safe_f' }, risk: { max_position_units: 1000, max_order_units: 1000 } } } } };
    const from = new Date('2016-06-01T06:00:00Z');
    const run = await createLiveRun(store, config, { broker: 'paper', mode: 'practice', policy: 'ma-crossover', params: {}, instrument: I, feed: 'replay', speed: Infinity, start: from, range: { from, to: new Date('2016-06-01T09:00:00Z') }, sessions: false, seed: 1, shadows: [shadow] });
    const sized: SizingEvent[] = [];
    run.shadows[0].bus.on('sizing', (e) => sized.push(e));
    const fills: number[] = [];
    run.shadows[0].bus.on('fill', (f) => fills.push(Math.abs(f.units)));
    try {
      await run.runner.run();
    } finally {
      await run.close();
    }
    expect(sized.length).toBeGreaterThan(2);
    for (const s of sized) {
      // 1.2 % of 100 000 as notional at ~158 yen: 7 units
      expect(s).toMatchObject({ method: 'safe_f', safe_f: 0.012, validation_id: row!.id, fraction: 0.012, fallback: null, cap: null });
      expect(s.units).toBe(Math.floor((0.012 * 100_000) / s.price + 1e-9));
    }
    // every fill (entry and exit) is of the sized units
    expect(new Set(fills)).toEqual(new Set(sized.map((s) => s.units)));
  }, 120_000);
});
