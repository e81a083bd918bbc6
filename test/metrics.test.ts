import { describe, it, expect } from 'vitest';
import { computeMetrics, DAY_MS, maxDrawdown, sqnClass, tradeColumns } from '../src/validation/metrics.js';
import { Prng } from '../src/util/prng.js';

const D0 = 19_724; // 2024-01-02 as a UTC day number
const at = (day: number, minute = 600) => (D0 + day) * DAY_MS + minute * 60_000;

describe('trade metrics on a hand-computed list', () => {
  const trades = tradeColumns([
    { netPips: 10, side: 'long', barsHeld: 5, exitTs: at(0) },
    { netPips: -5, side: 'short', barsHeld: 3, exitTs: at(0, 700) },
    { netPips: 20, side: 'long', barsHeld: 10, exitTs: at(1) },
    { netPips: -10, side: 'short', barsHeld: 2, exitTs: at(2), forced: true },
    { netPips: 0, side: 'long', barsHeld: 1, exitTs: at(2, 900) },
  ]);
  const m = computeMetrics({ trades, actionCounts: [90, 3, 2, 5], totalBars: 100, days: [D0, D0 + 1, D0 + 2, D0 + 3] });

  it('counts, win rate, expectancy, average win / loss, payoff ratio and profit factor', () => {
    expect(m).toMatchObject({ trades: 5, wins: 2, losses: 2, net_pips: 15, forced_closes: 1 });
    expect(m.win_rate).toBe(0.4); // a 0-pip trade is neither a win nor a loss
    expect(m.expectancy).toBe(3);
    expect(m.avg_win).toBe(15);
    expect(m.avg_loss).toBe(-7.5);
    expect(m.payoff_ratio).toBe(2);
    expect(m.profit_factor).toBe(2); // 30 / 15
  });

  it('SQN with the sample stdev and Tharp\'s class', () => {
    // deviations from 3: 7, −8, 17, −13, −3 → Σ² = 580, s² = 580 / 4 = 145
    expect(m.stdev_pips).toBeCloseTo(Math.sqrt(145), 12);
    expect(m.sqn).toBeCloseTo((Math.sqrt(5) * 3) / Math.sqrt(145), 12);
    expect(m.sqn_class).toBe('poor');
  });

  it('max drawdown of cumulative net pips', () => {
    // cumulative 10, 5, 25, 15, 15: the fall from 25 to 15
    expect(m.max_drawdown_pips).toBe(10);
    expect(maxDrawdown([-5, 3, -4])).toBe(6); // the curve starts at 0
    expect(maxDrawdown([1, 2, 3])).toBe(0);
  });

  it('Sharpe of daily net pips (days without trades count as 0), annualised with sqrt(252)', () => {
    // daily: 5, 20, −10, 0 → mean 3.75, s² = 468.75 / 3 = 156.25, s = 12.5
    expect(m.days).toBe(4);
    expect(m.sharpe_daily).toBeCloseTo(0.3, 12);
    expect(m.sharpe).toBeCloseTo(0.3 * Math.sqrt(252), 12);
    expect(m.periods_per_year).toBe(252);
    expect(computeMetrics({ trades, days: [D0, D0 + 1, D0 + 2, D0 + 3], periodsPerYear: 260 }).sharpe).toBeCloseTo(0.3 * Math.sqrt(260), 12);
  });

  it('trades per day, average bars held, exposure, long/short split', () => {
    expect(m.trades_per_day).toBe(1.25);
    expect(m.avg_bars_held).toBe(4.2);
    expect(m.exposure).toBe(0.21);
    expect(m.long).toEqual({ trades: 3, wins: 2, win_rate: 2 / 3, net_pips: 30, expectancy: 10 });
    expect(m.short).toEqual({ trades: 2, wins: 0, win_rate: 0, net_pips: -15, expectancy: -7.5 });
  });

  it('the action distribution shows the share of each action', () => {
    expect(m.actions.decisions).toBe(100);
    expect(m.actions.counts).toEqual({ HOLD: 90, BUY: 3, SELL: 2, CLOSE: 5 });
    expect(m.actions.share).toEqual({ HOLD: 0.9, BUY: 0.03, SELL: 0.02, CLOSE: 0.05 });
  });
});

