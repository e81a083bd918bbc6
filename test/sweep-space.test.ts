// The pieces of `swt sweep` that need no market: the Sobol' generator (against scipy's points), the
// space file (parsing, errors that name the file and the field, values from unit coordinates, draws),
// successive halving and the templates.
import { describe, it, expect, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Sobol } from '../src/validation/sweep/sobol.js';
import { drawRound, loadSpace, parseSpace, SpaceError, valueAt, type Space } from '../src/validation/sweep/space.js';
import { championOf, keptCount, stageBudgets, survivors, type Evaluation } from '../src/validation/sweep/halving.js';
import { templates, sweepStageStats } from '../src/validation/sweep/templates.js';
import { exitCodeFor } from '../src/util/errors.js';
import { tempDir } from './helpers/paths.js';

const tmp = tempDir('swt-sweep-space-');
afterAll(() => tmp.cleanup());

describe('Sobol sequence', () => {
  // scipy.stats.qmc.Sobol(d, scramble=False, bits=32).random(n)[i] (scipy 1.17.1).
  const SCIPY: Array<[number, number[]]> = [
    [0, [0, 0, 0, 0, 0, 0]],
    [1, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]],
    [2, [0.75, 0.25, 0.25, 0.25, 0.75, 0.75]],
    [4, [0.375, 0.375, 0.625, 0.875, 0.375, 0.125]],
    [8, [0.1875, 0.3125, 0.9375, 0.4375, 0.5625, 0.3125]],
    [15, [0.0625, 0.9375, 0.5625, 0.3125, 0.6875, 0.1875]],
    [100, [0.4140625, 0.2578125, 0.7734375, 0.7265625, 0.8828125, 0.7421875, 0.0234375, 0.4765625, 0.6328125, 0.6953125]],
    [1000, [0.2197265625, 0.0966796875, 0.5185546875, 0.6767578125, 0.2802734375, 0.9072265625, 0.0458984375, 0.8994140625, 0.5009765625, 0.0693359375, 0.0849609375, 0.2548828125]],
    [
      4096,
      [0.0003662109375, 0.4705810546875, 0.8358154296875, 0.6204833984375, 0.1649169921875, 0.5428466796875, 0.7086181640625, 0.8367919921875, 0.6629638671875, 0.9947509765625, 0.8450927734375, 0.1112060546875],
    ],
  ];

  it("equals scipy's unscrambled points in every dimension it has (up to 12)", () => {
    for (const [i, want] of SCIPY) expect(new Sobol(want.length).point(i)).toEqual(want);
  });

  it('keeps its stratification under the seeded digital shift: 2^m points fill each of 2^m cells of every axis once', () => {
    const a = new Sobol(3, 7);
    const b = new Sobol(3, 8);
    expect(a.point(5)).not.toEqual(b.point(5));
    expect(a.point(5)).toEqual(new Sobol(3, 7).point(5));
    for (const s of [a, b]) {
      for (let d = 0; d < 3; d++) {
        const cells = new Set(Array.from({ length: 64 }, (_v, i) => Math.floor(s.point(i)[d] * 64)));
        expect(cells.size).toBe(64);
      }
    }
  });

  it('refuses more dimensions than it has direction numbers for', () => {
    expect(() => new Sobol(13)).toThrow(/1 to 12 dimensions/);
  });
});

const BASE = {
  policy: 'mean-reversion',
  out_of_sample: { from: '2024-01-15', to: '2024-02-29' },
  params: {
    window: { type: 'int', min: 20, max: 300, log: true },
    entry_z: { type: 'float', min: 1, max: 3.5 },
    exit_z: { choices: [0, 0.5, 1] },
  },
  sampler: { kind: 'sobol', seed: 3 },
  trials: 16,
  stages: [{ sessions: 10 }, { sessions: 40 }, { sessions: 'all' }],
};

const space = (over: Record<string, unknown> = {}): Space => parseSpace('space.yaml', { ...BASE, ...over });

