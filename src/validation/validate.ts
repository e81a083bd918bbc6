// Validation of one backtest: metrics, gains, Monte Carlo safe-f / CAR25, stress scenarios, grade, and
// the chart data of the report, as one JSON-serialisable ValidationResult. Pure computation (no store,
// no files): the CLI and the piscina workers call it, the main process persists the result.
//
// A run that closed no trade is a verdict, not bad input: REJECT with score 0, and a Monte Carlo that
// reports what an account that never trades does, exactly (status 'no_trades': safe-f 0, CAR 0, TWR 1,
// drawdown 0) instead of resampling nothing. Figures that describe a distribution of trades that does
// not exist (gain mean and sd, draws per year, the adverse amount, the fan and histograms) are null,
// and no scenario runs.
import type { Config } from '../config/schema.js';
import type { EnvConfig, EnvDocument } from '../env/config.js';
import type { BarSeries, EpisodeSet } from '../env/types.js';
import { ACTION_NAMES } from '../env/types.js';
import type { ParamValue } from '../agent/policies/types.js';
import type { BacktestResult } from './backtest.js';
import { DAY_MS, type Metrics } from './metrics.js';
import { checkHorizon, episodesMarketMs, marketMsPerYear, pipsToGain, runFrequency, runGains, DEFAULT_OPEN_MINUTES_PER_WEEK, type GainsMode, type RunGains } from './gains.js';
import { grade, type Gates, type Grade } from './grade.js';
import {
  bootstrapAsync,
  checkScenarioOptions,
  MonteCarloInputError,
  scenariosAsync,
  SCENARIO_NAMES,
  type PercentileTable,
  type SafeFStatusName,
  type ScenarioOptions,
  type ScenarioName,
} from './montecarlo.js';
import type { WalkForwardResult } from './walkforward.js';

// 3: the no-trade form (nullable gain figures and charts, status 'no_trades', no scenarios); every
// swt.validation/2 document is also a valid /3 one.
export const VALIDATION_SCHEMA = 'swt.validation/3';

/** Scenario names besides the original. */
export const STRESS_SCENARIOS = SCENARIO_NAMES.filter((s) => s !== 'original') as Exclude<ScenarioName, 'original'>[];

export interface McSettings {
  curves: number;
  tolerance: number;
  tail: number;
  accuracy: number;
  maxIterations: number;
  maxF: number;
  repeats: number;
  seed: number;
  /** Native threads (0 = all cores); never changes results. */
  threads: number;
}

export interface ValidationSettings {
  gains: GainsMode | 'auto';
  maxTradeForecast: number;
  forecastYears: number;
  scenarios: Exclude<ScenarioName, 'original'>[];
  adversePips: number;
  dropRandomFraction: number;
  dropWinnersFraction: number;
  longerForecastFactor: number;
  earlyStopFraction: number;
  gates: Gates;
  deployMinScore: number;
  mc: McSettings;
  chartPoints: number;
  histogramBins: number;
}

/** Parses a scenario selection: 'all', 'none' or a comma list of stress scenario names. */
export function parseScenarios(v: string): Exclude<ScenarioName, 'original'>[] {
  const s = v.trim().toLowerCase();
  if (s === 'all') return [...STRESS_SCENARIOS];
  if (s === 'none' || s === '') return [];
  const names = s.split(',').map((x) => x.trim()).filter(Boolean);
  for (const n of names) {
    if (!STRESS_SCENARIOS.includes(n as Exclude<ScenarioName, 'original'>)) {
      throw new MonteCarloInputError(`unknown scenario "${n}" (expected all, none or a comma list of ${STRESS_SCENARIOS.join(', ')})`);
    }
  }
  return STRESS_SCENARIOS.filter((n) => names.includes(n));
}

