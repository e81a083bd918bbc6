import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { HAS_SHARED, SHARED, tempDir } from './helpers/paths.js';
import {
  bootstrap,
  bootstrapAsync,
  MonteCarloInputError,
  readGainsFile,
  safeF,
  safeFAsync,
  scenarios,
  summarize,
  type SafeFResult,
} from '../src/validation/montecarlo.js';

const BANDY = path.join(SHARED, 'fixtures', 'bandy', 'trades.csv');

/** Deterministic normal sample (mulberry32 + Box-Muller), independent of the native RNG. */
function normalGains(n: number, mean: number, sd: number, seed = 7): Float64Array {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return Float64Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

const sameBits = (a: Float64Array, b: Float64Array) => Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer)) === 0;
const figures = (r: SafeFResult) => r.repeats.map(({ seconds: _s, ...rest }) => rest);

describe("safe-f on Bandy's reference trades", () => {
  it.skipIf(!HAS_SHARED)("agrees with his published figures (safe-f 3.630 within 3%, CAR25 134.9 within 5%)", () => {
    const gains = readGainsFile(BANDY);
    expect(gains.length).toBe(1000);
    const r = safeF(gains, { forecast: 500, curves: 1000, tolerance: 0.1, tail: 5, accuracy: 0.003, repeats: 5, seed: 1 });
    expect(Math.abs(r.safe_f_mean - 3.63) / 3.63).toBeLessThan(0.03);
    expect(Math.abs(r.car25_mean - 134.9) / 134.9).toBeLessThan(0.05);
    // Each repeat met the accuracy, and an independent batch at its safe-f sees about the tolerance.
    for (const rep of r.repeats) {
      expect(['converged', 'bisection']).toContain(rep.status);
      expect(Math.abs(rep.tail_risk - 0.1)).toBeLessThan(0.003);
      expect(Math.abs(rep.tail_risk_check - 0.1)).toBeLessThan(0.015);
    }
    // Spread over repeats is of the size Bandy reports (sd 0.055 and 2.1), not zero and not wild.
    expect(r.safe_f_sd).toBeGreaterThan(0.005);
    expect(r.safe_f_sd).toBeLessThan(0.25);
    expect(r.note).toBeNull();
    // The pooled 95th percentile of drawdown at safe-f is the tolerance, up to sampling error.
    expect(Math.abs(r.dd_percentiles.p95 - 0.1)).toBeLessThan(0.01);
    expect(r.car_percentiles.p25).toBeCloseTo(100 * (Math.pow(r.twr_percentiles.p25, 252 / 500) - 1), 9);
  });

  it.skipIf(!HAS_SHARED)('the async variant gives the same figures as the sync one', async () => {
    const gains = readGainsFile(BANDY);
    const a = safeF(gains, { repeats: 2, seed: 3 });
    const b = await safeFAsync(gains, { repeats: 2, seed: 3 });
    expect(figures(b)).toEqual(figures(a));
  });
});

