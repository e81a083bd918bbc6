// Trade metrics of a backtest. Every figure is in net pips (after the spread) unless named otherwise.
//
// Definitions (N trades, x_i their net pips in chronological order):
//   win / loss          x_i > 0 / x_i < 0 (a trade of exactly 0 is neither)
//   win rate            wins / N
//   expectancy          mean(x) = Σx / N
//   avg win / avg loss  mean of the winning x / mean of the losing x (the latter is negative)
//   payoff ratio        avg win / |avg loss|
//   profit factor       Σ wins / |Σ losses|           (null when there is no losing trade)
//   SQN                 sqrt(min(N, 100)) · mean(x) / stdev(x), stdev the sample one (N − 1);
//                       Van Tharp's classes: < 1.6 poor, 1.6–2.0 below average, 2.0–2.5 average,
//                       2.5–3.0 good, 3.0–5.1 excellent, 5.1–7.0 superb, >= 7.0 holy grail
//   max drawdown        largest fall of the cumulative net pips from its running peak, the curve
//                       starting at 0 before the first trade; reported as a positive number of pips
//   Sharpe              daily series d_k = Σ net pips of trades whose exit falls on UTC day k, over every
//                       day of the run (days without a trade count as 0), then
//                       sharpe = mean(d) / stdev(d) · sqrt(periods_per_year), sample stdev, periods_per_year
//                       252 by default; sharpe_daily is the same without the sqrt(252) factor
//   trades per day      N / number of days in the run
//   avg bars held       mean bars a trade was open (entry bar included)
//   exposure            Σ bars held / bars in the run's episodes
//   action distribution share of decisions that were HOLD / BUY / SELL / CLOSE (a policy collapsed onto
//                       HOLD shows HOLD ≈ 1 here)
// Undefined figures (no trades, no losses, a zero stdev, fewer than 2 days) are null, never NaN/Infinity.
import type { TradeColumns } from '../env/trades.js';

export const DAY_MS = 86_400_000;

export interface MetricsInput {
  trades: TradeColumns;
  /** Decisions by action: HOLD, BUY, SELL, CLOSE. */
  actionCounts?: ArrayLike<number>;
  /** Bars inside the run's episodes (exposure denominator). */
  totalBars?: number;
  /** UTC day numbers (floor(ts / 86 400 000)) the run covered; trade exit days are added. */
  days?: Iterable<number>;
  periodsPerYear?: number;
}

export type SqnClass = 'undefined' | 'poor' | 'below average' | 'average' | 'good' | 'excellent' | 'superb' | 'holy grail';

export interface SideStats {
  trades: number;
  wins: number;
  win_rate: number | null;
  net_pips: number;
  expectancy: number | null;
}

export interface ActionDistribution {
  decisions: number;
  counts: { HOLD: number; BUY: number; SELL: number; CLOSE: number };
  share: { HOLD: number | null; BUY: number | null; SELL: number | null; CLOSE: number | null };
}

export interface Metrics {
  trades: number;
  wins: number;
  losses: number;
  win_rate: number | null;
  net_pips: number;
  expectancy: number | null;
  stdev_pips: number | null;
  avg_win: number | null;
  avg_loss: number | null;
  payoff_ratio: number | null;
  profit_factor: number | null;
  sqn: number | null;
  sqn_class: SqnClass;
  max_drawdown_pips: number;
  days: number;
  sharpe_daily: number | null;
  sharpe: number | null;
  periods_per_year: number;
  trades_per_day: number | null;
  avg_bars_held: number | null;
  exposure: number | null;
  forced_closes: number;
  long: SideStats;
  short: SideStats;
  actions: ActionDistribution;
}

export function sqnClass(sqn: number | null): SqnClass {
  if (sqn === null) return 'undefined';
  if (sqn < 1.6) return 'poor';
  if (sqn < 2.0) return 'below average';
  if (sqn < 2.5) return 'average';
  if (sqn < 3.0) return 'good';
  if (sqn < 5.1) return 'excellent';
  if (sqn < 7.0) return 'superb';
  return 'holy grail';
}

/** Sample mean and stdev (two-pass, for accuracy); stdev null when n < 2. */
function meanStdev(x: ArrayLike<number>, n: number): { mean: number | null; stdev: number | null } {
  if (n === 0) return { mean: null, stdev: null };
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i];
  const mean = s / n;
  if (n < 2) return { mean, stdev: null };
  let q = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - mean;
    q += d * d;
  }
  return { mean, stdev: Math.sqrt(q / (n - 1)) };
}

/** Largest fall of the cumulative sum from its running peak (curve starts at 0), as a positive number. */
export function maxDrawdown(x: ArrayLike<number>, n = x.length): number {
  let cum = 0;
  let peak = 0;
  let dd = 0;
  for (let i = 0; i < n; i++) {
    cum += x[i];
    if (cum > peak) peak = cum;
    else if (peak - cum > dd) dd = peak - cum;
  }
  return dd;
}

