// Source formats for `swt data import`. Each format turns the file into SQL over a table of raw lines
// `raw(line_no, line)` (or, for OANDA JSON, candles) that yields one candidate bar per input record
// with its UTC timestamp, prices, and a rejection reason (NULL when the record is a good bar).
// DuckDB does all the parsing; JS never loops over rows.

export const FORMATS = ['csv', 'histdata', 'mt4', 'dukascopy', 'oanda'] as const;
export type Format = (typeof FORMATS)[number];

/** Where the source's timestamps live. `utc` needs no conversion. */
export type SourceZone = { kind: 'utc' } | { kind: 'offset'; hours: number } | { kind: 'iana'; zone: string };

export function describeZone(z: SourceZone): string {
  if (z.kind === 'utc') return 'UTC';
  if (z.kind === 'offset') return `UTC${z.hours >= 0 ? '+' : ''}${z.hours}`;
  return z.zone;
}

/** SQL turning a naive local TIMESTAMP expression into UTC under `zone`. */
export function toUtcSql(expr: string, zone: SourceZone): string {
  if (zone.kind === 'utc') return expr;
  if (zone.kind === 'offset') return `(${expr} - to_minutes(${Math.round(zone.hours * 60)}::BIGINT))`;
  return `(timezone('${zone.zone.replaceAll("'", "''")}', ${expr})::TIMESTAMP)`;
}

export interface FormatSpec {
  format: Format;
  /** What one line looks like, for error messages. */
  expected: string;
  /** Number of comma/semicolon-separated fields per data line. */
  fields: number;
  delimiter: string;
  /** Line 1 is a header (checked by `headerOk`). */
  header: boolean;
  /** The zone a file of this format is in when the user gives none (null: the user must say). */
  defaultZone: SourceZone | null;
}

export const SPECS: Record<Exclude<Format, 'oanda'>, FormatSpec> = {
  csv: {
    format: 'csv',
    expected: 'header "ts,open,high,low,close,volume", then lines like "2016-04-22T16:53:00Z,150.1,150.2,150.0,150.1,42" (ts ISO-8601 or epoch milliseconds)',
    fields: 6,
    delimiter: ',',
    header: true,
    defaultZone: { kind: 'utc' },
  },
  histdata: {
    format: 'histdata',
    expected: 'lines like "20160422 195300;150.1;150.2;150.0;150.1;0" (HistData ASCII M1, EST without DST)',
    fields: 6,
    delimiter: ';',
    header: false,
    defaultZone: { kind: 'offset', hours: -5 },
  },
  mt4: {
    format: 'mt4',
    expected: 'lines like "2016.04.22,19:53,150.1,150.2,150.0,150.1,42" (MetaTrader History Center export, broker server time)',
    fields: 7,
    delimiter: ',',
    header: false,
    defaultZone: null,
  },
  dukascopy: {
    format: 'dukascopy',
    expected:
      'header "Gmt time,Open,High,Low,Close,Volume" (or "Local time,…" / "Time (UTC),…"), then lines like "22.04.2016 16:53:00.000,150.1,150.2,150.0,150.1,42.5"',
    fields: 6,
    delimiter: ',',
    header: true,
    defaultZone: { kind: 'utc' },
  },
};

/** Checks line 1 of a headed format; returns an explanation when it is not the expected header. */
export function headerProblem(format: Format, line: string | null): string | null {
  const h = (line ?? '').replace(/^\uFEFF/, '').trim().toLowerCase().replace(/\s+/g, ' ');
  if (format === 'csv') return h === 'ts,open,high,low,close,volume' ? null : `expected the header "ts,open,high,low,close,volume" on line 1, found "${line ?? ''}"`;
  if (format === 'dukascopy') {
    const ok = /^(gmt time|local time|time \(utc\)|time \(eet\)),open,high,low,close,volume$/.test(h);
    return ok ? null : `expected a Dukascopy header like "Gmt time,Open,High,Low,Close,Volume" on line 1, found "${line ?? ''}"`;
  }
  return null;
}

/**
 * SQL for the UTC timestamp of a split line `f`, NULL when it does not parse. Naive times are taken in
 * `zone`; times that carry their own offset (ISO "Z"/"+03:00", Dukascopy "GMT+0300") use it.
 */
export function utcTsSql(format: Exclude<Format, 'oanda'>, zone: SourceZone): string {
  switch (format) {
    case 'csv':
      // The common shape first (a cheap strptime); the general parser only for what it misses.
      return `coalesce(try_strptime(f[1], '%Y-%m-%dT%H:%M:%SZ'), CASE WHEN regexp_full_match(trim(f[1]), '-?[0-9]{9,}') THEN epoch_ms(trim(f[1])::BIGINT)
                   WHEN regexp_matches(trim(f[1]), '(Z|[+-][0-9]{2}:?[0-9]{2})$') THEN try_cast(trim(f[1]) AS TIMESTAMPTZ)::TIMESTAMP
                   ELSE ${toUtcSql('try_cast(trim(f[1]) AS TIMESTAMP)', zone)} END)`;
    case 'histdata':
      return toUtcSql(`try_strptime(trim(f[1]), '%Y%m%d %H%M%S')`, zone);
    case 'mt4':
      return toUtcSql(`try_strptime(trim(f[1]) || ' ' || trim(f[2]), ['%Y.%m.%d %H:%M', '%Y.%m.%d %H:%M:%S'])`, zone);
    case 'dukascopy': {
      const naive = `try_strptime(regexp_extract(trim(f[1]), '^([0-9.]+ [0-9:.]+)', 1), ['%d.%m.%Y %H:%M:%S.%g', '%d.%m.%Y %H:%M:%S', '%Y.%m.%d %H:%M:%S.%g', '%Y.%m.%d %H:%M:%S'])`;
      const offsetMinutes = `((CASE WHEN regexp_extract(f[1], 'GMT([+-])', 1) = '-' THEN -1 ELSE 1 END)
                           * (regexp_extract(f[1], 'GMT[+-]([0-9]{2})', 1)::INT * 60 + regexp_extract(f[1], 'GMT[+-][0-9]{2}([0-9]{2})', 1)::INT))`;
      return `CASE WHEN regexp_matches(f[1], 'GMT[+-][0-9]{4}') THEN ${naive} - to_minutes(${offsetMinutes}::BIGINT)
                   ELSE ${toUtcSql(naive, zone)} END`;
    }
  }
}

/** Index (1-based, into the split fields) of open/high/low/close/volume. */
export function priceFieldIndex(format: Exclude<Format, 'oanda'>): [number, number, number, number, number] {
  return format === 'mt4' ? [3, 4, 5, 6, 7] : [2, 3, 4, 5, 6];
}

/** Whether the format's timestamps already carry their zone (then --tz/--utc-offset is refused). */
export function zoneIsIntrinsic(format: Format): boolean {
  return format === 'oanda';
}
