// The feature store: register a feature set, build its rows for an instrument (incrementally, in
// committed chunks so that a killed build resumes where it stopped), and load them aligned to bars.
import type { Store } from '../store/db.js';
import { appendColumns, readColumns, type ColumnData, type ReadColumnSpec } from '../store/columnar.js';
import type { Config } from '../config/schema.js';
import { UsageError } from '../util/errors.js';
import { log } from '../util/log.js';
import { specFromConfig, specHash, specDifferences, checkSetName, type FeatureSpec } from './spec.js';
import { rowBuilderFor, STATUS } from './row.js';

export { STATUS, STATUS_NAMES } from './row.js';

export interface FeatureSetRecord {
  id: number;
  name: string;
  hash: string;
  spec: FeatureSpec;
  columns: string[];
  width: number;
  table: string;
}

export async function getFeatureSet(store: Store, name: string): Promise<FeatureSetRecord | null> {
  const row = await store.one<{ id: number; name: string; hash: string; spec: string; columns: string; width: number; table_name: string }>(
    'SELECT * FROM feature_sets WHERE name = $1',
    [name],
  );
  if (!row) return null;
  return { id: row.id, name: row.name, hash: row.hash, spec: JSON.parse(row.spec) as FeatureSpec, columns: JSON.parse(row.columns) as string[], width: row.width, table: row.table_name };
}

/** Registers the set (or checks that the stored one has the same spec) and creates its table. */
export async function registerFeatureSet(store: Store, name: string, spec: FeatureSpec, columns: string[]): Promise<FeatureSetRecord> {
  checkSetName(name);
  const hash = specHash(spec);
  const existing = await getFeatureSet(store, name);
  if (existing) {
    if (existing.hash !== hash) {
      const changed = specDifferences(existing.spec as unknown as Record<string, unknown>, spec as unknown as Record<string, unknown>);
      throw new UsageError(
        `feature set "${name}" is stored with a different spec (hash ${existing.hash}, the config's is ${hash}; ` +
          `changed: ${changed.join(', ') || 'the spec'}), so its ${existing.width} stored columns cannot be read as the new ` +
          `${columns.length}: rebuild it with \`swt features drop --set ${name}\` and then \`swt features build --set ${name} ...\` ` +
          'for each instrument, or give the new spec another name in features.sets',
      );
    }
    return existing;
  }
  const table = `features_${name}`;
  await store.transaction(async () => {
    await store.run(
      `CREATE TABLE ${table} (instrument VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, status INTEGER NOT NULL, ${columns.map((c) => `"${c}" FLOAT`).join(', ')})`,
    );
    await store.run('INSERT INTO feature_sets (name, hash, spec, columns, width, table_name) VALUES ($1, $2, $3, $4, $5, $6)', [
      name,
      hash,
      JSON.stringify(spec),
      JSON.stringify(columns),
      columns.length,
      table,
    ]);
  });
  return (await getFeatureSet(store, name))!;
}

/** Where a build's time went (wall seconds; the scattering runs on native threads alongside the rest). */
export interface BuildPhases {
  /** Finding the first missing row, deleting what follows it, reading the bars. */
  load_seconds: number;
  /** Status, time features, extras and scaled returns of every row (JS, main thread). */
  rows_seconds: number;
  /** Native scattering calls, start to finish (overlaps the writes of the previous chunk). */
  wst_seconds: number;
  /** Main thread waiting for a chunk's scattering after its own work was done. */
  wst_wait_seconds: number;
  /** Appending the chunks' columns (DuckDB appender). */
  write_seconds: number;
  /** Committing the chunks. */
  commit_seconds: number;
  /** Taking the store file for each chunk and giving it back after it (open, and the close's checkpoint): a store opened in `unit` mode only. */
  release_seconds: number;
}

export interface BuildReport {
  instrument: string;
  feature_set: string;
  hash: string;
  columns: number;
  rows_added: number;
  rows_total: number;
  ok: number;
  warmup: number;
  gap: number;
  seconds: number;
  rows_per_s: number;
  resumed_from: string | null;
  phases: BuildPhases;
}

export interface BuildOptions {
  instrument: string;
  set: string;
  threads?: number;
  /** Rows per committed chunk. */
  chunkRows?: number;
  onProgress?: (done: number, total: number) => void;
}

const seconds = (ms: number) => Math.round(ms) / 1000;

/**
 * Builds the set's rows for every bar of the instrument that has none yet. Rows are written in
 * chunks, each in its own transaction: a killed build leaves only whole chunks, and the next run
 * continues from the first bar without a row. A bar inserted before existing rows (a backfill)
 * invalidates the rows after it, which are recomputed.
 */