describe('trade metrics edge cases', () => {
  it('no trades: counts are zero and ratios are null, never NaN', () => {
    const m = computeMetrics({ trades: tradeColumns([]), actionCounts: [10, 0, 0, 0], totalBars: 11, days: [D0] });
    expect(m).toMatchObject({ trades: 0, win_rate: null, expectancy: null, avg_win: null, avg_loss: null, payoff_ratio: null, profit_factor: null, sqn: null, sqn_class: 'undefined', max_drawdown_pips: 0, trades_per_day: 0, avg_bars_held: null, exposure: 0 });
    expect(m.sharpe).toBeNull();
    expect(m.actions.share.HOLD).toBe(1);
    expect(JSON.stringify(m)).not.toMatch(/NaN|Infinity/);
  });

  it('no losing trade: profit factor and payoff are null; one trade: SQN is null', () => {
    const one = computeMetrics({ trades: tradeColumns([{ netPips: 7, side: 1, barsHeld: 2, exitTs: at(0) }]) });
    expect(one.profit_factor).toBeNull();
    expect(one.payoff_ratio).toBeNull();
    expect(one.sqn).toBeNull();
    expect(one.days).toBe(1); // the exit day is counted even when no day list is given
  });

  it('SQN uses at most 100 trades in the sqrt(N) factor', () => {
    const x = Array.from({ length: 400 }, (_, i) => ({ netPips: i % 2 === 0 ? 3 : -1, side: 1 as const, barsHeld: 1, exitTs: at(0) }));
    const m = computeMetrics({ trades: tradeColumns(x) });
    const sd = Math.sqrt((400 * 4) / 399); // deviations ±2
    expect(m.sqn).toBeCloseTo((10 * 1) / sd, 12);
  });

  it('Tharp\'s classes', () => {
    expect([-1, 1.59, 1.6, 1.99, 2.0, 2.49, 2.5, 2.99, 3.0, 5.09, 5.1, 6.99, 7.0].map((v) => sqnClass(v))).toEqual([
      'poor',
      'poor',
      'below average',
      'below average',
      'average',
      'average',
      'good',
      'good',
      'excellent',
      'excellent',
      'superb',
      'superb',
      'holy grail',
    ]);
  });
});

describe('trade metrics against an independent calculation on 20,000 random trades', () => {
  const rng = new Prng(42);
  const list = Array.from({ length: 20_000 }, (_, i) => ({
    netPips: Math.round((0.3 + 12 * rng.normal()) * 1000) / 1000,
    side: (rng.float() < 0.5 ? 1 : -1) as 1 | -1,
    barsHeld: 1 + rng.below(300),
    exitTs: (D0 + Math.floor(i / 40)) * DAY_MS + rng.below(1440) * 60_000,
  }));
  // 500 trading days with trades, plus 50 quiet days interleaved
  const days = Array.from({ length: 550 }, (_, k) => D0 + k);
  const m = computeMetrics({ trades: tradeColumns(list), days });
  const x = list.map((t) => t.netPips);

  it('SQN', () => {
    const n = x.length;
    const mean = x.reduce((a, b) => a + b, 0) / n;
    const sumSq = x.reduce((a, b) => a + b * b, 0);
    const sd = Math.sqrt((sumSq - n * mean * mean) / (n - 1));
    expect(m.sqn).toBeCloseTo((10 * mean) / sd, 9);
  });

  it('profit factor', () => {
    const gains = x.filter((v) => v > 0).reduce((a, b) => a + b, 0);
    const pains = x.filter((v) => v < 0).reduce((a, b) => a + b, 0);
    expect(m.profit_factor).toBeCloseTo(gains / -pains, 10);
  });

  it('max drawdown', () => {
    // Independent formulation: max over i of (C_i − min_{j >= i} C_j), with a suffix minimum.
    const cums = [0];
    for (const v of x) cums.push(cums[cums.length - 1] + v);
    const suffixMin = new Array<number>(cums.length);
    for (let j = cums.length - 1; j >= 0; j--) suffixMin[j] = Math.min(cums[j], j + 1 < cums.length ? suffixMin[j + 1] : Infinity);
    const ref = Math.max(...cums.map((c, i) => c - suffixMin[i]));
    expect(ref).toBeGreaterThan(0);
    expect(m.max_drawdown_pips).toBeCloseTo(ref, 9);
  });

  it('Sharpe of daily net pips', () => {
    const byDay: Record<string, number> = {};
    for (const d of days) byDay[String(d)] = 0;
    for (const t of list) {
      const d = String(Math.floor(t.exitTs / DAY_MS));
      byDay[d] += t.netPips;
    }
    const daily = Object.values(byDay);
    expect(daily.length).toBe(550);
    const mean = daily.reduce((a, b) => a + b, 0) / daily.length;
    const sd = Math.sqrt(daily.reduce((a, b) => a + (b - mean) ** 2, 0) / (daily.length - 1));
    expect(m.sharpe).toBeCloseTo((mean / sd) * Math.sqrt(252), 9);
    expect(m.trades_per_day).toBeCloseTo(20_000 / 550, 12);
  });
});
