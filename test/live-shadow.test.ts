// Shadow strategies (issue 14, acceptance 1). A replay of real 2016 GBP/JPY bars: the live strategy
// trades at the (fake) OANDA v20 server through the OANDA client, three shadows — two rule baselines
// and a MuZero checkpoint — trade their own paper books on the same bars and feature rows. Each
// shadow's journal (decisions, strategy_trades) equals a separate single-strategy paper run of its
// policy, trade for trade, and the server receives the live strategy's orders only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { createLiveRun } from '../src/app/live.js';
import { initCheckpoint } from '../src/agent/checkpoints/registry.js';
import { OandaClient } from '../src/live/oanda/client.js';
import { Secret } from '../src/live/secret.js';
import { Journal } from '../src/live/journal.js';
import { EventBus } from '../src/live/events.js';
import { VirtualClock } from '../src/live/clock.js';
import { Store } from '../src/store/db.js';
import { FakeV20 } from './support/fake-v20.js';
import { SharedFeatureRows } from '../src/live/shadow-rows.js';
import { rowBuilderFor } from '../src/features/row.js';
import { GrowingSeries } from '../src/env/series.js';
import { loadBars } from '../src/env/market.js';
import { realBarsStore, I } from './helpers/live-run.js';
import { HAS_SHARED, tempDir } from './helpers/paths.js';

const t = tempDir();
afterAll(t.cleanup);
const TOKEN = 'tok-shadow-test-secret';
const FROM = '2016-06-01T06:00:00Z';
const TO = '2016-06-01T14:00:00Z';
let store: Store;
let config: Config;
let checkpoint: string;

beforeAll(async () => {
  if (!HAS_SHARED) return;
  const base = loadConfig({ overrides: { 'checkpoints.dir': path.join(t.dir, 'checkpoints') } });
  // no risk limit may deny a decision here: parity compares decisions (the risk engine has its own tests)
  config = { ...base, live: { ...base.live, risk: { ...base.live.risk, daily_loss_pips: 1e9, max_orders_per_minute: 1000 }, reconcile_every_s: 3600 } };
  store = await realBarsStore(path.join(t.dir, 'bars.duckdb'));
  // a randomly initialised checkpoint trades, which is all parity needs
  checkpoint = (await initCheckpoint(store, config, { seed: 3 })).meta.id;
}, 120_000);
afterAll(() => store?.close());

const replay = { mode: 'practice' as const, instrument: I, feed: 'replay' as const, speed: Infinity, start: new Date(FROM), range: { from: new Date(FROM), to: new Date(TO) }, sessions: false, seed: 1 };

/** A strategy's journal rows: its decisions and closed trades (run ids and the shadow flag aside). */
async function journalOf(j: Store, strategy: string) {
  const decisions = await j.all(`SELECT ts, bar_index, action, reason, position_units FROM decisions WHERE strategy = $1 ORDER BY ts`, [strategy]);
  const trades = await j.all(
    `SELECT side, units, entry_ts, exit_ts, entry_price, exit_price, gross_pips, cost_pips, net_pips, pnl, forced FROM strategy_trades WHERE strategy = $1 ORDER BY exit_ts`,
    [strategy],
  );
  return { decisions, trades };
}

/** `swt live --broker paper --feed replay --policy SPEC` alone, journaled in its own file. */
async function singleRun(spec: string, file: string) {
  const { name, params } = (await import('../src/agent/policies/registry.js')).parsePolicyArg(spec);
  const j = await Store.open(file);
  const journal = new Journal(j, 'single', spec);
  const run = await createLiveRun(store, config, { ...replay, broker: 'paper', policy: name, params, strategy: spec, runId: 'single', journal, journalStore: j });
  journal.attach(run.bus);
  await run.runner.run();
  await journal.close();
  await run.close();
  return { j, trades: run.session.trades.records(), decisions: run.session.decisions.length };
}

