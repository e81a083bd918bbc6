// Monte Carlo risk analysis of a list of fractional gains (Bandy's risk normalisation), over the native
// core: bootstrap equity curves, safe-f and CAR25, and stress scenarios side by side with the original.
//
// Gains are per unit of exposure (per trade, or per day marked to market): 0.01 is +1 %. An equity curve
// draws `forecast` gains with replacement and compounds them at a fraction f of equity. CAR is
// annualised from the forecast with `periodsPerYear` draws a year (252 when a gain is a trading day).
import { readFileSync } from 'node:fs';
import {
  mcBootstrap,
  mcBootstrapAsync,
  mcSafeF,
  mcSafeFAsync,
  mcScenarioGains,
  mcSummary,
  REPEAT_FIELDS,
  SAFE_F_STATUS,
  SCENARIO_KIND,
  type NativeSafeFArgs,
  type SafeFStatusName,
} from '../../bindings/montecarlo.js';
import { InputError } from '../util/errors.js';

export type { SafeFStatusName };

/** Bad input to the Monte Carlo (exit code 2). */
export class MonteCarloInputError extends InputError {}

/** Percentiles reported by default (of TWR, max drawdown and CAR). */
export const DEFAULT_PERCENTILES: readonly number[] = [5, 10, 25, 50, 75, 90, 95];

/** Bandy's parameters (../shared/fixtures/bandy/README.md). */
export const SAFE_F_DEFAULTS = {
  forecast: 500,
  curves: 1000,
  tolerance: 0.1,
  tail: 5,
  accuracy: 0.003,
  maxIterations: 50,
  periodsPerYear: 252,
  maxF: 100,
  repeats: 5,
  seed: 1,
  threads: 0,
} as const;

/** Percentile table keyed "p5", "p25", … */
export type PercentileTable = Record<string, number>;

export interface Distribution {
  twr_percentiles: PercentileTable;
  dd_percentiles: PercentileTable;
  car_percentiles: PercentileTable;
}

export interface CommonOptions {
  /** Draws per curve (forecast length). */
  forecast?: number;
  curves?: number;
  seed?: number;
  /** Worker threads, 0 = all cores. Never changes results. */
  threads?: number;
  periodsPerYear?: number;
  percentiles?: readonly number[];
}

export interface BootstrapOptions extends CommonOptions {
  /** Fraction of equity per unit of gain (position size); > 0. */
  f: number;
  /** Also return each curve's equity path (curves × (forecast + 1), starting at 1). */
  paths?: boolean;
}

export interface BootstrapResult extends Distribution {
  f: number;
  forecast: number;
  curves: number;
  seed: number;
  /** Per curve: terminal wealth relative (final equity / initial equity). */
  twr: Float64Array;
  /** Per curve: maximum drawdown as a fraction of the running peak (1 = ruined). */
  max_dd: Float64Array;
  /** Row-major equity paths (row c = curve c, forecast + 1 values from 1), when asked for. */
  paths: Float64Array | null;
}

export interface SafeFOptions extends CommonOptions {
  /** Drawdown tolerance as a fraction of peak equity, in (0, 1). */
  tolerance?: number;
  /** Tail percentage in (0, 100): tail risk is the (100 - tail)th percentile of max drawdown. */
  tail?: number;
  /** Stop when |tail risk - tolerance| < accuracy. */
  accuracy?: number;
  maxIterations?: number;
  /** Leverage cap: when drawdown stays below tolerance up to here, safe-f is reported as maxF ("unbounded"). */
  maxF?: number;
  repeats?: number;
  /** Keep the per-curve TWR and max drawdown of every repeat's CAR25 batch (for charts). */
  keepCurves?: boolean;
}

export interface SafeFParamsUsed {
  forecast: number;
  curves: number;
  tolerance: number;
  tail: number;
  accuracy: number;
  max_iterations: number;
  periods_per_year: number;
  max_f: number;
  repeats: number;
  seed: number;
  threads: number;
  percentiles: number[];
}

export interface SafeFRepeat {
  safe_f: number;
  car25: number;
  twr25: number;
  /** Tail drawdown measured by the solver at safe-f. */
  tail_risk: number;
  /** Tail drawdown of the independent CAR25 batch at safe-f. */
  tail_risk_check: number;
  /** Batches of curves the solver evaluated. */
  evaluations: number;
  status: SafeFStatusName;
  seconds: number;
}

