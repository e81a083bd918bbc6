// The feature row, built by one builder for the store build (a block of rows at a time, the WST on a
// native thread) and for live trading (one row per new bar), through the same steps in the same
// order: a live row is bit-identical to the stored row of the same bar, status included.
//
// Row i of a series reads bars i-lookback..i only. Its status: warm-up when fewer than `lookback`
// bars precede it in the series; gap when a hole between two of those bars misses more weekday
// minutes than max_gap_minutes (src/data/calendar.ts: a weekend's scheduled closure is not a gap);
// ok otherwise. The columns that need the lookback (scattering paths,
// order-0 samples, close_z, scaled returns) hold values only in ok rows (NaN live, NULL stored);
// time features and the per-bar extras are written for every row.
import { WstPlan } from '../../bindings/wst.js';
import { holeMinutesMs, weekCalendar, type WeekCalendar } from '../data/calendar.js';
import { instrumentSpec } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { featureColumns, specFromConfig, specHash, type FeatureSpec } from './spec.js';
import { writeTimeFeatures } from './time.js';

/** Row status, as stored in the `status` column. */
export const STATUS = { OK: 0, WARMUP: 1, GAP: 2 } as const;
export type FeatureStatus = (typeof STATUS)[keyof typeof STATUS];
export const STATUS_NAMES = ['ok', 'warmup', 'gap'] as const;

/**
 * Bars in time order (epoch-ms times). The arrays may be longer than the bars they hold (a live
 * series grows into spare capacity): the builder reads only indices up to the row it computes.
 */
export interface BarColumns {
  readonly ts: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
}

/** Rows of one block, column-major (as the store appends them): column c of row k at data[c * capacity + k]. */
export class FeatureBlock {
  readonly data: Float32Array;
  readonly status: Int32Array;
  /** 1 where the row is ok: the other rows' lookback columns hold NaN (NULL in the store). */
  readonly ok: Uint8Array;
  /** Rows filled by the last rowsInto. */
  rows = 0;

  constructor(
    readonly width: number,
    readonly capacity: number,
  ) {
    this.data = new Float32Array(width * capacity);
    this.status = new Int32Array(capacity);
    this.ok = new Uint8Array(capacity);
  }

  /** Column c of the filled rows (a view, no copy). */
  column(c: number): Float32Array {
    return this.data.subarray(c * this.capacity, c * this.capacity + this.rows);
  }
}

export interface RowBuilderOptions {
  calendar: WeekCalendar;
  /** Pip size of the instrument (the pip extras). */
  pipSize: number;
  /** Native threads for the batch WST (0 = all cores; never changes a result). */
  threads?: number;
}

interface WstJob {
  series: Float64Array;
  out: Float32Array;
  colStride: number;
}

export class FeatureRowBuilder {
  readonly hash: string;
  readonly columns: string[];
  readonly width: number;
  /** Columns [0, lookbackColumns) need the lookback: NaN (stored NULL) unless the row is ok. */
  readonly lookbackColumns: number;
  /** Bars before a row that its columns read (the longest lookback of any column). */
  readonly lookback: number;
  /** Time spent in rowAt / rowsInto: the JS steps, and the native scattering. */
  readonly timings = { rows_ms: 0, wst_ms: 0 };

  private readonly plan: WstPlan;
  private readonly wstColumns: number;
  private readonly horizons: number[];
  private readonly sqrtH: Float64Array;
  private readonly vol: number;
  private readonly returnLookback: number;
  private logs = new Float64Array(0);
  private sq = new Float64Array(0);
  private readonly status1 = new Int32Array(1);
  private readonly ok1 = new Uint8Array(1);

  private constructor(
    readonly spec: FeatureSpec,
    private readonly opts: RowBuilderOptions,
  ) {
    this.plan = planOf(spec);
    const d = spec.directional;
    this.hash = specHash(spec);
    this.columns = featureColumns(spec, this.plan.dims);
    this.width = this.columns.length;
    this.wstColumns = this.plan.columnCount({ order0Samples: d.order0_samples, lastSample: d.close_zscore });
    this.horizons = d.return_horizons;
    this.sqrtH = Float64Array.from(this.horizons, (h) => Math.sqrt(h));
    this.vol = d.vol_bars;
    this.returnLookback = this.horizons.length ? Math.max(d.vol_bars, ...this.horizons) : 0;
    this.lookbackColumns = this.wstColumns + this.horizons.length;
    this.lookback = Math.max(spec.window - 1, this.returnLookback);
  }

