// Replay parity: the real 2016 bars fed one at a time through a LiveSession give, trade for trade and
// field by field, what `swt backtest` (backtestFromStore) gives on the same sessions. Both run the same
// single-lane market step, the same policy objects and (for `linear`) the same feature-row builder.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { importFiles } from '../src/data/import.js';
import { indexSessions } from '../src/data/sessions.js';
import { buildFeatures } from '../src/features/store.js';
import { loadBars } from '../src/env/market.js';
import { envConfigFromConfig } from '../src/env/config.js';
import type { TradeLog } from '../src/env/trades.js';
import { Store } from '../src/store/db.js';
import { backtestFromStore, type StoredBacktest } from '../src/app/backtest.js';
import { fitSampleOf, loadFitMarket } from '../src/app/market.js';
import { createPolicy } from '../src/agent/policies/registry.js';
import { LiveSession } from '../src/live/session.js';
import { rowBuilderFor } from '../src/features/row.js';
import { createLiveRun } from '../src/app/live.js';
import { initCheckpoint } from '../src/agent/checkpoints/registry.js';
import { HAS_SHARED, SHARED, tempDir } from './helpers/paths.js';

const t = tempDir();
afterAll(t.cleanup);
const I = 'GBP_JPY';
let store: Store;
let config: Config;

beforeAll(async () => {
  if (!HAS_SHARED) return;
  config = loadConfig({ overrides: { 'checkpoints.dir': path.join(t.dir, 'checkpoints') } });
  store = await Store.open(path.join(t.dir, 'replay.duckdb'));
  await importFiles(store, [path.join(SHARED, 'data', 'GBPJPY_M1_20160422_20160624.csv.gz')], { instrument: I, format: 'csv' });
  await indexSessions(store, config, I, config.data.session_length, config.data.max_gap_minutes);
  await buildFeatures(store, config, { instrument: I, set: config.features.default_set });
}, 240_000);
afterAll(() => store?.close());

/** Feeds every stored bar through a LiveSession trading the backtest's sessions; returns its trades. */
async function replay(b: StoredBacktest, policyName: string, params: Record<string, string | number>, fitTo: Date | null): Promise<{ trades: TradeLog; decisions: number }> {
  const env = envConfigFromConfig(config, I);
  const req = { instrument: I, range: { from: fitTo, to: null }, sessions: 'all' as const, seed: 1, featureSet: config.features.default_set };
  const fit = await loadFitMarket(store, config, policyName, req, null);
  const policy = await createPolicy(policyName, params, { seed: 1, env, fit: fitSampleOf(fit) });
  const m = b.market;
  const starts = Array.from(m.episodes.start, (s) => m.bars.ts[s]);
  const session = LiveSession.create({
    env,
    policy,
    features: policy.needsObservation ? rowBuilderFor(config, config.features.default_set, I, 1) : null,
    schedule: { starts, length: config.data.session_length },
  });
  const all = await loadBars(store, I, { from: null, to: null });
  try {
    for (let i = 0; i < all.ts.length; i++) {
      await session.onBar({ ts: all.ts[i], open: all.open[i], high: all.high[i], low: all.low[i], close: all.close[i] });
    }
  } finally {
    await session.close();
  }
  return { trades: session.trades, decisions: session.decisions.length };
}

/**
 * `swt live --broker paper --feed replay` as the app builds it: the runner hands each decision to the
 * risk engine and the paper broker, and the session books the broker's fills.
 */
async function paperRun(policy: string, params: Record<string, string | number>, from: Date | null) {
  // Parity compares decisions, so no risk limit may deny one (the risk engine has its own tests).
  const wide = { ...config.live.risk, daily_loss_pips: 1e9, max_orders_per_minute: 1000 };
  const run = await createLiveRun(store, { ...config, live: { ...config.live, risk: wide } }, { broker: 'paper', mode: 'practice', policy, params, instrument: I, feed: 'replay', speed: Infinity, range: { from, to: null }, sessions: true, seed: 1 });
  const actions: string[] = [];
  run.bus.on('decision', (d) => actions.push(d.action));
  if (process.env.SWT_DEBUG_LIVE) run.bus.onAny((n, e) => n !== 'bar' && n !== 'decision' && console.log(n, JSON.stringify(e)));
  try {
    const summary = await run.runner.run();
    return { summary, trades: run.session.trades, actions, position: await run.broker.openPositions() };
  } finally {
    await run.close();
  }
}

/** Every field of every trade, with bar indices turned into times (the two runs index different arrays). */
function tradeRows(tr: TradeLog) {
  return tr.records().map((r) => {
    const { entryIndex: _e, exitIndex: _x, ...rest } = r;
    return rest;
  });
}