describe.skipIf(!HAS_SHARED)('swt live with --shadow: one live strategy at the broker, three shadows on paper books', () => {
  it('each shadow journals what a separate run of its policy journals, trade for trade; the broker sees no shadow order', async () => {
    const shadows = ['mean-reversion:window=60,entry_z=1.5,exit_z=0', 'ma-crossover:fast=5,slow=20', `muzero:checkpoint=${checkpoint},simulations=4`];
    const fake = await FakeV20.start({ token: TOKEN });
    const client = new OandaClient({ restUrl: fake.url, streamUrl: fake.url, accountId: fake.accountId, token: new Secret(TOKEN), timeoutMs: 2000, retries: 2, backoffMs: 5, maxBackoffMs: 20, staleMs: 60_000, requestsPerSecond: 100, orderLookupAttempts: 3, orderLookupDelayMs: 10 });
    const clock = new VirtualClock(0);
    const bus = new EventBus();
    // the fake broker quotes the replayed bar and stamps its fills at the replay's time
    bus.on('bar', (b) => {
      fake.setPrice(I, b.close - 0.02, b.close + 0.02);
      fake.clockSkewMs = b.ts + 60_000 - Date.now();
    });
    const jStore = await Store.open(path.join(t.dir, 'journal.duckdb'));
    const journal = new Journal(jStore, 'shadowrun', 'ma-crossover');
    const run = await createLiveRun(store, config, { ...replay, broker: 'oanda', policy: 'ma-crossover', params: {}, strategy: 'ma-crossover', brokerOverride: client, clock, bus, runId: 'shadowrun', journal, journalStore: jStore, shadows });
    journal.attach(run.bus);
    let closed = false;
    try {
      const summary = await run.runner.run();
      await journal.close();
      // closing the run writes the shadows' journals out
      await run.close();
      closed = true;
      expect(summary.bars).toBe(8 * 60);

      // the live strategy's orders are the only ones the server received (and it did receive some)
      const placed = fake.transactions.filter((x) => x.type === 'MARKET_ORDER').map((x) => (x.clientExtensions as { id: string }).id);
      expect(summary.orders).toBeGreaterThan(2);
      expect(placed).toHaveLength(summary.orders);
      expect(placed.every((id) => id.startsWith('shadowrun-'))).toBe(true);
      expect(fake.requests.filter((q) => q.method === 'POST')).toHaveLength(summary.orders);

      expect(run.shadows.map((s) => s.strategy)).toEqual(shadows);
      for (const [k, sh] of run.shadows.entries()) {
        // the shadow traded (on its own book: its client ids never reached the server)
        expect(sh.runner.stats.orders, sh.strategy).toBeGreaterThan(0);
        expect(sh.book.kind).toBe('paper');
        expect(placed.some((id) => id.startsWith(`shadowrun${'s'}${k + 1}`))).toBe(false);
        const alone = await singleRun(sh.strategy, path.join(t.dir, `single-${k}.duckdb`));
        try {
          expect(sh.session.decisions.length).toBe(alone.decisions);
          expect(sh.session.trades.records()).toEqual(alone.trades);
          const mine = await journalOf(jStore, sh.strategy);
          const theirs = await journalOf(alone.j, sh.strategy);
          expect(mine.trades.length, sh.strategy).toBe(alone.trades.length);
          expect(mine.trades.length).toBeGreaterThan(0);
          expect(mine).toEqual(theirs);
        } finally {
          alone.j.close();
        }
      }
      // the shadows' rows say they are shadows; the live strategy's trades are in the same table
      const flags = await jStore.all<{ strategy: string; shadow: boolean; n: number }>(`SELECT strategy, shadow, count(*)::INTEGER AS n FROM strategy_trades GROUP BY ALL ORDER BY strategy`);
      expect(flags.find((f) => f.strategy === 'ma-crossover')).toMatchObject({ shadow: false, n: run.session.trades.count });
      for (const s of shadows) expect(flags.find((f) => f.strategy === s)?.shadow).toBe(true);
      const orders = await jStore.all<{ strategy: string; shadow: boolean }>(`SELECT DISTINCT strategy, shadow FROM orders ORDER BY strategy`);
      expect(orders).toEqual([{ strategy: 'ma-crossover', shadow: false }, ...[...shadows].sort().map((s) => ({ strategy: s, shadow: true }))]);
    } finally {
      if (!closed) await run.close();
      jStore.close();
      await client.close();
      await fake.close();
    }
  }, 240_000);
});

