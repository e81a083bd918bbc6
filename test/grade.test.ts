import { describe, it, expect } from 'vitest';
import { grade, GradeInputError, letterFor, type GradeInput } from '../src/validation/grade.js';

/** A strategy that clears every default gate comfortably. */
const strong: GradeInput = {
  trades: 400,
  winRate: 0.55,
  profitFactor: 2.1,
  expectancyPips: 6,
  avgLossPips: -10,
  car25: 45,
  safeF: 2.5,
  dd95: 0.12,
  ddTolerance: 0.1,
  profitableDayShare: 0.7,
};

const gate = (g: ReturnType<typeof grade>, name: string) => g.gates.find((x) => x.name === name)!;

describe('composite score', () => {
  it('weights the four sub-scores 30/30/20/20 as defined', () => {
    const g = grade(strong);
    const by = Object.fromEntries(g.components.map((c) => [c.name, c]));
    // E_R = 6 / 10 = 0.6 R >= 0.5 R → 100; CAR25 45 % >= 30 % → 100; 70 % profitable days → 100;
    // DD95 12 % between tolerance 10 % and gate 25 % → (25 - 12) / 15 = 86.67.
    expect(by.expectancy.input).toBeCloseTo(0.6, 12);
    expect(by.expectancy.score).toBe(100);
    expect(by.risk_adjusted_return.score).toBe(100);
    expect(by.consistency.score).toBe(100);
    expect(by.drawdown_control.score).toBeCloseTo((100 * 13) / 15, 9);
    expect(g.score).toBeCloseTo(30 + 30 + 20 + 0.2 * ((100 * 13) / 15), 9);
    expect(g.components.map((c) => c.weight)).toEqual([0.3, 0.3, 0.2, 0.2]);
    for (const c of g.components) expect(c.definition.length).toBeGreaterThan(20);
  });

  it('scales each sub-score linearly between its anchors', () => {
    const g = grade({ ...strong, expectancyPips: 2.5, car25: 15, profitableDayShare: 0.525, dd95: 0.175 });
    const s = Object.fromEntries(g.components.map((c) => [c.name, c.score]));
    expect(s.expectancy).toBeCloseTo(50, 9); // 0.25 R
    expect(s.risk_adjusted_return).toBeCloseTo(50, 9); // 15 % of 30 %
    expect(s.consistency).toBeCloseTo(50, 9); // halfway from 40 % to 65 %
    expect(s.drawdown_control).toBeCloseTo(50, 9); // halfway from 10 % to 25 %
    expect(g.score).toBeCloseTo(50, 9);
    expect(g.letter).toBe('D');
  });

  it('letters: A+ >= 90, A >= 80, B >= 70, C >= 60, D >= 50, F below', () => {
    expect([95, 90, 89.99, 80, 79.9, 70, 69.9, 60, 59.9, 50, 49.9, 0].map(letterFor)).toEqual(['A+', 'A+', 'A', 'A', 'B', 'B', 'C', 'C', 'D', 'D', 'F', 'F']);
  });
});

