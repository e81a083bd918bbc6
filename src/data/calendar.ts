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

// A hole in the data (the minutes strictly between two bars) that crosses a weekend is a closure only
// for the scheduled part of that weekend; every other missing minute is a weekday minute, a gap like
// any other. Which hour the weekend starts and ends moves with US daylight saving, so a weekend's
// closure is the hole's part inside the configured closure widened by DST_SHIFT_MINUTES on each side,
// capped at the configured closure length. A hole crosses a weekend when it reaches the weekend's core
// (the closure narrowed by DST_SHIFT_MINUTES on each side), so a short hole at the edge of the week is
// still a gap. Coordinates: whole minutes shifted so that core k of the calendar is [kW, kW + coreLen).

/** How far brokers move the weekend closure with daylight saving. */
export const DST_SHIFT_MINUTES = 60;

interface HoleSpan {
  /** first missing minute, shifted (see above) */
  a: number;
  /** one past the last missing minute */
  b: number;
  /** first and last weekend crossed (kLast < kFirst: none) */
  kFirst: number;
  kLast: number;
  coreLen: number;
  nominal: number;
}

function holeSpan(prevMs: number, nextMs: number, cal: WeekCalendar): HoleSpan {
  const nominal = (((cal.openMinute - cal.closeMinute) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
  const coreLen = nominal - 2 * DST_SHIFT_MINUTES;
  const shift = 4 * 1440 - (cal.closeMinute + DST_SHIFT_MINUTES); // epoch minute 0 was a Thursday
  const a = Math.floor(prevMs / 60_000) + 1 + shift;
  const b = Math.floor(nextMs / 60_000) + shift;
  if (b <= a || coreLen <= 0) return { a, b, kFirst: 1, kLast: 0, coreLen, nominal };
  return { a, b, kFirst: Math.floor((a - coreLen) / WEEK_MINUTES) + 1, kLast: Math.floor((b - 1) / WEEK_MINUTES), coreLen, nominal };
}

/** Scheduled closure minutes of weekend k inside the hole. */
function closureOf(h: HoleSpan, k: number): number {
  const lo = Math.max(h.a, k * WEEK_MINUTES - DST_SHIFT_MINUTES * 2);
  const hi = Math.min(h.b, k * WEEK_MINUTES + h.coreLen + DST_SHIFT_MINUTES * 2);
  return Math.min(h.nominal, Math.max(0, hi - lo));
}

export interface HoleMinutes {
  /** every missing minute strictly between the two bars */
  missing: number;
  /** the scheduled weekend part of them */
  closure: number;
  /** the rest: what counts against max_gap */
  weekday: number;
  /** weekends the hole crosses */
  weekends: number;
}

/** Splits the hole between two bars (epoch ms) into its weekend closure and its weekday minutes. */
export function holeMinutesMs(prevMs: number, nextMs: number, cal: WeekCalendar): HoleMinutes {
  const h = holeSpan(prevMs, nextMs, cal);
  const missing = Math.max(0, h.b - h.a);
  const weekends = Math.max(0, h.kLast - h.kFirst + 1);
  let closure = 0;
  if (weekends > 0) closure = closureOf(h, h.kFirst) + (weekends > 1 ? closureOf(h, h.kLast) : 0) + Math.max(0, weekends - 2) * h.nominal;
  return { missing, closure, weekday: missing - closure, weekends };
}

/** The closure minutes of each weekend the hole crosses, in time order (for the quality report). */
export function holeClosuresMs(prevMs: number, nextMs: number, cal: WeekCalendar): number[] {
  const h = holeSpan(prevMs, nextMs, cal);
  const out: number[] = [];
  for (let k = h.kFirst; k <= h.kLast; k++) out.push(closureOf(h, k));
  return out;
}