describe('bootstrap curves: analytic cases', () => {
  it('constant gains: no drawdown and TWR exactly (1 + f g)^n', () => {
    const g = 0.004;
    const f = 2.5;
    const n = 400;
    const r = bootstrap(new Float64Array(50).fill(g), { f, forecast: n, curves: 64, seed: 5 });
    const exact = Math.pow(1 + f * g, n);
    for (let c = 0; c < 64; c++) {
      expect(Math.abs(r.twr[c] / exact - 1)).toBeLessThan(1e-12);
      expect(r.max_dd[c]).toBe(0);
    }
    expect(r.dd_percentiles.p95).toBe(0);
    expect(r.car_percentiles.p50).toBeCloseTo(100 * (Math.pow(1 + f * g, 252) - 1), 8);
  });

  it('a constant loss: drawdown is 1 - TWR; a loss beyond 1/f ruins the curve (TWR 0, drawdown 1)', () => {
    const r = bootstrap([-0.02], { f: 1, forecast: 30, curves: 3 });
    const twr = Math.pow(0.98, 30);
    expect(r.twr[0]).toBeCloseTo(twr, 13);
    expect(r.max_dd[0]).toBeCloseTo(1 - twr, 13);
    const ruined = bootstrap([0.01, -0.3], { f: 4, forecast: 200, curves: 10 });
    expect(Array.from(ruined.twr)).toEqual(new Array(10).fill(0));
    expect(Array.from(ruined.max_dd)).toEqual(new Array(10).fill(1));
  });

  for (const forecast of [2, 3]) {
    it(`a two-point distribution over ${forecast} draws matches the exact drawdown and TWR distributions`, () => {
      // Gains +10% / -5% with probability 1/2 each, at f = 1: enumerate all 2^n equally likely paths.
      const up = 0.1;
      const down = -0.05;
      const exactDd = new Map<string, number>();
      const exactTwr = new Map<string, number>();
      for (let mask = 0; mask < 1 << forecast; mask++) {
        let eq = 1;
        let peak = 1;
        let dd = 0;
        for (let i = 0; i < forecast; i++) {
          eq *= 1 + ((mask >> i) & 1 ? up : down);
          peak = Math.max(peak, eq);
          dd = Math.max(dd, (peak - eq) / peak);
        }
        const kd = dd.toFixed(9);
        const kt = eq.toFixed(9);
        exactDd.set(kd, (exactDd.get(kd) ?? 0) + 1 / (1 << forecast));
        exactTwr.set(kt, (exactTwr.get(kt) ?? 0) + 1 / (1 << forecast));
      }
      expect(exactDd.size).toBeGreaterThan(2); // several distinct drawdowns: a real distribution check
      const curves = 40_000;
      const r = bootstrap([up, down], { f: 1, forecast, curves, seed: 11 });
      const count = (values: Float64Array) => {
        const m = new Map<string, number>();
        for (const v of values) m.set(v.toFixed(9), (m.get(v.toFixed(9)) ?? 0) + 1);
        return m;
      };
      for (const [exact, observed] of [
        [exactDd, count(r.max_dd)],
        [exactTwr, count(r.twr)],
      ] as const) {
        // Every simulated value is one of the enumerated outcomes ...
        for (const k of observed.keys()) expect(exact.has(k), `unexpected outcome ${k}`).toBe(true);
        // ... with its exact probability, within 4.5 binomial standard errors.
        for (const [k, p] of exact) {
          const freq = (observed.get(k) ?? 0) / curves;
          expect(Math.abs(freq - p)).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / curves));
        }
      }
    });
  }

  it('equity paths start at 1, end at the TWR and reproduce the max drawdown', () => {
    const gains = normalGains(200, 0.001, 0.01);
    const forecast = 60;
    const r = bootstrap(gains, { f: 3, forecast, curves: 25, seed: 2, paths: true });
    expect(r.paths).not.toBeNull();
    expect(r.paths!.length).toBe(25 * (forecast + 1));
    const without = bootstrap(gains, { f: 3, forecast, curves: 25, seed: 2 });
    expect(sameBits(r.twr, without.twr)).toBe(true);
    for (let c = 0; c < 25; c++) {
      const row = r.paths!.subarray(c * (forecast + 1), (c + 1) * (forecast + 1));
      expect(row[0]).toBe(1);
      expect(row[forecast]).toBe(r.twr[c]);
      let peak = 1;
      let dd = 0;
      for (const e of row) {
        peak = Math.max(peak, e);
        dd = Math.max(dd, (peak - e) / peak);
      }
      expect(dd).toBeCloseTo(r.max_dd[c], 12);
    }
  });

  it('percentiles interpolate linearly between ranks (numpy default)', () => {
    const s = summarize(Float64Array.from([4, 1, 3, 2]), Float64Array.from([0.4, 0.1, 0.3, 0.2]), 252, { percentiles: [0, 25, 50, 95, 100] });
    expect(Object.keys(s.twr_percentiles)).toEqual(['p0', 'p25', 'p50', 'p95', 'p100']);
    expect([s.twr_percentiles.p0, s.twr_percentiles.p25, s.twr_percentiles.p50, s.twr_percentiles.p100]).toEqual([1, 1.75, 2.5, 4]);
    expect(s.twr_percentiles.p95).toBeCloseTo(3.85, 14);
    expect(s.dd_percentiles.p25).toBeCloseTo(0.175, 15);
    expect(s.car_percentiles.p50).toBeCloseTo(150, 10); // TWR 2.5 over exactly one year
  });
});