function sideStats(trades: TradeColumns, side: number): SideStats {
  let n = 0;
  let wins = 0;
  let net = 0;
  for (let i = 0; i < trades.count; i++) {
    if (trades.side[i] !== side) continue;
    n++;
    net += trades.netPips[i];
    if (trades.netPips[i] > 0) wins++;
  }
  return { trades: n, wins, win_rate: n > 0 ? wins / n : null, net_pips: net, expectancy: n > 0 ? net / n : null };
}

/** Daily net pips over the union of `days` and the trades' exit days, in day order. */
export function dailyNetPips(trades: TradeColumns, days: Iterable<number> = []): { day: number[]; pips: Float64Array } {
  const byDay = new Map<number, number>();
  for (const d of days) byDay.set(d, 0);
  for (let i = 0; i < trades.count; i++) {
    const d = Math.floor(trades.exitTs[i] / DAY_MS);
    byDay.set(d, (byDay.get(d) ?? 0) + trades.netPips[i]);
  }
  const day = [...byDay.keys()].sort((a, b) => a - b);
  const pips = new Float64Array(day.length);
  for (let k = 0; k < day.length; k++) pips[k] = byDay.get(day[k]) as number;
  return { day, pips };
}

export function computeMetrics(input: MetricsInput): Metrics {
  const tr = input.trades;
  const n = tr.count;
  const x = tr.netPips;
  let wins = 0;
  let losses = 0;
  let sumWin = 0;
  let sumLoss = 0;
  let net = 0;
  let bars = 0;
  let forced = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    net += v;
    if (v > 0) {
      wins++;
      sumWin += v;
    } else if (v < 0) {
      losses++;
      sumLoss += v;
    }
    bars += tr.barsHeld[i];
    if (tr.forced && tr.forced[i]) forced++;
  }
  const { mean, stdev } = meanStdev(x, n);
  const sqn = mean !== null && stdev !== null && stdev > 0 ? (Math.sqrt(Math.min(n, 100)) * mean) / stdev : null;
  const avgWin = wins > 0 ? sumWin / wins : null;
  const avgLoss = losses > 0 ? sumLoss / losses : null;

  const periodsPerYear = input.periodsPerYear ?? 252;
  const daily = dailyNetPips(tr, input.days ?? []);
  const nd = daily.day.length;
  const ds = meanStdev(daily.pips, nd);
  const sharpeDaily = ds.mean !== null && ds.stdev !== null && ds.stdev > 0 ? ds.mean / ds.stdev : null;

  const counts = input.actionCounts ?? [0, 0, 0, 0];
  const decisions = counts[0] + counts[1] + counts[2] + counts[3];
  const share = (c: number): number | null => (decisions > 0 ? c / decisions : null);

  return {
    trades: n,
    wins,
    losses,
    win_rate: n > 0 ? wins / n : null,
    net_pips: net,
    expectancy: mean,
    stdev_pips: stdev,
    avg_win: avgWin,
    avg_loss: avgLoss,
    payoff_ratio: avgWin !== null && avgLoss !== null ? avgWin / -avgLoss : null,
    profit_factor: losses > 0 ? sumWin / -sumLoss : null,
    sqn,
    sqn_class: sqnClass(sqn),
    max_drawdown_pips: maxDrawdown(x, n),
    days: nd,
    sharpe_daily: sharpeDaily,
    sharpe: sharpeDaily !== null ? sharpeDaily * Math.sqrt(periodsPerYear) : null,
    periods_per_year: periodsPerYear,
    trades_per_day: nd > 0 ? n / nd : null,
    avg_bars_held: n > 0 ? bars / n : null,
    exposure: input.totalBars !== undefined && input.totalBars > 0 ? bars / input.totalBars : null,
    forced_closes: forced,
    long: sideStats(tr, 1),
    short: sideStats(tr, -1),
    actions: {
      decisions,
      counts: { HOLD: counts[0], BUY: counts[1], SELL: counts[2], CLOSE: counts[3] },
      share: { HOLD: share(counts[0]), BUY: share(counts[1]), SELL: share(counts[2]), CLOSE: share(counts[3]) },
    },
  };
}

/** Converts plain trade objects (tests, JSON) into the columns computeMetrics reads. */
export function tradeColumns(trades: ReadonlyArray<{ netPips: number; side: 'long' | 'short' | 1 | -1; barsHeld: number; exitTs: number; forced?: boolean }>): TradeColumns {
  return {
    count: trades.length,
    netPips: Float64Array.from(trades, (t) => t.netPips),
    side: Int8Array.from(trades, (t) => (t.side === 'long' || t.side === 1 ? 1 : -1)),
    barsHeld: Float64Array.from(trades, (t) => t.barsHeld),
    exitTs: Float64Array.from(trades, (t) => t.exitTs),
    forced: Uint8Array.from(trades, (t) => (t.forced ? 1 : 0)),
  };
}
