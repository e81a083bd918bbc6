// Typed wrappers over the Monte Carlo C ABI (native/src/ffi/montecarlo.rs). Arrays are caller-owned
// Float64Arrays; each call validates lengths here (so a mistake is reported in TypeScript terms) and the
// native side validates values again (it never trusts its caller).
import { declare, check, callAsync } from './native.js';

type Async = { async: (...args: unknown[]) => void };
type BootstrapFn = ((
  gains: Float64Array, n: number, f: number, draws: number, curves: number, seed: number, threads: number,
  twr: Float64Array, dd: Float64Array, paths: Float64Array | null, pathsLen: number,
) => number) & Async;
type SafeFFn = ((
  gains: Float64Array, n: number, draws: number, curves: number, tolerance: number, tailPct: number,
  accuracy: number, maxIter: number, periodsPerYear: number, maxF: number, repeats: number, seed: number,
  threads: number, perRepeat: Float64Array, perRepeatLen: number, twr: Float64Array | null, dd: Float64Array | null,
  curvesLen: number,
) => number) & Async;
type SummaryFn = (
  twr: Float64Array, dd: Float64Array, n: number, ps: Float64Array, np: number, periodsPerYear: number, draws: number,
  twrOut: Float64Array, ddOut: Float64Array, carOut: Float64Array,
) => number;
type ScenarioFn = (
  kind: number, param: number, gains: Float64Array, n: number, seed: number, out: Float64Array, cap: number, outN: number[],
) => number;

let fns: { bootstrap: BootstrapFn; safeF: SafeFFn; summary: SummaryFn; scenario: ScenarioFn } | null = null;

function lib() {
  fns ??= {
    bootstrap: declare<BootstrapFn>(
      'int swt_mc_bootstrap(const double *gains, size_t n, double f, size_t draws, size_t curves, uint64_t seed, size_t threads, double *twr_out, double *dd_out, double *paths_out, size_t paths_len)',
    ),
    safeF: declare<SafeFFn>(
      'int swt_mc_safe_f(const double *gains, size_t n, size_t draws, size_t curves, double tolerance, double tail_pct, double accuracy, size_t max_iter, double periods_per_year, double max_f, size_t repeats, uint64_t seed, size_t threads, double *per_repeat_out, size_t per_repeat_len, double *twr_out, double *dd_out, size_t curves_len)',
    ),
    summary: declare<SummaryFn>(
      'int swt_mc_summary(const double *twr, const double *dd, size_t n, const double *ps, size_t np, double periods_per_year, size_t draws, double *twr_pct_out, double *dd_pct_out, double *car_pct_out)',
    ),
    scenario: declare<ScenarioFn>(
      'int swt_mc_scenario_gains(int kind, double param, const double *gains, size_t n, uint64_t seed, double *out, size_t out_cap, _Out_ size_t *out_n)',
    ),
  };
  return fns;
}

/** Fields per repeat in `per_repeat_out` (native REPEAT_FIELDS). */
export const REPEAT_FIELDS = 8;
/** Native SafeFStatus codes, by value. */
export const SAFE_F_STATUS = ['converged', 'bisection', 'no_positive_gains', 'unbounded', 'not_converged'] as const;
export type SafeFStatusName = (typeof SAFE_F_STATUS)[number];
/** Native scenario kinds (montecarlo/scenarios.rs). */
export const SCENARIO_KIND = { dropRandom: 1, dropBestWinners: 2, adverse: 3 } as const;

function nonNegInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
}

function expectLength(name: string, a: Float64Array, n: number): void {
  if (a.length !== n) throw new RangeError(`${name}: length ${a.length}, expected ${n}`);
}

export interface NativeBootstrapArgs {
  gains: Float64Array;
  f: number;
  draws: number;
  curves: number;
  seed: number;
  threads: number;
  twr: Float64Array;
  maxDd: Float64Array;
  /** null, or curves * (draws + 1) values (row-major, one row per curve). */
  paths: Float64Array | null;
}

