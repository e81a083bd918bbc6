// Walk-forward analysis over an in-memory market: parameters are chosen on each fold's in-sample part
// and tested, untouched, on the out-of-sample part that follows it.
//
// Folds. The run's episodes (non-overlapping sessions, in time order) are cut into B = folds + isRatio
// blocks of (nearly) equal size. Fold k (0-based) tests block isRatio + k out of sample; its in-sample
// part is blocks [k, isRatio + k) in rolling mode (a window of fixed length that slides) or blocks
// [0, isRatio + k) in anchored mode (a window that grows from the start). Out-of-sample blocks never
// overlap, and together cover the last `folds` blocks.
//
// Selection. Every point of the grid (the cartesian product of the searched parameters; points that
// violate the policy's constraints, e.g. fast >= slow, are skipped) is backtested on the in-sample part.
// Objective: 'net_pips' (total net pips, the default: rewards a profitable AND active rule) or
// 'expectancy' (net pips per trade). Only points with at least `minTrades` in-sample trades are
// eligible (a handful of lucky trades must not win); if none is, the best point overall is taken and
// the fold is flagged. Ties go to the earlier grid point, so the choice is deterministic.
//
// Returns. A part's annualised return is Σ per-trade gains of the notional (net_pips · pip_size /
// (units · entry_price), at one unit of notional, not compounded) per market year of that part (its
// episodes' duration; see gains.ts). Walk-forward efficiency = OOS annualised return / |IS annualised
// return|, per fold and overall (overall: total OOS return per OOS year over total IS return per IS year
// of the selected points). The |·| keeps the sign honest: a rule that loses in sample and out of sample
// gets a negative efficiency, not a flattering positive ratio. null when the IS return is exactly 0.
import { createPolicy, getPolicySpec, resolvePolicyParams } from '../agent/policies/registry.js';
import { PolicyError, type FitSample, type ParamValue, type PolicyContext } from '../agent/policies/types.js';
import type { EnvConfig } from '../env/config.js';
import { EnvInputError, type BarSeries, type EpisodeSet, type FeatureMatrix } from '../env/types.js';
import { runBacktest, type BacktestResult } from './backtest.js';
import { DEFAULT_OPEN_MINUTES_PER_WEEK, episodesMarketMs, marketMsPerYear } from './gains.js';

export type WalkForwardMode = 'rolling' | 'anchored';
export type WalkForwardObjective = 'net_pips' | 'expectancy';

export interface WalkForwardOptions {
  policy: string;
  /** Searched parameters and their values (e.g. from --param-grid); empty/absent: the declared grids. */
  grid?: Readonly<Record<string, readonly number[]>>;
  /** Parameters held fixed (from --param); the rest of the unsearched ones take their defaults. */
  fixed?: Readonly<Record<string, string | number>>;
  folds: number;
  mode: WalkForwardMode;
  /** In-sample length in out-of-sample blocks. */
  isRatio: number;
  objective: WalkForwardObjective;
  minTrades: number;
  /** Seed of stochastic policies. */
  seed: number;
  batch?: number;
  openMinutesPerWeek?: number;
  /** Called after each fold. */
  onFold?: (done: number, total: number) => void;
  /** What learned policies need beyond their parameters (config, resolved artifacts, feature hash). */
  context?: Pick<PolicyContext, 'config' | 'artifacts' | 'featureHash'>;
  /**
   * Retraining instead of a grid: called with each fold's in-sample episodes, it trains a learner on
   * them and returns the parameters (e.g. the checkpoint it trained) and the context to test them with.
   */
  retrain?: (fold: number, inSample: EpisodeSet) => Promise<{ params: Record<string, ParamValue>; context: Pick<PolicyContext, 'config' | 'artifacts' | 'featureHash'> }>;
}

export interface WalkForwardMarket {
  bars: BarSeries;
  episodes: EpisodeSet;
  features?: FeatureMatrix | null;
}

export interface PartStats {
  from: string;
  to: string;
  sessions: number;
  years: number;
  trades: number;
  net_pips: number;
  expectancy: number | null;
  win_rate: number | null;
  profit_factor: number | null;
  /** Σ gains of the notional per market year (fraction; 0.12 = 12 %/year). */
  annual_return: number;
}

