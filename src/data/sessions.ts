// `swt data sessions`: indexes every valid session start into `sessions`. A session is `length`
// consecutive bars in which no two neighbours are more than max_gap missing weekday minutes apart and no
// bar crosses a weekend closure. Bars split into runs at every break; a run of n >= length bars holds
// n - length + 1 valid starts. `idx` numbers the starts densely (0..count-1, by time) so that sampling a
// random session is a lookup of one random integer.
import type { Store } from '../store/db.js';
import type { Config } from '../config/schema.js';
import { UsageError } from '../util/errors.js';
import { appendColumns } from '../store/columnar.js';
import { holeMinutesMs, inWeekendCoreSql, weekCalendar } from './calendar.js';
import { readHoles } from './holes.js';

export interface SessionIndexReport {
  instrument: string;
  length: number;
  max_gap: number;
  sessions: number;
  bars: number;
  bars_covered: number;
  share_bars_covered: number;
  runs: number;
  /** Why bars could not start a session: the break that ends their run too early. */
  rejected_starts: { total: number; gap_over_max: number; weekend_closure: number; bar_in_weekend: number; end_of_data: number };
  first_start: string | null;
  last_start: string | null;
}

export async function indexSessions(store: Store, config: Config, instrument: string, length: number, maxGap: number): Promise<SessionIndexReport> {
  if (!Number.isInteger(length) || length < 2) throw new UsageError(`--length must be an integer >= 2, got ${length}`);
  if (!Number.isInteger(maxGap) || maxGap < 0) throw new UsageError(`--max-gap must be an integer >= 0 (minutes), got ${maxGap}`);
  const cal = weekCalendar(config);
  const n = await store.one<{ n: number }>('SELECT count(*) AS n FROM bars WHERE instrument = $1', [instrument]);
  if (!n || Number(n.n) === 0) throw new UsageError(`no bars for instrument ${instrument}: import or synthesise data first`);

  return store.transaction(async () => {
    // The holes that break a run: more weekday minutes missing than max_gap (even when the hole also
    // holds a weekend), else a weekend closure crossed.
    const holes = await readHoles(store, '(SELECT ts FROM bars WHERE instrument = $1)', [instrument]);
    const breakTs: number[] = [];
    const breakKind: string[] = [];
    for (let i = 0; i < holes.n; i++) {
      const h = holeMinutesMs(holes.prev[i], holes.next[i], cal);
      const kind = h.weekday > maxGap ? 'gap_over_max' : h.weekends > 0 ? 'weekend_closure' : null;
      if (kind) {
        breakTs.push(holes.next[i]);
        breakKind.push(kind);
      }
    }
    await store.run('CREATE OR REPLACE TEMP TABLE sholes (ts TIMESTAMP, brk VARCHAR)');
    await appendColumns(store, 'sholes', [{ kind: 'ts_ms', data: Float64Array.from(breakTs) }, { kind: 'varchar', data: breakKind }], breakTs.length);
    // Each bar: the kind of break before it (NULL when it continues the previous bar's run).
    await store.run(
      `CREATE OR REPLACE TEMP TABLE sbars AS
       WITH b AS (
         SELECT ts, lag(ts) OVER (ORDER BY ts) AS prev, ${inWeekendCoreSql('ts', cal)} AS in_weekend
         FROM bars WHERE instrument = $1
       ), k AS (
         SELECT ts, in_weekend,
                CASE WHEN prev IS NULL THEN 'start'
                     WHEN in_weekend OR ${inWeekendCoreSql('prev', cal)} THEN 'bar_in_weekend'
                     ELSE h.brk
                END AS brk
         FROM b LEFT JOIN sholes h USING (ts)
       )
       SELECT ts, in_weekend, brk, count(brk) OVER (ORDER BY ts) AS run FROM k`,
      [instrument],
    );
    await store.run(
      `CREATE OR REPLACE TEMP TABLE sruns AS
       SELECT run, count(*) AS size, min(ts) AS start_ts, bool_or(in_weekend) AS has_weekend_bar FROM sbars GROUP BY run`,
    );
    await store.run('DELETE FROM sessions WHERE instrument = $1 AND length = $2 AND max_gap = $3', [instrument, length, maxGap]);
    await store.run(
      `INSERT INTO sessions (instrument, length, max_gap, idx, start_ts, end_ts)
       SELECT $1, $2, $3, row_number() OVER (ORDER BY ts) - 1, ts, end_ts
       FROM (
         SELECT ts, run, lead(ts, ${length - 1}) OVER (ORDER BY ts) AS end_ts,
                lead(run, ${length - 1}) OVER (ORDER BY ts) AS end_run, in_weekend
         FROM sbars
       ) WHERE end_run = run AND NOT in_weekend
       ORDER BY ts`,
      [instrument, length, maxGap],
    );
    const stats = await store.one<Record<string, number | string | null>>(
      `SELECT (SELECT count(*) FROM sessions WHERE instrument = $1 AND length = $2 AND max_gap = $3) AS sessions,
              (SELECT strftime(min(start_ts), '%Y-%m-%dT%H:%M:%SZ') FROM sessions WHERE instrument = $1 AND length = $2 AND max_gap = $3) AS first_start,
              (SELECT strftime(max(start_ts), '%Y-%m-%dT%H:%M:%SZ') FROM sessions WHERE instrument = $1 AND length = $2 AND max_gap = $3) AS last_start,
              (SELECT count(*) FROM sbars) AS bars,
              (SELECT coalesce(sum(size), 0) FROM sruns WHERE size >= $2 AND NOT has_weekend_bar) AS covered,
              (SELECT count(*) FROM sruns) AS runs`,
      [instrument, length, maxGap],
    );
    // A bar that cannot start a session is blamed on the break that starts the next run.
    const why = await store.all<{ reason: string; n: number }>(
      `WITH pos AS (
         SELECT s.run, row_number() OVER (PARTITION BY s.run ORDER BY s.ts) AS k, r.size, r.has_weekend_bar FROM sbars s JOIN sruns r USING (run)
       ), nextbrk AS (
         SELECT run - 1 AS run, brk FROM sbars WHERE brk IS NOT NULL AND brk <> 'start'
       )
       SELECT CASE WHEN p.has_weekend_bar THEN 'bar_in_weekend' ELSE coalesce(n.brk, 'end_of_data') END AS reason, count(*) AS n
       FROM pos p LEFT JOIN nextbrk n ON n.run = p.run
       WHERE p.has_weekend_bar OR p.size - p.k + 1 < $1
       GROUP BY 1`,
      [length],
    );
    await store.run(
      `INSERT OR REPLACE INTO session_index_runs (instrument, length, max_gap, sessions, bars, bars_covered, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, current_timestamp)`,
      [instrument, length, maxGap, Number(stats?.sessions ?? 0), Number(stats?.bars ?? 0), Number(stats?.covered ?? 0)],
    );
    await store.run('DROP TABLE sbars');
    await store.run('DROP TABLE sholes');
    await store.run('DROP TABLE sruns');
    const byReason = Object.fromEntries(why.map((w) => [w.reason, Number(w.n)]));
    const bars = Number(stats?.bars ?? 0);
    const covered = Number(stats?.covered ?? 0);
    const rejected = {
      total: why.reduce((a, w) => a + Number(w.n), 0),
      gap_over_max: byReason.gap_over_max ?? 0,
      weekend_closure: byReason.weekend_closure ?? 0,
      bar_in_weekend: byReason.bar_in_weekend ?? 0,
      end_of_data: byReason.end_of_data ?? 0,
    };
    return {
      instrument,
      length,
      max_gap: maxGap,
      sessions: Number(stats?.sessions ?? 0),
      bars,
      bars_covered: covered,
      share_bars_covered: bars ? Math.round((covered / bars) * 1e6) / 1e6 : 0,
      runs: Number(stats?.runs ?? 0),
      rejected_starts: rejected,
      first_start: (stats?.first_start as string | null) ?? null,
      last_start: (stats?.last_start as string | null) ?? null,
    };
  });
}

/** The start time of session `idx` (0-based) of an index: an O(1) lookup by position. */
export async function sessionAt(store: Store, instrument: string, length: number, maxGap: number, idx: number): Promise<Date | null> {
  const row = await store.one<{ start_ts: Date }>(
    'SELECT start_ts FROM sessions WHERE instrument = $1 AND length = $2 AND max_gap = $3 AND idx = $4',
    [instrument, length, maxGap, idx],
  );
  return row?.start_ts ?? null;
}
