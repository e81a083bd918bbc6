// The FX week in SQL. Times are UTC; minute-of-week counts from Sunday 00:00 (DuckDB dayofweek: Sun=0).
// The nominal closure runs from `week_close` (Friday 21:00) to `week_open` (Sunday 21:00). Brokers shift
// it by an hour with US daylight saving, so "a bar in the weekend" uses the core of the closure, an hour
// in from each end (Friday after 22:00, Saturday, Sunday before 20:00): real data never has bars there.
import type { Config } from '../config/schema.js';

export interface WeekCalendar {
  closeMinute: number;
  openMinute: number;
}

export const WEEK_MINUTES = 7 * 1440;

export function weekCalendar(config: Config): WeekCalendar {
  const { week_close: c, week_open: o } = config.data;
  return { closeMinute: c.weekday * 1440 + c.hour * 60, openMinute: o.weekday * 1440 + o.hour * 60 };
}

export function minuteOfWeekSql(ts: string): string {
  return `(dayofweek(${ts}) * 1440 + hour(${ts}) * 60 + minute(${ts}))`;
}

function inWindow(mow: string, from: number, to: number): string {
  // a window that may wrap around the end of the week
  const f = ((from % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
  const t = ((to % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
  return f <= t ? `(${mow} >= ${f} AND ${mow} < ${t})` : `(${mow} >= ${f} OR ${mow} < ${t})`;
}

/** True when `ts` falls in the nominal weekend closure. */
export function inClosureSql(ts: string, cal: WeekCalendar): string {
  return inWindow(minuteOfWeekSql(ts), cal.closeMinute, cal.openMinute);
}

/** True when `ts` falls in the core of the closure (never traded, whatever the DST regime). */
export function inWeekendCoreSql(ts: string, cal: WeekCalendar): string {
  return inWindow(minuteOfWeekSql(ts), cal.closeMinute + 60, cal.openMinute - 60);
}

/** True when the missing interval strictly between bars `prev` and `ts` contains a Saturday. */
export function gapSpansWeekendSql(prev: string, ts: string): string {
  return `(dayofweek(${prev}) = 6 OR dayofweek(${ts}) = 6 OR
           (date_trunc('day', ${prev}) + to_days(((6 - dayofweek(${prev})) + 7) % 7)) < ${ts})`;
}

/** JS twin of the closure test, for generators and live code that work on epoch milliseconds. */
export function inClosureMs(ms: number, cal: WeekCalendar): boolean {
  const mow = minuteOfWeekMs(ms);
  const f = cal.closeMinute;
  const t = cal.openMinute;
  return f <= t ? mow >= f && mow < t : mow >= f || mow < t;
}

/** Minute of the week (Sunday 00:00 = 0) of an epoch-ms time; 1970-01-01 was a Thursday. */
export function minuteOfWeekMs(ms: number): number {
  const m = Math.floor(ms / 60_000) + 4 * 1440;
  return ((m % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
}

/** JS twin of gapSpansWeekendSql: the time strictly between two bars contains part of a Saturday. */
export function gapSpansWeekendMs(prevMs: number, nextMs: number): boolean {
  const d0 = Math.floor(prevMs / 86_400_000);
  const d1 = Math.floor(nextMs / 86_400_000);
  if (d1 - d0 >= 6) return true;
  for (let d = d0; d <= d1; d++) if ((d + 4) % 7 === 6) return true; // day 0 (1970-01-01) was a Thursday
  return false;
}
