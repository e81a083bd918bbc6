// Wavelet scattering transform (Kymatio 0.4 `Scattering1D` compatible) over the Rust core.
// A WstPlan owns a native plan handle: build it once per configuration, reuse it for every call, and
// free() it when done (a FinalizationRegistry frees forgotten plans as a safety net).
import koffi from 'koffi';
import { declare, check, callAsync, nativeLib } from './native.js';

export interface WstOptions {
  /** log2 of the averaging scale T = 2^J (and of the output stride). */
  J: number;
  /** Wavelets per octave: Q1, or [Q1, Q2] (Q2 defaults to 1, as in Kymatio). */
  Q: number | readonly [number, number];
  /** 1 or 2 (default 2). */
  maxOrder?: number;
  /** Samples per signal / window (a power of two; default 256). */
  length?: number;
}

export interface WstConfig {
  J: number;
  Q: [number, number];
  maxOrder: number;
  length: number;
  /** Averaging scale and output stride, 2^J (Kymatio's T). */
  T: number;
}

export interface WstDims {
  /** Output rows C (paths of all orders). */
  channels: number;
  /** Output samples per row T_out. */
  tOut: number;
  /** Rows of order 0, 1, 2. */
  perOrder: [number, number, number];
  length: number;
  nPadded: number;
  log2T: number;
}

/** One output row, as Kymatio's meta(): per order k < maxOrder, the filter index n, scale j, centre
 * frequency xi and bandwidth sigma; null where the row has no filter of that order. */
export interface WstPathMeta {
  order: number;
  n: (number | null)[];
  j: (number | null)[];
  xi: (number | null)[];
  sigma: (number | null)[];
}

export interface WstRunOptions {
  /** z-score each signal/window first: (x - mean) / std, population std; flat → zeros. */
  zscore?: boolean;
  /** Worker threads in the native core; 0 (default) = all cores. Never changes a result. */
  threads?: number;
}

export interface WstBatchOptions extends WstRunOptions {
  /** Step between window starts (default 1). */
  stride?: number;
}

export interface WstColumnsOptions extends WstBatchOptions {
  /** Also write the order-0 path (the low-passed window) at each of its tOut output times. */
  order0Samples?: boolean;
  /** Also write the last sample of each (z-scored) window: the z-score of its last value. */
  lastSample?: boolean;
  /** Distance between two columns in `out` (the rows of the caller's table; >= the window count). */
  colStride: number;
}

export interface WstTransformResult {
  /** Number of signals. */
  count: number;
  /** S, signal-major: S[i][c][t] at ((i * channels) + c) * tOut + t. */
  S: Float64Array;
  /** Time averages: feature[i][c] at i * channels + c. */
  features: Float64Array;
}

type Ptr = unknown;
type Fn<A extends unknown[]> = ((...args: A) => number) & { async: (...args: unknown[]) => void };

interface Api {
  planNew: Fn<[number, number, number, number, number, Ptr[]]>;
  planFree: Fn<[Ptr]>;
  dims: Fn<[Ptr, Int32Array, number]>;
  meta: Fn<[Ptr, number, Int32Array, Int32Array, Int32Array, Float64Array, Float64Array]>;
  transform: Fn<[Ptr, Float64Array, number, number, number, Float64Array, number, Float64Array | null, number]>;
  batch: Fn<[Ptr, Float64Array, number, number, number, number, Float64Array, number]>;
  batchF32: Fn<[Ptr, Float64Array, number, number, number, number, Float32Array, number]>;
  single: Fn<[Ptr, Float64Array, number, number, Float64Array, number]>;
  columnsF32: Fn<[Ptr, Float64Array, number, number, number, number, number, Float32Array, number, number]>;
}

let api: Api | null = null;