describe('space file', () => {
  it('parses a file: defaults filled in, a stable hash, the searched keys in file order', () => {
    const file = path.join(tmp.dir, 'mr.yaml');
    writeFileSync(file, 'policy: mean-reversion\nout_of_sample: { from: "2024-01-15" }\nparams:\n  entry_z: { type: float, min: 1, max: 3 }\n  window: { choices: [30, 60] }\ntrials: 8\nstages: [ { sessions: 5 }, { sessions: all } ]\n');
    const s = loadSpace(file);
    expect(s.name).toBe('mr');
    expect(s.keys).toEqual(['entry_z', 'window']);
    expect(s.doc).toMatchObject({ keep: 0.25, rounds: 1, workers: 0, sampler: { kind: 'sobol', seed: 1 }, scoring: { scenarios: 'none' }, fixed: {} });
    expect(s.outOfSample.from?.toISOString()).toBe('2024-01-15T00:00:00.000Z');
    expect(s.outOfSample.to).toBeNull();
    expect(s.holdout).toBeNull();
    expect(space({ holdout: { from: '2024-03-01' } }).holdout?.from?.toISOString()).toBe('2024-03-01T00:00:00.000Z');
    expect(loadSpace(file).hash).toBe(s.hash);
    expect(space().hash).not.toBe(space({ keep: 0.5 }).hash);
  });

  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an unknown field', { trails: 3 }, /space\.yaml[\s\S]*trails/],
    ['a parameter the policy does not have', { params: { windw: { type: 'int', min: 2, max: 9 } } }, /space\.yaml: params\.windw: policy 'mean-reversion' has no parameter 'windw' \(its parameters: window, entry_z, exit_z\)/],
    ['a range outside the declared bounds', { params: { window: { type: 'int', min: 1, max: 9 } } }, /params\.window: \[1, 9\] is outside the declared bounds/],
    ['a float range for an integer parameter', { params: { window: { type: 'float', min: 2, max: 9 } } }, /params\.window\.type: 'window' is an integer parameter/],
    ['a log scale from 0', { params: { exit_z: { type: 'float', min: 0, max: 1, log: true } } }, /params\.exit_z\.log: a log scale needs min > 0/],
    ['max not above min', { params: { entry_z: { type: 'float', min: 2, max: 2 } } }, /params\.entry_z\.max: expected max > min/],
    ['a bad choice', { params: { window: { choices: [30, 2.5] } } }, /params\.window\.choices: 2\.5 must be an integer/],
    ['stages that do not grow', { stages: [{ sessions: 40 }, { sessions: 10 }] }, /stages\.1\.sessions: stages must grow/],
    ['a sobol sampler without trials', { trials: undefined }, /space\.yaml: trials: expected the number of configurations/],
    ['a grid over a range', { sampler: { kind: 'grid' }, trials: undefined }, /params\.window: the grid sampler needs choices/],
    ['an unknown policy', { policy: 'nope' }, /space\.yaml: policy: unknown policy 'nope'/],
    ['a bad date', { out_of_sample: { from: '2024-13-45' } }, /space\.yaml: out_of_sample\.from must be a date/],
    ['a fraction kept of 1', { keep: 1 }, /space\.yaml[\s\S]*keep/],
    ['a holdout that overlaps out_of_sample', { holdout: { from: '2024-02-20', to: '2024-03-10' } }, /space\.yaml: holdout\.from: the holdout must start at or after out_of_sample\.to/],
  ];
  for (const [what, over, re] of refused) {
    it(`refuses ${what}, naming the file and the field (exit code 2)`, () => {
      let err: unknown;
      try {
        space(over);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(re);
      expect(exitCodeFor(err)).toBe(2);
    });
  }

  it('refuses a missing file and a file that is not YAML', () => {
    expect(() => loadSpace(path.join(tmp.dir, 'none.yaml'))).toThrow(SpaceError);
    const bad = path.join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, 'policy: [unclosed\n');
    expect(() => loadSpace(bad)).toThrow(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid YAML`));
  });
});

describe('values and draws', () => {
  it('maps unit coordinates onto ranges, log ranges and choices', () => {
    const int = { type: 'int' as const, min: 20, max: 29, log: false };
    expect([0, 0.099, 0.1, 0.5, 0.999999].map((u) => valueAt(int, u))).toEqual([20, 20, 21, 25, 29]);
    const log = { type: 'int' as const, min: 10, max: 999, log: true };
    // Geometric: the middle of the log axis over [10, 1000) is 100.
    expect(valueAt(log, 0)).toBe(10);
    expect(valueAt(log, 0.5)).toBe(100);
    expect(valueAt(log, 0.999999)).toBe(999);
    expect(valueAt({ type: 'float', min: 1, max: 3, log: false }, 0.25)).toBe(1.5);
    expect(valueAt({ type: 'float', min: 0.01, max: 1, log: true }, 0.5)).toBeCloseTo(0.1, 12);
    expect([0, 0.34, 0.67, 0.9999].map((u) => valueAt({ choices: ['a', 'b', 'c'] }, u))).toEqual(['a', 'b', 'c', 'c']);
  });

  it('draws `trials` valid configurations per round, skipping those that break the policy constraint, rounds continuing the sequence', () => {
    // entry_z near exit_z: many points break exit_z < entry_z and are skipped.
    const s = space({ params: { entry_z: { type: 'float', min: 0.1, max: 1.5 }, exit_z: { type: 'float', min: 0, max: 1.2 } }, rounds: 2, trials: 10 });
    const r0 = drawRound(s, 0);
    const r1 = drawRound(s, 1);
    expect(r0).toHaveLength(10);
    expect(r1).toHaveLength(10);
    for (const d of [...r0, ...r1]) expect(Number(d.params.exit_z)).toBeLessThan(Number(d.params.entry_z));
    const points = [...r0, ...r1].map((d) => d.point);
    expect(points[points.length - 1]).toBeGreaterThan(19); // some points were skipped
    expect(new Set(points).size).toBe(20);
    expect(Math.min(...r1.map((d) => d.point))).toBeGreaterThan(Math.max(...r0.map((d) => d.point)));
    expect(drawRound(s, 1)).toEqual(r1);
    // Fixed parameters and defaults are part of every resolved configuration.
    expect(r0[0].params).toHaveProperty('window', 60);
  });

  it('walks the grid in file order (last parameter fastest) and leaves out combinations the policy refuses', () => {
    const s = space({ sampler: { kind: 'grid' }, trials: undefined, params: { entry_z: { choices: [0.5, 2] }, exit_z: { choices: [0, 1] } } });
    expect(drawRound(s, 0).map((d) => [d.point, d.params.entry_z, d.params.exit_z])).toEqual([
      [0, 0.5, 0],
      [2, 2, 0],
      [3, 2, 1],
    ]);
    expect(drawRound(s, 1)).toEqual([]);
  });

  it('random sampling is seeded: the same seed gives the same draws, another seed others', () => {
    const a = drawRound(space({ sampler: { kind: 'random', seed: 5 } }), 0);
    expect(drawRound(space({ sampler: { kind: 'random', seed: 5 } }), 0)).toEqual(a);
    expect(drawRound(space({ sampler: { kind: 'random', seed: 6 } }), 0)).not.toEqual(a);
  });
});

function ev(trial: number, stage: number, score: number, params: Record<string, number> = {}): Evaluation {
  return { trial, round: 0, point: trial, stage, sessions: 10 * (stage + 1), params, score, grade: 'C', recommendation: 'TEST', trades: 10, net_pips: 1, expectancy: 0.1, car25: 1, safe_f: 0.1, dd95: 0.1, seconds: 0 };
}

describe('successive halving', () => {
  it('keeps the top fraction (at least one), ties to the lower trial id', () => {
    expect([1, 3, 4, 5, 8, 9, 32].map((n) => keptCount(n, 0.25))).toEqual([1, 1, 1, 2, 2, 3, 8]);
    const stage0 = [ev(0, 0, 10), ev(1, 0, 50), ev(2, 0, 50), ev(3, 0, 70), ev(4, 0, 5)];
    expect(survivors(stage0, 0.4)).toEqual([3, 1]);
    expect(survivors(stage0, 0.6)).toEqual([3, 1, 2]);
  });

  it('crowns the best score at the highest stage reached, not a lucky low-stage score', () => {
    expect(championOf([ev(0, 0, 99), ev(1, 0, 60), ev(1, 1, 55), ev(2, 1, 58)])).toMatchObject({ trial: 2, stage: 1 });
    expect(championOf([])).toBeNull();
  });

  it("caps the stages' sessions at what the range holds", () => {
    expect(stageBudgets([{ sessions: 10 }, { sessions: 100 }, { sessions: 'all' }], 60)).toEqual([10, 60, 60]);
  });

  it('describes each stage and the region of the top decile', () => {
    const s = space({ params: { entry_z: { type: 'float', min: 1, max: 3 }, exit_z: { choices: [0, 0.5] } } });
    // 20 trials; the best two sit at entry_z 1.7 and 2.2, both with exit_z 0.5.
    const evals = Array.from({ length: 20 }, (_v, i) => ev(i, 0, i === 7 ? 90 : i === 12 ? 80 : i, { entry_z: 1 + i * 0.1, exit_z: i === 7 || i === 12 ? 0.5 : 0 }));
    const [t, c] = templates(evals, s);
    expect(t).toMatchObject({ param: 'entry_z', kind: 'range', top_trials: 2, all_trials: 20, range_min: 1, range_max: 3 });
    if (t.kind !== 'range') throw new Error('range expected');
    expect(t.top_p10).toBeCloseTo(1.75, 9);
    expect(t.top_p90).toBeCloseTo(2.15, 9);
    expect(t.top_share_of_range).toBeCloseTo(0.2, 9);
    expect(c).toEqual({ param: 'exit_z', kind: 'choices', top_trials: 2, all_trials: 20, values: [{ value: 0, top_share: 0, all_share: 0.9 }, { value: 0.5, top_share: 1, all_share: 0.1 }] });
    const [st] = sweepStageStats(evals, [10]);
    expect(st).toMatchObject({ stage: 0, sessions: 10, evaluations: 20, best: 90, worst: 0 });
  });
});
