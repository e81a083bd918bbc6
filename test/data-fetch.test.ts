// `swt data fetch` against the fake v20 server (acceptance 6): a multi-page range gives exactly the
// served complete candles, a 429 during paging is waited out, a fetch killed mid-way and re-run
// (incrementally, without --from) gives the same store, and with --price BA a backtest with
// env.spread: recorded charges the served spreads (checked by hand against the served bid/ask).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { FakeV20, type FakeCandle } from './support/fake-v20.js';
import { spawnSwt } from './helpers/processes.js';
import { swt, tempDir } from './helpers/paths.js';
import { Store } from '../src/store/db.js';
import { loadConfig } from '../src/config/load.js';
import { createLiveRun } from '../src/app/live.js';

const TOKEN = 'tok-fetch-3b7e11';
const I = 'GBP_JPY';
const t = tempDir();
let fake: FakeV20;
const T0 = Date.parse('2024-03-04T00:00:00Z');
const N = 11_000;
let served: FakeCandle[];
// prices as the decimal strings the server sends them
const r3 = (x: number) => Math.round(x * 1000) / 1000;

beforeAll(async () => {
  fake = await FakeV20.start({ token: TOKEN });
  served = [];
  let p = 150;
  for (let i = 0; i < N; i++) {
    if (i % 997 === 500) continue; // a few missing minutes
    const o = p;
    p = Math.round((p + (((i * 7919) % 13) - 6) * 0.001) * 1000) / 1000;
    const c = p;
    served.push({ ts: T0 + i * 60_000, complete: i < N - 1 /* the newest minute is still open */, mid: [o, r3(Math.max(o, c) + 0.01), r3(Math.min(o, c) - 0.01), c] });
  }
  fake.candles.set(I, served);
});
afterAll(async () => {
  await fake.close();
  t.cleanup();
});

const env = (db: string) => ({
  SWT_OANDA_TOKEN: TOKEN,
  SWT_OANDA_ACCOUNT: fake.accountId,
  SWT_LIVE__OANDA__PRACTICE__REST_URL: fake.url,
  SWT_LIVE__OANDA__PRACTICE__STREAM_URL: fake.url,
  SWT_LIVE__OANDA__BACKOFF_MS: '20',
  SWT_STORE__DB: db,
});
const fetchArgs = (extra: string[]) => ['data', 'fetch', '--instrument', I, '--to', '2024-03-20', '--json', ...extra];

async function storedBars(db: string): Promise<number[][]> {
  const s = await Store.open(db);
  try {
    const rows = await s.all<{ ms: number; open: number; high: number; low: number; close: number }>(
      'SELECT epoch_ms(ts) AS ms, open, high, low, close FROM bars WHERE instrument = $1 ORDER BY ts',
      [I],
    );
    return rows.map((r) => [Number(r.ms), r.open, r.high, r.low, r.close]);
  } finally {
    s.close();
  }
}

const completeCandles = () => served.filter((c) => c.complete).map((c) => [c.ts, ...c.mid]);

describe('swt data fetch', () => {
  it('a multi-page range gives exactly the served complete candles, waiting out a 429 between pages', async () => {
    const db = path.join(t.dir, 'a.duckdb');
    fake.fail(429, { path: /candles$/, retryAfterS: 0.2, times: 1 });
    const before = fake.requests.length;
    const t0 = Date.now();
    const mid = new Date(T0 + 7000 * 60_000).toISOString();
    const r = await spawnSwt(['data', 'fetch', '--instrument', I, '--from', '2024-03-04', '--to', mid, '--json'], { env: env(db) }).done;
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout).fetch;
    const candleReqs = fake.requests.slice(before).filter((q) => q.path.includes('/candles'));
    expect(candleReqs.length).toBe(out.pages + 1); // the 429 and its retry
    expect(Date.now() - t0).toBeGreaterThan(200);
    const expected = completeCandles().filter((c) => c[0] <= T0 + 7000 * 60_000);
    expect(out.pages).toBe(2);
    expect(out.rows_accepted).toBe(expected.length);
    expect(await storedBars(db)).toEqual(expected);
    // incremental: a re-run without --from continues after the last stored bar and adds the rest
    const again = await spawnSwt(fetchArgs([]), { env: env(db) }).done;
    expect(again.status).toBe(0);
    expect(await storedBars(db)).toEqual(completeCandles());
  }, 60_000);

  it('a fetch killed mid-way and re-run gives the same store', async () => {
    const db = path.join(t.dir, 'b.duckdb');
    fake.slowMs = 400;
    const before = fake.requests.length;
    const run = spawnSwt(fetchArgs(['--from', '2024-03-04']), { env: env(db) });
    const t0 = Date.now();
    while (fake.requests.slice(before).filter((q) => q.path.includes('/candles')).length < 2 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
    run.child.kill('SIGKILL');
    await run.done;
    fake.slowMs = 0;
    const partial = await storedBars(db);
    expect(partial.length).toBeLessThan(completeCandles().length);
    for (let k = 0; k < 3; k++) {
      const r = await spawnSwt(fetchArgs(k === 0 && partial.length === 0 ? ['--from', '2024-03-04'] : []), { env: env(db) }).done;
      expect(r.status).toBe(0);
    }
    const got = await storedBars(db);
    const want = completeCandles();
    const bad = got.findIndex((g, k) => JSON.stringify(g) !== JSON.stringify(want[k]));
    expect(bad < 0 ? null : { k: bad, got: got[bad], want: want[bad] }).toBeNull();
    expect(got).toEqual(want);
  }, 60_000);
});

