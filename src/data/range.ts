import { UsageError } from '../util/errors.js';

/** Parses --from/--to: a date (YYYY-MM-DD) or an ISO timestamp, UTC. `--to` dates are inclusive. */
export function parseBound(value: string | undefined, name: string, end: boolean): Date | null {
  if (value === undefined) return null;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const ms = Date.parse(dateOnly ? `${value}T00:00:00Z` : /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  if (!Number.isFinite(ms)) throw new UsageError(`${name} must be a date YYYY-MM-DD or an ISO timestamp, got "${value}"`);
  return new Date(dateOnly && end ? ms + 86_400_000 : ms + (end ? 1 : 0));
}

export interface TimeRange {
  from: Date | null;
  /** exclusive upper bound */
  to: Date | null;
}

export function parseRange(from?: string, to?: string): TimeRange {
  const r = { from: parseBound(from, '--from', false), to: parseBound(to, '--to', true) };
  if (r.from && r.to && r.from >= r.to) throw new UsageError(`--from ${from} is not before --to ${to}`);
  return r;
}

/** SQL condition on column `col` for a range (literals are ISO strings built here, not user text). */
export function rangeSql(col: string, r: TimeRange): string {
  const parts: string[] = [];
  if (r.from) parts.push(`${col} >= TIMESTAMP '${r.from.toISOString().replace('T', ' ').replace('Z', '')}'`);
  if (r.to) parts.push(`${col} < TIMESTAMP '${r.to.toISOString().replace('T', ' ').replace('Z', '')}'`);
  return parts.length ? parts.join(' AND ') : 'TRUE';
}