/** The validation settings of the effective config (sections validation and montecarlo). */
export function validationSettings(config: Config, over: Partial<Pick<ValidationSettings, 'gains' | 'scenarios'>> & { seed?: number; threads?: number } = {}): ValidationSettings {
  const v = config.validation;
  const m = config.montecarlo;
  return {
    gains: over.gains ?? v.gains,
    maxTradeForecast: v.max_trade_forecast,
    forecastYears: v.forecast_years,
    scenarios: over.scenarios ?? parseScenarios(v.scenarios),
    adversePips: v.adverse_pips,
    dropRandomFraction: v.drop_random_fraction,
    dropWinnersFraction: v.drop_winners_fraction,
    longerForecastFactor: v.longer_forecast_factor,
    earlyStopFraction: v.early_stop_fraction,
    gates: { ...v.gates },
    deployMinScore: v.deploy_min_score,
    mc: {
      curves: m.curves,
      tolerance: m.dd_tolerance,
      tail: m.tail_pct,
      accuracy: m.accuracy,
      maxIterations: m.max_iterations,
      maxF: m.max_f,
      repeats: m.repeats,
      seed: over.seed ?? m.seed,
      threads: over.threads ?? m.threads,
    },
    chartPoints: v.report.chart_points,
    histogramBins: v.report.histogram_bins,
  };
}

/** Where the run came from: enough to reproduce it. */
export interface Provenance {
  instrument: string;
  run_id: string | null;
  config_hash: string;
  feature_set: string | null;
  /** First and last bar loaded. */
  data_first: string | null;
  data_last: string | null;
  /** The requested range (null bound = open). */
  range_from: string | null;
  range_to: string | null;
  sessions_requested: number | 'all' | null;
  sessions_run: number;
  sessions_available: number | null;
  session_length: number | null;
  seed: number;
  env: EnvDocument;
}

export interface ValidateInput {
  backtest: BacktestResult;
  /** Bars and episodes of the run: market time (frequency) and daily marking of overnight trades. */
  bars?: BarSeries | null;
  episodes?: EpisodeSet | null;
  env: EnvConfig;
  provenance: Provenance;
  settings: ValidationSettings;
  openMinutesPerWeek?: number;
  walkforward?: WalkForwardResult | null;
}

export interface DistributionSummary {
  f: number;
  twr_percentiles: PercentileTable;
  dd_percentiles: PercentileTable;
  car_percentiles: PercentileTable;
}

export interface ScenarioSummary {
  name: ScenarioName;
  description: string;
  trades: number;
  forecast: number;
  param: number | null;
  safe_f_mean: number;
  safe_f_sd: number;
  car25_mean: number;
  car25_sd: number;
  status: SafeFStatusName;
  note: string | null;
  /** Curves under the scenario at the original safe-f (or the fallback f when that is 0). */
  at_f: DistributionSummary | null;
}

export interface Histogram {
  /** bins + 1 edges. */
  edges: number[];
  counts: number[];
  /** The marked percentile (p95 of drawdown, p25 of CAR) and its name. */
  marker: { name: string; value: number };
  unit: string;
}

export interface FanChart {
  f: number;
  /** True when f is the fallback (safe-f is 0), not safe-f. */
  fallback: boolean;
  curves: number;
  forecast: number;
  x: number[];
  p5: number[];
  p50: number[];
  p95: number[];
  best: number[];
  worst: number[];
}

/** A safe-f status, or 'no_trades': no trade closed, nothing was resampled. */
export type ValidationMcStatus = SafeFStatusName | 'no_trades';

export interface ValidationResult {
  schema: typeof VALIDATION_SCHEMA;
  policy: { name: string; params: Record<string, ParamValue> };
  provenance: Provenance;
  metrics: Metrics;
  /** Share of profitable days among days that closed a trade (consistency). */
  profitable_day_share: number | null;
  gains: {
    mode: GainsMode;
    mode_reason: string;
    count: number;
    /** null without gains (no trade closed), as are periods_per_year, trades_per_draw and adverse_gain. */
    mean: number | null;
    sd: number | null;
    periods_per_year: number | null;
    forecast: number;
    forecast_years: number;
    years: number;
    years_basis: 'episodes' | 'days';
    trades_per_year: number;
    trades_per_draw: number | null;
    adverse_pips: number;
    adverse_gain: number | null;
  };
  montecarlo: {
    safe_f_mean: number;
    safe_f_sd: number;
    car25_mean: number;
    car25_sd: number;
    status: ValidationMcStatus;
    note: string | null;
    tolerance: number;
    tail: number;
    curves: number;
    repeats: number;
    seed: number;
    twr_percentiles: PercentileTable;
    dd_percentiles: PercentileTable;
    car_percentiles: PercentileTable;
  };
  /** Empty when no trade closed. */
  scenarios: ScenarioSummary[];
  /** The worst tail drawdown over the scenarios at the original safe-f (the drawdown gate). */
  dd95_worst: { value: number; scenario: ScenarioName | null; percentile: number };
  charts: {
    equity: { x: number[]; y: number[] };
    /** null when no trade closed (no curves drawn), as are the histograms. */
    fan: FanChart | null;
    dd_hist: Histogram | null;
    car_hist: Histogram | null;
  };
  actions: { names: string[]; counts: number[]; share: Array<number | null> };
  grade: Grade;
  walkforward: WalkForwardResult | null;
  /** Wall-clock seconds (the only field that varies between identical runs). */
  timings: { total: number; montecarlo: number };
}