describe.skipIf(!HAS_SHARED)('one feature-row build per bar for every strategy', () => {
  it('two sessions reading the shared rows get, bar by bar, what a builder of their own gives; the builder runs once a bar', async () => {
    const bars = await loadBars(store, I, { from: new Date(FROM), to: new Date(TO) });
    const shared = new SharedFeatureRows(rowBuilderFor(config, config.features.default_set, I, 1));
    const own = rowBuilderFor(config, config.features.default_set, I, 1);
    const readers = [shared.view(), shared.view()].map((v) => ({ v, series: new GrowingSeries(4096, I), row: new Float32Array(v.width) }));
    const ownSeries = new GrowingSeries(4096, I);
    const ownRow = new Float32Array(own.width);
    let ok = 0;
    try {
      for (let i = 0; i < bars.ts.length; i++) {
        const bar = { ts: bars.ts[i], open: bars.open[i], high: bars.high[i], low: bars.low[i], close: bars.close[i] };
        const t1 = ownSeries.push(bar);
        const status = own.rowAt(ownSeries.view, t1, ownRow);
        for (const r of readers) {
          const k = r.series.push(bar);
          expect(r.v.rowAt(r.series.view, k, r.row)).toBe(status);
          expect(r.row).toEqual(ownRow);
        }
        if (status === 0) ok++;
      }
    } finally {
      shared.free();
      own.free?.();
    }
    expect(ok).toBeGreaterThan(0);
    expect(shared.builds).toBe(bars.ts.length);
  }, 60_000);
});

describe.skipIf(!HAS_SHARED)('a shadow that fails', () => {
  it('is stopped with a critical alert; the live strategy trades on as it would alone', async () => {
    const spec = 'mean-reversion:window=60,entry_z=1.5,exit_z=0';
    const run = await createLiveRun(store, config, { ...replay, broker: 'paper', policy: 'ma-crossover', params: {}, shadows: [spec, 'ma-crossover:fast=5,slow=20'] });
    const alone = await createLiveRun(store, config, { ...replay, broker: 'paper', policy: 'ma-crossover', params: {} });
    // its policy throws at the 100th bar, as a broken model would
    const sh = run.shadows[0];
    const step = sh.onBar;
    let n = 0;
    (sh as { onBar: typeof step }).onBar = async (bar) => {
      if (++n === 100) throw new Error('the model file is gone');
      return step(bar);
    };
    const alerts: string[] = [];
    run.bus.on('alert', (a) => a.code === 'shadow_failed' && alerts.push(`${a.severity}: ${a.message}`));
    try {
      await run.runner.run();
      await alone.runner.run();
      expect(alerts).toEqual([`critical: shadow ${spec} stopped: the model file is gone`]);
      expect(sh.runner.stats.bars).toBe(99);
      // the other shadow and the live strategy took every bar
      expect(run.shadows[1].runner.stats.bars).toBe(8 * 60);
      expect(run.session.trades.records()).toEqual(alone.session.trades.records());
      expect(run.session.trades.count).toBeGreaterThan(0);
    } finally {
      await run.close();
      await alone.close();
    }
  }, 60_000);
});