  static create(spec: FeatureSpec, opts: RowBuilderOptions): FeatureRowBuilder {
    return new FeatureRowBuilder(spec, opts);
  }

  /** A block of `capacity` rows for rowsInto. */
  block(capacity: number): FeatureBlock {
    return new FeatureBlock(this.width, capacity);
  }

  /**
   * Live: the row of bar i (reading bars <= i only) into out[0 .. width), and its status. The
   * lookback columns of a row that is not ok are NaN.
   */
  rowAt(series: BarColumns, i: number, out: Float32Array): FeatureStatus {
    this.checkRange(series, i, i + 1);
    if (out.length < this.width) throw new RangeError(`FeatureRowBuilder.rowAt: out holds ${out.length} values, a row has ${this.width}`);
    const job = this.before(series, i, i + 1, out, 1, this.status1, this.ok1);
    if (job) {
      const t0 = performance.now();
      this.plan.columnsF32(job.series, job.out, { colStride: job.colStride, threads: 1, ...this.wstOutputs() });
      this.timings.wst_ms += performance.now() - t0;
    }
    this.after(i, i + 1, out, 1, this.status1);
    return this.status1[0] as FeatureStatus;
  }

  /**
   * Store build: rows [a, b) of the series into `block` (rows 0 .. b-a), the scattering on a native
   * thread. The JS steps run before this returns its promise, so the caller may do other work (write
   * the previous block) while the native part runs.
   */
  async rowsInto(series: BarColumns, a: number, b: number, block: FeatureBlock): Promise<void> {
    this.checkRange(series, a, b);
    if (b - a > block.capacity) throw new RangeError(`FeatureRowBuilder.rowsInto: ${b - a} rows do not fit a block of ${block.capacity}`);
    block.rows = b - a;
    const job = this.before(series, a, b, block.data, block.capacity, block.status, block.ok);
    if (job) {
      const t0 = performance.now();
      await this.plan.columnsF32Async(job.series, job.out, { colStride: job.colStride, threads: this.opts.threads ?? 0, ...this.wstOutputs() });
      this.timings.wst_ms += performance.now() - t0;
    }
    this.after(a, b, block.data, block.capacity, block.status);
  }

  /** Releases the native plan (after in-flight calls finish). */
  free(): void {
    this.plan.free();
  }

  private wstOutputs(): { order0Samples: boolean; lastSample: boolean } {
    return { order0Samples: this.spec.directional.order0_samples, lastSample: this.spec.directional.close_zscore };
  }