describe.skipIf(!HAS_SHARED)('replaying the real 2016 bars through a LiveSession', () => {
  for (const [name, params] of [
    ['ma-crossover', {}],
    ['mean-reversion', { window: 120, entry_z: 2, exit_z: 0 }],
  ] as const) {
    it(`${name}: the same trades as swt backtest, field by field`, async () => {
      const b = await backtestFromStore(store, config, { policy: name, params, instrument: I, range: { from: null, to: null }, sessions: 'all', seed: 1, featureSet: null, save: false });
      expect(b.result.trades.count).toBeGreaterThan(50);
      const live = await replay(b, name, params, null);
      expect(live.decisions).toBe(b.result.decisions);
      expect(tradeRows(live.trades)).toEqual(tradeRows(b.result.trades));
    }, 120_000);
  }

  it('linear (fitted before June, traded from June): the same trades, with live feature rows', async () => {
    const from = new Date('2016-06-01T00:00:00Z');
    // A small ridge penalty makes it trade on this edge-free data: this test is about parity, not profit.
    const params = { horizon: 30, lambda: 0.01 };
    const b = await backtestFromStore(store, config, { policy: 'linear', params, instrument: I, range: { from, to: null }, sessions: 'all', seed: 1, featureSet: null, save: false });
    expect(b.run.feature_set).toBe(config.features.default_set);
    expect(b.run.fit_to).toBe('2016-06-01T00:00:00Z');
    expect(b.result.trades.count).toBeGreaterThan(20);
    const live = await replay(b, 'linear', params, from);
    expect(live.decisions).toBe(b.result.decisions);
    expect(tradeRows(live.trades)).toEqual(tradeRows(b.result.trades));
  }, 180_000);
});

describe.skipIf(!HAS_SHARED)('swt live --broker paper --feed replay on the real 2016 bars (acceptance 1: parity)', () => {
  for (const [name, params, from] of [
    ['ma-crossover', {}, null],
    ['linear', { horizon: 30, lambda: 0.01 }, new Date('2016-06-01T00:00:00Z')],
  ] as const) {
    it(`${name}: the same decisions and trades as swt backtest, through risk, the paper broker and its fills`, async () => {
      const b = await backtestFromStore(store, config, { policy: name, params, instrument: I, range: { from, to: null }, sessions: 'all', seed: 1, featureSet: null, save: false });
      const paper = await paperRun(name, params, from);
      expect(paper.summary.decisions).toBe(b.result.decisions);
      expect(paper.trades.count).toBeGreaterThan(20);
      expect(tradeRows(paper.trades)).toEqual(tradeRows(b.result.trades));
      // every trade went through the broker: one fill to open, one to close, nothing denied, nothing left open
      expect(paper.summary.fills).toBe(2 * b.result.trades.count);
      expect(paper.summary.denials).toBe(0);
      expect(paper.summary.state).toBe('ACTIVE');
      expect(paper.position).toEqual([]);
      expect(paper.actions.length).toBe(b.result.decisions);
    }, 180_000);
  }
  it('muzero (a checkpoint searched by ONNX Runtime + the native MCTS, one lane live, 64 in the backtest): the same decisions and trades', async () => {
    // The search is seeded per (episode, step), so one lane live and a batch of lanes in the backtest
    // must decide alike. A randomly initialised checkpoint trades too, which is all parity needs; the
    // last week keeps the one-decision-at-a-time live run short.
    const { meta } = await initCheckpoint(store, config, { seed: 3 });
    const params = { checkpoint: meta.id };
    const from = new Date('2016-06-17T00:00:00Z');
    const b = await backtestFromStore(store, config, { policy: 'muzero', params, instrument: I, range: { from, to: null }, sessions: 'all', seed: 1, featureSet: null, save: false });
    expect(b.run.params.checkpoint).toBe(meta.id);
    const paper = await paperRun('muzero', params, from);
    expect(paper.summary.decisions).toBe(b.result.decisions);
    expect(paper.trades.count).toBeGreaterThan(0);
    expect(paper.trades.count).toBe(b.result.trades.count);
    expect(tradeRows(paper.trades)).toEqual(tradeRows(b.result.trades));
  }, 300_000);
  it('ppo (a checkpoint with its temporal window and normalisation in ONNX Runtime): the same decisions and trades', async () => {
    // The window of the last H observations restarts with each session, live as in the backtest.
    const { meta } = await initCheckpoint(store, config, { seed: 5, algo: 'ppo' });
    const params = { checkpoint: meta.id };
    const from = new Date('2016-06-17T00:00:00Z');
    const b = await backtestFromStore(store, config, { policy: 'ppo', params, instrument: I, range: { from, to: null }, sessions: 'all', seed: 1, featureSet: null, save: false });
    const paper = await paperRun('ppo', params, from);
    expect(paper.summary.decisions).toBe(b.result.decisions);
    expect(paper.trades.count).toBeGreaterThan(0);
    expect(tradeRows(paper.trades)).toEqual(tradeRows(b.result.trades));
  }, 300_000);
});