export async function buildFeatures(store: Store, config: Config, opts: BuildOptions): Promise<BuildReport> {
  const t0 = performance.now();
  const builder = rowBuilderFor(config, opts.set, opts.instrument, opts.threads);
  const phases: BuildPhases = { load_seconds: 0, rows_seconds: 0, wst_seconds: 0, wst_wait_seconds: 0, write_seconds: 0, commit_seconds: 0, release_seconds: 0 };
  let writeMs = 0;
  let txMs = 0;
  let unitMs = 0;
  let waitMs = 0;
  try {
    const set = await registerFeatureSet(store, opts.set, builder.spec, builder.columns);
    const barsN = await store.one<{ n: number }>('SELECT count(*) AS n FROM bars WHERE instrument = $1', [opts.instrument]);
    if (!barsN || Number(barsN.n) === 0) throw new UsageError(`no bars for instrument ${opts.instrument}: import or synthesise data first`);
    const missing = await store.one<{ ts: Date | null }>(
      `SELECT min(b.ts) AS ts FROM bars b ANTI JOIN ${set.table} f ON f.instrument = b.instrument AND f.ts = b.ts WHERE b.instrument = $1`,
      [opts.instrument],
    );
    const from = missing?.ts ?? null;
    const report: BuildReport = {
      instrument: opts.instrument,
      feature_set: set.name,
      hash: set.hash,
      columns: set.width,
      rows_added: 0,
      rows_total: 0,
      ok: 0,
      warmup: 0,
      gap: 0,
      seconds: 0,
      rows_per_s: 0,
      resumed_from: null,
      phases,
    };
    if (from) {
      const fromIso = from.toISOString();
      const existingRows = await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${set.table} WHERE instrument = $1`, [opts.instrument]);
      if (Number(existingRows?.n ?? 0) > 0) report.resumed_from = fromIso;
      // Rows at or after the first missing bar may have lookbacks that change: recompute them.
      await store.run(`DELETE FROM ${set.table} WHERE instrument = $1 AND ts >= $2::TIMESTAMP`, [opts.instrument, fromIso]);
      // The rows' lookback before `from`: with it, row i is warm-up exactly when the series has fewer
      // than `lookback` bars before it, as live decides.
      const r = await readColumns(
        store,
        `WITH hist AS (SELECT ts FROM bars WHERE instrument = $1 AND ts < $2::TIMESTAMP ORDER BY ts DESC LIMIT ${builder.lookback})
         SELECT ts, close, high, low FROM bars
         WHERE instrument = $1 AND ts >= coalesce((SELECT min(ts) FROM hist), $2::TIMESTAMP) ORDER BY ts`,
        [
          { name: 'ts', kind: 'ts_ms' },
          { name: 'close', kind: 'f64' },
          { name: 'high', kind: 'f64' },
          { name: 'low', kind: 'f64' },
        ],
        [opts.instrument, fromIso],
      );
      const series = { ts: r.cols.ts as Float64Array, close: r.cols.close as Float64Array, high: r.cols.high as Float64Array, low: r.cols.low as Float64Array };
      const n = r.n;
      const first = series.ts.findIndex((x) => x >= from.getTime());
      const hist = first < 0 ? n : first;
      const total = n - hist;
      const chunkRows = opts.chunkRows ?? config.features.build.chunk_rows;
      phases.load_seconds = seconds(performance.now() - t0);
      // Pipelined: the next chunk's scattering runs on native threads while this chunk is written.
      const blocks = [builder.block(chunkRows), builder.block(chunkRows)];
      const rowsOf = (a: number, k: number): Promise<void> => builder.rowsInto(series, a, Math.min(n, a + chunkRows), blocks[k % 2]);
      let next: Promise<void> | null = hist < n ? rowsOf(hist, 0) : null;
      for (let a = hist, k = 0; a < n; a += chunkRows, k++) {
        const b = Math.min(n, a + chunkRows);
        const rows = b - a;
        const tWait = performance.now();
        await next!;
        waitMs += performance.now() - tWait;
        next = b < n ? rowsOf(b, k + 1) : null;
        next?.catch(() => undefined); // a failure surfaces when awaited; never as an unhandled rejection
        const block = blocks[k % 2];
        for (let j = 0; j < rows; j++) {
          if (block.status[j] === STATUS.OK) report.ok++;
          else if (block.status[j] === STATUS.WARMUP) report.warmup++;
          else report.gap++;
        }
        const columns: ColumnData[] = [
          { kind: 'varchar_const', value: opts.instrument },
          { kind: 'ts_ms', data: series.ts.subarray(a, b) },
          { kind: 'i32', data: block.status },
          ...builder.columns.map((_, c): ColumnData => (c < builder.lookbackColumns ? { kind: 'f32', data: block.column(c), valid: block.ok } : { kind: 'f32', data: block.column(c) })),
        ];
        // One unit per chunk: a store opened in `unit` mode gives the file back between chunks.
        const tUnit = performance.now();
        await store.unit(async () => {
          const tTx = performance.now();
          await store.transaction(async () => {
            const tWrite = performance.now();
            await appendColumns(store, set.table, columns, rows);
            writeMs += performance.now() - tWrite;
          });
          txMs += performance.now() - tTx;
        });
        unitMs += performance.now() - tUnit;
        report.rows_added += rows;
        opts.onProgress?.(report.rows_added, total);
        log().info({ set: set.name, instrument: opts.instrument, done: report.rows_added, total }, `features: chunk committed (${report.rows_added}/${total} rows)`);
      }
    }
    const tot = await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${set.table} WHERE instrument = $1`, [opts.instrument]);
    report.rows_total = Number(tot?.n ?? 0);
    report.seconds = seconds(performance.now() - t0);
    report.rows_per_s = report.seconds > 0 ? Math.round(report.rows_added / report.seconds) : 0;
    phases.rows_seconds = seconds(builder.timings.rows_ms);
    phases.wst_seconds = seconds(builder.timings.wst_ms);
    phases.wst_wait_seconds = seconds(waitMs);
    phases.write_seconds = seconds(writeMs);
    phases.commit_seconds = seconds(txMs - writeMs);
    phases.release_seconds = seconds(unitMs - txMs);
    await store.run(
      `INSERT INTO feature_builds (feature_set, instrument, started_at, finished_at, rows_added, seconds)
       VALUES ($1, $2, current_timestamp - to_milliseconds($3::BIGINT), current_timestamp, $4, $5)`,
      [set.id, opts.instrument, Math.round(report.seconds * 1000), report.rows_added, report.seconds],
    );
    return report;
  } finally {
    builder.free();
  }
}