function meanSd(x: Float64Array): [number, number] {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  const m = s / x.length;
  let q = 0;
  for (let i = 0; i < x.length; i++) q += (x[i] - m) ** 2;
  return [m, x.length > 1 ? Math.sqrt(q / (x.length - 1)) : 0];
}

/** Profitable days / days that closed at least one trade (by exit day). */
export function profitableDayShare(trades: { count: number; netPips: ArrayLike<number>; exitTs: ArrayLike<number> }): number | null {
  const byDay = new Map<number, number>();
  for (let i = 0; i < trades.count; i++) {
    const d = Math.floor(trades.exitTs[i] / DAY_MS);
    byDay.set(d, (byDay.get(d) ?? 0) + trades.netPips[i]);
  }
  if (byDay.size === 0) return null;
  let up = 0;
  for (const v of byDay.values()) if (v > 0) up++;
  return up / byDay.size;
}

/** Sorted copy, and the linear-interpolated percentile p in [0, 100] of sorted values. */
export function quantileSorted(s: Float64Array, p: number): number {
  if (s.length === 1) return s[0];
  const r = (p / 100) * (s.length - 1);
  const lo = Math.floor(r);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (r - lo);
}

/** Chart indices: up to `points` indices over 0..n-1, always including both ends. */
export function sampleIndices(n: number, points: number): number[] {
  if (n <= points) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < points; k++) out.push(Math.round((k * (n - 1)) / (points - 1)));
  return out;
}

/**
 * Equal-width histogram over [lo, hi] (default: the data's range), at least `minSpan` wide so that a
 * near-degenerate distribution (every curve ruined: CAR −100 % ± 1e-6) does not get micro-bins.
 */
export function histogram(values: Float64Array, bins: number, lo?: number, hi?: number, minSpan = 0): { edges: number[]; counts: number[] } {
  let a = lo ?? Infinity;
  let b = hi ?? -Infinity;
  if (lo === undefined || hi === undefined) {
    for (let i = 0; i < values.length; i++) {
      if (lo === undefined && values[i] < a) a = values[i];
      if (hi === undefined && values[i] > b) b = values[i];
    }
  }
  if (!(b > a)) {
    // A degenerate distribution still gets a visible bar around its value.
    const w = Math.abs(a) > 0 ? Math.abs(a) * 0.05 : 0.01;
    a -= w;
    b += w;
  }
  if (b - a < minSpan) {
    const pad = (minSpan - (b - a)) / 2;
    a -= pad;
    b += pad;
    if (lo !== undefined && a < lo) {
      b += lo - a;
      a = lo;
    }
  }
  const width = (b - a) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => a + i * width);
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const k = Math.min(bins - 1, Math.max(0, Math.floor((values[i] - a) / width)));
    counts[k]++;
  }
  return { edges, counts };
}

function fanChart(paths: Float64Array, twr: Float64Array, curves: number, forecast: number, points: number, f: number, fallback: boolean): FanChart {
  const stride = forecast + 1;
  const idx = sampleIndices(stride, points);
  let best = 0;
  let worst = 0;
  for (let c = 1; c < curves; c++) {
    if (twr[c] > twr[best]) best = c;
    if (twr[c] < twr[worst]) worst = c;
  }
  const col = new Float64Array(curves);
  const fan: FanChart = { f, fallback, curves, forecast, x: idx, p5: [], p50: [], p95: [], best: [], worst: [] };
  for (const t of idx) {
    for (let c = 0; c < curves; c++) col[c] = paths[c * stride + t];
    col.sort();
    fan.p5.push(quantileSorted(col, 5));
    fan.p50.push(quantileSorted(col, 50));
    fan.p95.push(quantileSorted(col, 95));
    fan.best.push(paths[best * stride + t]);
    fan.worst.push(paths[worst * stride + t]);
  }
  return fan;
}