function native(): Api {
  if (api) return api;
  nativeLib();
  // A named opaque type makes koffi hand back (and accept) typed externals rather than raw addresses.
  koffi.opaque('SwtWstPlan');
  api = {
    planNew: declare('int swt_wst_plan_new(int J, int q1, int q2, int max_order, int length, _Out_ SwtWstPlan **out)'),
    planFree: declare('int swt_wst_plan_free(SwtWstPlan *p)'),
    dims: declare('int swt_wst_dims(SwtWstPlan *p, _Out_ int32_t *out, size_t len)'),
    meta: declare(
      'int swt_wst_meta(SwtWstPlan *p, size_t channels, _Out_ int32_t *order, _Out_ int32_t *n, _Out_ int32_t *j, _Out_ double *xi, _Out_ double *sigma)',
    ),
    transform: declare(
      'int swt_wst_transform(SwtWstPlan *p, const double *signals, size_t n_values, int zscore, int threads, _Out_ double *s_out, size_t s_len, _Out_ double *feat_out, size_t feat_len)',
    ),
    batch: declare(
      'int swt_wst_features_batch(SwtWstPlan *p, const double *series, size_t n, size_t stride, int zscore, int threads, _Out_ double *out, size_t out_len)',
    ),
    batchF32: declare(
      'int swt_wst_features_batch_f32(SwtWstPlan *p, const double *series, size_t n, size_t stride, int zscore, int threads, _Out_ float *out, size_t out_len)',
    ),
    single: declare('int swt_wst_features_single(SwtWstPlan *p, const double *window, size_t n, int zscore, _Out_ double *out, size_t out_len)'),
    columnsF32: declare(
      'int swt_wst_features_columns_f32(SwtWstPlan *p, const double *series, size_t n, size_t stride, int zscore, int threads, int outputs, _Out_ float *out, size_t out_len, size_t col_stride)',
    ),
  };
  return api;
}

const registry = new FinalizationRegistry<Ptr>((handle) => {
  try {
    api?.planFree(handle);
  } catch {
    /* best effort at GC time */
  }
});