describe('reproducibility', () => {
  const gains = normalGains(500, 0.0008, 0.006);

  it('the same seed gives bit-identical curves; another seed other curves', () => {
    const a = bootstrap(gains, { f: 2, forecast: 300, curves: 500, seed: 9 });
    const b = bootstrap(gains, { f: 2, forecast: 300, curves: 500, seed: 9 });
    const c = bootstrap(gains, { f: 2, forecast: 300, curves: 500, seed: 10 });
    expect(sameBits(a.twr, b.twr) && sameBits(a.max_dd, b.max_dd)).toBe(true);
    expect(sameBits(a.twr, c.twr)).toBe(false);
  });

  it('results do not depend on the thread count (bit-identical)', async () => {
    const one = bootstrap(gains, { f: 2, forecast: 300, curves: 777, seed: 4, threads: 1, paths: true });
    for (const threads of [2, 3, 8]) {
      const many = await bootstrapAsync(gains, { f: 2, forecast: 300, curves: 777, seed: 4, threads, paths: true });
      expect(sameBits(one.twr, many.twr), `twr, ${threads} threads`).toBe(true);
      expect(sameBits(one.max_dd, many.max_dd), `max_dd, ${threads} threads`).toBe(true);
      expect(sameBits(one.paths!, many.paths!), `paths, ${threads} threads`).toBe(true);
    }
    const s1 = safeF(gains, { repeats: 3, seed: 8, threads: 1, keepCurves: true });
    const s3 = safeF(gains, { repeats: 3, seed: 8, threads: 3, keepCurves: true });
    expect(figures(s3)).toEqual(figures(s1));
    expect(sameBits(s1.curves_data!.twr, s3.curves_data!.twr)).toBe(true);
    expect(s3.dd_percentiles).toEqual(s1.dd_percentiles);
  });

  it('safe-f with the same seed repeats exactly; repeats within a run differ', () => {
    const a = safeF(gains, { repeats: 4, seed: 21 });
    const b = safeF(gains, { repeats: 4, seed: 21 });
    expect(figures(a)).toEqual(figures(b));
    expect(new Set(a.repeats.map((r) => r.safe_f)).size).toBe(4);
  });
});

describe('safe-f on degenerate trade lists', () => {
  it('all-negative gains: safe-f is 0, reported as such, without iterating', () => {
    const r = safeF([-0.01, -0.003, -0.02, -0.0005], { repeats: 3 });
    expect(r.safe_f_mean).toBe(0);
    expect(r.safe_f_sd).toBe(0);
    expect(r.car25_mean).toBe(0);
    expect(r.status).toBe('no_positive_gains');
    expect(r.note).toMatch(/safe-f is 0/);
    expect(r.repeats.every((x) => x.evaluations === 0)).toBe(true);
  });

  it('safe-f tends to 0 as the only winner becomes rarer among losers', () => {
    // One +2% winner among k losers of -0.5%: with more losers the drawdown grows faster with f.
    const fs = [4, 16, 64].map((k) => safeF([0.02, ...new Array(k).fill(-0.005)], { repeats: 2, forecast: 200 }).safe_f_mean);
    expect(fs[0]).toBeGreaterThan(fs[1]);
    expect(fs[1]).toBeGreaterThan(fs[2]);
    expect(fs[2]).toBeLessThan(0.15);
  });

  it('no losing trade: drawdown never reaches the tolerance, safe-f is the max-f cap and flagged', () => {
    const g = 0.002;
    const r = safeF(new Float64Array(10).fill(g), { repeats: 2, maxF: 20 });
    expect(r.status).toBe('unbounded');
    expect(r.safe_f_mean).toBe(20);
    expect(r.note).toMatch(/cap/);
    expect(r.dd_percentiles.p95).toBe(0);
    // CAR25 of a constant gain at f = 20 over 500 draws, 252 a year.
    expect(r.car25_mean).toBeCloseTo(100 * (Math.pow(1 + 20 * g, 252) - 1), 6);
  });
});

describe('stress scenarios', () => {
  const gains = normalGains(1000, 0.001, 0.003, 3);
  const run = scenarios(gains, { repeats: 3, seed: 5, adverseGain: 0.0003 });
  const by = Object.fromEntries(run.scenarios.map((s) => [s.name, s]));

  it('lists every scenario beside the original, with its own trades and forecast', () => {
    expect(run.scenarios.map((s) => s.name)).toEqual(['original', 'drop_random', 'drop_best_winners', 'longer_forecast', 'adverse', 'early_stop']);
    expect(by.original.trades).toBe(1000);
    expect(by.drop_random.trades).toBe(900);
    const winners = gains.filter((g) => g > 0).length;
    expect(by.drop_best_winners.trades).toBe(1000 - Math.ceil(0.2 * winners));
    expect(by.longer_forecast.forecast).toBe(750);
    expect(by.early_stop.forecast).toBe(250);
    expect(by.adverse.param).toBe(0.0003);
    expect(run.original_safe_f).toBe(by.original.safe_f.safe_f_mean);
  });

  it('curves at the original safe-f share their draws, so prefixes and shifts compare curve by curve', () => {
    const o = by.original.at_original_f!;
    // Early stop = the first half of the same curves: never a deeper drawdown.
    const early = by.early_stop.at_original_f!;
    const longer = by.longer_forecast.at_original_f!;
    for (let c = 0; c < o.curves; c++) {
      expect(early.max_dd[c]).toBeLessThanOrEqual(o.max_dd[c]);
      expect(longer.max_dd[c]).toBeGreaterThanOrEqual(o.max_dd[c]);
    }
    // Adverse: the same draws, each one worse, so every curve ends lower.
    const adv = by.adverse.at_original_f!;
    for (let c = 0; c < o.curves; c++) expect(adv.twr[c]).toBeLessThan(o.twr[c]);
  });

  it('removing the best winners or worsening every trade lowers safe-f and CAR25', () => {
    for (const name of ['drop_best_winners', 'adverse']) {
      expect(by[name].safe_f.car25_mean).toBeLessThan(by.original.safe_f.car25_mean);
      expect(by[name].safe_f.safe_f_mean).toBeLessThan(by.original.safe_f.safe_f_mean);
    }
  });

  it('drop-random is seeded: the same seed drops the same trades', () => {
    const again = scenarios(gains, { repeats: 1, seed: 5, only: ['drop_random'] });
    expect(again.scenarios[1].safe_f.repeats[0].safe_f).toBe(by.drop_random.safe_f.repeats[0].safe_f);
  });
});

