// Loads what the environment needs from the store: bars of one instrument over a range, the valid
// sessions inside it (tiled so that no two episodes overlap), and, when asked, the feature matrix.
// Everything downstream (backtests, validation, training) gets its market through here.
import type { Store } from '../store/db.js';
import { readColumns } from '../store/columnar.js';
import { rangeSql, type TimeRange } from '../data/range.js';
import { Prng } from '../util/prng.js';
import { EnvInputError, missingSpreadError, type BarSeries, type EpisodeSet, type FeatureMatrix } from './types.js';
import { sessionEpisodes } from './episodes.js';

export interface MarketOptions {
  instrument: string;
  range: TimeRange;
  sessionLength: number;
  maxGap: number;
  /** 'all' (every non-overlapping session), or a seeded sample of N of them. */
  sessions: number | 'all';
  seed: number;
  /** Observation stack K: an episode needs valid feature rows from K - 1 bars before its start. */
  stack?: number;
  /** Load the bars' recorded spreads too (env.spread 'recorded'): every bar of the range must have one. */
  spreads?: boolean;
}

export interface Market {
  instrument: string;
  bars: BarSeries;
  features: FeatureMatrix | null;
  featureSet: string | null;
  featureHash: string | null;
  episodes: EpisodeSet;
  /** Non-overlapping sessions available in the range (before sampling). */
  sessionsAvailable: number;
  /** Sessions left out because some bar they observe has no valid feature row (warm-up, gap). */
  sessionsWithoutFeatures: number;
  sessionLength: number;
  first: string;
  last: string;
}

/**
 * Bars of an instrument in a range, in time order; with `spreads`, their recorded spreads too (NaN where
 * none was recorded).
 */
export async function loadBars(store: Store, instrument: string, range: TimeRange, o: { spreads?: boolean } = {}): Promise<BarSeries> {
  const r = await readColumns(
    store,
    `SELECT ts, open, high, low, close${o.spreads ? `, coalesce(spread, 'NaN'::DOUBLE) AS spread` : ''} FROM bars WHERE instrument = $1 AND ${rangeSql('ts', range)} ORDER BY ts`,
    [
      { name: 'ts', kind: 'ts_ms' },
      { name: 'open', kind: 'f64' },
      { name: 'high', kind: 'f64' },
      { name: 'low', kind: 'f64' },
      { name: 'close', kind: 'f64' },
      ...(o.spreads ? [{ name: 'spread', kind: 'f64' as const }] : []),
    ],
    [instrument],
  );
  const c = r.cols as Record<string, Float64Array>;
  return { ts: c.ts, open: c.open, high: c.high, low: c.low, close: c.close, ...(o.spreads ? { spread: c.spread } : {}), instrument };
}

/** With recorded spreads every bar must have one: the first that has none is an error (no silent fallback). */
export function requireSpreads(bars: BarSeries): void {
  const s = bars.spread;
  if (!s) throw missingSpreadError(bars.instrument, bars.ts[0], 'the bars were loaded without spreads');
  let missing = 0;
  let first = -1;
  for (let i = 0; i < s.length; i++) {
    if (!(s[i] >= 0)) {
      missing++;
      if (first < 0) first = i;
    }
  }
  if (first >= 0) throw missingSpreadError(bars.instrument, bars.ts[first], `${missing} of the ${s.length} bars loaded have none`);
}

/**
 * Start indices of non-overlapping sessions: the index's valid starts inside the range, taken greedily
 * in time order so that each next session starts at or after the previous one's end.
 */