export interface LoadedFeatures {
  set: FeatureSetRecord;
  data: Float32Array;
  nFeatures: number;
  status: Int32Array;
}

/**
 * The set's rows for exactly the given bar times, row-major (NaN in the WST columns of rows that are
 * not OK). Refuses, naming the first uncovered bar, when the set lacks rows for some of the bars.
 */
export async function loadFeatures(store: Store, setName: string, instrument: string, barTs: Float64Array): Promise<LoadedFeatures> {
  const set = await getFeatureSet(store, setName);
  if (!set) throw new UsageError(`feature set "${setName}" has not been built: run \`swt features build --instrument ${instrument} --set ${setName}\``);
  const n = barTs.length;
  if (n === 0) return { set, data: new Float32Array(0), nFeatures: set.width, status: new Int32Array(0) };
  const from = new Date(barTs[0]).toISOString();
  const to = new Date(barTs[n - 1]).toISOString();
  const spec: ReadColumnSpec[] = [
    { name: 'ts', kind: 'ts_ms' },
    { name: 'status', kind: 'i32' },
    ...set.columns.map((c): ReadColumnSpec => ({ name: c, kind: 'f32' })),
  ];
  const r = await readColumns(
    store,
    `SELECT ts, status, ${set.columns.map((c) => `"${c}"`).join(', ')} FROM ${set.table}
     WHERE instrument = $1 AND ts BETWEEN $2::TIMESTAMP AND $3::TIMESTAMP ORDER BY ts`,
    spec,
    [instrument, from, to],
  );
  const ts = r.cols.ts as Float64Array;
  if (r.n !== n) {
    let i = 0;
    while (i < n && i < r.n && ts[i] === barTs[i]) i++;
    const at = new Date(barTs[Math.min(i, n - 1)]).toISOString();
    throw new UsageError(
      `feature set "${setName}" does not cover ${instrument} from ${at} (${n - r.n} of ${n} bars have no row): run \`swt features build --instrument ${instrument} --set ${setName}\``,
    );
  }
  for (let i = 0; i < n; i++) {
    if (ts[i] !== barTs[i]) throw new UsageError(`feature set "${setName}" rows do not match the bars at ${new Date(barTs[i]).toISOString()}: rebuild it`);
  }
  const F = set.width;
  const data = new Float32Array(n * F);
  set.columns.forEach((c, j) => {
    const col = r.cols[c] as Float32Array;
    for (let i = 0; i < n; i++) data[i * F + j] = col[i];
  });
  return { set, data, nFeatures: F, status: r.cols.status as Int32Array };
}

export async function dropFeatureSet(store: Store, name: string): Promise<boolean> {
  const set = await getFeatureSet(store, name);
  if (!set) return false;
  await store.transaction(async () => {
    await store.run(`DROP TABLE IF EXISTS ${set.table}`);
    await store.run('DELETE FROM feature_builds WHERE feature_set = $1', [set.id]);
    await store.run('DELETE FROM feature_sets WHERE id = $1', [set.id]);
  });
  return true;
}