export interface FoldResult {
  fold: number;
  params: Record<string, ParamValue>;
  /** Whether the chosen point met the in-sample trade minimum. */
  eligible: boolean;
  candidates: number;
  in_sample: PartStats;
  out_of_sample: PartStats;
  efficiency: number | null;
}

export interface WalkForwardResult {
  policy: string;
  mode: WalkForwardMode;
  folds: number;
  is_ratio: number;
  objective: WalkForwardObjective;
  min_trades: number;
  /** The searched grid (parameter → values) and the fixed parameters. */
  grid: Record<string, number[]>;
  fixed: Record<string, ParamValue>;
  grid_points: number;
  skipped_points: number;
  fold_results: FoldResult[];
  oos_trades: number;
  oos_net_pips: number;
  oos_annual_return: number;
  is_annual_return: number;
  efficiency: number | null;
  positive_oos_folds: number;
  /** How the efficiency is defined (shown in reports). */
  definition: string;
}

export const EFFICIENCY_DEFINITION =
  'walk-forward efficiency = OOS annualised return / |IS annualised return| (returns: Σ per-trade gains of the notional per market year); negative when the rule loses out of sample';

/** Parses `k=a,b,c` grid arguments (repeatable) into parameter → values; values are checked later. */
export function parseGridArgs(args: readonly string[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new PolicyError(`--param-grid '${a}' is not of the form name=v1,v2,...`);
    const k = a.slice(0, eq).trim();
    if (Object.hasOwn(out, k)) throw new PolicyError(`--param-grid ${k} given twice`);
    const raw = a.slice(eq + 1).split(',').map((s) => s.trim());
    if (raw.length === 0 || raw.some((s) => s === '')) throw new PolicyError(`--param-grid ${k}: expected a comma list of numbers, got '${a.slice(eq + 1)}'`);
    const vals = raw.map((s) => Number(s));
    const bad = raw.find((s, i) => !Number.isFinite(vals[i]));
    if (bad !== undefined) throw new PolicyError(`--param-grid ${k}: '${bad}' is not a number`);
    out[k] = [...new Set(vals)];
  }
  return out;
}

/** The grid points (resolved parameter maps) in a fixed order, and how many were skipped by constraints. */
export function gridPoints(policy: string, grid: Readonly<Record<string, readonly number[]>> | undefined, fixed: Readonly<Record<string, string | number>> = {}) {
  const spec = getPolicySpec(policy);
  const fixedResolved = resolvePolicyParams(policy, fixed);
  let searched: Record<string, number[]>;
  if (grid && Object.keys(grid).length > 0) {
    searched = {};
    for (const [k, vs] of Object.entries(grid)) {
      if (Object.hasOwn(fixed, k)) throw new PolicyError(`parameter ${k} is both fixed (--param) and searched (--param-grid)`);
      searched[k] = [...vs];
    }
  } else {
    searched = {};
    for (const p of spec.params) if (!Object.hasOwn(fixed, p.name) && p.grid.length > 0) searched[p.name] = [...p.grid];
  }
  // Every value is checked against its declaration first, so a typo is reported as such; afterwards a
  // refused combination can only be a cross-parameter constraint, and is skipped.
  for (const [k, vs] of Object.entries(searched)) {
    const p = spec.params.find((q) => q.name === k);
    if (!p) {
      const known = spec.params.length ? spec.params.map((q) => q.name).join(', ') : 'none';
      throw new PolicyError(`policy '${policy}' has no parameter '${k}' to search (its parameters: ${known})`);
    }
    if (vs.length === 0) throw new PolicyError(`--param-grid ${k}: no values`);
    if (p.type === 'string') throw new PolicyError(`parameter ${k} of '${policy}' is a string: fix it with --param, it cannot be searched`);
    for (const v of vs) {
      if (p.type === 'int' && !Number.isInteger(v)) throw new PolicyError(`--param-grid ${k}=${v}: ${k} must be an integer`);
      if (!(v >= (p.min ?? -Infinity) && v <= (p.max ?? Infinity))) throw new PolicyError(`--param-grid ${k}=${v} is outside [${p.min}, ${p.max}]`);
    }
  }
  const keys = Object.keys(searched);
  const points: Record<string, ParamValue>[] = [];
  let skipped = 0;
  const rec = (i: number, acc: Record<string, number>) => {
    if (i === keys.length) {
      const p: Record<string, string | number> = { ...fixed, ...acc };
      try {
        points.push(resolvePolicyParams(policy, p));
      } catch (e) {
        if (!(e instanceof PolicyError)) throw e;
        skipped++;
      }
      return;
    }
    for (const v of searched[keys[i]]) rec(i + 1, { ...acc, [keys[i]]: v });
  };
  rec(0, {});
  const fixedOut: Record<string, ParamValue> = {};
  for (const k of Object.keys(fixedResolved)) if (!keys.includes(k)) fixedOut[k] = fixedResolved[k];
  return { points, skipped, searched, fixed: fixedOut };
}