export interface SafeFResult extends Distribution {
  safe_f_mean: number;
  safe_f_sd: number;
  car25_mean: number;
  car25_sd: number;
  seconds_per_repeat: number;
  /** The most severe status over the repeats (not_converged > unbounded > no_positive_gains > bisection > converged). */
  status: SafeFStatusName;
  status_counts: Partial<Record<SafeFStatusName, number>>;
  /** Plain-language explanation when safe-f is not an ordinary solution (0, capped, not converged). */
  note: string | null;
  /** The parameters used (defaults filled in). */
  params: SafeFParamsUsed;
  repeats: SafeFRepeat[];
  /** Every repeat's CAR25 batch, row-major (repeats × curves), when keepCurves is set. */
  curves_data: { twr: Float64Array; max_dd: Float64Array } | null;
}

// ---------------------------------------------------------------------------------------------- input

/** Copies gains into a Float64Array, rejecting an empty list and non-finite values (named by position). */
export function toGains(gains: ArrayLike<number>): Float64Array {
  if (!gains || gains.length === 0) throw new MonteCarloInputError('empty trade list: need at least one gain');
  const out = new Float64Array(gains.length);
  for (let i = 0; i < gains.length; i++) {
    const g = gains[i];
    if (typeof g !== 'number' || !Number.isFinite(g)) {
      throw new MonteCarloInputError(`gain #${i + 1} is ${String(g)}: every gain must be a finite number`);
    }
    out[i] = g;
  }
  return out;
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Reads a trades file: one fractional gain per line (0.01 = +1 %), an optional header line, blank lines
 * ignored. Anything else is an error naming the file and line.
 */
export function readGainsFile(file: string): Float64Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MonteCarloInputError(`cannot read trades file ${file}: ${(e as Error).message}`);
  }
  const lines = text.split(/\r?\n/);
  const gains: number[] = [];
  let seenFirst = false;
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i].trim().replace(/^\uFEFF/, '');
    if (s === '') continue;
    const isFirst = !seenFirst;
    seenFirst = true;
    if (NUMBER_RE.test(s)) {
      gains.push(Number(s));
      continue;
    }
    // A first line with a word in it (not a NaN/inf spelling) is a header.
    if (isFirst && /[A-Za-z_]/.test(s) && !/^[+-]?(nan|inf|infinity)$/i.test(s)) continue;
    const why = s.includes(',') || s.includes(';') || s.includes('\t') ? 'expected one number per line' : 'not a finite number';
    throw new MonteCarloInputError(
      `${file}:${i + 1}: ${why}, got "${s.length > 60 ? `${s.slice(0, 60)}…` : s}" (the file needs one fractional gain per line, e.g. 0.0012, with an optional header)`,
    );
  }
  if (gains.length === 0) throw new MonteCarloInputError(`${file}: empty trade list (no gains in the file)`);
  return Float64Array.from(gains);
}

