// The feature store: register a feature set, build its rows for an instrument (incrementally, in
// committed chunks so that a killed build resumes where it stopped), and load them aligned to bars.
import type { Store } from '../store/db.js';
import { appendColumns, readColumns, type ColumnData, type ReadColumnSpec } from '../store/columnar.js';
import type { Config } from '../config/schema.js';
import { instrumentSpec } from '../config/load.js';
import { holeMinutesMs, weekCalendar } from '../data/calendar.js';
import { UsageError } from '../util/errors.js';
import { log } from '../util/log.js';
import { featureSpecSchema, specHash, checkSetName, type FeatureSpec } from './spec.js';
import { layoutOf, planFor, writeExtras, type FeatureLayout } from './compute.js';
import { writeTimeFeatures } from './time.js';

/** Row status: the WST columns hold values only for OK rows. */
export const STATUS = { OK: 0, WARMUP: 1, GAP: 2 } as const;
export const STATUS_NAMES = ['ok', 'warmup', 'gap'] as const;

export interface FeatureSetRecord {
  id: number;
  name: string;
  hash: string;
  spec: FeatureSpec;
  columns: string[];
  width: number;
  table: string;
}

export function specFromConfig(config: Config, name: string): FeatureSpec {
  const raw = config.features.sets[name];
  if (!raw) {
    throw new UsageError(`unknown feature set "${name}": the config defines ${Object.keys(config.features.sets).join(', ')} (features.sets)`);
  }
  return featureSpecSchema.parse(raw);
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
export async function registerFeatureSet(store: Store, name: string, spec: FeatureSpec, layout: FeatureLayout): Promise<FeatureSetRecord> {
  checkSetName(name);
  const hash = specHash(spec);
  const existing = await getFeatureSet(store, name);
  if (existing) {
    if (existing.hash !== hash) {
      throw new UsageError(
        `feature set "${name}" is stored with a different spec (hash ${existing.hash}, config now ${hash}); ` +
          'give the new spec another name in features.sets, or drop the old set with `swt features drop --set ' +
          name +
          '`',
      );
    }
    return existing;
  }
  const table = `features_${name}`;
  await store.transaction(async () => {
    await store.run(
      `CREATE TABLE ${table} (instrument VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, status INTEGER NOT NULL, ${layout.columns.map((c) => `"${c}" FLOAT`).join(', ')})`,
    );
    await store.run('INSERT INTO feature_sets (name, hash, spec, columns, width, table_name) VALUES ($1, $2, $3, $4, $5, $6)', [
      name,
      hash,
      JSON.stringify(spec),
      JSON.stringify(layout.columns),
      layout.width,
      table,
    ]);
  });
  return (await getFeatureSet(store, name))!;
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
}

export interface BuildOptions {
  instrument: string;
  set: string;
  threads?: number;
  /** Rows per committed chunk. */
  chunkRows?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Builds the set's rows for every bar of the instrument that has none yet. Rows are written in
 * chunks, each in its own transaction: a killed build leaves only whole chunks, and the next run
 * continues from the first bar without a row. A bar inserted before existing rows (a backfill)
 * invalidates the rows after it, which are recomputed.
 */
export async function buildFeatures(store: Store, config: Config, opts: BuildOptions): Promise<BuildReport> {
  const t0 = performance.now();
  const spec = specFromConfig(config, opts.set);
  const plan = planFor(spec);
  try {
    const layout = layoutOf(spec, plan);
    const set = await registerFeatureSet(store, opts.set, spec, layout);
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
    };
    if (from) {
      const fromIso = from.toISOString();
      const existingRows = await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${set.table} WHERE instrument = $1`, [opts.instrument]);
      if (Number(existingRows?.n ?? 0) > 0) report.resumed_from = fromIso;
      // Rows at or after the first missing bar may have windows that change: recompute them.
      await store.run(`DELETE FROM ${set.table} WHERE instrument = $1 AND ts >= $2::TIMESTAMP`, [opts.instrument, fromIso]);
      const W = spec.window;
      const r = await readColumns(
        store,
        `WITH hist AS (SELECT ts FROM bars WHERE instrument = $1 AND ts < $2::TIMESTAMP ORDER BY ts DESC LIMIT ${W - 1})
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
      const ts = r.cols.ts as Float64Array;
      const close = r.cols.close as Float64Array;
      const high = r.cols.high as Float64Array;
      const low = r.cols.low as Float64Array;
      const n = r.n;
      const first = ts.findIndex((x) => x >= from.getTime());
      const hist = first < 0 ? n : first;
      // The series starts inside the loaded history when fewer than W-1 bars precede `from`.
      const seriesStartLoaded = hist < W - 1;
      const cal = weekCalendar(config);
      const pip = instrumentSpec(config, opts.instrument).pip_size;
      // cum[j] = breaks (holes missing more weekday minutes than max_gap) at boundaries 1..j; window (s, i] is clean iff cum[i] == cum[s].
      const cum = new Int32Array(n);
      for (let j = 1; j < n; j++) {
        const brk = ts[j] - ts[j - 1] > 60_000 && holeMinutesMs(ts[j - 1], ts[j], cal).weekday > spec.max_gap_minutes ? 1 : 0;
        cum[j] = cum[j - 1] + brk;
      }
      const total = n - hist;
      const chunkRows = opts.chunkRows ?? config.features.build.chunk_rows;
      const cols = layout.columns.map(() => new Float32Array(chunkRows));
      const wstValid = new Uint8Array(chunkRows);
      const status = new Int32Array(chunkRows);
      const rowTs = new Float64Array(chunkRows);
      const row = new Float32Array(layout.width);
      // Pipelined: the WST of the next chunk runs on a native thread while this chunk is written.
      const wstFor = (a: number): Promise<Float64Array> => {
        const b = Math.min(n, a + chunkRows);
        const firstWin = Math.max(a, W - 1);
        if (firstWin >= b) return Promise.resolve(new Float64Array(0));
        return plan.featuresBatchAsync(close.subarray(firstWin - (W - 1), b), { threads: opts.threads ?? config.features.build.threads });
      };
      let next: Promise<Float64Array> | null = hist < n ? wstFor(hist) : null;
      for (let a = hist; a < n; a += chunkRows) {
        const b = Math.min(n, a + chunkRows);
        const rows = b - a;
        const firstWin = Math.max(a, W - 1);
        const wst = await next!;
        next = a + chunkRows < n ? wstFor(a + chunkRows) : null;
        next?.catch(() => undefined); // a failure surfaces when awaited; never as an unhandled rejection
        const C = layout.wstChannels;
        for (let i = a; i < b; i++) {
          const k = i - a;
          rowTs[k] = ts[i];
          let st: number = STATUS.OK;
          if (i < W - 1 && seriesStartLoaded) st = STATUS.WARMUP;
          else if (cum[i] !== cum[i - (W - 1)]) st = STATUS.GAP;
          status[k] = st;
          wstValid[k] = st === STATUS.OK ? 1 : 0;
          if (st === STATUS.OK) {
            const w = (i - firstWin) * C;
            for (let c = 0; c < C; c++) row[c] = wst[w + c];
          }
          writeTimeFeatures(ts[i], spec, cal, row, C);
          writeExtras(spec, pip, close, high, low, i, row, C + layout.timeCount);
          for (let c = 0; c < layout.width; c++) cols[c][k] = c < C && st !== STATUS.OK ? 0 : row[c];
          if (st === STATUS.OK) report.ok++;
          else if (st === STATUS.WARMUP) report.warmup++;
          else report.gap++;
        }
        const columns: ColumnData[] = [
          { kind: 'varchar_const', value: opts.instrument },
          { kind: 'ts_ms', data: rowTs },
          { kind: 'i32', data: status },
          ...cols.map((data, c): ColumnData => (c < C ? { kind: 'f32', data, valid: wstValid } : { kind: 'f32', data })),
        ];
        // One unit per chunk: a store opened in `unit` mode gives the file back between chunks.
        await store.unit(() => store.transaction(() => appendColumns(store, set.table, columns, rows)));
        report.rows_added += rows;
        opts.onProgress?.(report.rows_added, total);
        log().info({ set: set.name, instrument: opts.instrument, done: report.rows_added, total }, `features: chunk committed (${report.rows_added}/${total} rows)`);
      }
    }
    const tot = await store.one<{ n: number }>(`SELECT count(*) AS n FROM ${set.table} WHERE instrument = $1`, [opts.instrument]);
    report.rows_total = Number(tot?.n ?? 0);
    report.seconds = Math.round((performance.now() - t0)) / 1000;
    report.rows_per_s = report.seconds > 0 ? Math.round(report.rows_added / report.seconds) : 0;
    await store.run(
      `INSERT INTO feature_builds (feature_set, instrument, started_at, finished_at, rows_added, seconds)
       VALUES ($1, $2, current_timestamp - to_milliseconds($3::BIGINT), current_timestamp, $4, $5)`,
      [set.id, opts.instrument, Math.round(report.seconds * 1000), report.rows_added, report.seconds],
    );
    return report;
  } finally {
    plan.free();
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
