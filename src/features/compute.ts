// One row of features, computed the same way for the precomputed store and for live trading: the WST
// of the last `window` closes (z-scored, native code), the time features of the bar, the extras.
import { WstPlan } from '../../bindings/wst.js';
import type { WeekCalendar } from '../data/calendar.js';
import { featureColumns, type FeatureSpec } from './spec.js';
import { timeFeatureCount, writeTimeFeatures } from './time.js';

export interface FeatureLayout {
  spec: FeatureSpec;
  columns: string[];
  wstChannels: number;
  timeCount: number;
  extraCount: number;
  width: number;
}

export function planFor(spec: FeatureSpec): WstPlan {
  return WstPlan.create({ J: spec.wst.J, Q: [spec.wst.Q[0], spec.wst.Q[1]], maxOrder: spec.wst.max_order, length: spec.window });
}

export function layoutOf(spec: FeatureSpec, plan: WstPlan): FeatureLayout {
  const wstChannels = plan.dims.channels;
  const columns = featureColumns(spec, wstChannels);
  return { spec, columns, wstChannels, timeCount: timeFeatureCount(spec), extraCount: spec.extra.length, width: columns.length };
}

/** Extras of bar t (needs bar t-1 for the return): written at out[offset..]. */
export function writeExtras(spec: FeatureSpec, pip: number, close: ArrayLike<number>, high: ArrayLike<number>, low: ArrayLike<number>, t: number, out: Float32Array, offset: number): void {
  let k = offset;
  for (const e of spec.extra) {
    if (e === 'return_pips') out[k++] = t > 0 ? (close[t] - close[t - 1]) / pip : 0;
    else out[k++] = (high[t] - low[t]) / pip;
  }
}

/**
 * Live: the feature row of the newest bar, from the last `window` bars (closes, highs, lows in time
 * order, newest last) and its timestamp. Bit-identical to the stored row of the same bar.
 */
export function featureRowLive(
  plan: WstPlan,
  layout: FeatureLayout,
  cal: WeekCalendar,
  pip: number,
  bars: { close: Float64Array; high: Float64Array; low: Float64Array },
  ts: number,
): Float32Array {
  const W = layout.spec.window;
  const n = bars.close.length;
  if (n < W) throw new Error(`a feature row needs the last ${W} bars, got ${n}`);
  const row = new Float32Array(layout.width);
  const wst = plan.featuresSingle(bars.close.subarray(n - W, n));
  for (let c = 0; c < layout.wstChannels; c++) row[c] = wst[c];
  writeTimeFeatures(ts, layout.spec, cal, row, layout.wstChannels);
  writeExtras(layout.spec, pip, bars.close, bars.high, bars.low, n - 1, row, layout.wstChannels + layout.timeCount);
  return row;
}