function int(name: string, v: number, min: number): number {
  if (!Number.isSafeInteger(v) || v < min) throw new MonteCarloInputError(`${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

function positive(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new MonteCarloInputError(`${name} must be a number > 0, got ${v}`);
  return v;
}

function openInterval(name: string, v: number, lo: number, hi: number): number {
  if (typeof v !== 'number' || !(v > lo && v < hi)) throw new MonteCarloInputError(`${name} must be in (${lo}, ${hi}), got ${v}`);
  return v;
}

function percentileList(ps: readonly number[] | undefined): number[] {
  const list = [...(ps ?? DEFAULT_PERCENTILES)];
  if (list.length === 0) throw new MonteCarloInputError('percentiles: need at least one');
  for (const p of list) {
    if (typeof p !== 'number' || !(p >= 0 && p <= 100)) throw new MonteCarloInputError(`percentile ${p} is outside [0, 100]`);
  }
  return list;
}

function common(o: CommonOptions) {
  return {
    forecast: int('forecast', o.forecast ?? SAFE_F_DEFAULTS.forecast, 1),
    curves: int('curves', o.curves ?? SAFE_F_DEFAULTS.curves, 1),
    seed: int('seed', o.seed ?? SAFE_F_DEFAULTS.seed, 0),
    threads: int('threads', o.threads ?? SAFE_F_DEFAULTS.threads, 0),
    periodsPerYear: positive('periods per year', o.periodsPerYear ?? SAFE_F_DEFAULTS.periodsPerYear),
    percentiles: percentileList(o.percentiles),
  };
}

function resolveSafeF(o: SafeFOptions) {
  const c = common(o);
  const tolerance = openInterval('drawdown tolerance', o.tolerance ?? SAFE_F_DEFAULTS.tolerance, 0, 1);
  return {
    ...c,
    tolerance,
    tail: openInterval('tail percentage', o.tail ?? SAFE_F_DEFAULTS.tail, 0, 100),
    accuracy: openInterval('accuracy', o.accuracy ?? SAFE_F_DEFAULTS.accuracy, 0, tolerance),
    maxIterations: int('max iterations', o.maxIterations ?? SAFE_F_DEFAULTS.maxIterations, 1),
    maxF: positive('max f', o.maxF ?? SAFE_F_DEFAULTS.maxF),
    repeats: int('repeats', o.repeats ?? SAFE_F_DEFAULTS.repeats, 1),
    keepCurves: o.keepCurves ?? false,
  };
}

// ------------------------------------------------------------------------------------------ bootstrap

function table(ps: readonly number[], values: Float64Array): PercentileTable {
  const t: PercentileTable = {};
  ps.forEach((p, i) => (t[`p${p}`] = values[i]));
  return t;
}

/** Percentile tables of a set of curves (CAR of each TWR percentile over `forecast` draws). */
export function summarize(
  twr: Float64Array,
  maxDd: Float64Array,
  forecast: number,
  opts: { periodsPerYear?: number; percentiles?: readonly number[] } = {},
): Distribution {
  const ps = percentileList(opts.percentiles);
  const s = mcSummary(twr, maxDd, ps, opts.periodsPerYear ?? SAFE_F_DEFAULTS.periodsPerYear, forecast);
  return { twr_percentiles: table(ps, s.twr), dd_percentiles: table(ps, s.maxDd), car_percentiles: table(ps, s.car) };
}

function prepareBootstrap(gains: ArrayLike<number>, opts: BootstrapOptions) {
  const g = toGains(gains);
  const c = common(opts);
  const f = positive('f', opts.f);
  const args = {
    gains: g,
    f,
    draws: c.forecast,
    curves: c.curves,
    seed: c.seed,
    threads: c.threads,
    twr: new Float64Array(c.curves),
    maxDd: new Float64Array(c.curves),
    paths: opts.paths ? new Float64Array(c.curves * (c.forecast + 1)) : null,
  };
  const finish = (): BootstrapResult => ({
    f,
    forecast: c.forecast,
    curves: c.curves,
    seed: c.seed,
    twr: args.twr,
    max_dd: args.maxDd,
    paths: args.paths,
    ...summarize(args.twr, args.maxDd, c.forecast, c),
  });
  return { args, finish };
}

/** `curves` bootstrap equity curves at fraction f: per-curve TWR and max drawdown, their percentiles. */
export function bootstrap(gains: ArrayLike<number>, opts: BootstrapOptions): BootstrapResult {
  const { args, finish } = prepareBootstrap(gains, opts);
  mcBootstrap(args);
  return finish();
}

/** Same as bootstrap, off the event loop. */
export async function bootstrapAsync(gains: ArrayLike<number>, opts: BootstrapOptions): Promise<BootstrapResult> {
  const { args, finish } = prepareBootstrap(gains, opts);
  await mcBootstrapAsync(args);
  return finish();
}

// ---------------------------------------------------------------------------------------------- safe-f

const SEVERITY: SafeFStatusName[] = ['converged', 'bisection', 'no_positive_gains', 'unbounded', 'not_converged'];

function meanSd(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return [m, 0];
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
  return [m, Math.sqrt(v)];
}

function prepareSafeF(gains: ArrayLike<number>, opts: SafeFOptions) {
  const g = toGains(gains);
  const p = resolveSafeF(opts);
  const args: NativeSafeFArgs = {
    gains: g,
    draws: p.forecast,
    curves: p.curves,
    tolerance: p.tolerance,
    tailPct: p.tail,
    accuracy: p.accuracy,
    maxIter: p.maxIterations,
    periodsPerYear: p.periodsPerYear,
    maxF: p.maxF,
    repeats: p.repeats,
    seed: p.seed,
    threads: p.threads,
    perRepeat: new Float64Array(p.repeats * REPEAT_FIELDS),
    twr: new Float64Array(p.repeats * p.curves),
    maxDd: new Float64Array(p.repeats * p.curves),
  };
  const finish = (wallSeconds: number): SafeFResult => {
    const repeats: SafeFRepeat[] = [];
    for (let r = 0; r < p.repeats; r++) {
      const v = args.perRepeat.subarray(r * REPEAT_FIELDS, (r + 1) * REPEAT_FIELDS);
      repeats.push({
        safe_f: v[0],
        car25: v[1],
        twr25: v[2],
        tail_risk: v[3],
        tail_risk_check: v[4],
        evaluations: v[5],
        status: SAFE_F_STATUS[v[6]] ?? 'not_converged',
        seconds: v[7],
      });
    }
    const [safe_f_mean, safe_f_sd] = meanSd(repeats.map((r) => r.safe_f));
    const [car25_mean, car25_sd] = meanSd(repeats.map((r) => r.car25));
    const status_counts: Partial<Record<SafeFStatusName, number>> = {};
    for (const r of repeats) status_counts[r.status] = (status_counts[r.status] ?? 0) + 1;
    const status = repeats.map((r) => r.status).reduce((a, b) => (SEVERITY.indexOf(b) > SEVERITY.indexOf(a) ? b : a));
    return {
      safe_f_mean,
      safe_f_sd,
      car25_mean,
      car25_sd,
      seconds_per_repeat: wallSeconds / p.repeats,
      // Pooled over the repeats' CAR25 batches, each at its own repeat's safe-f.
      ...summarize(args.twr!, args.maxDd!, p.forecast, p),
      status,
      status_counts,
      note: noteFor(status, status_counts[status] ?? 0, p.repeats, p.maxF, p.tolerance),
      params: {
        forecast: p.forecast,
        curves: p.curves,
        tolerance: p.tolerance,
        tail: p.tail,
        accuracy: p.accuracy,
        max_iterations: p.maxIterations,
        periods_per_year: p.periodsPerYear,
        max_f: p.maxF,
        repeats: p.repeats,
        seed: p.seed,
        threads: p.threads,
        percentiles: p.percentiles,
      },
      repeats,
      curves_data: p.keepCurves ? { twr: args.twr!, max_dd: args.maxDd! } : null,
    };
  };
  return { args, finish };
}

function noteFor(status: SafeFStatusName, count: number, repeats: number, maxF: number, tolerance: number): string | null {
  const inN = count === repeats ? '' : ` (in ${count} of ${repeats} repeats)`;
  switch (status) {
    case 'no_positive_gains':
      return 'every gain is <= 0: any position loses money, so safe-f is 0 (do not trade) and CAR25 is 0';
    case 'unbounded':
      return `the tail drawdown stays below the tolerance ${tolerance} up to the cap max_f = ${maxF}${inN}: safe-f is the cap, not a solution (too few or no losing trades)`;
    case 'not_converged':
      return `the solver did not reach the accuracy within its iteration limits${inN}: safe-f is the closest estimate found`;
    default:
      return null;
  }
}

/**
 * safe-f and CAR25 (Bandy), repeated `repeats` times with independent curves: mean and sd over repeats,
 * wall seconds per repeat, and percentiles of TWR, drawdown and CAR pooled over the CAR25 batches.
 */
export function safeF(gains: ArrayLike<number>, opts: SafeFOptions = {}): SafeFResult {
  const { args, finish } = prepareSafeF(gains, opts);
  const t0 = performance.now();
  mcSafeF(args);
  return finish((performance.now() - t0) / 1000);
}

/** Same as safeF, off the event loop. */
export async function safeFAsync(gains: ArrayLike<number>, opts: SafeFOptions = {}): Promise<SafeFResult> {
  const { args, finish } = prepareSafeF(gains, opts);
  const t0 = performance.now();
  await mcSafeFAsync(args);
  return finish((performance.now() - t0) / 1000);
}

// ------------------------------------------------------------------------------------------- scenarios

export type ScenarioName = 'original' | 'drop_random' | 'drop_best_winners' | 'longer_forecast' | 'adverse' | 'early_stop';
export const SCENARIO_NAMES: readonly ScenarioName[] = ['original', 'drop_random', 'drop_best_winners', 'longer_forecast', 'adverse', 'early_stop'];

export interface ScenarioOptions extends SafeFOptions {
  /** Scenarios to run besides the original (default: all). */
  only?: readonly ScenarioName[];
  /** Share of trades dropped at random (default 0.10). */
  dropRandomFraction?: number;
  /** Share of the winning trades dropped, best first (default 0.20). */
  dropWinnersFraction?: number;
  /** Forecast multiplier of the longer-forecast scenario (default 1.5). */
  longerForecastFactor?: number;
  /** Share of the forecast kept by the early-stop scenario (default 0.5). */
  earlyStopFraction?: number;
  /**
   * Amount subtracted from every gain, in gain units (the caller converts pips: pips * pip_size /
   * entry_price). Default: 10 % of the mean absolute gain.
   */
  adverseGain?: number;
  /**
   * f for the at-f curves when the original's safe-f is 0 (a losing system: every size loses), so that
   * the scenarios can still be compared side by side; default none (at_original_f stays null).
   */
  fallbackF?: number;
}

export interface ScenarioResult {
  name: ScenarioName;
  description: string;
  trades: number;
  forecast: number;
  /** The scenario's own parameter (fraction dropped, forecast factor, adverse amount …); null for the original. */
  param: number | null;
  /** safe-f and CAR25 re-solved under the scenario. */
  safe_f: SafeFResult;
  /**
   * The curves under the scenario at the ORIGINAL's safe-f (the size a trader would actually be running):
   * how that size fares under stress. null when the original's safe-f is 0.
   */
  at_original_f: BootstrapResult | null;
}

export interface ScenariosResult {
  original_safe_f: number;
  /** The f of the at_original_f curves: the original's safe-f, else fallbackF, else null (none drawn). */
  at_f: number | null;
  scenarios: ScenarioResult[];
}

interface PreparedScenario {
  name: ScenarioName;
  description: string;
  gains: Float64Array;
  forecast: number;
  param: number | null;
}

function fractionIn01(name: string, v: number): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new MonteCarloInputError(`${name} must be in [0, 1), got ${v}`);
  return v;
}

/** The scenario settings, checked; everything but the default adverse amount, which needs the gains. */
function resolveScenarioOptions(opts: ScenarioOptions) {
  const base = resolveSafeF(opts);
  const wanted = new Set<ScenarioName>(opts.only ?? SCENARIO_NAMES);
  for (const n of wanted) if (!SCENARIO_NAMES.includes(n)) throw new MonteCarloInputError(`unknown scenario "${n}" (expected one of ${SCENARIO_NAMES.join(', ')})`);
  const dropRandom = fractionIn01('drop-random fraction', opts.dropRandomFraction ?? 0.1);
  const dropWinners = fractionIn01('drop-best-winners fraction', opts.dropWinnersFraction ?? 0.2);
  const longer = positive('longer-forecast factor', opts.longerForecastFactor ?? 1.5);
  const early = openInterval('early-stop fraction', opts.earlyStopFraction ?? 0.5, 0, 1);
  return { base, wanted, dropRandom, dropWinners, longer, early };
}

/**
 * Refuses scenario (and safe-f) settings that scenarios() would refuse, without any gains: a caller
 * with nothing to resample (a run that closed no trade) still reports bad settings as bad input.
 */
export function checkScenarioOptions(opts: ScenarioOptions): void {
  resolveScenarioOptions(opts);
}

function prepareScenarios(gains: ArrayLike<number>, opts: ScenarioOptions): { base: ReturnType<typeof resolveSafeF>; list: PreparedScenario[] } {
  const g = toGains(gains);
  const { base, wanted, dropRandom, dropWinners, longer, early } = resolveScenarioOptions(opts);
  const meanAbs = g.reduce((a, b) => a + Math.abs(b), 0) / g.length;
  const adverse = opts.adverseGain ?? 0.1 * meanAbs;
  if (!Number.isFinite(adverse) || adverse < 0) throw new MonteCarloInputError(`adverse amount must be a number >= 0, got ${adverse}`);
  const pct = (x: number) => `${+(x * 100).toFixed(2)}%`;
  const f = base.forecast;
  const list: PreparedScenario[] = [{ name: 'original', description: 'the trades as given', gains: g, forecast: f, param: null }];
  const transformed = (kind: number, param: number) => {
    try {
      return mcScenarioGains(kind, param, g, base.seed);
    } catch (e) {
      throw new MonteCarloInputError((e as Error).message);
    }
  };
  if (wanted.has('drop_random')) {
    const gs = transformed(SCENARIO_KIND.dropRandom, dropRandom);
    list.push({ name: 'drop_random', description: `drop a random ${pct(dropRandom)} of trades (${g.length - gs.length} of ${g.length})`, gains: gs, forecast: f, param: dropRandom });
  }
  if (wanted.has('drop_best_winners')) {
    const gs = transformed(SCENARIO_KIND.dropBestWinners, dropWinners);
    list.push({ name: 'drop_best_winners', description: `drop the best ${pct(dropWinners)} of winning trades (${g.length - gs.length} dropped)`, gains: gs, forecast: f, param: dropWinners });
  }
  if (wanted.has('longer_forecast')) {
    const lf = Math.max(1, Math.round(f * longer));
    list.push({ name: 'longer_forecast', description: `forecast ${pct(longer)} as long (${lf} draws)`, gains: g, forecast: lf, param: longer });
  }
  if (wanted.has('adverse')) {
    const gs = transformed(SCENARIO_KIND.adverse, adverse);
    list.push({ name: 'adverse', description: `every trade worsened by ${adverse.toPrecision(3)} (gain units)`, gains: gs, forecast: f, param: adverse });
  }
  if (wanted.has('early_stop')) {
    const ef = Math.max(1, Math.floor(f * early));
    list.push({ name: 'early_stop', description: `stop after the first ${pct(early)} of the forecast (${ef} draws)`, gains: g, forecast: ef, param: early });
  }
  return { base, list };
}

function scenarioSafeFOpts(opts: ScenarioOptions, base: ReturnType<typeof resolveSafeF>, s: PreparedScenario): SafeFOptions {
  // Every scenario uses the same seed: common random numbers, so differences come from the scenario.
  return { ...opts, forecast: s.forecast, seed: base.seed };
}

function scenarioBootstrapOpts(base: ReturnType<typeof resolveSafeF>, s: PreparedScenario, f: number): BootstrapOptions {
  return { f, forecast: s.forecast, curves: base.curves, seed: base.seed, threads: base.threads, periodsPerYear: base.periodsPerYear, percentiles: base.percentiles };
}

function atFOf(opts: ScenarioOptions, f0: number): number | null {
  if (f0 > 0) return f0;
  if (opts.fallbackF === undefined) return null;
  return positive('fallback f', opts.fallbackF);
}

function assembleScenarios(list: PreparedScenario[], solved: SafeFResult[], atF: Array<BootstrapResult | null>, f: number | null): ScenariosResult {
  return {
    original_safe_f: solved[0].safe_f_mean,
    at_f: f,
    scenarios: list.map((s, i) => ({
      name: s.name,
      description: s.description,
      trades: s.gains.length,
      forecast: s.forecast,
      param: s.param,
      safe_f: solved[i],
      at_original_f: atF[i],
    })),
  };
}

/**
 * Stress scenarios beside the original: for each, safe-f/CAR25 re-solved under the scenario and the
 * curves at the original's safe-f. Scenarios: drop a random 10 % of trades, drop the best 20 % of
 * winners, forecast 150 % as long, every trade worsened (adverse), early stop (first half of the forecast).
 */
export function scenarios(gains: ArrayLike<number>, opts: ScenarioOptions = {}): ScenariosResult {
  const { base, list } = prepareScenarios(gains, opts);
  const solved = list.map((s) => safeF(s.gains, scenarioSafeFOpts(opts, base, s)));
  const f = atFOf(opts, solved[0].safe_f_mean);
  const atF = list.map((s) => (f !== null ? bootstrap(s.gains, scenarioBootstrapOpts(base, s, f)) : null));
  return assembleScenarios(list, solved, atF, f);
}

/** Same as scenarios, each native call off the event loop. */
export async function scenariosAsync(gains: ArrayLike<number>, opts: ScenarioOptions = {}): Promise<ScenariosResult> {
  const { base, list } = prepareScenarios(gains, opts);
  const solved: SafeFResult[] = [];
  for (const s of list) solved.push(await safeFAsync(s.gains, scenarioSafeFOpts(opts, base, s)));
  const f = atFOf(opts, solved[0].safe_f_mean);
  const atF: Array<BootstrapResult | null> = [];
  for (const s of list) atF.push(f !== null ? await bootstrapAsync(s.gains, scenarioBootstrapOpts(base, s, f)) : null);
  return assembleScenarios(list, solved, atF, f);
}
