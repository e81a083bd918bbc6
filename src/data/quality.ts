// `swt data check`: the data-quality report. The predecessor trained for weeks on corrupted bars; this
// report is the gate that makes such data visible (and FAIL) before anything downstream reads it.
import type { Store } from '../store/db.js';
import type { Config } from '../config/schema.js';
import { instrumentSpec } from '../config/load.js';
import { UsageError } from '../util/errors.js';
import { holeClosuresMs, holeMinutesMs, inClosureSql, inWeekendCoreSql, weekCalendar, type WeekCalendar } from './calendar.js';
import { readHoles } from './holes.js';
import { rangeSql, type TimeRange } from './range.js';

export interface QualityReport {
  instrument: string;
  bars: number;
  first: string | null;
  last: string | null;
  pip_size: number;
  expected_weekday_minutes: number;
  weekday_bars: number;
  coverage: number;
  range_pips: { mean: number; median: number; p99: number; max: number };
  share_range_over_12_pips: number;
  range_threshold_pips: number;
  max_gap_minutes: number;
  gaps_over_limit: { count: number; missing_minutes: number; longest: GapEntry[] };
  weekend_closures: number;
  weekend_closure_hours: { min: number | null; max: number | null };
  bars_in_weekend: number;
  duplicates: number;
  ohlc_errors: number;
  rejected_rows: number;
  rejected_by_reason: Record<string, number>;
  verdict: 'PASS' | 'WARN' | 'FAIL';
  reasons: string[];
}

/** A hole with more weekday minutes missing than max_gap; `closure_minutes` is its scheduled weekend part. */
export interface GapEntry {
  after: string;
  before: string;
  missing_minutes: number;
  closure_minutes: number;
}

const iso = (col: string) => `strftime(${col}, '%Y-%m-%dT%H:%M:%SZ')`;
const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

export async function qualityReport(store: Store, config: Config, instrument: string, range: TimeRange): Promise<QualityReport> {
  const cal = weekCalendar(config);
  const q = config.data.quality;
  const maxGap = config.data.max_gap_minutes;
  const pip = instrumentSpec(config, instrument).pip_size;
  const where = `instrument = $1 AND ${rangeSql('ts', range)}`;
  await store.run(`CREATE OR REPLACE TEMP TABLE qbars AS SELECT ts, open, high, low, close FROM bars WHERE ${where}`, [instrument]);
  try {
    const basic = await store.one<Record<string, number | string | null>>(
      `SELECT count(*) AS bars, ${iso('min(ts)')} AS first, ${iso('max(ts)')} AS last,
              count(*) - count(DISTINCT ts) AS duplicates,
              count(*) FILTER (WHERE high < greatest(open, close) OR low > least(open, close) OR high < low
                               OR least(open, high, low, close) <= 0) AS ohlc_errors,
              avg((high - low) / ${pip}) AS r_mean, quantile_cont((high - low) / ${pip}, 0.5) AS r_median,
              quantile_cont((high - low) / ${pip}, 0.99) AS r_p99, max((high - low) / ${pip}) AS r_max,
              avg(CASE WHEN (high - low) / ${pip} > ${q.range_threshold_pips} THEN 1.0 ELSE 0.0 END) AS share_wide,
              count(*) FILTER (WHERE ${inWeekendCoreSql('ts', cal)}) AS in_weekend,
              count(*) FILTER (WHERE NOT ${inClosureSql('ts', cal)}) AS weekday_bars
       FROM qbars`,
    );
    const bars = Number(basic?.bars ?? 0);
    if (bars === 0) {
      const known = await store.all<{ instrument: string }>('SELECT DISTINCT instrument FROM bars ORDER BY 1');
      throw new UsageError(
        `no bars for instrument ${instrument}${range.from || range.to ? ' in the requested range' : ''}` +
          (known.length ? ` (instruments in the store: ${known.map((k) => k.instrument).join(', ')})` : ' (the store has no bars: run `swt data import` or `swt data synth` first)'),
      );
    }
    const expected = await store.one<{ n: number }>(
      `SELECT count(*) AS n FROM generate_series((SELECT min(ts) FROM qbars), (SELECT max(ts) FROM qbars), INTERVAL 1 MINUTE) AS g(m)
       WHERE NOT ${inClosureSql('m', cal)}`,
    );
    const holes = await holesOver(store, 'qbars', cal, maxGap);
    const rejected = await store.all<{ reason: string; n: number }>(
      `SELECT regexp_replace(reason, ' \\(.*$', '') AS reason, count(*) AS n FROM bars_rejected
       WHERE instrument = $1 AND (ts IS NULL OR ${rangeSql('ts', range)}) GROUP BY 1 ORDER BY 2 DESC`,
      [instrument],
    );
    const rejectedRows = rejected.reduce((a, r) => a + Number(r.n), 0);
    const expectedMinutes = Number(expected?.n ?? 0);
    const weekdayBars = Number(basic?.weekday_bars ?? 0);
    const report: QualityReport = {
      instrument,
      bars,
      first: String(basic?.first),
      last: String(basic?.last),
      pip_size: pip,
      expected_weekday_minutes: expectedMinutes,
      weekday_bars: weekdayBars,
      coverage: round(expectedMinutes ? weekdayBars / expectedMinutes : 0, 6),
      range_pips: {
        mean: round(Number(basic?.r_mean)),
        median: round(Number(basic?.r_median)),
        p99: round(Number(basic?.r_p99)),
        max: round(Number(basic?.r_max)),
      },
      share_range_over_12_pips: round(Number(basic?.share_wide), 6),
      range_threshold_pips: q.range_threshold_pips,
      max_gap_minutes: maxGap,
      gaps_over_limit: {
        count: holes.gaps.length,
        missing_minutes: holes.gaps.reduce((a, g) => a + g.missing_minutes, 0),
        longest: holes.gaps.slice(0, 5),
      },
      weekend_closures: holes.closureMinutes.length,
      weekend_closure_hours: {
        min: holes.closureMinutes.length ? round(holes.closureMinutes.reduce((a, m) => Math.min(a, m)) / 60, 2) : null,
        max: holes.closureMinutes.length ? round(holes.closureMinutes.reduce((a, m) => Math.max(a, m)) / 60, 2) : null,
      },
      bars_in_weekend: Number(basic?.in_weekend ?? 0),
      duplicates: Number(basic?.duplicates ?? 0),
      ohlc_errors: Number(basic?.ohlc_errors ?? 0),
      rejected_rows: rejectedRows,
      rejected_by_reason: Object.fromEntries(rejected.map((r) => [r.reason, Number(r.n)])),
      verdict: 'PASS',
      reasons: [],
    };
    judge(report, config);
    return report;
  } finally {
    await store.run('DROP TABLE IF EXISTS qbars');
  }
}

