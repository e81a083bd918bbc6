// Cyclical time features, shared by the feature build and live trading. Times are UTC epoch ms.
import { minuteOfWeekMs, WEEK_MINUTES, type WeekCalendar } from '../data/calendar.js';
import type { FeatureSpec } from './spec.js';

const TWO_PI = 2 * Math.PI;
const FX_WEEK_HOURS = 120;

/** Hours since the FX week opened (Sunday 21:00 UTC by default): 0 ≤ h < 120 while the market is open. */
export function fxWeekHour(ms: number, cal: WeekCalendar): number {
  const m = (minuteOfWeekMs(ms) - cal.openMinute + WEEK_MINUTES) % WEEK_MINUTES;
  return m / 60;
}

export function dayHour(ms: number): number {
  const m = ((ms / 60_000) % 1440 + 1440) % 1440;
  return m / 60;
}

export function timeFeatureCount(spec: FeatureSpec): number {
  return spec.time_features.length * 2;
}

/** Writes the spec's time features of `ms` (sin, cos per feature) at out[offset], out[offset + stride], … */
export function writeTimeFeatures(ms: number, spec: FeatureSpec, cal: WeekCalendar, out: Float32Array | Float64Array, offset: number, stride = 1): void {
  let k = offset;
  for (const f of spec.time_features) {
    const angle = f === 'week_hour' ? (TWO_PI * fxWeekHour(ms, cal)) / FX_WEEK_HOURS : (TWO_PI * dayHour(ms)) / 24;
    out[k] = Math.sin(angle);
    out[k + stride] = Math.cos(angle);
    k += 2 * stride;
  }
}
