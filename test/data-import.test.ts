import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { Store } from '../src/store/db.js';
import { importFiles } from '../src/data/import.js';
import { HAS_SHARED, SHARED, swt, tempDir } from './helpers/paths.js';
import { makeBars, writeLines } from './helpers/bars.js';

const REAL_CSV = path.join(SHARED, 'data', 'GBPJPY_M1_20160422_20160624.csv.gz');
const REAL_MT4 = path.join(SHARED, 'data', 'raw', 'GBPJPY1_mt4_export.csv.gz');

async function query<T = Record<string, unknown>>(db: string, sql: string): Promise<T[]> {
  const s = await Store.open(db);
  try {
    return await s.all<T & Record<string, unknown>>(sql);
  } finally {
    s.close();
  }
}

describe.skipIf(!HAS_SHARED)('importing the real 2016 GBP/JPY data', () => {
  const t = tempDir();
  const db = path.join(t.dir, 'real.duckdb');
  afterAll(t.cleanup);

  beforeAll(async () => {
    const a = await swt(['data', 'import', REAL_CSV, '--instrument', 'GBP_JPY', '--format', 'csv', '--db', db, '--json']);
    expect(a.status, a.stderr).toBe(0);
    const b = await swt(['data', 'import', REAL_MT4, '--instrument', 'GBP_JPY_MT4', '--format', 'mt4', '--utc-offset', '3', '--db', db, '--json']);
    expect(b.status, b.stderr).toBe(0);
    const c = await swt(['data', 'import', REAL_MT4, '--instrument', 'GBP_JPY_ATHENS', '--format', 'mt4', '--tz', 'Europe/Athens', '--db', db]);
    expect(c.status, c.stderr).toBe(0);
  });

  it('the normalised CSV and the MT4 export (server time UTC+3) give identical bars', async () => {
    const [row] = await query<{ a: number; b: number; ab: number; ba: number }>(
      db,
      `SELECT (SELECT count(*) FROM bars WHERE instrument = 'GBP_JPY') AS a,
              (SELECT count(*) FROM bars WHERE instrument = 'GBP_JPY_MT4') AS b,
              (SELECT count(*) FROM (SELECT ts, open, high, low, close, volume FROM bars WHERE instrument = 'GBP_JPY'
                                     EXCEPT SELECT ts, open, high, low, close, volume FROM bars WHERE instrument = 'GBP_JPY_MT4')) AS ab,
              (SELECT count(*) FROM (SELECT ts, open, high, low, close, volume FROM bars WHERE instrument = 'GBP_JPY_MT4'
                                     EXCEPT SELECT ts, open, high, low, close, volume FROM bars WHERE instrument = 'GBP_JPY')) AS ba`,
    );
    expect(row).toEqual({ a: 65039, b: 65039, ab: 0, ba: 0 });
  });

  it('an IANA zone (Europe/Athens, UTC+3 in summer) converts the MT4 file the same way', async () => {
    const [row] = await query<{ n: number }>(
      db,
      `SELECT count(*) AS n FROM (SELECT ts, close FROM bars WHERE instrument = 'GBP_JPY_ATHENS'
                                  EXCEPT SELECT ts, close FROM bars WHERE instrument = 'GBP_JPY')`,
    );
    expect(row.n).toBe(0);
  });

  it('`swt data check --json` reports the documented facts', async () => {
    const r = await swt(['data', 'check', '--instrument', 'GBP_JPY', '--db', db, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const q = JSON.parse(r.stdout);
    expect(q.instrument).toBe('GBP_JPY');
    expect(q.bars).toBe(65039);
    expect(q.first).toBe('2016-04-22T16:53:00Z');
    expect(q.last).toBe('2016-06-24T20:58:00Z');
    expect(q.range_pips.mean.toFixed(2)).toBe('5.17');
    expect(q.range_pips.median.toFixed(1)).toBe('3.8');
    expect(q.range_pips.p99.toFixed(1)).toBe('27.7');
    expect(q.range_pips.max.toFixed(1)).toBe('861.9');
    expect(q.gaps_over_limit.count).toBe(0);
    expect(q.weekend_closures).toBe(9);
    expect(q.weekend_closure_hours.min).toBeGreaterThanOrEqual(48);
    expect(q.weekend_closure_hours.max).toBeLessThan(48.05);
    expect(q.bars_in_weekend).toBe(0);
    expect(q.duplicates).toBe(0);
    expect(q.ohlc_errors).toBe(0);
    expect(q.rejected_rows).toBe(0);
    expect(q.coverage.toFixed(4)).toBe('0.9999');
    expect(['PASS', 'WARN']).toContain(q.verdict);
    for (const k of ['expected_weekday_minutes', 'share_range_over_12_pips', 'gaps_over_limit', 'verdict', 'reasons']) expect(q).toHaveProperty(k);
  });

  it('the MT4 instrument reports the same facts as the CSV one', async () => {
    const a = JSON.parse((await swt(['data', 'check', '--instrument', 'GBP_JPY', '--db', db, '--json'])).stdout);
    const b = JSON.parse((await swt(['data', 'check', '--instrument', 'GBP_JPY_MT4', '--db', db, '--json'])).stdout);
    expect({ ...b, instrument: 'GBP_JPY' }).toEqual(a);
  });

  it('re-importing the same file adds nothing', async () => {
    const r = await swt(['data', 'import', REAL_CSV, '--instrument', 'GBP_JPY', '--format', 'csv', '--db', db, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).imports[0].status).toBe('already_imported');
    const [row] = await query<{ n: number; imports: number }>(
      db,
      `SELECT (SELECT count(*) FROM bars WHERE instrument = 'GBP_JPY') AS n, (SELECT count(*) FROM imports WHERE instrument = 'GBP_JPY') AS imports`,
    );
    expect(row).toEqual({ n: 65039, imports: 1 });
  });

  it('every import is recorded with file, sha256, counts and time range', async () => {
    const rows = await query<Record<string, unknown>>(db, `SELECT * FROM imports WHERE instrument = 'GBP_JPY_MT4'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ format: 'mt4', source_tz: 'UTC+3', rows_read: 65039, rows_accepted: 65039, rows_rejected: 0 });
    expect(String(rows[0].sha256)).toMatch(/^[0-9a-f]{64}$/);
    expect((rows[0].first_ts as Date).toISOString()).toBe('2016-04-22T16:53:00.000Z');
    expect((rows[0].last_ts as Date).toISOString()).toBe('2016-06-24T20:58:00.000Z');
  });

  it('sessions of 360 bars on the real data: none cross a weekend, and the index is dense', async () => {
    const r = await swt(['data', 'sessions', '--instrument', 'GBP_JPY', '--db', db, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.sessions).toBeGreaterThan(60000);
    expect(s.bars).toBe(65039);
    expect(s.sessions + s.rejected_starts.total).toBe(65039);
    expect(s.rejected_starts.gap_over_max).toBe(0);
    expect(s.rejected_starts.end_of_data).toBe(359);
  });
});

describe('other source formats convert their time zones to UTC', () => {
  const t = tempDir();
  const db = path.join(t.dir, 'fmt.duckdb');
  afterAll(t.cleanup);

  it('histdata (EST without DST, UTC-5) and dukascopy (GMT, and local time with an offset)', async () => {
    const hist = writeLines(path.join(t.dir, 'DAT_ASCII_GBPJPY_M1_2016.csv'), ['20160422 115300;160.532;160.536;160.512;160.516;0', '20160422 115400;160.516;160.543;160.491;160.543;0']);
    const duk = writeLines(path.join(t.dir, 'duk.csv'), ['Gmt time,Open,High,Low,Close,Volume', '22.04.2016 16:53:00.000,160.532,160.536,160.512,160.516,115.5', '22.04.2016 16:54:00.000,160.516,160.543,160.491,160.543,194']);
    const dukLocal = writeLines(path.join(t.dir, 'duk-local.csv'), ['Local time,Open,High,Low,Close,Volume', '22.04.2016 19:53:00.000 GMT+0300,160.532,160.536,160.512,160.516,115.5']);
    expect((await swt(['data', 'import', hist, '--instrument', 'H_JPY', '--format', 'histdata', '--db', db])).status).toBe(0);
    expect((await swt(['data', 'import', duk, '--instrument', 'D_JPY', '--format', 'dukascopy', '--db', db])).status).toBe(0);
    expect((await swt(['data', 'import', dukLocal, '--instrument', 'L_JPY', '--format', 'dukascopy', '--db', db])).status).toBe(0);
    const rows = await query<{ instrument: string; ts: Date; close: number }>(db, `SELECT instrument, ts, close FROM bars ORDER BY instrument, ts`);
    const byInst = (i: string) => rows.filter((r) => r.instrument === i).map((r) => r.ts.toISOString());
    expect(byInst('H_JPY')).toEqual(['2016-04-22T16:53:00.000Z', '2016-04-22T16:54:00.000Z']);
    expect(byInst('D_JPY')).toEqual(['2016-04-22T16:53:00.000Z', '2016-04-22T16:54:00.000Z']);
    expect(byInst('L_JPY')).toEqual(['2016-04-22T16:53:00.000Z']);
  });

  it('oanda v20 candles: only complete candles, the chosen price component, nanosecond times', async () => {
    const file = path.join(t.dir, 'candles.json');
    writeFileSync(
      file,
      JSON.stringify({
        instrument: 'GBP_JPY',
        granularity: 'M1',
        candles: [
          { complete: true, volume: 12, time: '2016-04-22T16:53:00.000000000Z', mid: { o: '160.532', h: '160.536', l: '160.512', c: '160.516' }, bid: { o: '160.530', h: '160.534', l: '160.510', c: '160.514' } },
          { complete: true, volume: 9, time: '2016-04-22T16:54:00.000000000Z', mid: { o: '160.516', h: '160.543', l: '160.491', c: '160.543' }, bid: { o: '160.514', h: '160.541', l: '160.489', c: '160.541' } },
          { complete: false, volume: 3, time: '2016-04-22T16:55:00.000000000Z', mid: { o: '160.543', h: '160.550', l: '160.540', c: '160.545' }, bid: { o: '160.541', h: '160.548', l: '160.538', c: '160.543' } },
        ],
      }),
    );
    const r = await swt(['data', 'import', file, '--instrument', 'O_JPY', '--format', 'oanda', '--db', db, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout).imports[0];
    expect(res).toMatchObject({ rows_read: 3, rows_accepted: 2, incomplete_skipped: 1, rows_rejected: 0 });
    const rb = await swt(['data', 'import', file, '--instrument', 'OB_JPY', '--format', 'oanda', '--price', 'bid', '--db', db]);
    expect(rb.status, rb.stderr).toBe(0);
    const rows = await query<{ instrument: string; ts: Date; close: number }>(db, `SELECT instrument, ts, close FROM bars WHERE instrument IN ('O_JPY', 'OB_JPY') ORDER BY instrument, ts`);
    expect(rows.map((x) => [x.instrument, x.ts.toISOString(), x.close])).toEqual([
      ['OB_JPY', '2016-04-22T16:53:00.000Z', 160.514],
      ['OB_JPY', '2016-04-22T16:54:00.000Z', 160.541],
      ['O_JPY', '2016-04-22T16:53:00.000Z', 160.516],
      ['O_JPY', '2016-04-22T16:54:00.000Z', 160.543],
    ]);
  });

  it('oanda candles with bid and ask (a --price BA fetch): each bar records ask.o − bid.o; a candle without both, or crossed, is rejected', async () => {
    const file = path.join(t.dir, 'candles-ba.json');
    const q = (o: string) => ({ o, h: o, l: o, c: o });
    const at = (m: number) => `2016-04-22T17:0${m}:00.000000000Z`;
    writeFileSync(
      file,
      JSON.stringify({
        instrument: 'GBP_JPY',
        granularity: 'M1',
        candles: [
          { complete: true, volume: 1, time: at(0), mid: q('160.500'), bid: q('160.490'), ask: q('160.510') },
          { complete: true, volume: 1, time: at(1), mid: q('160.520'), bid: q('160.505'), ask: q('160.535') },
          { complete: true, volume: 1, time: at(2), mid: q('160.530'), bid: q('160.520') },
          { complete: true, volume: 1, time: at(3), mid: q('160.540'), bid: q('160.550'), ask: q('160.530') },
        ],
      }),
    );
    const store = await Store.open(db);
    try {
      const [r] = await importFiles(store, [file], { instrument: 'S_JPY', format: 'oanda', price: 'mid', spread: true });
      expect(r).toMatchObject({ rows_accepted: 2, rows_rejected: 2 });
      expect(Object.keys(r.rejected_by_reason).sort()).toEqual(['bid above ask at the open', 'malformed: candle has no "bid" and "ask" open prices']);
      const rows = await store.all<{ close: number; spread: number }>(`SELECT close, spread FROM bars WHERE instrument = 'S_JPY' ORDER BY ts`);
      expect(rows).toEqual([
        { close: 160.5, spread: 160.51 - 160.49 },
        { close: 160.52, spread: 160.535 - 160.505 },
      ]);
      // without the spread asked for, the same candles store no spread
      const [m] = await importFiles(store, [file], { instrument: 'M_JPY', format: 'oanda', price: 'mid' });
      expect(m).toMatchObject({ rows_accepted: 4, rows_rejected: 0 });
      const none = await store.all<{ n: number }>(`SELECT count(*) AS n FROM bars WHERE instrument = 'M_JPY' AND spread IS NOT NULL`);
      expect(Number(none[0].n)).toBe(0);
    } finally {
      store.close();
    }
  });

  it('csv accepts epoch-millisecond timestamps and gzip input', async () => {
    const bars = makeBars('2020-03-02T10:00:00Z', 3);
    const lines = ['ts,open,high,low,close,volume', ...bars.map((b) => `${b.ms},${b.o},${b.h},${b.l},${b.c},${b.v}`)];
    const file = writeLines(path.join(t.dir, 'epoch.csv.gz'), lines, true);
    const r = await swt(['data', 'import', file, '--instrument', 'E_JPY', '--format', 'csv', '--db', db, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).imports[0]).toMatchObject({ rows_accepted: 3, first: '2020-03-02T10:00:00Z', last: '2020-03-02T10:02:00Z' });
  });
});