describe('recommendation and gates', () => {
  it('DEPLOY when every gate passes and the score is high enough', () => {
    const g = grade(strong);
    expect(g.failed_gates).toEqual([]);
    expect(g.gates.every((x) => x.passed && x.reason === null)).toBe(true);
    expect(g.recommendation).toBe('DEPLOY');
    expect(g.letter).toBe('A+');
  });

  it('IMPROVE with an edge but failing gates, naming each failed gate and why', () => {
    const g = grade({ ...strong, car25: 9.5, winRate: 0.35, profitFactor: 1.2, dd95: 0.31 });
    expect(g.recommendation).toBe('IMPROVE');
    expect(g.failed_gates.map((x) => x.name).sort()).toEqual(['max_dd95', 'min_car25', 'min_profit_factor', 'min_win_rate']);
    expect(gate(g, 'min_car25').reason).toBe('CAR25 9.5% is below 15%');
    expect(gate(g, 'max_dd95').reason).toBe('drawdown 31.0% exceeds 25% under stress');
    expect(gate(g, 'min_profit_factor').reason).toBe('profit factor 1.20 is below 1.5');
    expect(gate(g, 'min_win_rate').reason).toBe('win rate 35.0% is below 40%');
    expect(g.rationale).toContain('4 gates fail');
  });

  it('TEST when only the sample is too small, or when the score is below the deploy minimum', () => {
    const few = grade({ ...strong, trades: 12 });
    expect(few.recommendation).toBe('TEST');
    expect(few.failed_gates.map((x) => x.name)).toEqual(['min_trades']);
    expect(few.failed_gates[0].reason).toBe('12 trades are fewer than 30: too small a sample');
    const lukewarm = grade({ ...strong, expectancyPips: 1, car25: 16, profitableDayShare: 0.45, dd95: 0.24 });
    expect(lukewarm.failed_gates).toEqual([]);
    expect(lukewarm.score).toBeLessThan(70);
    expect(lukewarm.recommendation).toBe('TEST');
  });

  it('REJECT without an edge: non-positive expectancy, or a safe-f / CAR25 that is not positive', () => {
    expect(grade({ ...strong, expectancyPips: -0.5 }).recommendation).toBe('REJECT');
    const zeroF = grade({ ...strong, safeF: 0, car25: 0 });
    expect(zeroF.recommendation).toBe('REJECT');
    expect(gate(zeroF, 'min_car25').reason).toBe('safe-f is 0: no position size grows equity');
    expect(gate(zeroF, 'max_dd95').passed).toBe(false);
    expect(grade({ ...strong, car25: -3 }).recommendation).toBe('REJECT');
  });

  it('REJECT with score 0 when no trade closed, every gate failing for that reason', () => {
    // What validate.ts passes for a run that never traded: undefined trade figures, a flat account.
    const none: GradeInput = { trades: 0, winRate: null, profitFactor: null, expectancyPips: null, avgLossPips: null, car25: 0, safeF: 0, dd95: 0, ddTolerance: 0.1, profitableDayShare: null, sessions: 135 };
    const g = grade(none);
    expect(g.recommendation).toBe('REJECT');
    expect(g.rationale).toBe('no trade closed over 135 sessions: nothing to size, nothing to deploy');
    expect(g.score).toBe(0);
    expect(g.letter).toBe('F');
    expect(g.components.map((c) => c.score)).toEqual([0, 0, 0, 0]);
    expect(g.failed_gates.map((x) => x.name)).toEqual(['min_car25', 'max_dd95', 'min_profit_factor', 'min_win_rate', 'min_trades']);
    for (const x of g.failed_gates) expect(x.reason).toMatch(/^no trade closed: /);
    expect(gate(g, 'min_trades').value).toBe(0);
    // No tradable size: the drawdown is not measured, not 0.
    expect(gate(g, 'max_dd95').value).toBeNull();
    expect(g.components[3].input).toBeNull();
    // Even with the trade-count gate switched off, nothing closed is never anything but REJECT.
    expect(grade(none, { gates: { min_trades: 0 } }).recommendation).toBe('REJECT');
    expect(grade({ ...none, sessions: undefined }).rationale).toBe('no trade closed: nothing to size, nothing to deploy');
  });

  it('gates are configurable', () => {
    const g = grade(strong, { gates: { min_car25: 50, min_trades: 500 }, deployMinScore: 99 });
    expect(g.failed_gates.map((x) => x.name)).toEqual(['min_car25', 'min_trades']);
    expect(gate(g, 'min_car25').threshold).toBe(50);
    expect(g.recommendation).toBe('IMPROVE');
    expect(grade(strong, { deployMinScore: 99 }).recommendation).toBe('TEST');
  });

  it('a run without losing trades: profit factor undefined passes on a positive expectancy', () => {
    const g = grade({ ...strong, profitFactor: null, avgLossPips: null });
    expect(gate(g, 'min_profit_factor').passed).toBe(true);
    expect(g.components[0].input).toBeNull();
    expect(g.components[0].score).toBe(100);
  });
});

describe('bad grade inputs', () => {
  it.each<[string, Partial<GradeInput>, RegExp]>([
    ['NaN CAR25', { car25: NaN }, /car25 must be a finite number, got NaN/],
    ['infinite drawdown', { dd95: Infinity }, /dd95 must be a finite number/],
    ['NaN win rate', { winRate: NaN }, /winRate must be a finite number or null/],
    ['negative trade count', { trades: -1 }, /trades must be an integer >= 0/],
    ['tolerance outside (0, 1)', { ddTolerance: 1.5 }, /ddTolerance must be in \(0, 1\), got 1.5/],
    ['a fractional session count', { sessions: 2.5 }, /sessions must be an integer >= 0, got 2.5/],
  ])('refuses %s', (_what, bad, msg) => {
    expect(() => grade({ ...strong, ...bad })).toThrow(GradeInputError);
    expect(() => grade({ ...strong, ...bad })).toThrow(msg);
  });
});