function equityCurve(netPips: ArrayLike<number>, n: number, points: number): { x: number[]; y: number[] } {
  const cum = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) cum[i + 1] = cum[i] + netPips[i];
  const idx = sampleIndices(n + 1, points);
  return { x: idx, y: idx.map((i) => cum[i]) };
}

/** Whether dropping the best `fraction` of winners (rounded up, as the scenario does) removes every gain. */
function dropWinnersLeavesNone(gains: ArrayLike<number>, fraction: number): boolean {
  let winners = 0;
  for (let i = 0; i < gains.length; i++) if (gains[i] > 0) winners++;
  return winners === gains.length && Math.ceil(fraction * winners) >= gains.length;
}

/** The percentile tables' percentiles: the defaults and the tail percentile of the drawdown gate. */
function tablePercentiles(s: ValidationSettings): { tailPct: number; percentiles: number[] } {
  const tailPct = 100 - s.mc.tail;
  return { tailPct, percentiles: [...new Set([5, 10, 25, 50, 75, 90, 95, tailPct])].sort((a, b) => a - b) };
}

/** The Monte Carlo and scenario settings of a validation (the horizon and adverse amount come from the gains). */
function scenarioSettings(s: ValidationSettings, percentiles: number[]): ScenarioOptions {
  return {
    curves: s.mc.curves,
    seed: s.mc.seed,
    threads: s.mc.threads,
    percentiles,
    tolerance: s.mc.tolerance,
    tail: s.mc.tail,
    accuracy: s.mc.accuracy,
    maxIterations: s.mc.maxIterations,
    maxF: s.mc.maxF,
    repeats: s.mc.repeats,
    only: ['original', ...s.scenarios],
    dropRandomFraction: s.dropRandomFraction,
    dropWinnersFraction: s.dropWinnersFraction,
    longerForecastFactor: s.longerForecastFactor,
    earlyStopFraction: s.earlyStopFraction,
  };
}

/** The parts of a result that come from the gains: Monte Carlo, scenarios, the drawdown gate's figure, charts. */
type GainsPart = Pick<ValidationResult, 'gains' | 'montecarlo' | 'scenarios' | 'dd95_worst' | 'charts'>;

function marketYearsOf(input: ValidateInput): number | null {
  return input.bars && input.episodes ? episodesMarketMs(input.bars, input.episodes, input.env.barMs) / marketMsPerYear(input.openMinutesPerWeek ?? DEFAULT_OPEN_MINUTES_PER_WEEK) : null;
}