describe('swt data fetch --price BA and env.spread', () => {
  // Four trading days (no weekend), two pages; bid/ask around the mid with a spread that varies by bar.
  const B0 = Date.parse('2024-04-01T00:00:00Z');
  const NB = 5_900;
  const r5 = (x: number) => Math.round(x * 1e5) / 1e5;
  let fakeBA: FakeV20;
  let ba: FakeCandle[];
  const db = path.join(t.dir, 'ba.duckdb');
  const dbMid = path.join(t.dir, 'ba-mid.duckdb');
  beforeAll(async () => {
    fakeBA = await FakeV20.start({ token: TOKEN });
    ba = [];
    let p = 160;
    for (let i = 0; i < NB; i++) {
      const o = p;
      // a slow swing with noise, so that ma-crossover enters and leaves every few hours
      p = r3(p + Math.sin(i / 90) * 0.02 + (((i * 7919) % 13) - 6) * 0.001);
      const c = p;
      const half = r5(0.005 + ((i * 31) % 7) * 0.002); // 1 to 2.2 pips round trip
      const mid: [number, number, number, number] = [o, r3(Math.max(o, c) + 0.01), r3(Math.min(o, c) - 0.01), c];
      ba.push({ ts: B0 + i * 60_000, complete: true, mid, bid: mid.map((x) => r5(x - half)) as FakeCandle['mid'], ask: mid.map((x) => r5(x + half)) as FakeCandle['mid'] });
    }
    fakeBA.candles.set(I, ba);
  });
  afterAll(async () => {
    await fakeBA.close();
  });
  const envBA = (d: string, spread?: string) => ({ ...env(d), SWT_LIVE__OANDA__PRACTICE__REST_URL: fakeBA.url, SWT_OANDA_ACCOUNT: fakeBA.accountId, ...(spread ? { SWT_ENV__SPREAD: spread } : {}) });
  const to = new Date(B0 + NB * 60_000).toISOString();

  async function backtestTrades(d: string, spread: string) {
    const r = await swt(['backtest', '--policy', 'ma-crossover', '--instrument', I, '--json'], { env: envBA(d, spread) });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const run = JSON.parse(r.stdout).run;
    const s = await Store.open(d);
    try {
      const trades = await s.all<{ entry_ms: number; exit_ms: number; side: string; entry_price: number; exit_price: number; gross_pips: number; net_pips: number; cost_pips: number; forced: boolean }>(
        'SELECT epoch_ms(entry_ts) AS entry_ms, epoch_ms(exit_ts) AS exit_ms, side, entry_price, exit_price, gross_pips, net_pips, cost_pips, forced FROM trades WHERE run_id = $1 ORDER BY idx',
        [run.run_id],
      );
      return { run, trades: trades.map((x) => ({ ...x, entry_ms: Number(x.entry_ms), exit_ms: Number(x.exit_ms) })) };
    } finally {
      s.close();
    }
  }

  it('stores the served mid bars and each bar\'s open spread; a recorded-spread backtest charges half of each fill bar\'s spread per side', async () => {
    const f = await swt(['data', 'fetch', '--instrument', I, '--from', '2024-04-01', '--to', to, '--price', 'BA', '--json'], { env: envBA(db) });
    expect(f.stderr).toBe('');
    expect(f.status).toBe(0);
    const out = JSON.parse(f.stdout).fetch;
    expect(out).toMatchObject({ price: 'BA', pages: 2, rows_accepted: NB, rows_rejected: 0 });
    expect(fakeBA.requests.filter((q) => q.path.includes('/candles')).every((q) => q.path.includes('price=MBA'))).toBe(true);
    // the bars are the mid candles, as with --price M, and every one records ask.o − bid.o
    const s = await Store.open(db);
    const rows = await s.all<{ ms: number; open: number; close: number; spread: number }>('SELECT epoch_ms(ts) AS ms, open, close, spread FROM bars WHERE instrument = $1 ORDER BY ts', [I]);
    s.close();
    expect(rows.map((r) => [Number(r.ms), r.open, r.close])).toEqual(ba.map((c) => [c.ts, c.mid[0], c.mid[3]]));
    expect(rows.map((r) => r.spread)).toEqual(ba.map((c) => c.ask![0] - c.bid![0]));
    expect(new Set(rows.map((r) => Math.round(r.spread * 1000))).size).toBeGreaterThan(3);

    expect((await swt(['data', 'sessions', '--instrument', I], { env: envBA(db) })).status).toBe(0);
    const { run, trades } = await backtestTrades(db, 'recorded');
    expect(run.env.spread).toBe('recorded');
    expect(trades.length).toBeGreaterThan(5);
    // by hand, from the served candles: the entry fills at its bar's open and pays half that bar's
    // ask.o − bid.o; a normal exit the same at its bar; a forced exit (at the session's last close,
    // stamped a bar later) half of that last bar's
    const byTs = new Map(ba.map((c) => [c.ts, c]));
    const spreadPips = (ts: number) => (byTs.get(ts)!.ask![0] - byTs.get(ts)!.bid![0]) / 0.01;
    for (const tr of trades) {
      const exitBar = tr.forced ? tr.exit_ms - 60_000 : tr.exit_ms;
      const cost = spreadPips(tr.entry_ms) / 2 + spreadPips(exitBar) / 2;
      expect(tr.entry_price).toBe(byTs.get(tr.entry_ms)!.mid[0]);
      expect(tr.cost_pips).toBeCloseTo(cost, 9);
      const dir = tr.side === 'long' ? 1 : -1;
      expect(tr.net_pips).toBeCloseTo((dir * (tr.exit_price - tr.entry_price)) / 0.01 - cost, 9);
    }
    expect(new Set(trades.map((x) => x.cost_pips.toFixed(6))).size).toBeGreaterThan(1);

    // a paper replay through the live runner charges the same recorded spreads, trade for trade
    const base = loadConfig({ overrides: { 'env.spread': 'recorded' } });
    const config = { ...base, live: { ...base.live, risk: { ...base.live.risk, daily_loss_pips: 1e9, max_orders_per_minute: 1000 } } };
    const store = await Store.open(db);
    try {
      const live = await createLiveRun(store, config, { broker: 'paper', mode: 'practice', policy: 'ma-crossover', params: {}, instrument: I, feed: 'replay', speed: Infinity, range: { from: null, to: null }, sessions: true, seed: 1 });
      try {
        await live.runner.run();
        const got = live.session.trades.records().map((r) => [r.entryTs, r.exitTs, r.costPips, r.netPips]);
        expect(got).toEqual(trades.map((x) => [x.entry_ms, x.exit_ms, x.cost_pips, x.net_pips]));
      } finally {
        await live.close();
      }
    } finally {
      store.close();
    }

    // the constant still charges the constant (GBP_JPY: 4 pips), on the same store and trades
    const c = await backtestTrades(db, 'constant');
    expect(c.run.env.spread).toBe('constant');
    expect(c.trades.map((x) => [x.entry_ms, x.exit_ms])).toEqual(trades.map((x) => [x.entry_ms, x.exit_ms]));
    for (const tr of c.trades) {
      expect(tr.cost_pips).toBe(4);
      expect(tr.net_pips).toBeCloseTo(tr.gross_pips - 4, 9);
    }
  }, 120_000);

  it('a recorded-spread backtest on bars without spreads is an input error naming the instrument and bar', async () => {
    const f = await swt(['data', 'fetch', '--instrument', I, '--from', '2024-04-01', '--to', to, '--json'], { env: envBA(dbMid) });
    expect(f.status).toBe(0);
    expect((await swt(['data', 'sessions', '--instrument', I], { env: envBA(dbMid) })).status).toBe(0);
    const r = await swt(['backtest', '--policy', 'ma-crossover', '--instrument', I, '--json'], { env: envBA(dbMid, 'recorded') });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`env.spread is 'recorded' but ${I} has no recorded spread for the bar at 2024-04-01T00:00:00.000Z`);
    expect(r.stderr).toContain('--price BA');
    // a BA fetch over the same range records the spreads of the stored bars (nothing new, nothing rejected)
    const again = await swt(['data', 'fetch', '--instrument', I, '--from', '2024-04-01', '--to', to, '--price', 'BA', '--json'], { env: envBA(dbMid) });
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout).fetch).toMatchObject({ rows_accepted: 0, rows_rejected: 0, rows_already_present: NB });
    expect((await swt(['backtest', '--policy', 'ma-crossover', '--instrument', I, '--json'], { env: envBA(dbMid, 'recorded') })).status).toBe(0);
  }, 120_000);
});
