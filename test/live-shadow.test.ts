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