async function tradedPart(input: ValidateInput): Promise<GainsPart> {
  const { backtest: bt, settings: s, env } = input;
  const trades = bt.trades;
  const pm = { pipSize: env.pipSize, units: env.units };
  const rg: RunGains = runGains(trades, {
    ...pm,
    mode: s.gains,
    forecastYears: s.forecastYears,
    maxTradeForecast: s.maxTradeForecast,
    days: bt.days,
    marketYears: marketYearsOf(input),
    bars: input.bars ?? null,
  });
  const adverseGain = pipsToGain(s.adversePips, rg, pm);
  const { tailPct, percentiles } = tablePercentiles(s);
  const common = {
    forecast: rg.forecast,
    curves: s.mc.curves,
    seed: s.mc.seed,
    threads: s.mc.threads,
    periodsPerYear: rg.periods_per_year,
    percentiles,
  };
  // Dropping the best winners of a run whose every gain is a winner can leave nothing to resample: that
  // scenario is then not run, and the note says so (a handful of lucky trades is no system to stress).
  const settings = scenarioSettings(s, percentiles);
  const skipWinners = dropWinnersLeavesNone(rg.gains, s.dropWinnersFraction);
  if (skipWinners) settings.only = settings.only?.filter((x) => x !== 'drop_best_winners');
  const sc = await scenariosAsync(rg.gains, {
    ...settings,
    forecast: rg.forecast,
    periodsPerYear: rg.periods_per_year,
    adverseGain,
    // A losing system's safe-f is 0; its curves are drawn at one unit of notional instead (labelled).
    fallbackF: 1,
  });
  const original = sc.scenarios[0];
  const safeF = original.safe_f;
  const f = sc.at_f ?? 1;
  const fallback = !(safeF.safe_f_mean > 0);
  const fanRun = await bootstrapAsync(rg.gains, { ...common, f, paths: true });

  const key = `p${tailPct}`;
  let worst = { value: 0, scenario: null as ScenarioName | null, percentile: tailPct };
  for (const x of sc.scenarios) {
    const v = x.at_original_f?.dd_percentiles[key];
    if (v !== undefined && (worst.scenario === null || v > worst.value)) worst = { value: v, scenario: x.name, percentile: tailPct };
  }

  const carOf = new Float64Array(fanRun.curves);
  const expo = rg.periods_per_year / rg.forecast;
  for (let c = 0; c < fanRun.curves; c++) carOf[c] = 100 * (Math.pow(Math.max(fanRun.twr[c], 0), expo) - 1);
  const [gMean, gSd] = meanSd(rg.gains);
  return {
    gains: {
      mode: rg.mode,
      mode_reason: rg.mode_reason,
      count: rg.gains.length,
      mean: gMean,
      sd: gSd,
      periods_per_year: rg.periods_per_year,
      forecast: rg.forecast,
      forecast_years: rg.forecast_years,
      years: rg.frequency.years,
      years_basis: rg.frequency.basis,
      trades_per_year: rg.frequency.tradesPerYear,
      trades_per_draw: rg.trades_per_draw,
      adverse_pips: s.adversePips,
      adverse_gain: adverseGain,
    },
    montecarlo: {
      safe_f_mean: safeF.safe_f_mean,
      safe_f_sd: safeF.safe_f_sd,
      car25_mean: safeF.car25_mean,
      car25_sd: safeF.car25_sd,
      status: safeF.status,
      note: [safeF.note, skipWinners ? `drop_best_winners not run: every one of the ${rg.gains.length} gains is a winner, dropping the best ${Math.round(100 * s.dropWinnersFraction)}% leaves none` : null].filter(Boolean).join('; ') || null,
      tolerance: s.mc.tolerance,
      tail: s.mc.tail,
      curves: s.mc.curves,
      repeats: s.mc.repeats,
      seed: s.mc.seed,
      twr_percentiles: safeF.twr_percentiles,
      dd_percentiles: safeF.dd_percentiles,
      car_percentiles: safeF.car_percentiles,
    },
    scenarios: sc.scenarios.map((x) => ({
      name: x.name,
      description: x.description,
      trades: x.trades,
      forecast: x.forecast,
      param: x.param,
      safe_f_mean: x.safe_f.safe_f_mean,
      safe_f_sd: x.safe_f.safe_f_sd,
      car25_mean: x.safe_f.car25_mean,
      car25_sd: x.safe_f.car25_sd,
      status: x.safe_f.status,
      note: x.safe_f.note,
      at_f: x.at_original_f && {
        f: x.at_original_f.f,
        twr_percentiles: x.at_original_f.twr_percentiles,
        dd_percentiles: x.at_original_f.dd_percentiles,
        car_percentiles: x.at_original_f.car_percentiles,
      },
    })),
    dd95_worst: worst,
    charts: {
      equity: equityCurve(trades.netPips, trades.count, s.chartPoints),
      fan: fanChart(fanRun.paths!, fanRun.twr, fanRun.curves, fanRun.forecast, s.chartPoints, f, fallback),
      dd_hist: { ...histogram(fanRun.max_dd, s.histogramBins, 0, undefined, 0.01), marker: { name: `p${tailPct}`, value: fanRun.dd_percentiles[key] }, unit: 'fraction of peak' },
      car_hist: { ...histogram(carOf, s.histogramBins, undefined, undefined, 1), marker: { name: 'p25', value: fanRun.car_percentiles.p25 }, unit: '% per year' },
    },
  };
}