  private checkRange(series: BarColumns, a: number, b: number): void {
    const n = series.close.length;
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b > n || a >= b) {
      throw new RangeError(`FeatureRowBuilder: rows [${a}, ${b}) are not inside a series of ${n} bars`);
    }
    if (series.ts.length < b || series.high.length < b || series.low.length < b) {
      throw new RangeError(`FeatureRowBuilder: the series' ts/high/low hold fewer than ${b} bars`);
    }
  }

  /** A hole between bars j-1 and j missing more weekday minutes than max_gap_minutes (as the quality report counts them). */
  private breakBefore(ts: Float64Array, j: number): boolean {
    return ts[j] - ts[j - 1] > 60_000 && holeMinutesMs(ts[j - 1], ts[j], this.opts.calendar).weekday > this.spec.max_gap_minutes;
  }

  /**
   * Status, per-bar columns and scaled returns of rows [a, b), column c of row k at
   * data[c * stride + k]; returns the scattering still to compute (rows from the first that can be ok).
   */
  private before(series: BarColumns, a: number, b: number, data: Float32Array, stride: number, status: Int32Array, ok: Uint8Array): WstJob | null {
    const t0 = performance.now();
    const L = this.lookback;
    const { ts, close } = series;
    // The most recent break at or before a that a's lookback reaches, then forward bar by bar.
    let lastBreak = -1;
    for (let j = a; j > a - L && j >= 1; j--) {
      if (this.breakBefore(ts, j)) {
        lastBreak = j;
        break;
      }
    }
    for (let i = a; i < b; i++) {
      if (i > a && this.breakBefore(ts, i)) lastBreak = i;
      const st = i < L ? STATUS.WARMUP : lastBreak > i - L ? STATUS.GAP : STATUS.OK;
      status[i - a] = st;
      ok[i - a] = st === STATUS.OK ? 1 : 0;
    }
    const spec = this.spec;
    const timeAt = this.lookbackColumns * stride;
    const extraAt = timeAt + spec.time_features.length * 2 * stride;
    for (let i = a; i < b; i++) {
      writeTimeFeatures(ts[i], spec, this.opts.calendar, data, timeAt + i - a, stride);
      this.writeExtras(series, i, data, extraAt + i - a, stride);
    }
    if (this.horizons.length) this.writeReturns(close, a, b, data, stride, ok);
    this.timings.rows_ms += performance.now() - t0;
    const w0 = Math.max(a, L);
    if (w0 >= b) return null;
    const W = spec.window;
    return { series: close.subarray(w0 - (W - 1), b), out: data.subarray(w0 - a), colStride: stride };
  }

  /** The lookback columns of rows that are not ok become NaN. */
  private after(a: number, b: number, data: Float32Array, stride: number, status: Int32Array): void {
    const t0 = performance.now();
    for (let k = 0; k < b - a; k++) {
      if (status[k] === STATUS.OK) continue;
      for (let c = 0; c < this.lookbackColumns; c++) data[c * stride + k] = NaN;
    }
    this.timings.rows_ms += performance.now() - t0;
  }

  /** return_pips (needs bar i-1; 0 at the first bar) and range_pips of bar i. */
  private writeExtras(series: BarColumns, i: number, out: Float32Array, at: number, stride: number): void {
    const pip = this.opts.pipSize;
    let k = at;
    for (const e of this.spec.extra) {
      out[k] = e === 'return_pips' ? (i > 0 ? (series.close[i] - series.close[i - 1]) / pip : 0) : (series.high[i] - series.low[i]) / pip;
      k += stride;
    }
  }

  /**
   * ret_<h>_z of the ok rows of [a, b): ln(c_i / c_{i-h}) / (sigma_i sqrt(h)), sigma_i the root mean
   * square of the one-bar log returns of bars i-V+1..i (0 when sigma_i is 0). Each sigma is summed
   * afresh in bar order (no running sum), so a row's value does not depend on where a block starts.
   */
  private writeReturns(close: Float64Array, a: number, b: number, data: Float32Array, stride: number, ok: Uint8Array): void {
    const base = Math.max(0, a - this.returnLookback);
    const n = b - base;
    if (this.logs.length < n) {
      this.logs = new Float64Array(n);
      this.sq = new Float64Array(n);
    }
    const { logs, sq } = this;
    for (let x = 0; x < n; x++) logs[x] = Math.log(close[base + x]);
    for (let x = 1; x < n; x++) {
      const r = logs[x] - logs[x - 1];
      sq[x] = r * r;
    }
    const V = this.vol;
    const at = this.wstColumns * stride;
    for (let i = a; i < b; i++) {
      const k = i - a;
      if (!ok[k]) continue;
      const x = i - base;
      let sum = 0;
      for (let j = x - V + 1; j <= x; j++) sum += sq[j];
      const sigma = Math.sqrt(sum / V);
      for (let q = 0; q < this.horizons.length; q++) {
        data[at + q * stride + k] = sigma > 0 ? (logs[x] - logs[x - this.horizons[q]]) / (sigma * this.sqrtH[q]) : 0;
      }
    }
  }
}

function planOf(spec: FeatureSpec): WstPlan {
  return WstPlan.create({ J: spec.wst.J, Q: [spec.wst.Q[0], spec.wst.Q[1]], maxOrder: spec.wst.max_order, length: spec.window });
}

/** The column names of a spec's rows, in order (the scattering plan decides how many paths there are). */
export function featureColumnsOf(spec: FeatureSpec): string[] {
  const plan = planOf(spec);
  try {
    return featureColumns(spec, plan.dims);
  } finally {
    plan.free();
  }
}

/** The builder of a configured feature set for an instrument (its pip size) and the config's calendar. */
export function rowBuilderFor(config: Config, set: string, instrument: string, threads?: number): FeatureRowBuilder {
  return FeatureRowBuilder.create(specFromConfig(config, set), {
    calendar: weekCalendar(config),
    pipSize: instrumentSpec(config, instrument).pip_size,
    threads: threads ?? config.features.build.threads,
  });
}
