// `swt data import`: files → candidate bars (parsed by DuckDB) → accepted bars + rejected rows with
// file, line and reason. All files of one call go in one transaction: a failure part-way (or a
// rejection under --strict) leaves the store exactly as it was.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Store } from '../store/db.js';
import { sqlString } from '../store/db.js';
import { UsageError } from '../util/errors.js';
import {
  SPECS,
  describeZone,
  headerProblem,
  priceFieldIndex,
  utcTsSql,
  zoneIsIntrinsic,
  type Format,
  type SourceZone,
} from './formats.js';

export interface ImportOptions {
  instrument: string;
  format: Format;
  /** Source zone; defaults to the format's own (mt4 has none: the caller must give it). */
  zone?: SourceZone;
  strict?: boolean;
  /** OANDA candles: which price component to import. */
  price?: 'mid' | 'bid' | 'ask';
  /**
   * OANDA candles: they carry bid and ask too (fetched with price MBA); each bar records its spread,
   * ask − bid at the open. A candle without both is rejected.
   */
  spread?: boolean;
}

export interface FileImportResult {
  file: string;
  status: 'imported' | 'already_imported';
  import_id: number;
  sha256: string;
  format: Format;
  source_tz: string;
  rows_read: number;
  rows_accepted: number;
  rows_rejected: number;
  rows_already_present: number;
  duplicates_identical: number;
  blank_lines: number;
  incomplete_skipped: number;
  out_of_order_lines: number;
  first_out_of_order_line: number | null;
  first: string | null;
  last: string | null;
  rejected_by_reason: Record<string, number>;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function checkReadable(file: string): void {
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  const st = statSync(file);
  if (!st.isFile()) throw new UsageError(`${file}: not a regular file`);
  if (st.size === 0) throw new UsageError(`${file}: the file is empty (no bars to import)`);
}

const REJECT_SAMPLE = 5;

/** Temp tables of one staged file (several files of one call are staged side by side). */
interface StageTables {
  raw_lines: string;
  raw_fields: string;
  lines: string;
  cand: string;
  dup_groups: string;
  existing: string;
  candles: string;
  oanda_raw: string;
}

function stageTables(k: number): StageTables {
  const t = (n: string) => `import_${n}_${k}`;
  return {
    raw_lines: t('raw_lines'),
    raw_fields: t('raw_fields'),
    lines: t('lines'),
    cand: t('cand'),
    dup_groups: t('dup_groups'),
    existing: t('existing'),
    candles: t('candles'),
    oanda_raw: t('oanda_raw'),
  };
}

/** Imports every file in one transaction and returns one result per file. */
export async function importFiles(store: Store, files: string[], opts: ImportOptions): Promise<FileImportResult[]> {
  if (files.length === 0) throw new UsageError('no input file given');
  if (opts.zone && zoneIsIntrinsic(opts.format)) {
    throw new UsageError(`--tz/--utc-offset do not apply to --format ${opts.format}: its timestamps carry their zone`);
  }
  const zone = opts.zone ?? (opts.format === 'oanda' ? { kind: 'utc' as const } : SPECS[opts.format].defaultZone);
  if (!zone) {
    throw new UsageError(
      `--format ${opts.format} files are in the broker's server time: give --utc-offset H (e.g. --utc-offset 3 for a UTC+3 server) or --tz ZONE (e.g. --tz Europe/Athens)`,
    );
  }
  for (const f of files) checkReadable(f);
  const hashes = await Promise.all(files.map(sha256File));
  // Parse and judge every file first, outside the transaction (the heavy part, and it changes no
  // stored table); then write them all in one transaction, checking each against what is stored,
  // including the files before it.
  const staged: Array<StagedFile | FileImportResult> = [];
  try {
    for (let i = 0; i < files.length; i++) staged.push(await stageFile(store, files[i], hashes[i], zone, opts, stageTables(i)));
    return await store.transaction(async () => {
      const out: FileImportResult[] = [];
      for (const st of staged) out.push('status' in st ? st : await finishImport(store, st, opts, zone));
      return out;
    });
  } finally {
    for (let i = 0; i < files.length; i++) await dropStage(store, stageTables(i));
  }
}

interface StagedFile {
  file: string;
  sha256: string;
  stats: StageStats;
  identical: number;
  order: { n: number; first: number | null };
  T: StageTables;
}

async function dropStage(store: Store, T: StageTables): Promise<void> {
  for (const t of [T.cand, T.dup_groups, T.existing, T.raw_fields, T.candles, T.oanda_raw]) await store.run(`DROP TABLE IF EXISTS ${t}`);
  await store.run(`DROP VIEW IF EXISTS ${T.lines}`);
  await store.run(`DROP TABLE IF EXISTS ${T.raw_lines}`);
}

async function stageFile(store: Store, file: string, sha256: string, zone: SourceZone, opts: ImportOptions, T: StageTables): Promise<StagedFile | FileImportResult> {
  const abs = path.resolve(file);
  const prior = await store.one<{ id: number }>(
    'SELECT id FROM imports WHERE instrument = $1 AND sha256 = $2 AND format = $3 AND source_tz = $4 ORDER BY id LIMIT 1',
    [opts.instrument, sha256, opts.format, describeZone(zone)],
  );
  if (prior) return { ...emptyResult(abs, sha256, opts.format, zone), status: 'already_imported', import_id: prior.id };
  const stats = opts.format === 'oanda' ? await stageOanda(store, abs, opts.price ?? 'mid', opts.spread ?? false, T) : await stageText(store, abs, opts.format, zone, T);
  return judgeWithinFile(store, abs, sha256, opts, stats, T);
}

function emptyResult(file: string, sha256: string, format: Format, zone: SourceZone): FileImportResult {
  return {
    file,
    status: 'imported',
    import_id: 0,
    sha256,
    format,
    source_tz: describeZone(zone),
    rows_read: 0,
    rows_accepted: 0,
    rows_rejected: 0,
    rows_already_present: 0,
    duplicates_identical: 0,
    blank_lines: 0,
    incomplete_skipped: 0,
    out_of_order_lines: 0,
    first_out_of_order_line: null,
    first: null,
    last: null,
    rejected_by_reason: {},
  };
}

interface StageStats {
  rowsRead: number;
  blankLines: number;
  incompleteSkipped: number;
}

// The plain cast first: trimming every field costs more than the rare padded value it helps.
const NUM = (expr: string) => `coalesce(try_cast(${expr} AS DOUBLE), try_cast(trim(${expr}, ' \t\r') AS DOUBLE))`;

/** Text formats: one VARCHAR per line (line numbers = file lines), split and parsed in SQL into `cand`. */
async function stageText(store: Store, file: string, format: Exclude<Format, 'oanda'>, zone: SourceZone, T: StageTables): Promise<StageStats> {
  const spec = SPECS[format];
  const N = spec.fields;
  const src = sqlString(file);
  const common = `header = false, quote = '', escape = '', auto_detect = false, strict_mode = false`;
  try {
    // The lines as they are (blank lines kept as NULL): line numbers, the header, and the raw text of
    // rejected rows come from here.
    await store.run(`CREATE OR REPLACE TEMP TABLE ${T.raw_lines} AS SELECT * FROM read_csv(${src}, columns = {'line': 'VARCHAR'}, delim = '\\x1f', ${common}, null_padding = false)`);
    // The fields, split by DuckDB's CSV reader: one column more than the format has, so that a line
    // with too many fields shows up instead of being cut silently.
    const cols = Array.from({ length: N + 1 }, (_, k) => `'c${k + 1}': 'VARCHAR'`).join(', ');
    await store.run(`CREATE OR REPLACE TEMP TABLE ${T.raw_fields} AS SELECT * FROM read_csv(${src}, columns = {${cols}}, delim = '${spec.delimiter}', ${common}, null_padding = true)`);
  } catch (e) {
    throw new UsageError(`${file}: cannot be read as text lines: ${(e as Error).message.split('\n')[0]}`);
  }
  // rowid follows insertion order, which follows the file's line order (preserve_insertion_order).
  // Inside a transaction, uncommitted rows get row ids from a large offset: count from the smallest.
  const info = await store.one<{ lbase: bigint | number | null; fbase: bigint | number | null; blank: number; total: number }>(
    `SELECT (SELECT min(rowid) FROM ${T.raw_lines}) AS lbase, (SELECT min(rowid) FROM ${T.raw_fields}) AS fbase,
            (SELECT count(*) FILTER (WHERE line IS NULL) FROM ${T.raw_lines}) AS blank, (SELECT count(*) FROM ${T.raw_lines}) AS total`,
  );
  const lbase = BigInt(info?.lbase ?? 0);
  const fbase = BigInt(info?.fbase ?? 0);
  await store.run(`CREATE OR REPLACE TEMP VIEW ${T.lines} AS SELECT rowid - ${lbase} + 1 AS line_no, line FROM ${T.raw_lines}`);
  if (spec.header) {
    const first = await store.one<{ line: string | null }>(`SELECT line FROM ${T.lines} WHERE line_no = 1`);
    const problem = headerProblem(format, first?.line ?? null);
    if (problem) throw new UsageError(`${file}: line 1: ${problem}. Is --format ${format} right? Expected ${spec.expected}.`);
  }
  // The field reader skips empty lines: map its rows back to file lines when the file has any.
  const fieldsNumbered =
    Number(info?.blank ?? 0) === 0
      ? `SELECT rowid - ${fbase} + 1 AS line_no, * FROM ${T.raw_fields}`
      : `SELECT m.line_no, f.* FROM ${T.raw_fields} f JOIN (SELECT row_number() OVER (ORDER BY rowid) AS k, rowid - ${lbase} + 1 AS line_no FROM ${T.raw_lines} WHERE line IS NOT NULL) m
           ON m.k = f.rowid - ${fbase} + 1`;
  const field = (k: number) => `c${k}`;
  const [io, ih, il, ic, iv] = priceFieldIndex(format);
  const names = ['open', 'high', 'low', 'close', 'volume'];
  const idx = [io, ih, il, ic, iv];
  const fieldChecks = names
    .map((n, k) => `WHEN ${n} IS NULL THEN 'malformed: field ${n} is not a number: "' || coalesce(trim(${field(idx[k])}), '') || '"'`)
    .join('\n             ');
  const present = Array.from({ length: N }, (_, k) => `(c${k + 1} IS NOT NULL)::INT`).join(' + ');
  const tsSql = utcTsSql(format, zone).replace(/f\[(\d)\]/g, (_, d: string) => field(Number(d)));
  await store.run(
    `CREATE OR REPLACE TEMP TABLE ${T.cand} AS
     WITH numbered AS (${fieldsNumbered}),
     parsed AS (
       SELECT line_no, ${present} AS nf, c${N + 1} IS NOT NULL AS extra, ${tsSql} AS ts,
              ${NUM(field(io))} AS open, ${NUM(field(ih))} AS high, ${NUM(field(il))} AS low,
              ${NUM(field(ic))} AS close, ${NUM(field(iv))} AS volume, ${Array.from({ length: N }, (_, k) => `c${k + 1}`).join(', ')}
       FROM numbered
       WHERE line_no > ${spec.header ? 1 : 0} AND NOT (c2 IS NULL AND trim(c1, ' \t\r') = '')
     )
     SELECT line_no, NULL::VARCHAR AS raw, ts, open, high, low, close, volume, NULL::DOUBLE AS spread,
       CASE WHEN extra THEN 'malformed: expected ${N} fields separated by "${spec.delimiter}", got more'
            WHEN nf <> ${N} THEN 'malformed: expected ${N} fields separated by "${spec.delimiter}", got ' || nf
            WHEN ts IS NULL THEN 'malformed: unparseable timestamp "' || coalesce(trim(c1), '') || '${format === 'mt4' ? `" "' || coalesce(trim(c2), '') || '` : ''}"'
            ${fieldChecks}
            ${VALUE_CHECKS}
       END AS reason
     FROM parsed`,
  );
  await store.run(`DROP TABLE ${T.raw_fields}`);
  const counts = await store.one<{ data: number }>(`SELECT count(*) AS data FROM ${T.cand}`);
  const total = Number(info?.total ?? 0);
  const dataLines = Number(counts?.data ?? 0);
  const blank = total - dataLines - (spec.header && total > 0 ? 1 : 0);
  if (dataLines === 0) throw new UsageError(`${file}: the file has no data lines (empty file)`);
  return { rowsRead: dataLines, blankLines: blank, incompleteSkipped: 0 };
}

/** Value rules shared by every format (applied after parsing). */
const VALUE_CHECKS = `WHEN NOT (isfinite(open) AND isfinite(high) AND isfinite(low) AND isfinite(close) AND isfinite(volume)) THEN 'malformed: non-finite number'
             WHEN least(open, high, low, close) <= 0 THEN 'non-positive price'
             WHEN volume < 0 THEN 'negative volume'
             WHEN high < greatest(open, close) THEN 'OHLC inconsistent: high below max(open, close)'
             WHEN low > least(open, close) THEN 'OHLC inconsistent: low above min(open, close)'`;

/** OANDA v20 candles JSON: `line` = the candle's 1-based position in `candles`. */
async function stageOanda(store: Store, file: string, price: 'mid' | 'bid' | 'ask', spread: boolean, T: StageTables): Promise<StageStats> {
  const ohlc = `STRUCT(o VARCHAR, h VARCHAR, l VARCHAR, c VARCHAR)`;
  try {
    await store.run(
      `CREATE OR REPLACE TEMP TABLE ${T.oanda_raw} AS
       SELECT * FROM read_json(${sqlString(file)}, format = 'auto', maximum_object_size = 1073741824,
         columns = {instrument: 'VARCHAR', granularity: 'VARCHAR',
                    candles: 'STRUCT("time" VARCHAR, volume DOUBLE, complete BOOLEAN, mid ${ohlc}, bid ${ohlc}, ask ${ohlc})[]'})`,
    );
  } catch (e) {
    throw new UsageError(
      `${file}: not OANDA v20 candles JSON ({"candles": [{"time", "mid"|"bid"|"ask": {o,h,l,c}, "volume", "complete"}]}): ${(e as Error).message.split('\n')[0]}`,
    );
  }
  const shape = await store.one<{ docs: number; with_candles: number }>(
    `SELECT count(*) AS docs, count(*) FILTER (WHERE candles IS NOT NULL) AS with_candles FROM ${T.oanda_raw}`,
  );
  if (!shape || Number(shape.with_candles) === 0) throw new UsageError(`${file}: no "candles" array found (expected OANDA v20 candles JSON)`);
  await store.run(
    `CREATE OR REPLACE TEMP TABLE ${T.candles} AS
     SELECT generate_subscripts(candles, 1) AS line_no, unnest(candles) AS c FROM ${T.oanda_raw}`,
  );
  const total = await store.one<{ n: number; incomplete: number }>(
    `SELECT count(*) AS n, count(*) FILTER (WHERE c.complete IS NOT TRUE) AS incomplete FROM ${T.candles}`,
  );
  const n = Number(total?.n ?? 0);
  if (n === 0) throw new UsageError(`${file}: the candles array is empty (no bars to import)`);
  // RFC 3339 with nanoseconds ("…:00.000000000Z") or UNIX seconds ("1461343980.000000000").
  const ts = `CASE WHEN regexp_full_match(c."time", '[0-9]+(\\.[0-9]+)?') THEN to_timestamp(c."time"::DOUBLE)::TIMESTAMP
                   ELSE try_cast(regexp_replace(c."time", '\\.([0-9]{1,6})[0-9]*', '.\\1') AS TIMESTAMPTZ)::TIMESTAMP END`;
  await store.run(
    `CREATE OR REPLACE TEMP TABLE ${T.cand} AS
     WITH parsed AS (
       SELECT line_no, to_json(c)::VARCHAR AS raw, ${ts} AS ts,
              try_cast(c.${price}.o AS DOUBLE) AS open, try_cast(c.${price}.h AS DOUBLE) AS high,
              try_cast(c.${price}.l AS DOUBLE) AS low, try_cast(c.${price}.c AS DOUBLE) AS close,
              coalesce(c.volume, 0) AS volume, c.${price} IS NULL AS missing_price, c."time" AS time_text,
              ${spread ? `try_cast(c.bid.o AS DOUBLE) AS bid_open, try_cast(c.ask.o AS DOUBLE) AS ask_open` : 'NULL::DOUBLE AS bid_open, NULL::DOUBLE AS ask_open'}
       FROM ${T.candles} WHERE c.complete IS TRUE
     )
     SELECT line_no, raw, ts, open, high, low, close, volume, ask_open - bid_open AS spread,
       CASE WHEN ts IS NULL THEN 'malformed: unparseable candle time "' || coalesce(time_text, '') || '"'
            WHEN missing_price THEN 'malformed: candle has no "${price}" prices (choose --price mid|bid|ask as requested from OANDA)'
            WHEN open IS NULL OR high IS NULL OR low IS NULL OR close IS NULL THEN 'malformed: a ${price} price is not a number'
            ${spread ? `WHEN bid_open IS NULL OR ask_open IS NULL THEN 'malformed: candle has no "bid" and "ask" open prices (the spread was requested: price BA)'
            WHEN NOT (isfinite(bid_open) AND isfinite(ask_open)) OR bid_open <= 0 THEN 'malformed: non-finite or non-positive bid/ask'
            WHEN ask_open < bid_open THEN 'bid above ask at the open'` : ''}
            ${VALUE_CHECKS}
       END AS reason
     FROM parsed`,
  );
  await store.run(`DROP TABLE ${T.candles}`);
  await store.run(`DROP TABLE ${T.oanda_raw}`);
  await store.run(`CREATE OR REPLACE TEMP VIEW ${T.lines} AS SELECT NULL::BIGINT AS line_no, NULL::VARCHAR AS line WHERE false`);
  const incomplete = Number(total?.incomplete ?? 0);
  return { rowsRead: n, blankLines: 0, incompleteSkipped: incomplete };
}

/** Within the file: nothing parses (wrong format), duplicates, order. Touches only the stage tables. */
async function judgeWithinFile(store: Store, file: string, sha256: string, opts: ImportOptions, stats: StageStats, T: StageTables): Promise<StagedFile> {
  const valid = await store.one<{ n: number; bad: number }>(
    `SELECT count(*) FILTER (WHERE reason IS NULL) AS n, count(*) FILTER (WHERE reason LIKE 'malformed%') AS bad FROM ${T.cand}`,
  );
  if (Number(valid?.n ?? 0) === 0 && Number(valid?.bad ?? 0) > 0) {
    const sample = await store.one<{ line_no: number; raw: string; reason: string }>(
      `SELECT c.line_no, coalesce(c.raw, l.line) AS raw, c.reason FROM ${T.cand} c LEFT JOIN ${T.lines} l ON l.line_no = c.line_no
       WHERE c.reason IS NOT NULL ORDER BY c.line_no LIMIT 1`,
    );
    const expected = opts.format === 'oanda' ? 'OANDA v20 candles' : SPECS[opts.format].expected;
    throw new UsageError(
      `${file}: no record parses as --format ${opts.format} (line ${sample?.line_no}: "${truncate(sample?.raw ?? '')}": ${sample?.reason}). ` +
        `Is --format right? Expected ${expected}.`,
    );
  }
  // Same timestamp twice in the file: identical rows collapse to one; differing rows are all rejected
  // (we cannot know which is right).
  // Find repeated timestamps with a cheap grouping first; describe only those groups.
  await store.run(
    `CREATE OR REPLACE TEMP TABLE ${T.dup_groups} AS
     WITH d AS (SELECT ts FROM ${T.cand} WHERE reason IS NULL GROUP BY ts HAVING count(*) > 1)
     SELECT c.ts, count(*) AS n, count(DISTINCT (c.open, c.high, c.low, c.close, c.volume, c.spread)) AS variants,
            string_agg(c.line_no::VARCHAR, ', ' ORDER BY c.line_no) AS lines, min(c.line_no) AS keep_line
     FROM ${T.cand} c SEMI JOIN d ON c.ts = d.ts WHERE c.reason IS NULL GROUP BY c.ts`,
  );
  await store.run(
    `UPDATE ${T.cand} SET reason = 'duplicate timestamp with conflicting values (lines ' || d.lines || ')'
     FROM ${T.dup_groups} d WHERE ${T.cand}.ts = d.ts AND ${T.cand}.reason IS NULL AND d.variants > 1`,
  );
  const identical = await store.one<{ n: number }>(
    `SELECT coalesce(sum(n - 1), 0) AS n FROM ${T.dup_groups} WHERE variants = 1`,
  );
  await store.run(
    `DELETE FROM ${T.cand} USING ${T.dup_groups} d WHERE ${T.cand}.ts = d.ts AND ${T.cand}.reason IS NULL AND d.variants = 1 AND ${T.cand}.line_no <> d.keep_line`,
  );
  const order = await store.one<{ n: number; first: number | null }>(
    `WITH o AS (SELECT line_no, ts, max(ts) OVER (ORDER BY line_no ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_max
                FROM ${T.cand} WHERE reason IS NULL)
     SELECT count(*) FILTER (WHERE ts < prev_max) AS n, min(line_no) FILTER (WHERE ts < prev_max) AS first FROM o`,
  );
  return { file, sha256, stats, identical: Number(identical?.n ?? 0), order: { n: Number(order?.n ?? 0), first: order?.first == null ? null : Number(order.first) }, T };
}

/** Against the store (inside the transaction): conflicts and idempotence; then writes bars, rejections and the import record. */
async function finishImport(store: Store, st: StagedFile, opts: ImportOptions, zone: SourceZone): Promise<FileImportResult> {
  const { file, sha256, stats, T, order } = st;
  // Against the store: the same bar is already present (idempotent), a different one is a conflict.
  await store.run(
    `CREATE OR REPLACE TEMP TABLE ${T.existing} AS
     SELECT c.line_no, b.import_id,
            (b.open = c.open AND b.high = c.high AND b.low = c.low AND b.close = c.close AND b.volume = c.volume
             AND (b.spread IS NULL OR c.spread IS NULL OR b.spread = c.spread)) AS same,
            b.spread IS NULL AND c.spread IS NOT NULL AS adds_spread
     FROM ${T.cand} c JOIN bars b ON b.instrument = $1 AND b.ts = c.ts
     WHERE c.reason IS NULL`,
    [opts.instrument],
  );
  await store.run(
    `UPDATE ${T.cand} SET reason = 'conflicts with the stored bar at this time (import #' || e.import_id || ')'
     FROM ${T.existing} e WHERE ${T.cand}.line_no = e.line_no AND NOT e.same`,
  );
  const present = await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${T.existing} WHERE same`);
  // A stored bar without a spread (a mid-only fetch) gets the one this import recorded: same bar, more known.
  await store.run(
    `UPDATE bars SET spread = c.spread FROM ${T.existing} e JOIN ${T.cand} c ON c.line_no = e.line_no
     WHERE e.same AND e.adds_spread AND bars.instrument = $1 AND bars.ts = c.ts`,
    [opts.instrument],
  );
  const rejected = await store.all<{ reason: string; n: number }>(
    `SELECT regexp_replace(reason, ' \\(.*$', '') AS reason, count(*) AS n FROM ${T.cand} WHERE reason IS NOT NULL GROUP BY 1 ORDER BY 2 DESC`,
  );
  const nRejected = rejected.reduce((a, r) => a + Number(r.n), 0);
  if (opts.strict && nRejected > 0) {
    const sample = await store.all<{ line_no: number; reason: string }>(
      `SELECT line_no, reason FROM ${T.cand} WHERE reason IS NOT NULL ORDER BY line_no LIMIT ${REJECT_SAMPLE}`,
    );
    throw new UsageError(
      `${file}: --strict: ${nRejected} record(s) rejected, nothing imported:\n` +
        sample.map((s) => `  line ${s.line_no}: ${s.reason}`).join('\n') +
        (nRejected > REJECT_SAMPLE ? `\n  … and ${nRejected - REJECT_SAMPLE} more` : ''),
    );
  }
  if (opts.strict && Number(order?.n ?? 0) > 0) {
    throw new UsageError(`${file}: --strict: the file is not sorted by time (line ${order?.first} goes back in time), nothing imported`);
  }
  const idRow = await store.one<{ id: number }>(`SELECT nextval('imports_id_seq') AS id`);
  const importId = Number(idRow?.id);
  await store.run(
    `INSERT INTO bars (instrument, ts, open, high, low, close, volume, import_id, spread)
     SELECT $1, c.ts, c.open, c.high, c.low, c.close, c.volume, $2, c.spread
     FROM ${T.cand} c ANTI JOIN ${T.existing} e ON c.line_no = e.line_no
     WHERE c.reason IS NULL${Number(order?.n ?? 0) > 0 ? ' ORDER BY c.ts' : ''}`,
    [opts.instrument, importId],
  );
  if (nRejected > 0) {
    await store.run(
      `INSERT INTO bars_rejected (import_id, instrument, file, line, raw, ts, reason)
       SELECT $1, $2, $3, c.line_no, coalesce(c.raw, l.line), c.ts, c.reason
       FROM ${T.cand} c LEFT JOIN ${T.lines} l ON l.line_no = c.line_no WHERE c.reason IS NOT NULL ORDER BY c.line_no`,
      [importId, opts.instrument, file],
    );
  }
  const acc = await store.one<{ n: number; first: string | null; last: string | null }>(
    `SELECT count(*) AS n, strftime(min(ts), '%Y-%m-%dT%H:%M:%SZ') AS first, strftime(max(ts), '%Y-%m-%dT%H:%M:%SZ') AS last
     FROM bars WHERE import_id = $1`,
    [importId],
  );
  const result: FileImportResult = {
    ...emptyResult(file, sha256, opts.format, zone),
    import_id: importId,
    rows_read: stats.rowsRead,
    rows_accepted: Number(acc?.n ?? 0),
    rows_rejected: nRejected,
    rows_already_present: Number(present?.n ?? 0),
    duplicates_identical: st.identical,
    blank_lines: stats.blankLines,
    incomplete_skipped: stats.incompleteSkipped,
    out_of_order_lines: Number(order?.n ?? 0),
    first_out_of_order_line: order?.first == null ? null : Number(order.first),
    first: acc?.first ?? null,
    last: acc?.last ?? null,
    rejected_by_reason: Object.fromEntries(rejected.map((r) => [r.reason, Number(r.n)])),
  };
  await store.run(
    `INSERT INTO imports (id, instrument, file, sha256, format, source_tz, rows_read, rows_accepted, rows_rejected,
                          rows_already_present, first_ts, last_ts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::TIMESTAMP, $12::TIMESTAMP)`,
    [
      importId,
      opts.instrument,
      file,
      sha256,
      opts.format,
      result.source_tz,
      result.rows_read,
      result.rows_accepted,
      result.rows_rejected,
      result.rows_already_present,
      result.first,
      result.last,
    ],
  );
  return result;
}

function truncate(s: string, n = 80): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