/** The note of a Monte Carlo that had nothing to resample. */
export const NO_TRADES_NOTE =
  'no trade closed: nothing to resample. safe-f is 0 (do not trade); an account that never trades neither grows nor draws down, so TWR is 1, CAR 0 and drawdown 0';

/** A run without trades (see the module header): exact flat-account figures, nulls where a number would be invented. */
function noTradePart(input: ValidateInput): GainsPart {
  const { backtest: bt, settings: s } = input;
  const { tailPct, percentiles } = tablePercentiles(s);
  // Bad settings are bad input whether the run traded or not.
  checkHorizon(s.forecastYears, s.maxTradeForecast);
  checkScenarioOptions(scenarioSettings(s, percentiles));
  const freq = runFrequency({ trades: 0, days: bt.days.length, marketYears: marketYearsOf(input) });
  const flat = (v: number): PercentileTable => Object.fromEntries(percentiles.map((p) => [`p${p}`, v]));
  return {
    gains: {
      mode: s.gains === 'auto' ? 'trade' : s.gains,
      mode_reason: 'no trade closed: no gains',
      count: 0,
      mean: null,
      sd: null,
      periods_per_year: null,
      forecast: 0,
      forecast_years: s.forecastYears,
      years: freq.years,
      years_basis: freq.basis,
      trades_per_year: 0,
      trades_per_draw: null,
      adverse_pips: s.adversePips,
      adverse_gain: null,
    },
    montecarlo: {
      safe_f_mean: 0,
      safe_f_sd: 0,
      car25_mean: 0,
      car25_sd: 0,
      status: 'no_trades',
      note: NO_TRADES_NOTE,
      tolerance: s.mc.tolerance,
      tail: s.mc.tail,
      curves: s.mc.curves,
      repeats: s.mc.repeats,
      seed: s.mc.seed,
      twr_percentiles: flat(1),
      dd_percentiles: flat(0),
      car_percentiles: flat(0),
    },
    scenarios: [],
    dd95_worst: { value: 0, scenario: null, percentile: tailPct },
    charts: { equity: equityCurve(bt.trades.netPips, 0, s.chartPoints), fan: null, dd_hist: null, car_hist: null },
  };
}

/**
 * Validates one backtest (see the module header). Throws MonteCarloInputError on bad input (bad
 * settings, non-finite trades); a run without trades is graded REJECT.
 */
export async function validateBacktest(input: ValidateInput): Promise<ValidationResult> {
  const t0 = performance.now();
  const { backtest: bt, settings: s } = input;
  const part = bt.trades.count === 0 ? noTradePart(input) : await tradedPart(input);
  const mcSeconds = (performance.now() - t0) / 1000;
  const m = bt.metrics;
  const dayShare = profitableDayShare(bt.trades);
  const g = grade(
    {
      trades: m.trades,
      winRate: m.win_rate,
      profitFactor: m.profit_factor,
      expectancyPips: m.expectancy,
      avgLossPips: m.avg_loss,
      car25: part.montecarlo.car25_mean,
      safeF: part.montecarlo.safe_f_mean,
      dd95: part.dd95_worst.value,
      ddTolerance: s.mc.tolerance,
      profitableDayShare: dayShare,
      sessions: bt.episodes,
    },
    { gates: s.gates, deployMinScore: s.deployMinScore },
  );
  const decisions = bt.actionCounts.reduce((a, b) => a + b, 0);
  return {
    schema: VALIDATION_SCHEMA,
    policy: { name: bt.policy.name, params: { ...bt.policy.params } },
    provenance: input.provenance,
    metrics: m,
    profitable_day_share: dayShare,
    gains: part.gains,
    montecarlo: part.montecarlo,
    scenarios: part.scenarios,
    dd95_worst: part.dd95_worst,
    charts: part.charts,
    actions: {
      names: [...ACTION_NAMES],
      counts: Array.from(bt.actionCounts),
      share: Array.from(bt.actionCounts, (c) => (decisions > 0 ? c / decisions : null)),
    },
    grade: g,
    walkforward: input.walkforward ?? null,
    timings: { total: (performance.now() - t0) / 1000, montecarlo: mcSeconds },
  };
}