/**
 * Every hole (missing minutes between neighbouring bars) of `table`: the gaps (weekday minutes over
 * max_gap, longest first) and the closure minutes of every weekend a hole crosses.
 */
async function holesOver(store: Store, table: string, cal: WeekCalendar, maxGap: number): Promise<{ gaps: GapEntry[]; closureMinutes: number[] }> {
  const { n, prev, next } = await readHoles(store, table);
  const gaps: GapEntry[] = [];
  const closureMinutes: number[] = [];
  const isoMs = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  for (let i = 0; i < n; i++) {
    const h = holeMinutesMs(prev[i], next[i], cal);
    if (h.weekends > 0) closureMinutes.push(...holeClosuresMs(prev[i], next[i], cal));
    if (h.weekday > maxGap) gaps.push({ after: isoMs(prev[i]), before: isoMs(next[i]), missing_minutes: h.weekday, closure_minutes: h.closure });
  }
  gaps.sort((x, y) => y.missing_minutes - x.missing_minutes || x.after.localeCompare(y.after));
  return { gaps, closureMinutes };
}

/** Applies the configured thresholds; every reason says which figure crossed which threshold. */
export function judge(r: QualityReport, config: Config): void {
  const q = config.data.quality;
  const fail: string[] = [];
  const warn: string[] = [];
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  if (r.share_range_over_12_pips > q.fail_share_range_over) {
    fail.push(`${pct(r.share_range_over_12_pips)} of bars have a high-low range over ${q.range_threshold_pips} pips (fail above ${pct(q.fail_share_range_over)}): the prices look corrupted or mis-scaled`);
  } else if (r.share_range_over_12_pips > q.warn_share_range_over) {
    warn.push(`${pct(r.share_range_over_12_pips)} of bars have a range over ${q.range_threshold_pips} pips (warn above ${pct(q.warn_share_range_over)})`);
  }
  if (r.coverage < q.fail_coverage) fail.push(`coverage ${pct(r.coverage)} of weekday minutes is below ${pct(q.fail_coverage)}`);
  else if (r.coverage < q.warn_coverage) warn.push(`coverage ${pct(r.coverage)} of weekday minutes is below ${pct(q.warn_coverage)}`);
  if (r.ohlc_errors >= q.fail_ohlc_errors && q.fail_ohlc_errors > 0) fail.push(`${r.ohlc_errors} stored bars violate OHLC consistency`);
  if (r.duplicates > 0) fail.push(`${r.duplicates} duplicate timestamps in the stored bars`);
  if (q.warn_gaps_over_limit > 0 && r.gaps_over_limit.count >= q.warn_gaps_over_limit) {
    warn.push(`${r.gaps_over_limit.count} gaps over ${r.max_gap_minutes} minutes outside weekend closures (longest ${r.gaps_over_limit.longest[0]?.missing_minutes} min after ${r.gaps_over_limit.longest[0]?.after})`);
  }
  if (q.warn_bars_in_weekend > 0 && r.bars_in_weekend >= q.warn_bars_in_weekend) warn.push(`${r.bars_in_weekend} bars fall inside the weekend closure`);
  if (q.warn_rejected_rows > 0 && r.rejected_rows >= q.warn_rejected_rows) warn.push(`${r.rejected_rows} rows were rejected at import (see bars_rejected)`);
  r.verdict = fail.length ? 'FAIL' : warn.length ? 'WARN' : 'PASS';
  r.reasons = [...fail, ...warn];
}
