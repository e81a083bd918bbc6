import { describe, it, expect } from 'vitest';
import {
  N_POSITION_FEATURES,
  POSITION_FEATURE_NAMES,
  squash,
} from '../src/features/position.js';
import { OnePosition } from './helpers/position.js';

const f = (v: number, s: number) => (2 / Math.PI) * Math.atan(v / s);
const named = (x: ArrayLike<number>) => Object.fromEntries(POSITION_FEATURE_NAMES.map((n, i) => [n, x[i]]));

describe('position features', () => {
  it('are nine named values, all zero when flat', () => {
    expect(N_POSITION_FEATURES).toBe(9);
    expect(POSITION_FEATURE_NAMES).toEqual([
      'current_equity_pips',
      'bars_since_entry',
      'position_efficiency',
      'pips_from_peak',
      'max_drawdown_pips',
      'amddp_reward',
      'is_long',
      'is_short',
      'has_position',
    ]);
    const p = new OnePosition(0.01, 4, 0.01);
    expect([...p.features()]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('squash is (2/π)·atan(v/s): ±s maps to ±0.5', () => {
    expect(squash(150, 150)).toBeCloseTo(0.5, 15);
    expect(squash(-2000, 2000)).toBeCloseTo(-0.5, 15);
    expect(squash(0, 150)).toBe(0);
  });

  it('follow a hand-computed long trade bar by bar (GBP_JPY: pip 0.01, spread 4, penalty 0.01)', () => {
    const p = new OnePosition(0.01, 4, 0.01, 1);
    p.open(1, 150.0);
    // Right after the fill: both half-spreads counted, nothing marked yet.
    expect(p.snapshot()).toMatchObject({ side: 1, currentPips: -4, peakPips: -4, troughPips: -4, maxDrawdownPips: 0, maePips: 0, mfePips: 0, barsHeld: 0 });

    // Bar 1: high +10 pips, low −5, close +6 → current = 6 − 4 = 2, peak 2, trough −4.
    p.mark(150.1, 149.95, 150.06);
    let s = p.snapshot();
    expect(s.currentPips).toBeCloseTo(2, 9);
    expect(s.peakPips).toBeCloseTo(2, 9);
    expect(s.troughPips).toBe(-4);
    expect(s.maePips).toBeCloseTo(5, 9);
    expect(s.mfePips).toBeCloseTo(10, 9);
    expect(s.barsHeld).toBe(1);
    let x = named(p.features(new Float64Array(9)));
    expect(x.current_equity_pips).toBeCloseTo(f(2, 150), 12);
    expect(x.bars_since_entry).toBeCloseTo(f(1, 2000), 12);
    expect(x.position_efficiency).toBeCloseTo(2 / 4, 12); // 2 / max(2, |−4|, 1)
    expect(x.pips_from_peak).toBeCloseTo(0, 12);
    expect(x.max_drawdown_pips).toBeCloseTo(0, 12);
    expect(x.amddp_reward).toBeCloseTo(f(2 - 0.01 * 5, 150), 12);
    expect([x.is_long, x.is_short, x.has_position]).toEqual([1, 0, 1]);

    // Bar 2: high +8, low −20, close −15 → current −19, trough −19, drawdown 2 − (−19) = 21, MAE 20.
    p.mark(150.08, 149.8, 149.85);
    s = p.snapshot();
    expect(s.currentPips).toBeCloseTo(-19, 9);
    expect(s.troughPips).toBeCloseTo(-19, 9);
    expect(s.maxDrawdownPips).toBeCloseTo(21, 9);
    expect(s.maePips).toBeCloseTo(20, 9);
    x = named(p.features(new Float64Array(9)));
    expect(x.current_equity_pips).toBeCloseTo(f(-19, 150), 12);
    expect(x.bars_since_entry).toBeCloseTo(f(2, 2000), 12);
    expect(x.position_efficiency).toBeCloseTo(-1, 12); // −19 / max(2, 19, 1)
    expect(x.pips_from_peak).toBeCloseTo(f(21, 150), 12);
    expect(x.max_drawdown_pips).toBeCloseTo(f(21, 150), 12);
    expect(x.amddp_reward).toBeCloseTo(f(-19 - 0.2, 150), 12);

    // Bar 3: high +30, low −16, close +25 → current 21 = new peak; drawdown stays 21; MFE 30.
    p.mark(150.3, 149.84, 150.25);
    s = p.snapshot();
    expect(s.currentPips).toBeCloseTo(21, 9);
    expect(s.peakPips).toBeCloseTo(21, 9);
    expect(s.maxDrawdownPips).toBeCloseTo(21, 9);
    expect(s.mfePips).toBeCloseTo(30, 9);
    x = named(p.features(new Float64Array(9)));
    expect(x.position_efficiency).toBeCloseTo(1, 12); // 21 / max(21, 19, 1)
    expect(x.pips_from_peak).toBeCloseTo(0, 12);
    expect(x.max_drawdown_pips).toBeCloseTo(f(21, 150), 12);
    expect(x.amddp_reward).toBeCloseTo(f(21 - 0.2, 150), 12);

    // Close at 150.20: gross 20, net 16, MAE 20 / MFE 30 over the held bars, 3 bars held; then flat.
    const c = p.close(150.2);
    expect(c.grossPips).toBeCloseTo(20, 9);
    expect(c.netPips).toBeCloseTo(16, 9);
    expect(c.maePips).toBeCloseTo(20, 9);
    expect(c.mfePips).toBeCloseTo(30, 9);
    expect(c.barsHeld).toBe(3);
    expect([...p.features()]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('count pips for the whole position and mirror for a short (2 units: 8 pips of spread)', () => {
    const p = new OnePosition(0.01, 4, 0.01, 2);
    p.open(-1, 150.0);
    expect(p.snapshot().currentPips).toBe(-8);
    // A short gains when the price falls: high +5 pips is adverse (10 for 2 units), low −10 favourable (20).
    p.mark(150.05, 149.9, 149.93);
    const s = p.snapshot();
    expect(s.currentPips).toBeCloseTo(2 * 7 - 8, 9);
    expect(s.maePips).toBeCloseTo(10, 9);
    expect(s.mfePips).toBeCloseTo(20, 9);
    const x = named(p.features(new Float64Array(9)));
    expect([x.is_long, x.is_short, x.has_position]).toEqual([0, 1, 1]);
    expect(x.position_efficiency).toBeCloseTo(6 / 8, 12); // 6 / max(6, |−8|, 1)
    expect(x.amddp_reward).toBeCloseTo(f(6 - 0.01 * 10, 150), 12);
  });

  it('floors the efficiency denominator at 1 pip and clips it to [−1, 1]', () => {
    const p = new OnePosition(0.01, 0, 0);
    p.open(1, 150.0);
    p.mark(150.005, 150.0, 150.005); // +0.5 pip, peak 0.5, trough 0
    expect(named(p.features(new Float64Array(9))).position_efficiency).toBeCloseTo(0.5, 12);
    p.mark(150.005, 149.9, 149.9); // −10: trough −10 → −10 / 10
    expect(named(p.features(new Float64Array(9))).position_efficiency).toBeCloseTo(-1, 12);
  });

  it('count a gap through the exit fill in MAE (the exit price is an excursion too)', () => {
    const p = new OnePosition(0.01, 4, 0.01);
    p.open(1, 150.0);
    p.mark(150.02, 149.98, 150.0); // MAE 2
    const c = p.close(149.7); // gap down to the next open: 30 pips against
    expect(c.maePips).toBeCloseTo(30, 9);
    expect(c.netPips).toBeCloseTo(-34, 9);
  });

  it('bars_since_entry uses s = 2000 and the pip scales s = 150', () => {
    const p = new OnePosition(0.01, 0, 0);
    p.open(1, 100);
    for (let i = 0; i < 2000; i++) p.mark(101.5, 100, 101.5); // +150 pips, held 2000 bars
    const x = named(p.features(new Float64Array(9)));
    expect(x.bars_since_entry).toBeCloseTo(0.5, 12);
    expect(x.current_equity_pips).toBeCloseTo(0.5, 12);
    expect(x.amddp_reward).toBeCloseTo(0.5, 12);
  });
});
