// `swt data fetch` against the fake v20 server (acceptance 6, the M part): a multi-page range gives
// exactly the served complete candles, a 429 during paging is waited out, and a fetch killed mid-way
// and re-run (incrementally, without --from) gives the same store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { FakeV20, type FakeCandle } from './support/fake-v20.js';
import { spawnSwt } from './helpers/processes.js';
import { tempDir } from './helpers/paths.js';
import { Store } from '../src/store/db.js';

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