/** Block boundaries (episode indices) of B nearly equal blocks over E episodes. */
export function blockBounds(episodes: number, blocks: number): number[] {
  return Array.from({ length: blocks + 1 }, (_, k) => Math.round((k * episodes) / blocks));
}

function subEpisodes(ep: EpisodeSet, from: number, to: number): EpisodeSet {
  return { start: ep.start.subarray(from, to), end: ep.end.subarray(from, to) };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function partStats(market: WalkForwardMarket, ep: EpisodeSet, r: BacktestResult, env: EnvConfig, msPerYear: number): PartStats {
  const years = episodesMarketMs(market.bars, ep, env.barMs) / msPerYear;
  let ret = 0;
  const t = r.trades;
  for (let i = 0; i < t.count; i++) ret += (t.netPips[i] * env.pipSize) / (env.units * t.entryPrice[i]);
  const m = r.metrics;
  const n = ep.start.length;
  return {
    from: iso(market.bars.ts[ep.start[0]]),
    to: iso(market.bars.ts[ep.end[n - 1] - 1] + env.barMs),
    sessions: n,
    years,
    trades: m.trades,
    net_pips: m.net_pips,
    expectancy: m.expectancy,
    win_rate: m.win_rate,
    profit_factor: m.profit_factor,
    annual_return: years > 0 ? ret / years : 0,
  };
}

function objectiveOf(r: BacktestResult, objective: WalkForwardObjective): number {
  if (objective === 'expectancy') return r.metrics.expectancy ?? -Infinity;
  return r.metrics.net_pips;
}

export function efficiency(oos: number, is: number): number | null {
  return is === 0 ? null : oos / Math.abs(is);
}

/** Runs the walk-forward analysis (see the module header). */
export async function walkForward(market: WalkForwardMarket, env: EnvConfig, opts: WalkForwardOptions): Promise<WalkForwardResult> {
  const { folds, isRatio } = opts;
  if (!Number.isInteger(folds) || folds < 1) throw new EnvInputError(`folds must be an integer >= 1, got ${folds}`);
  if (!Number.isInteger(isRatio) || isRatio < 1) throw new EnvInputError(`in-sample ratio must be an integer >= 1, got ${isRatio}`);
  if (opts.mode !== 'rolling' && opts.mode !== 'anchored') throw new EnvInputError(`mode must be rolling or anchored, got '${String(opts.mode)}'`);
  if (opts.objective !== 'net_pips' && opts.objective !== 'expectancy') throw new EnvInputError(`objective must be net_pips or expectancy, got '${String(opts.objective)}'`);
  if (!Number.isInteger(opts.minTrades) || opts.minTrades < 1) throw new EnvInputError(`min trades must be an integer >= 1, got ${opts.minTrades}`);
  const E = market.episodes.start.length;
  const B = folds + isRatio;
  if (E < B) {
    throw new EnvInputError(`walk-forward with ${folds} folds and an in-sample ratio of ${isRatio} needs at least ${B} sessions, the market has ${E}: use fewer folds or a longer range`);
  }
  const { points, skipped, searched, fixed } = gridPoints(opts.policy, opts.grid, opts.fixed ?? {});
  if (points.length === 0) throw new PolicyError(`no valid grid point for policy '${opts.policy}': every combination violates its constraints (${skipped} skipped)`);
  const bounds = blockBounds(E, B);
  const msPerYear = marketMsPerYear(opts.openMinutesPerWeek ?? DEFAULT_OPEN_MINUTES_PER_WEEK);
  const spec = getPolicySpec(opts.policy);
  if (spec.observes && !market.features) throw new PolicyError(`policy '${opts.policy}' reads features: walk-forward needs the market's feature matrix`);
  // A fitting policy learns on the fold's in-sample part only: its out-of-sample test never sees it.
  const run = async (ep: EpisodeSet, params: Record<string, ParamValue>, fit: FitSample | null, context = opts.context) => {
    const policy = await createPolicy(opts.policy, params, { seed: opts.seed, env, fit, ...context });
    try {
      return await runBacktest({ bars: market.bars, features: market.features ?? null, episodes: ep, policy, env, batch: opts.batch });
    } finally {
      await policy.close?.();
    }
  };

  const results: FoldResult[] = [];
  let isRet = 0;
  let isYears = 0;
  let oosRet = 0;
  let oosYears = 0;
  let oosTrades = 0;
  let oosNet = 0;
  for (let k = 0; k < folds; k++) {
    const isFrom = opts.mode === 'rolling' ? bounds[k] : 0;
    const isTo = bounds[isRatio + k];
    const oosTo = bounds[isRatio + k + 1];
    const isEp = subEpisodes(market.episodes, isFrom, isTo);
    const oosEp = subEpisodes(market.episodes, isTo, oosTo);
    const fit: FitSample | null = spec.fits && market.features ? { bars: market.bars, features: market.features, episodes: isEp } : null;
    let best: { r: BacktestResult; params: Record<string, ParamValue>; eligible: boolean; obj: number } | null = null;
    let context = opts.context;
    if (opts.retrain) {
      // The learner trains on this fold's in-sample part only; its in-sample figures are its own
      // backtest there, its out-of-sample ones the test that follows.
      const trained = await opts.retrain(k + 1, isEp);
      context = trained.context;
      const r = await run(isEp, trained.params, fit, context);
      best = { r, params: trained.params, eligible: r.metrics.trades >= opts.minTrades, obj: objectiveOf(r, opts.objective) };
    }
    for (const p of opts.retrain ? [] : points) {
      const r = await run(isEp, p, fit);
      const eligible = r.metrics.trades >= opts.minTrades;
      const obj = objectiveOf(r, opts.objective);
      if (best === null || (eligible && !best.eligible) || (eligible === best.eligible && obj > best.obj)) best = { r, params: p, eligible, obj };
    }
    const chosen = best!;
    const isStats = partStats(market, isEp, chosen.r, env, msPerYear);
    const oosStats = partStats(market, oosEp, await run(oosEp, chosen.params, fit, context), env, msPerYear);
    isRet += isStats.annual_return * isStats.years;
    isYears += isStats.years;
    oosRet += oosStats.annual_return * oosStats.years;
    oosYears += oosStats.years;
    oosTrades += oosStats.trades;
    oosNet += oosStats.net_pips;
    results.push({
      fold: k + 1,
      params: chosen.params,
      eligible: chosen.eligible,
      candidates: opts.retrain ? 1 : points.length,
      in_sample: isStats,
      out_of_sample: oosStats,
      efficiency: efficiency(oosStats.annual_return, isStats.annual_return),
    });
    opts.onFold?.(k + 1, folds);
  }
  const isAnn = isYears > 0 ? isRet / isYears : 0;
  const oosAnn = oosYears > 0 ? oosRet / oosYears : 0;
  return {
    policy: opts.policy,
    mode: opts.mode,
    folds,
    is_ratio: isRatio,
    objective: opts.objective,
    min_trades: opts.minTrades,
    grid: searched,
    fixed,
    grid_points: points.length,
    skipped_points: skipped,
    fold_results: results,
    oos_trades: oosTrades,
    oos_net_pips: oosNet,
    oos_annual_return: oosAnn,
    is_annual_return: isAnn,
    efficiency: efficiency(oosAnn, isAnn),
    positive_oos_folds: results.filter((r) => r.out_of_sample.net_pips > 0).length,
    definition: EFFICIENCY_DEFINITION,
  };
}