describe('the journal of a run with shadows', () => {
  it("tags rows by strategy; a restart resumes from the live strategy's rows only; fills of two books with the same transaction id both stay", async () => {
    const j = await Store.open(path.join(t.dir, 'tags.duckdb'));
    try {
      const live = new Journal(j, 'r1', 'ma-crossover');
      const shadow = new Journal(j, 'r1', 'mean-reversion:window=60', true);
      const bus = new EventBus();
      const shBus = new EventBus();
      live.attach(bus);
      shadow.attach(shBus);
      const since = { instrument: I, since_transaction_id: '0' };
      // the shadow holds 1 unit and has an intent left open; the live strategy has done nothing yet
      await shadow.intent({ ...since, client_id: 'r1s1-d-1', units: 1, target_units: 1, intent: 'BUY' }, 1000);
      await shadow.outcome('r1s1-d-1', 'filled', null, 2000);
      await shadow.intent({ ...since, client_id: 'r1s1-d-2', units: -1, target_units: 0, intent: 'CLOSE' }, 3000);
      shBus.emit('fill', { client_id: 'r1s1-d-1', transaction_id: '1', instrument: I, units: 1, price: 150, mid: 150, ts: 2000 });
      shBus.emit('reconciliation', { ts: 2000, instrument: I, trigger: 'post_trade', ok: true, broker_units: 1, local_units: 1, discrepancy: null, action: 'none' });
      await shadow.close();
      expect(await live.lastPosition(I)).toBeNull();
      expect(await live.openIntents(I)).toEqual([]);
      // the shadow's own journal never resumes anything
      expect(await shadow.lastPosition(I)).toBeNull();
      expect(await shadow.openIntents(I)).toEqual([]);

      await live.intent({ ...since, client_id: 'r1-d-1', units: -1, target_units: -1, intent: 'SELL' }, 4000);
      await live.outcome('r1-d-1', 'filled', null, 5000);
      bus.emit('fill', { client_id: 'r1-d-1', transaction_id: '1', instrument: I, units: -1, price: 151, mid: 151, ts: 5000 });
      await live.close();
      expect(await live.lastPosition(I)).toBe(-1);
      const fills = await j.all(`SELECT strategy, transaction_id, units FROM fills ORDER BY ts`);
      expect(fills).toEqual([
        { strategy: 'mean-reversion:window=60', transaction_id: '1', units: 1 },
        { strategy: 'ma-crossover', transaction_id: '1', units: -1 },
      ]);
      expect(await j.all(`SELECT strategy, shadow, units FROM positions`)).toEqual([{ strategy: 'mean-reversion:window=60', shadow: true, units: 1 }]);
    } finally {
      j.close();
    }
  });
});

describe('migration 012 on a journal written before shadows', () => {
  it("gives old fills their order's strategy, old rows the live flag, and resumes the same position", async () => {
    const file = path.join(t.dir, 'old-journal.duckdb');
    const j = await Store.open(file);
    // the journal as migration 008 left it
    await j.run(`DROP TABLE fills`);
    await j.run(`CREATE TABLE fills (run_id VARCHAR NOT NULL, transaction_id VARCHAR NOT NULL, client_id VARCHAR, instrument VARCHAR NOT NULL,
       units DOUBLE NOT NULL, price DOUBLE NOT NULL, mid DOUBLE, ts TIMESTAMP NOT NULL, PRIMARY KEY (run_id, transaction_id))`);
    for (const [table, col] of [['orders', 'shadow'], ['decisions', 'shadow'], ['positions', 'strategy'], ['positions', 'shadow'], ['reconciliations', 'strategy'], ['events', 'strategy']]) await j.run(`ALTER TABLE ${table} DROP COLUMN ${col}`);
    await j.run(`DROP TABLE strategy_performance`);
    await j.run(`DELETE FROM schema_version WHERE version >= 12`);
    await j.run(`INSERT INTO orders VALUES ('old-d-1', 'old', 'ma-crossover', $1, 1, 1, 'BUY', 'filled', NULL, '0', '2024-03-06 10:00:00', '2024-03-06 10:01:00')`, [I]);
    await j.run(`INSERT INTO fills VALUES ('old', '17', 'old-d-1', $1, 1, 150.02, 150, '2024-03-06 10:01:00'), ('old', '18', NULL, $1, -1, 150.1, NULL, '2024-03-06 10:02:00')`, [I]);
    await j.run(`INSERT INTO positions VALUES ('old', '2024-03-06 10:01:00', $1, 1, 'reconciled')`, [I]);
    j.close();

    const m = await Store.open(file);
    try {
      expect(await m.schemaVersion()).toBeGreaterThanOrEqual(12);
      expect(await m.all(`SELECT strategy, transaction_id, client_id, units FROM fills ORDER BY transaction_id`)).toEqual([
        { strategy: 'ma-crossover', transaction_id: '17', client_id: 'old-d-1', units: 1 },
        { strategy: '', transaction_id: '18', client_id: null, units: -1 },
      ]);
      expect(await m.all(`SELECT client_id, shadow FROM orders`)).toEqual([{ client_id: 'old-d-1', shadow: false }]);
      // the old rows are the live strategy's: a restart resumes their position
      expect(await new Journal(m, 'new', 'ma-crossover').lastPosition(I)).toBe(1);
    } finally {
      m.close();
    }
  });
});