function bootstrapArgs(a: NativeBootstrapArgs): unknown[] {
  nonNegInt('seed', a.seed);
  nonNegInt('threads', a.threads);
  nonNegInt('draws', a.draws);
  nonNegInt('curves', a.curves);
  expectLength('twr', a.twr, a.curves);
  expectLength('maxDd', a.maxDd, a.curves);
  if (a.paths) expectLength('paths', a.paths, a.curves * (a.draws + 1));
  return [a.gains, a.gains.length, a.f, a.draws, a.curves, a.seed, a.threads, a.twr, a.maxDd, a.paths, a.paths?.length ?? 0];
}

export function mcBootstrap(a: NativeBootstrapArgs): void {
  check(lib().bootstrap(...(bootstrapArgs(a) as Parameters<BootstrapFn>)), 'swt_mc_bootstrap');
}

export function mcBootstrapAsync(a: NativeBootstrapArgs): Promise<void> {
  return callAsync(lib().bootstrap, 'swt_mc_bootstrap', ...bootstrapArgs(a));
}

export interface NativeSafeFArgs {
  gains: Float64Array;
  draws: number;
  curves: number;
  tolerance: number;
  tailPct: number;
  accuracy: number;
  maxIter: number;
  periodsPerYear: number;
  maxF: number;
  repeats: number;
  seed: number;
  threads: number;
  /** repeats * REPEAT_FIELDS values. */
  perRepeat: Float64Array;
  /** Both null, or both repeats * curves: each repeat's CAR25 batch at its safe-f. */
  twr: Float64Array | null;
  maxDd: Float64Array | null;
}

function safeFArgs(a: NativeSafeFArgs): unknown[] {
  for (const [k, v] of [['seed', a.seed], ['threads', a.threads], ['draws', a.draws], ['curves', a.curves], ['repeats', a.repeats], ['maxIter', a.maxIter]] as const) {
    nonNegInt(k, v);
  }
  expectLength('perRepeat', a.perRepeat, a.repeats * REPEAT_FIELDS);
  if (!a.twr !== !a.maxDd) throw new RangeError('twr and maxDd must both be given or both be null');
  if (a.twr) expectLength('twr', a.twr, a.repeats * a.curves);
  if (a.maxDd) expectLength('maxDd', a.maxDd, a.repeats * a.curves);
  return [
    a.gains, a.gains.length, a.draws, a.curves, a.tolerance, a.tailPct, a.accuracy, a.maxIter, a.periodsPerYear, a.maxF,
    a.repeats, a.seed, a.threads, a.perRepeat, a.perRepeat.length, a.twr, a.maxDd, a.twr?.length ?? 0,
  ];
}

export function mcSafeF(a: NativeSafeFArgs): void {
  check(lib().safeF(...(safeFArgs(a) as Parameters<SafeFFn>)), 'swt_mc_safe_f');
}

export function mcSafeFAsync(a: NativeSafeFArgs): Promise<void> {
  return callAsync(lib().safeF, 'swt_mc_safe_f', ...safeFArgs(a));
}

/** Percentiles (0..100) of TWR and max drawdown over curves, and the CAR (%) of each TWR percentile. */
export function mcSummary(
  twr: Float64Array,
  maxDd: Float64Array,
  percentiles: readonly number[],
  periodsPerYear: number,
  draws: number,
): { twr: Float64Array; maxDd: Float64Array; car: Float64Array } {
  expectLength('maxDd', maxDd, twr.length);
  const ps = Float64Array.from(percentiles);
  const out = { twr: new Float64Array(ps.length), maxDd: new Float64Array(ps.length), car: new Float64Array(ps.length) };
  check(lib().summary(twr, maxDd, twr.length, ps, ps.length, periodsPerYear, draws, out.twr, out.maxDd, out.car), 'swt_mc_summary');
  return out;
}

/** A stress-transformed copy of `gains` (see SCENARIO_KIND). */
export function mcScenarioGains(kind: number, param: number, gains: Float64Array, seed: number): Float64Array {
  nonNegInt('seed', seed);
  const out = new Float64Array(gains.length);
  const n = [0];
  check(lib().scenario(kind, param, gains, gains.length, seed, out, out.length, n), 'swt_mc_scenario_gains');
  return out.slice(0, n[0]);
}
