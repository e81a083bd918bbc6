import { describe, it, expect, afterAll } from 'vitest';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Store } from '../src/store/db.js';
import { loadConfig } from '../src/config/load.js';
import { indexSessions, sessionAt } from '../src/data/sessions.js';
import { generateBars } from '../src/data/synth.js';
import { holeClosuresMs, holeMinutesMs, inClosureMs, weekCalendar } from '../src/data/calendar.js';
import { buildFeatures } from '../src/features/store.js';
import { swt, tempDir } from './helpers/paths.js';
import { csvLines, makeBars, writeLines } from './helpers/bars.js';

const t = tempDir();
afterAll(t.cleanup);

describe('the synthetic default dataset', () => {
  const db = path.join(t.dir, 'synth.duckdb');
  const out = path.join(t.dir, 'syn.csv');

  it('2022-01-03..2025-08-29: about 1.3 million bars, imported, and the quality report says PASS', async () => {
    const r = await swt(['data', 'synth', '--from', '2022-01-03', '--to', '2025-08-29', '--seed', '1', '--out', out, '--db', db, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.synth.bars).toBeGreaterThan(1_300_000);
    expect(s.synth.bars).toBeLessThan(1_400_000);
    expect(s.imports[0].rows_accepted).toBe(s.synth.bars);
    const c = await swt(['data', 'check', '--instrument', 'SYN_GBPJPY', '--db', db, '--json']);
    expect(c.status, c.stderr).toBe(0);
    const q = JSON.parse(c.stdout);
    expect(q.verdict).toBe('PASS');
    expect(q.reasons).toEqual([]);
    // realistic for GBP/JPY M1
    expect(q.range_pips.mean).toBeGreaterThanOrEqual(3);
    expect(q.range_pips.mean).toBeLessThanOrEqual(6);
    expect(q.range_pips.max).toBeGreaterThan(5 * q.range_pips.p99); // fat tails / news spikes
    expect(q.bars_in_weekend).toBe(0);
    expect(q.weekend_closures).toBeGreaterThan(180);
    expect(q.weekend_closure_hours).toEqual({ min: 48, max: 48 });
    expect(q.gaps_over_limit.count).toBe(0);
    expect(q.coverage).toBeGreaterThan(0.999);
    expect(q.coverage).toBeLessThan(1); // rare short gaps exist
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const gen = (seed: number) => {
      const h = createHash('sha256');
      generateBars(
        { from: '2023-03-06', to: '2023-03-10', seed, startPrice: 150, pipSize: 0.01, calendar: weekCalendar(loadConfig({ env: {} })) },
        (ms, o, hi, l, c, v) => h.update(`${ms},${o},${hi},${l},${c},${v};`),
      );
      return h.digest('hex');
    };
    expect(gen(7)).toBe(gen(7));
    expect(gen(7)).not.toBe(gen(8));
  });

  it('has intraday volatility seasonality: London/NY hours are busier than Asia', async () => {
    const s = await Store.open(db);
    try {
      const rows = await s.all<{ asia: number; overlap: number }>(
        `SELECT avg(high - low) FILTER (WHERE hour(ts) BETWEEN 0 AND 4) AS asia, avg(high - low) FILTER (WHERE hour(ts) BETWEEN 12 AND 15) AS overlap
         FROM bars WHERE instrument = 'SYN_GBPJPY'`,
      );
      expect(rows[0].overlap / rows[0].asia).toBeGreaterThan(2);
    } finally {
      s.close();
    }
  });

  it('the same synth file written twice is byte-identical', async () => {
    const a = path.join(t.dir, 'a.csv');
    const b = path.join(t.dir, 'b.csv');
    for (const f of [a, b]) expect((await swt(['data', 'synth', '--from', '2024-01-01', '--to', '2024-01-05', '--seed', '3', '--out', f, '--no-import'])).status).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });
});

describe('the quality verdict', () => {
  it('FAILs a series where most bars exceed 12 pips (the predecessor\'s corrupted data), naming the reason', async () => {
    const db = path.join(t.dir, 'corrupt.duckdb');
    const file = writeLines(path.join(t.dir, 'corrupt.csv'), csvLines(makeBars('2021-06-07T08:00:00Z', 600, { rangePips: 40 })));
    expect((await swt(['data', 'import', file, '--instrument', 'GBP_JPY', '--format', 'csv', '--db', db])).status).toBe(0);
    const r = await swt(['data', 'check', '--instrument', 'GBP_JPY', '--db', db, '--json']);
    const q = JSON.parse(r.stdout);
    expect(q.share_range_over_12_pips).toBe(1);
    expect(q.verdict).toBe('FAIL');
    expect(q.reasons[0]).toMatch(/100\.00% of bars have a high-low range over 12 pips .*corrupted/);
    expect((await swt(['data', 'check', '--instrument', 'GBP_JPY', '--db', db, '--fail-on', 'FAIL'])).status).toBe(1);
  });

  it('WARNs about gaps over the limit outside weekends, listing the longest', async () => {
    const db = path.join(t.dir, 'gappy.duckdb');
    // Tuesday 08:00: minutes 100..129 missing (30 min), 300..311 missing (12 min)
    const bars = makeBars('2021-06-08T08:00:00Z', 600, { skip: (i) => (i >= 100 && i < 130) || (i >= 300 && i < 312) });
    const file = writeLines(path.join(t.dir, 'gappy.csv'), csvLines(bars));
    expect((await swt(['data', 'import', file, '--instrument', 'GBP_JPY', '--format', 'csv', '--db', db])).status).toBe(0);
    const q = JSON.parse((await swt(['data', 'check', '--instrument', 'GBP_JPY', '--db', db, '--json'])).stdout);
    expect(q.gaps_over_limit.count).toBe(2);
    expect(q.gaps_over_limit.missing_minutes).toBe(42);
    expect(q.gaps_over_limit.longest[0]).toEqual({ after: '2021-06-08T09:39:00Z', before: '2021-06-08T10:10:00Z', missing_minutes: 30, closure_minutes: 0 });
    expect(q.verdict).toBe('WARN');
    expect(q.coverage).toBeCloseTo(558 / 600, 6);
  });

  it('an unknown instrument is a clear error listing what the store has', async () => {
    const db = path.join(t.dir, 'gappy.duckdb');
    const r = await swt(['data', 'check', '--instrument', 'EUR_USD', '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no bars for instrument EUR_USD \(instruments in the store: GBP_JPY\)/);
  });
});

describe('the session index', () => {
  it('counts exactly the starts of unbroken runs long enough for a session, and explains the rest', async () => {
    const db = path.join(t.dir, 'sessions.duckdb');
    // Wednesday 00:00, 1000 minutes: a 12-minute hole after bar 399 (breaks), a 5-minute hole after bar 699 (does not)
    const bars = makeBars('2021-06-09T00:00:00Z', 1000, { skip: (i) => (i >= 400 && i < 412) || (i >= 700 && i < 705) });
    // Friday 20:30 → Sunday 21:00 → Monday: a weekend closure between two runs
    const fri = makeBars('2021-06-11T20:00:00Z', 60);
    const sun = makeBars('2021-06-13T21:00:00Z', 200);
    const file = writeLines(path.join(t.dir, 'sessions.csv'), csvLines([...bars, ...fri, ...sun]));
    expect((await swt(['data', 'import', file, '--instrument', 'GBP_JPY', '--format', 'csv', '--db', db])).status).toBe(0);
    const r = await swt(['data', 'sessions', '--instrument', 'GBP_JPY', '--length', '100', '--max-gap', '10', '--db', db, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    // runs: 400 bars | 12-min hole | 583 bars (5 missing minutes inside) | Wednesday→Friday hole | 60 bars | weekend | 200 bars
    expect(s.runs).toBe(4);
    expect(s.sessions).toBe(301 + 484 + 0 + 101);
    expect(s.bars).toBe(400 + 583 + 60 + 200);
    expect(s.bars_covered).toBe(400 + 583 + 200);
    expect(s.rejected_starts).toEqual({ total: 99 + 99 + 60 + 99, gap_over_max: 99 + 99, weekend_closure: 60, bar_in_weekend: 0, end_of_data: 99 });

    const st = await Store.open(db);
    try {
      const cfg = loadConfig({ env: {} });
      // idx is dense and ordered: session k of the index is a direct lookup
      expect((await sessionAt(st, 'GBP_JPY', 100, 10, 0))?.toISOString()).toBe('2021-06-09T00:00:00.000Z');
      expect((await sessionAt(st, 'GBP_JPY', 100, 10, 301))?.toISOString()).toBe('2021-06-09T06:52:00.000Z');
      expect(await sessionAt(st, 'GBP_JPY', 100, 10, s.sessions)).toBeNull();
      // With a larger max-gap the 12-minute hole no longer breaks the run
      const wide = await indexSessions(st, cfg, 'GBP_JPY', 100, 15);
      expect(wide.runs).toBe(3); // the Wednesday→Friday hole and the weekend still break
      expect(wide.sessions).toBe(400 + 583 - 99 + 101);
      // Re-indexing replaces, never duplicates
      const again = await indexSessions(st, cfg, 'GBP_JPY', 100, 15);
      expect(again.sessions).toBe(wide.sessions);
      const [n] = await st.all<{ n: number }>(`SELECT count(*) AS n FROM sessions WHERE length = 100 AND max_gap = 15`);
      expect(n.n).toBe(wide.sessions);
    } finally {
      st.close();
    }
  });
});

describe('a hole in the data that contains a weekend', () => {
  const cal = weekCalendar(loadConfig({ env: {} }));
  const at = (iso: string) => Date.parse(iso);
  // 2025-03-07 is a Friday; the configured closure runs Friday 21:00 to Sunday 21:00 UTC.
  const hole = (after: string, before: string) => holeMinutesMs(at(after), at(before), cal);

  it('is a closure for the scheduled weekend only; every other missing minute is a weekday minute', () => {
    // the usual weekend (last bar Friday 20:59, first Sunday 21:00), and its winter form an hour later
    expect(hole('2025-03-07T20:59:00Z', '2025-03-09T21:00:00Z')).toEqual({ missing: 2880, closure: 2880, weekday: 0, weekends: 1 });
    expect(hole('2025-03-07T21:59:00Z', '2025-03-09T22:00:00Z')).toEqual({ missing: 2880, closure: 2880, weekday: 0, weekends: 1 });
    // Friday's feed stops 30 minutes early, or Sunday opens 30 minutes late: 29 / 30 weekday minutes lost
    expect(hole('2025-03-07T20:30:00Z', '2025-03-09T21:00:00Z')).toEqual({ missing: 2909, closure: 2880, weekday: 29, weekends: 1 });
    expect(hole('2025-03-07T20:59:00Z', '2025-03-09T21:30:00Z')).toEqual({ missing: 2910, closure: 2880, weekday: 30, weekends: 1 });
    // Thursday noon to Monday noon: the weekend is 48 h of it, the other 48 h are weekday minutes
    expect(hole('2025-03-06T11:59:00Z', '2025-03-10T12:00:00Z')).toEqual({ missing: 5760, closure: 2880, weekday: 2880, weekends: 1 });
    // three weeks, Wednesday to Wednesday: three weekends, fifteen weekdays
    expect(hole('2025-03-12T11:59:00Z', '2025-04-02T12:00:00Z')).toEqual({ missing: 30240, closure: 3 * 2880, weekday: 15 * 1440, weekends: 3 });
    expect(holeClosuresMs(at('2025-03-12T11:59:00Z'), at('2025-04-02T12:00:00Z'), cal)).toEqual([2880, 2880, 2880]);
    // a hole on Friday afternoon that does not reach the weekend is a plain gap, near the close or not
    expect(hole('2025-03-07T20:10:00Z', '2025-03-07T20:50:00Z')).toEqual({ missing: 39, closure: 0, weekday: 39, weekends: 0 });
    expect(hole('2025-03-05T10:00:00Z', '2025-03-05T10:01:00Z')).toEqual({ missing: 0, closure: 0, weekday: 0, weekends: 0 });
  });

  describe('a series with a 3-week hole and a 3-day hole, each holding weekends', () => {
    const db = path.join(t.dir, 'holes.duckdb');
    // Monday 2025-03-03 to Friday 2025-05-02, weekdays only, with the two holes cut out
    const start = at('2025-03-03T00:00:00Z');
    const cut = [
      [at('2025-03-12T12:00:00Z'), at('2025-04-02T12:00:00Z')],
      [at('2025-04-18T00:00:00Z'), at('2025-04-21T00:00:00Z')],
    ];
    const bars = makeBars('2025-03-03T00:00:00Z', 60 * 1440 + 21 * 60, {
      skip: (i) => {
        const ms = start + i * 60_000;
        return inClosureMs(ms, cal) || cut.some(([a, b]) => ms >= a && ms < b);
      },
    });

    it('the quality report counts both holes as gaps of their weekday minutes; its closures are the 48 h weekends', async () => {
      const file = writeLines(path.join(t.dir, 'holes.csv'), csvLines(bars));
      expect((await swt(['data', 'import', file, '--instrument', 'GBP_JPY', '--format', 'csv', '--db', db])).status).toBe(0);
      const r = await swt(['data', 'check', '--instrument', 'GBP_JPY', '--db', db, '--json']);
      expect(r.status, r.stderr).toBe(0);
      const q = JSON.parse(r.stdout);
      expect(q.gaps_over_limit).toEqual({
        count: 2,
        missing_minutes: 15 * 1440 + 1440,
        longest: [
          { after: '2025-03-12T11:59:00Z', before: '2025-04-02T12:00:00Z', missing_minutes: 15 * 1440, closure_minutes: 3 * 2880 },
          { after: '2025-04-17T23:59:00Z', before: '2025-04-21T00:00:00Z', missing_minutes: 1440, closure_minutes: 2880 },
        ],
      });
      // eight weekends between 2025-03-03 and 2025-05-02, four of them inside the holes
      expect(q.weekend_closures).toBe(8);
      expect(q.weekend_closure_hours).toEqual({ min: 48, max: 48 });
      expect(q.weekday_bars).toBe(q.expected_weekday_minutes - 15 * 1440 - 1440);
      expect(q.reasons).toContain('2 gaps over 10 minutes outside weekend closures (longest 21600 min after 2025-03-12T11:59:00Z)');
    });

    it('the session index breaks runs at both holes as gaps, not as weekend closures', async () => {
      const r = await swt(['data', 'sessions', '--instrument', 'GBP_JPY', '--length', '360', '--max-gap', '10', '--db', db, '--json']);
      expect(r.status, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout);
      // runs: Mar 3-7 | weekend | Mar 10-12 noon | 3-week hole | Apr 2 noon-4 | weekend | Apr 7-11 | weekend |
      //       Apr 14-17 | 3-day hole | Apr 21-25 | weekend | Apr 28-May 2; each run's last 359 bars cannot start a session
      expect(s.runs).toBe(7);
      expect(s.rejected_starts).toEqual({ total: 7 * 359, gap_over_max: 2 * 359, weekend_closure: 4 * 359, bar_in_weekend: 0, end_of_data: 359 });
    });

    it('the feature build marks the windows that reach back over a hole as gap; plain weekends do not break windows', async () => {
      const st = await Store.open(db);
      try {
        const r = await buildFeatures(st, loadConfig({ env: {} }), { instrument: 'GBP_JPY', set: 'default' });
        // window 256: the 255 bars after each hole see it; the first 255 bars are warm-up
        expect({ gap: r.gap, warmup: r.warmup, ok: r.ok }).toEqual({ gap: 2 * 255, warmup: 255, ok: bars.length - 3 * 255 });
      } finally {
        st.close();
      }
    });
  });
});