function intArg(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`WstPlan: ${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

function toFloat64(x: Float64Array | readonly number[]): Float64Array {
  return x instanceof Float64Array ? x : Float64Array.from(x as readonly number[]);
}

export class WstPlan {
  readonly config: WstConfig;
  readonly dims: WstDims;
  private handle: Ptr | null;
  private pending = 0;
  private freeRequested = false;
  private metaCache: WstPathMeta[] | null = null;

  /** Builds the filter bank; throws NativeError (status 1) for an unsupported configuration. */
  constructor(opts: WstOptions) {
    const [q1, q2] = typeof opts.Q === 'number' ? [opts.Q, 1] : [opts.Q[0], opts.Q[1]];
    // Range checks here only guard the int conversion; the native side validates the configuration.
    const J = intArg('J', opts.J, -1e6, 1e6);
    const Q1 = intArg('Q1', q1, -1e6, 1e6);
    const Q2 = intArg('Q2', q2, -1e6, 1e6);
    const maxOrder = intArg('maxOrder', opts.maxOrder ?? 2, -1e6, 1e6);
    const length = intArg('length', opts.length ?? 256, -1e6, 1e6);
    const n = native();
    const out: Ptr[] = [null];
    check(n.planNew(J, Q1, Q2, maxOrder, length, out), 'swt_wst_plan_new');
    this.handle = out[0];
    registry.register(this, this.handle, this);
    const d = new Int32Array(12);
    check(n.dims(this.handle, d, d.length), 'swt_wst_dims');
    this.dims = { channels: d[0], tOut: d[1], perOrder: [d[2], d[3], d[4]], length: d[5], nPadded: d[6], log2T: d[7] };
    this.config = { J: d[8], Q: [d[9], d[10]], maxOrder: d[11], length: d[5], T: 2 ** d[8] };
  }

  static create(opts: WstOptions): WstPlan {
    return new WstPlan(opts);
  }

  private live(): Ptr {
    if (this.handle === null || this.freeRequested) throw new Error('WstPlan: used after free()');
    return this.handle;
  }

  /** Per-row meta data in Kymatio's output order (arrays of length maxOrder, null-padded). */
  get meta(): WstPathMeta[] {
    if (this.metaCache) return this.metaCache;
    const C = this.dims.channels;
    const order = new Int32Array(C);
    const n = new Int32Array(2 * C);
    const j = new Int32Array(2 * C);
    const xi = new Float64Array(2 * C);
    const sigma = new Float64Array(2 * C);
    check(native().meta(this.live(), C, order, n, j, xi, sigma), 'swt_wst_meta');
    const mo = this.config.maxOrder;
    const pick = <T extends Int32Array | Float64Array>(a: T, c: number, absent: (v: number) => boolean): (number | null)[] =>
      Array.from({ length: mo }, (_, k) => (absent(a[2 * c + k]) ? null : a[2 * c + k]));
    this.metaCache = Array.from({ length: C }, (_, c) => ({
      order: order[c],
      n: pick(n, c, (v) => v < 0),
      j: pick(j, c, (v) => v < 0),
      xi: pick(xi, c, Number.isNaN),
      sigma: pick(sigma, c, Number.isNaN),
    }));
    return this.metaCache;
  }

  /** Number of windows of `length` in a series of `n` samples at `stride`. */
  windowCount(n: number, stride = 1): number {
    return n < this.dims.length || stride < 1 ? 0 : Math.floor((n - this.dims.length) / stride) + 1;
  }

  private packSignals(signals: Float64Array | readonly (readonly number[] | Float64Array)[]): Float64Array {
    const L = this.dims.length;
    if (signals instanceof Float64Array) return signals;
    const flat = new Float64Array(signals.length * L);
    signals.forEach((s, i) => {
      if (s.length !== L) throw new RangeError(`WstPlan.transform: signal ${i} has ${s.length} samples, expected ${L}`);
      flat.set(s as ArrayLike<number>, i * L);
    });
    return flat;
  }

  /** Full scattering S (and its time averages) of signals of `length` samples: an array of signals
   * or one Float64Array holding them back to back. Signals are used as given unless `zscore`. */
  transform(signals: Float64Array | readonly (readonly number[] | Float64Array)[], opts: WstRunOptions = {}): WstTransformResult {
    const flat = this.packSignals(signals);
    const { channels: C, tOut: T, length: L } = this.dims;
    const count = Math.floor(flat.length / L);
    const S = new Float64Array(count * C * T);
    const features = new Float64Array(count * C);
    check(
      native().transform(this.live(), flat, flat.length, opts.zscore ? 1 : 0, opts.threads ?? 0, S, S.length, features, features.length),
      'swt_wst_transform',
    );
    return { count, S, features };
  }

  /** Time-averaged scattering (C values per signal) of signals of `length` samples. */
  features(signals: Float64Array | readonly (readonly number[] | Float64Array)[], opts: WstRunOptions = {}): Float64Array {
    return this.transform(signals, opts).features;
  }

  private batchArgs(series: Float64Array, opts: WstBatchOptions): { stride: number; zscore: number; threads: number; len: number } {
    const stride = opts.stride ?? 1;
    if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`WstPlan.featuresBatch: stride must be an integer >= 1, got ${stride}`);
    const threads = opts.threads ?? 0;
    if (!Number.isInteger(threads) || threads < 0) throw new RangeError(`WstPlan.featuresBatch: threads must be an integer >= 0, got ${threads}`);
    return { stride, zscore: opts.zscore === false ? 0 : 1, threads, len: this.windowCount(series.length, stride) * this.dims.channels };
  }

  /** Features of every window `series[w*stride .. w*stride+length)` (z-scored per window unless
   * `zscore: false`), window-major: window w's C values at [w*C, (w+1)*C). */
  featuresBatch(series: Float64Array, opts: WstBatchOptions = {}): Float64Array {
    const a = this.batchArgs(series, opts);
    const out = new Float64Array(a.len);
    check(native().batch(this.live(), series, series.length, a.stride, a.zscore, a.threads, out, out.length), 'swt_wst_features_batch');
    return out;
  }

  /** featuresBatch rounded to float32 (for compact storage). */
  featuresBatchF32(series: Float64Array, opts: WstBatchOptions = {}): Float32Array {
    const a = this.batchArgs(series, opts);
    const out = new Float32Array(a.len);
    check(native().batchF32(this.live(), series, series.length, a.stride, a.zscore, a.threads, out, out.length), 'swt_wst_features_batch_f32');
    return out;
  }

  /** featuresBatch on a native worker thread, leaving the event loop free. Same result, same bits. */
  async featuresBatchAsync(series: Float64Array, opts: WstBatchOptions = {}): Promise<Float64Array> {
    const a = this.batchArgs(series, opts);
    const out = new Float64Array(a.len);
    const h = this.live();
    this.pending++;
    try {
      await callAsync(native().batch, 'swt_wst_features_batch', h, series, series.length, a.stride, a.zscore, a.threads, out, out.length);
    } finally {
      this.pending--;
      if (this.pending === 0 && this.freeRequested) this.release();
    }
    return out;
  }

  /** featuresBatchF32 on a native worker thread. */
  async featuresBatchF32Async(series: Float64Array, opts: WstBatchOptions = {}): Promise<Float32Array> {
    const a = this.batchArgs(series, opts);
    const out = new Float32Array(a.len);
    const h = this.live();
    this.pending++;
    try {
      await callAsync(native().batchF32, 'swt_wst_features_batch_f32', h, series, series.length, a.stride, a.zscore, a.threads, out, out.length);
    } finally {
      this.pending--;
      if (this.pending === 0 && this.freeRequested) this.release();
    }
    return out;
  }

  /** Number of columns columnsF32 writes: channels, then tOut order-0 samples, then the last sample. */
  columnCount(opts: { order0Samples?: boolean; lastSample?: boolean }): number {
    return this.dims.channels + (opts.order0Samples ? this.dims.tOut : 0) + (opts.lastSample ? 1 : 0);
  }

  private columnsArgs(series: Float64Array, out: Float32Array, opts: WstColumnsOptions): { stride: number; zscore: number; threads: number; outputs: number } {
    const a = this.batchArgs(series, opts);
    const windows = this.windowCount(series.length, a.stride);
    const { colStride } = opts;
    if (!Number.isInteger(colStride) || colStride < windows) {
      throw new RangeError(`WstPlan.columnsF32: colStride must be an integer >= the ${windows} windows, got ${colStride}`);
    }
    const need = (this.columnCount(opts) - 1) * colStride + windows;
    if (out.length < need) throw new RangeError(`WstPlan.columnsF32: out holds ${out.length} values, needs ${need}`);
    return { stride: a.stride, zscore: a.zscore, threads: a.threads, outputs: (opts.order0Samples ? 1 : 0) | (opts.lastSample ? 2 : 0) };
  }

  /**
   * The batch (z-scored unless `zscore: false`) rounded to float32 and written column-major into
   * `out`, as a feature table holds it: column k of window w at out[k * colStride + w], for the C
   * time averages (featuresBatch's values), then the order-0 samples and the last sample when asked.
   * One window with colStride 1 fills the first columns of a feature row.
   */
  columnsF32(series: Float64Array, out: Float32Array, opts: WstColumnsOptions): void {
    const { stride, zscore, threads, outputs } = this.columnsArgs(series, out, opts);
    check(native().columnsF32(this.live(), series, series.length, stride, zscore, threads, outputs, out, out.length, opts.colStride), 'swt_wst_features_columns_f32');
  }

  /** columnsF32 on a native worker thread. Same result, same bits. */
  async columnsF32Async(series: Float64Array, out: Float32Array, opts: WstColumnsOptions): Promise<void> {
    const { stride, zscore, threads, outputs } = this.columnsArgs(series, out, opts);
    const h = this.live();
    this.pending++;
    try {
      await callAsync(native().columnsF32, 'swt_wst_features_columns_f32', h, series, series.length, stride, zscore, threads, outputs, out, out.length, opts.colStride);
    } finally {
      this.pending--;
      if (this.pending === 0 && this.freeRequested) this.release();
    }
  }

  /** Features of one window (live use): bit-identical to that window's row of featuresBatch. */
  featuresSingle(window: Float64Array | readonly number[], opts: { zscore?: boolean } = {}): Float64Array {
    const w = toFloat64(window);
    const out = new Float64Array(this.dims.channels);
    check(native().single(this.live(), w, w.length, opts.zscore === false ? 0 : 1, out, out.length), 'swt_wst_features_single');
    return out;
  }

  /** Releases the native plan (deferred until in-flight async calls finish). Idempotent. */
  free(): void {
    if (this.handle === null || this.freeRequested) return;
    this.freeRequested = true;
    if (this.pending === 0) this.release();
  }

  private release(): void {
    if (this.handle === null) return;
    const h = this.handle;
    this.handle = null;
    registry.unregister(this);
    check(native().planFree(h), 'swt_wst_plan_free');
  }
}