describe('bad inputs are rejected with a clear error', () => {
  const g = [0.01, -0.005];
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['an empty trade list', () => safeF([]), /empty trade list/],
    ['a NaN gain', () => safeF([0.01, NaN]), /gain #2 is NaN/],
    ['an infinite gain', () => bootstrap([Infinity], { f: 1 }), /gain #1 is Infinity/],
    ['a forecast of 0', () => safeF(g, { forecast: 0 }), /forecast must be an integer >= 1, got 0/],
    ['a fractional forecast', () => bootstrap(g, { f: 1, forecast: 2.5 }), /forecast must be an integer/],
    ['f = 0', () => bootstrap(g, { f: 0 }), /f must be a number > 0, got 0/],
    ['f < 0', () => bootstrap(g, { f: -1 }), /f must be a number > 0, got -1/],
    ['tolerance 0', () => safeF(g, { tolerance: 0 }), /drawdown tolerance must be in \(0, 1\), got 0/],
    ['tolerance 1', () => safeF(g, { tolerance: 1 }), /drawdown tolerance must be in \(0, 1\), got 1/],
    ['tolerance 1.5', () => safeF(g, { tolerance: 1.5 }), /drawdown tolerance must be in \(0, 1\)/],
    ['curves 0', () => safeF(g, { curves: 0 }), /curves must be an integer >= 1, got 0/],
    ['tail 0', () => safeF(g, { tail: 0 }), /tail percentage must be in \(0, 100\), got 0/],
    ['tail 100', () => safeF(g, { tail: 100 }), /tail percentage must be in \(0, 100\), got 100/],
    ['repeats 0', () => safeF(g, { repeats: 0 }), /repeats must be an integer >= 1/],
    ['a negative seed', () => safeF(g, { seed: -1 }), /seed must be an integer >= 0/],
  ];
  for (const [what, call, message] of cases) {
    it(`${what}`, () => {
      expect(call).toThrow(MonteCarloInputError);
      expect(call).toThrow(message);
    });
  }
});

describe('reading a trades file', () => {
  const { dir } = tempDir('swt-mc-');
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('reads one gain per line with an optional header, ignoring blank lines', () => {
    expect(Array.from(readGainsFile(file('a.csv', 'gain\n0.01\n-2.5e-3\n\n.5\n')))).toEqual([0.01, -0.0025, 0.5]);
    expect(Array.from(readGainsFile(file('b.csv', '1e-3\r\n-0.002\r\n')))).toEqual([0.001, -0.002]);
  });

  it('names the line of a non-numeric value, a NaN or a second column', () => {
    expect(() => readGainsFile(file('c.csv', 'gain\n0.01\nabc\n'))).toThrow(/c\.csv:3: not a finite number, got "abc"/);
    expect(() => readGainsFile(file('d.csv', '0.01\nNaN\n'))).toThrow(/d\.csv:2: not a finite number, got "NaN"/);
    expect(() => readGainsFile(file('e.csv', '0.01,2016-01-01\n'))).toThrow(/e\.csv:1: expected one number per line/);
  });

  it('rejects an empty file or a header with no gains', () => {
    expect(() => readGainsFile(file('f.csv', ''))).toThrow(/empty trade list/);
    expect(() => readGainsFile(file('g.csv', 'gain\n'))).toThrow(/empty trade list/);
    expect(() => readGainsFile(path.join(dir, 'missing.csv'))).toThrow(/cannot read trades file/);
  });
});
