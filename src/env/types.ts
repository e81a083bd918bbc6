// In-memory inputs of the environment. The store layer (bars, sessions, features in DuckDB) loads
// into these; nothing here knows about DuckDB.
import { InputError } from '../util/errors.js';

/** OHLC bars of one instrument, in time order. `ts` is the bar's open time in epoch milliseconds (UTC). */
export interface BarSeries {
  readonly ts: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  /**
   * Recorded spread of each bar, ask − bid at the bar's open in price units (NaN: not recorded). Only
   * present when loaded for env.spread 'recorded'; the constant spread needs none.
   */
  readonly spread?: Float64Array;
  /** The instrument, for error messages. */
  readonly instrument?: string;
}

/** The error of a bar without the recorded spread that env.spread 'recorded' must charge: never a silent fallback. */
export function missingSpreadError(instrument: string | undefined, ts: number, what: string): EnvInputError {
  return new EnvInputError(
    `env.spread is 'recorded' but ${instrument ?? 'the instrument'} has no recorded spread for the bar at ${new Date(ts).toISOString()} (${what}): ` +
      `fetch its bars with \`swt data fetch --price BA\`, or set env.spread: constant`,
  );
}

/** Row-major feature matrix aligned with a BarSeries: row t = features of bar t (computed from bars ≤ t). */
export interface FeatureMatrix {
  readonly data: Float32Array;
  readonly nFeatures: number;
}

/** Episodes as half-open bar-index ranges [start, end); an episode has end − start − 1 decisions. */
export interface EpisodeSet {
  readonly start: Int32Array;
  readonly end: Int32Array;
}

export const HOLD = 0;
export const BUY = 1;
export const SELL = 2;
export const CLOSE = 3;
export const N_ACTIONS = 4;
export const ACTION_NAMES = ['HOLD', 'BUY', 'SELL', 'CLOSE'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

/** Bad input to the env/backtest (a range, a config value, an action) (exit code 2). */
export class EnvInputError extends InputError {}

export function barCount(bars: BarSeries): number {
  return bars.ts.length;
}

/** Checks that the five columns have one length and the timestamps increase; returns the length. */
export function validateBars(bars: BarSeries): number {
  const n = bars.ts.length;
  for (const k of ['open', 'high', 'low', 'close'] as const) {
    if (bars[k].length !== n) throw new EnvInputError(`bars.${k} has ${bars[k].length} values but bars.ts has ${n}`);
  }
  for (let i = 1; i < n; i++) {
    if (!(bars.ts[i] > bars.ts[i - 1])) {
      throw new EnvInputError(`bars.ts must increase strictly: ts[${i}]=${bars.ts[i]} after ts[${i - 1}]=${bars.ts[i - 1]}`);
    }
  }
  return n;
}

export function validateFeatures(features: FeatureMatrix, nBars: number): void {
  if (!Number.isInteger(features.nFeatures) || features.nFeatures < 0) {
    throw new EnvInputError(`features.nFeatures must be an integer >= 0, got ${features.nFeatures}`);
  }
  if (features.data.length !== nBars * features.nFeatures) {
    throw new EnvInputError(
      `features.data has ${features.data.length} values, expected ${nBars} bars × ${features.nFeatures} features = ${nBars * features.nFeatures}`,
    );
  }
}
