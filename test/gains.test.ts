import { describe, it, expect } from 'vitest';
import { TradeLog } from '../src/env/trades.js';
import { dailyGains, episodesMarketMs, marketMsPerYear, openMinutesPerWeek, pipsToGain, runFrequency, runGains, tradeGains, FX_DAYS_PER_YEAR } from '../src/validation/gains.js';
import { MonteCarloInputError } from '../src/validation/montecarlo.js';
import { barsFrom, flatRows, T0, MIN } from './helpers/series.js';

const DAY = 86_400_000;

/** A trade log from (side, entryIndex, exitIndex, entryPrice, exitPrice) with a 4-pip JPY round trip. */
function log(rows: Array<[number, number, number, number, number]>, ts: (i: number) => number, pip = 0.01, spread = 4): TradeLog {
  const t = new TradeLog();
  for (const [side, ei, xi, ep, xp] of rows) {
    const gross = (side * (xp - ep)) / pip;
    t.push(0, side, ei, xi, ts(ei), ts(xi), ep, xp, gross, gross - spread, spread, 0, 0, xi - ei, false, gross - spread);
  }
  return t;
}

describe('per-trade gains', () => {
  it('are net pips × pip size / entry price (per unit of notional)', () => {
    const t = log(
      [
        [1, 0, 10, 150, 150.2], // +20 gross, +16 net
        [-1, 20, 30, 125, 125.5], // −50 gross, −54 net
      ],
      (i) => T0 + i * MIN,
    );
    const g = tradeGains(t, { pipSize: 0.01, units: 1 });
    expect(g[0]).toBeCloseTo((16 * 0.01) / 150, 15);
    expect(g[1]).toBeCloseTo((-54 * 0.01) / 125, 15);
    // net pips of a 10-unit position are 10× larger; the gain per unit of notional is the same.
    const t10 = log([[1, 0, 10, 150, 150.2]], (i) => T0 + i * MIN, 0.01 / 10, 40);
    expect(tradeGains(t10, { pipSize: 0.01, units: 10 })[0]).toBeCloseTo(g[0], 15);
  });

  it('refuse an empty trade list, NaN net pips and a non-positive entry price', () => {
    expect(() => tradeGains(new TradeLog(), { pipSize: 0.01, units: 1 })).toThrow(/empty trade list/);
    const nan = log([[1, 0, 1, 150, 150.1]], (i) => T0 + i * MIN);
    nan.netPips[0] = NaN;
    expect(() => tradeGains(nan, { pipSize: 0.01, units: 1 })).toThrow(/trade #1: net pips NaN is not a finite number/);
    const zero = log([[1, 0, 1, 150, 150.1]], (i) => T0 + i * MIN);
    zero.entryPrice[0] = 0;
    expect(() => tradeGains(zero, { pipSize: 0.01, units: 1 })).toThrow(MonteCarloInputError);
    expect(() => tradeGains(zero, { pipSize: 0, units: 1 })).toThrow(/pip size must be a number > 0/);
  });
});

describe('daily marked-to-market gains', () => {
  it('count every day of the run, days without a trade as 0', () => {
    const t = log([[1, 0, 10, 150, 150.3]], (i) => T0 + i * MIN);
    const day0 = Math.floor(T0 / DAY);
    const d = dailyGains(t, { pipSize: 0.01, units: 1, days: [day0, day0 + 1, day0 + 2] });
    expect(d.day).toEqual([day0, day0 + 1, day0 + 2]);
    expect(d.gains[0]).toBeCloseTo((26 * 0.01) / 150, 15);
    expect(d.gains[1]).toBe(0);
    expect(d.gains[2]).toBe(0);
  });

  it('split a trade held over midnight at the last close of each day; the parts add up to its net pips', () => {
    // Bars from 23:58 to 00:03: entry at 23:58 (open 150), close of 23:59 is 150.10, exit 00:02 at 150.30.
    const t0 = Date.UTC(2024, 0, 2, 23, 58);
    const rows = flatRows(6, 150).map((r, i) => [r[0], r[1], r[2], [150, 150.1, 150.2, 150.25, 150.3, 150.3][i]] as [number, number, number, number]);
    const bars = barsFrom(rows, t0);
    const t = log([[1, 0, 4, 150, 150.3]], (i) => t0 + i * MIN);
    const d = dailyGains(t, { pipSize: 0.01, units: 1, bars });
    const notional = 150 / 0.01;
    // Day 1: the move to 150.10 (10 pips) minus the whole 4-pip spread; day 2: the remaining 20 pips.
    expect(d.gains.length).toBe(2);
    expect(d.gains[0] * notional).toBeCloseTo(6, 9);
    expect(d.gains[1] * notional).toBeCloseTo(20, 9);
    expect((d.gains[0] + d.gains[1]) * notional).toBeCloseTo(t.netPips[0], 9);
    // Without bars the whole trade falls on its exit day.
    const plain = dailyGains(t, { pipSize: 0.01, units: 1 });
    expect(plain.gains.length).toBe(1);
    expect(plain.gains[0] * notional).toBeCloseTo(26, 9);
  });
});

describe('frequency and horizon', () => {
  it('measures market time from the episodes and the FX calendar (120 open hours a week)', () => {
    expect(openMinutesPerWeek({ closeMinute: 5 * 1440 + 21 * 60, openMinute: 21 * 60 })).toBe(7200);
    expect(marketMsPerYear()).toBeCloseTo(7200 * 60_000 * (365.25 / 7), 3);
    const bars = barsFrom(flatRows(100, 150));
    const ms = episodesMarketMs(bars, { start: Int32Array.of(0, 50), end: Int32Array.of(30, 80) }, 60_000);
    expect(ms).toBe(60 * 60_000);
  });

  it('falls back to six UTC days a week when only the days are known', () => {
    const f = runFrequency({ trades: 600, days: 313 });
    expect(f.basis).toBe('days');
    expect(f.years).toBeCloseTo(313 / FX_DAYS_PER_YEAR, 12);
    expect(f.tradesPerYear).toBeCloseTo(600 / f.years, 9);
    const e = runFrequency({ trades: 600, days: 60, marketYears: 0.25 });
    expect(e.basis).toBe('episodes');
    expect(e.tradesPerYear).toBe(2400);
    expect(e.daysPerYear).toBe(240);
  });

  it('sets the horizon to 2 years of the run\'s trades and switches to daily gains when that is too long (auto)', () => {
    const t = log(
      Array.from({ length: 50 }, (_, k) => [k % 2 ? 1 : -1, 10 * k, 10 * k + 5, 150, 150 + (k % 3 === 0 ? 0.1 : -0.05)] as [number, number, number, number, number]),
      (i) => T0 + i * 20 * MIN,
    );
    const days = Array.from({ length: 20 }, (_, k) => Math.floor(T0 / DAY) + k);
    // 50 trades in 0.1 market years: 500 trades a year, 1000 draws for 2 years.
    const trade = runGains(t, { pipSize: 0.01, units: 1, mode: 'auto', forecastYears: 2, maxTradeForecast: 5000, days, marketYears: 0.1 });
    expect(trade.mode).toBe('trade');
    expect(trade.periods_per_year).toBeCloseTo(500, 9);
    expect(trade.forecast).toBe(1000);
    expect(trade.gains.length).toBe(50);
    const daily = runGains(t, { pipSize: 0.01, units: 1, mode: 'auto', forecastYears: 2, maxTradeForecast: 999, days, marketYears: 0.1 });
    expect(daily.mode).toBe('daily');
    expect(daily.mode_reason).toContain('1000 draws (> 999)');
    expect(daily.gains.length).toBe(days.length);
    expect(daily.periods_per_year).toBeCloseTo(200, 9);
    expect(daily.forecast).toBe(400);
    // 1 pip per trade in gain units: per-trade, and per day (2.5 trades a day).
    expect(pipsToGain(1, trade, { pipSize: 0.01, units: 1 })).toBeCloseTo(0.01 / 150, 15);
    expect(pipsToGain(1, daily, { pipSize: 0.01, units: 1 })).toBeCloseTo((2.5 * 0.01) / 150, 15);
  });

  it('refuses a forecast of 0 years and a run without days', () => {
    const t = log([[1, 0, 1, 150, 150.1]], (i) => T0 + i * MIN);
    expect(() => runGains(t, { pipSize: 0.01, units: 1, mode: 'trade', forecastYears: 0, maxTradeForecast: 10, days: [1] })).toThrow(/forecast years must be a number > 0, got 0/);
    expect(() => runGains(t, { pipSize: 0.01, units: 1, mode: 'trade', forecastYears: 2, maxTradeForecast: 10, days: [] })).toThrow(/covers 0 days/);
  });

  it('a run without trades still has a length (0 trades a year) but no gains', () => {
    const f = runFrequency({ trades: 0, days: 60, marketYears: 0.25 });
    expect(f).toEqual({ years: 0.25, basis: 'episodes', tradesPerYear: 0, daysPerYear: 240 });
    expect(() => runFrequency({ trades: 1.5, days: 60 })).toThrow(/trades must be an integer >= 0, got 1.5/);
    expect(() => runGains(new TradeLog(), { pipSize: 0.01, units: 1, mode: 'daily', forecastYears: 2, maxTradeForecast: 10, days: [1, 2] })).toThrow(/empty trade list: the run closed no trade, there are no gains/);
  });
});