export async function tiledSessionStarts(store: Store, bars: BarSeries, opts: MarketOptions): Promise<Int32Array> {
  const known = await store.one<{ n: number }>(
    'SELECT count(*) AS n FROM session_index_runs WHERE instrument = $1 AND length = $2 AND max_gap = $3',
    [opts.instrument, opts.sessionLength, opts.maxGap],
  );
  if (!known || Number(known.n) === 0) {
    throw new EnvInputError(
      `no session index for ${opts.instrument} with length ${opts.sessionLength} and max gap ${opts.maxGap}: run \`swt data sessions --instrument ${opts.instrument} --length ${opts.sessionLength} --max-gap ${opts.maxGap}\``,
    );
  }
  const r = await readColumns(
    store,
    `SELECT start_ts FROM sessions WHERE instrument = $1 AND length = $2 AND max_gap = $3 AND ${rangeSql('start_ts', opts.range)}
       AND ${rangeSql('end_ts', { from: null, to: opts.range.to })} ORDER BY start_ts`,
    [{ name: 'start_ts', kind: 'ts_ms' }],
    [opts.instrument, opts.sessionLength, opts.maxGap],
  );
  const startTs = r.cols.start_ts as Float64Array;
  const out: number[] = [];
  let i = 0; // bar cursor (both lists are in time order)
  let nextFree = 0;
  for (let k = 0; k < startTs.length; k++) {
    while (i < bars.ts.length && bars.ts[i] < startTs[k]) i++;
    if (i >= bars.ts.length || bars.ts[i] !== startTs[k]) continue; // starts outside the loaded bars
    if (i < nextFree) continue;
    if (i + opts.sessionLength > bars.ts.length) break;
    out.push(i);
    nextFree = i + opts.sessionLength;
  }
  return Int32Array.from(out);
}

/** Seeded sample of `n` of the starts, kept in time order (without replacement). */
export function sampleStarts(starts: Int32Array, n: number, seed: number): Int32Array {
  if (n >= starts.length) return starts;
  const idx = Array.from(starts.keys());
  const rng = new Prng(seed);
  for (let i = 0; i < n; i++) {
    const j = i + rng.below(idx.length - i);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return Int32Array.from(idx.slice(0, n).sort((a, b) => a - b).map((k) => starts[k]));
}

export async function loadMarket(store: Store, opts: MarketOptions, features?: (bars: BarSeries) => Promise<{ set: string; hash: string; matrix: FeatureMatrix; ok: (bar: number) => boolean } | null>): Promise<Market> {
  const bars = await loadBars(store, opts.instrument, opts.range, { spreads: opts.spreads });
  if (bars.ts.length === 0) {
    throw new EnvInputError(`no bars for ${opts.instrument}${opts.range.from || opts.range.to ? ' in the requested range' : ''}: import or synthesise data first`);
  }
  if (opts.spreads) requireSpreads(bars);
  let all = await tiledSessionStarts(store, bars, opts);
  const f = features ? await features(bars) : null;
  let withoutFeatures = 0;
  if (f && all.length > 0) {
    // Sessions whose observations would read a warm-up or gap row cannot be run with these features.
    const K = opts.stack ?? 1;
    const kept = Array.from(all).filter((s) => {
      for (let t = Math.max(0, s - K + 1); t < s + opts.sessionLength; t++) if (!f.ok(t)) return false;
      return true;
    });
    withoutFeatures = all.length - kept.length;
    if (kept.length === 0) {
      throw new EnvInputError(`feature set "${f.set}" has no valid rows for any session of ${opts.instrument} in the range (all ${all.length} sessions touch warm-up or gap rows)`);
    }
    all = Int32Array.from(kept);
  }
  if (all.length === 0) {
    throw new EnvInputError(
      `no valid session of ${opts.sessionLength} bars for ${opts.instrument} in ${iso(bars.ts[0])} .. ${iso(bars.ts[bars.ts.length - 1])} (every stretch has a gap over ${opts.maxGap} min or a weekend)`,
    );
  }
  const starts = opts.sessions === 'all' ? all : sampleStarts(all, opts.sessions, opts.seed);
  return {
    instrument: opts.instrument,
    bars,
    features: f?.matrix ?? null,
    featureSet: f?.set ?? null,
    featureHash: f?.hash ?? null,
    episodes: sessionEpisodes(starts, opts.sessionLength, bars.ts.length),
    sessionsAvailable: all.length,
    sessionsWithoutFeatures: withoutFeatures,
    sessionLength: opts.sessionLength,
    first: iso(bars.ts[0]),
    last: iso(bars.ts[bars.ts.length - 1]),
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
