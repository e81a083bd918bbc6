// From a backtest's trades to the fractional gains the Monte Carlo compounds, and the run's trading
// frequency that sets the forecast horizon and annualises CAR.
//
// Per-trade gain (per unit of notional):   g_i = net_pips_i · pip_size / (units · entry_price_i)
//   net_pips are for the whole position of `units` (src/env/config.ts), so dividing by units gives the
//   return of one unit of notional; f = 1 in the Monte Carlo then means "a notional equal to equity".
// Daily marked-to-market gain:             d_k = Σ over trades of the part of their net pips earned on
//   UTC day k, each part divided by its trade's notional (units · entry_price / pip_size). A trade held
//   over midnight is marked at the close of the last bar of each day; the spread is charged on the entry
//   day; the parts of a trade add up to its net pips exactly. Every day of the run counts, days without
//   a position give 0. At most one position is open at a time (episodes never overlap), so summing the
//   parts of a day is the day's return on the notional.
//
// Frequency: the run's market time is the sum of its episodes' durations (first bar's open to last bar's
// close); a market year is 365.25 / 7 weeks of the FX calendar's open hours (120 h a week by default).
// periodsPerYear = trades (per-trade gains) or days (daily gains) per market year; the forecast horizon
// is `forecastYears` (default 2) of them, so CAR = TWR^(periodsPerYear / forecast) − 1 is per year.
import type { BarSeries, EpisodeSet } from '../env/types.js';
import type { WeekCalendar } from '../data/calendar.js';
import { WEEK_MINUTES } from '../data/calendar.js';
import { DAY_MS } from './metrics.js';
import { MonteCarloInputError } from './montecarlo.js';

/** The trade columns the gains need (a TradeLog provides them). */
export interface GainTrades {
  readonly count: number;
  readonly netPips: ArrayLike<number>;
  readonly entryPrice: ArrayLike<number>;
  readonly side: ArrayLike<number>;
  readonly entryIndex: ArrayLike<number>;
  readonly exitIndex: ArrayLike<number>;
  readonly entryTs: ArrayLike<number>;
  readonly exitTs: ArrayLike<number>;
  readonly costPips: ArrayLike<number>;
}

export interface PipModel {
  pipSize: number;
  units: number;
}

export type GainsMode = 'trade' | 'daily';

/** FX default: closed Friday 21:00 to Sunday 21:00 UTC (48 h), open 120 h a week. */
export const DEFAULT_OPEN_MINUTES_PER_WEEK = WEEK_MINUTES - 48 * 60;

/** Open minutes per week of a calendar (the closure runs from closeMinute to openMinute, wrapping). */
export function openMinutesPerWeek(cal: WeekCalendar): number {
  const closure = (((cal.openMinute - cal.closeMinute) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
  return WEEK_MINUTES - closure;
}

/** Milliseconds of open market in an average year. */
export function marketMsPerYear(openMinutes = DEFAULT_OPEN_MINUTES_PER_WEEK): number {
  return openMinutes * 60_000 * (365.25 / 7);
}

/** Market time covered by the episodes, in ms: each episode from its first bar's open to its last bar's close. */
export function episodesMarketMs(bars: BarSeries, episodes: EpisodeSet, barMs: number): number {
  let ms = 0;
  for (let e = 0; e < episodes.start.length; e++) ms += bars.ts[episodes.end[e] - 1] - bars.ts[episodes.start[e]] + barMs;
  return ms;
}

function checkPipModel(p: PipModel): void {
  if (!(p.pipSize > 0 && Number.isFinite(p.pipSize))) throw new MonteCarloInputError(`pip size must be a number > 0, got ${p.pipSize}`);
  if (!(p.units > 0 && Number.isFinite(p.units))) throw new MonteCarloInputError(`units must be a number > 0, got ${p.units}`);
}

function checkTrade(t: Pick<GainTrades, 'netPips' | 'entryPrice'>, i: number): void {
  const price = t.entryPrice[i];
  if (!(price > 0 && Number.isFinite(price))) throw new MonteCarloInputError(`trade #${i + 1}: entry price ${price} is not a positive number`);
  if (!Number.isFinite(t.netPips[i])) throw new MonteCarloInputError(`trade #${i + 1}: net pips ${t.netPips[i]} is not a finite number`);
}

/** Per-trade fractional gains of the notional, in trade order. Refuses an empty list and bad values. */
export function tradeGains(trades: Pick<GainTrades, 'count' | 'netPips' | 'entryPrice'>, pm: PipModel): Float64Array {
  checkPipModel(pm);
  if (trades.count === 0) throw new MonteCarloInputError('empty trade list: the run closed no trade, there is nothing to validate');
  const out = new Float64Array(trades.count);
  for (let i = 0; i < trades.count; i++) {
    checkTrade(trades, i);
    out[i] = (trades.netPips[i] * pm.pipSize) / (pm.units * trades.entryPrice[i]);
  }
  return out;
}

export interface DailyGains {
  /** UTC day numbers (floor(ms / 86 400 000)), ascending. */
  day: number[];
  gains: Float64Array;
}

/**
 * Daily marked-to-market gains over every day in `days` (plus any day a trade touched). With `bars`,
 * trades held over midnight are split at the last close of each day; without them a trade's whole
 * result falls on its exit day.
 */
export function dailyGains(trades: GainTrades, pm: PipModel & { days?: Iterable<number>; bars?: BarSeries | null }): DailyGains {
  checkPipModel(pm);
  if (trades.count === 0) throw new MonteCarloInputError('empty trade list: the run closed no trade, there is nothing to validate');
  const byDay = new Map<number, number>();
  for (const d of pm.days ?? []) byDay.set(d, 0);
  const add = (ms: number, g: number) => {
    const d = Math.floor(ms / DAY_MS);
    byDay.set(d, (byDay.get(d) ?? 0) + g);
  };
  const bars = pm.bars ?? null;
  const pipsPerPrice = pm.units / pm.pipSize;
  for (let i = 0; i < trades.count; i++) {
    checkTrade(trades, i);
    const notionalPips = (pm.units * trades.entryPrice[i]) / pm.pipSize;
    const entryDay = Math.floor(trades.entryTs[i] / DAY_MS);
    const exitDay = Math.floor(trades.exitTs[i] / DAY_MS);
    if (!bars || entryDay === exitDay) {
      add(trades.exitTs[i], trades.netPips[i] / notionalPips);
      continue;
    }
    // Mark (net of the whole spread, so the cost falls on the entry day) at the close of the last bar
    // of each day while the trade is open; the exit day gets the rest.
    let prevMark = 0;
    const side = trades.side[i];
    const last = Math.min(trades.exitIndex[i], bars.ts.length - 1);
    for (let k = trades.entryIndex[i]; k < last; k++) {
      const d = Math.floor(bars.ts[k] / DAY_MS);
      if (Math.floor(bars.ts[k + 1] / DAY_MS) === d) continue;
      const mark = side * (bars.close[k] - trades.entryPrice[i]) * pipsPerPrice - trades.costPips[i];
      add(bars.ts[k], (mark - prevMark) / notionalPips);
      prevMark = mark;
    }
    add(trades.exitTs[i], (trades.netPips[i] - prevMark) / notionalPips);
  }
  const day = [...byDay.keys()].sort((a, b) => a - b);
  return { day, gains: Float64Array.from(day, (d) => byDay.get(d) as number) };
}

export interface FrequencyInput {
  trades: number;
  /** Days of the run (UTC days holding bars of its episodes). */
  days: number;
  /** Market time of the run in years, when the episodes are known (preferred). */
  marketYears?: number | null;
}

export interface Frequency {
  /** Length of the run in market years. */
  years: number;
  /** How `years` was measured. */
  basis: 'episodes' | 'days';
  tradesPerYear: number;
  daysPerYear: number;
}

/**
 * UTC days that hold FX bars in a year when market time is unknown: Sunday evening to Friday, six UTC
 * days a week. Only used without episodes (a stored run's trades alone).
 */
export const FX_DAYS_PER_YEAR = 6 * (365.25 / 7);

/** Frequency of a run; a run without trades has 0 trades a year (its length is still measured). */
export function runFrequency(input: FrequencyInput): Frequency {
  if (!(Number.isInteger(input.trades) && input.trades >= 0)) throw new MonteCarloInputError(`trades must be an integer >= 0, got ${input.trades}`);
  if (!(input.days > 0)) throw new MonteCarloInputError(`the run covers ${input.days} days: need at least one day to measure its trading frequency`);
  const years = input.marketYears != null && input.marketYears > 0 ? input.marketYears : input.days / FX_DAYS_PER_YEAR;
  return {
    years,
    basis: input.marketYears != null && input.marketYears > 0 ? 'episodes' : 'days',
    tradesPerYear: input.trades / years,
    daysPerYear: input.days / years,
  };
}

export interface RunGainsOptions extends PipModel {
  /** 'auto': per-trade gains unless their horizon exceeds maxTradeForecast draws, then daily. */
  mode: GainsMode | 'auto';
  forecastYears: number;
  maxTradeForecast: number;
  days: number[];
  marketYears?: number | null;
  bars?: BarSeries | null;
}

export interface RunGains {
  mode: GainsMode;
  /** Why this mode (auto) or 'requested'. */
  mode_reason: string;
  gains: Float64Array;
  /** Draws per year for CAR: trades per year (trade mode) or days per year (daily mode). */
  periods_per_year: number;
  /** Monte Carlo horizon in draws: forecastYears of periods, at least 1. */
  forecast: number;
  forecast_years: number;
  frequency: Frequency;
  /** Mean entry price, to turn pips into gain units (adverse scenario). */
  mean_entry_price: number;
  /** Trades per draw: 1 for per-trade gains, trades per day for daily gains. */
  trades_per_draw: number;
}

/** Refuses a horizon setting runGains cannot use. */
export function checkHorizon(forecastYears: number, maxTradeForecast: number): void {
  if (!(forecastYears > 0 && Number.isFinite(forecastYears))) throw new MonteCarloInputError(`forecast years must be a number > 0, got ${forecastYears}`);
  if (!(Number.isInteger(maxTradeForecast) && maxTradeForecast >= 1)) throw new MonteCarloInputError(`max trade forecast must be an integer >= 1, got ${maxTradeForecast}`);
}

/** Gains of a run, the mode and the horizon (see the header for the definitions). Refuses a run without trades. */
export function runGains(trades: GainTrades, opts: RunGainsOptions): RunGains {
  checkHorizon(opts.forecastYears, opts.maxTradeForecast);
  if (trades.count === 0) throw new MonteCarloInputError('empty trade list: the run closed no trade, there are no gains');
  const freq = runFrequency({ trades: trades.count, days: opts.days.length, marketYears: opts.marketYears });
  const tradeForecast = Math.max(1, Math.round(opts.forecastYears * freq.tradesPerYear));
  let mode: GainsMode;
  let reason: string;
  if (opts.mode === 'auto') {
    mode = tradeForecast <= opts.maxTradeForecast ? 'trade' : 'daily';
    reason =
      mode === 'trade'
        ? `${opts.forecastYears} years of trades is ${tradeForecast} draws (<= ${opts.maxTradeForecast}): per-trade gains`
        : `${opts.forecastYears} years of trades would be ${tradeForecast} draws (> ${opts.maxTradeForecast}): daily marked-to-market gains`;
  } else {
    mode = opts.mode;
    reason = 'requested';
  }
  let sumPrice = 0;
  for (let i = 0; i < trades.count; i++) sumPrice += trades.entryPrice[i];
  const meanEntry = sumPrice / trades.count;
  if (mode === 'trade') {
    return {
      mode,
      mode_reason: reason,
      gains: tradeGains(trades, opts),
      periods_per_year: freq.tradesPerYear,
      forecast: tradeForecast,
      forecast_years: opts.forecastYears,
      frequency: freq,
      mean_entry_price: meanEntry,
      trades_per_draw: 1,
    };
  }
  const daily = dailyGains(trades, { ...opts, days: opts.days, bars: opts.bars });
  // The daily series may hold a day or two more than the run's days (exits stamped after midnight).
  const daysPerYear = daily.gains.length / freq.years;
  return {
    mode,
    mode_reason: reason,
    gains: daily.gains,
    periods_per_year: daysPerYear,
    forecast: Math.max(1, Math.round(opts.forecastYears * daysPerYear)),
    forecast_years: opts.forecastYears,
    frequency: freq,
    mean_entry_price: meanEntry,
    trades_per_draw: trades.count / daily.gains.length,
  };
}

/** `pips` per trade in gain units of a draw (the adverse scenario's amount). */
export function pipsToGain(pips: number, g: Pick<RunGains, 'mean_entry_price' | 'trades_per_draw'>, pm: PipModel): number {
  return (pips * pm.pipSize * g.trades_per_draw) / (pm.units * g.mean_entry_price);
}
