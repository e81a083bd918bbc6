import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { HAS_SHARED, swt, tempDir } from './helpers/paths.js';
import { loadWstFixtures, firstMismatch, fixtureQ } from './helpers/wst-fixtures.js';

interface WstCliOutput {
  config: { J: number; Q: [number, number]; max_order: number; length: number; T: number };
  dims: { n_signals: number; channels: number; t_out: number; per_order: number[] };
  meta: { order: number; n: (number | null)[]; j: (number | null)[]; xi: (number | null)[] }[];
  features: number[][];
  S?: number[][][];
}

let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  tmp = tempDir('swt-wst-cli-');
});
afterAll(() => tmp.cleanup());

function input(name: string, body: string): string {
  const file = path.join(tmp.dir, name);
  writeFileSync(file, body);
  return file;
}

describe.skipIf(!HAS_SHARED)('swt wst --full --json reproduces Kymatio (shared fixtures)', () => {
  for (const f of HAS_SHARED ? loadWstFixtures() : []) {
    it(`${f.config_name}: dims, meta, S and features`, async () => {
      const file = input(`${f.config_name}.json`, JSON.stringify({ signals: f.signals.map((s) => s.x) }));
      const [q1, q2] = fixtureQ(f);
      const r = await swt(['wst', '--J', String(f.call_kwargs.J), '--Q', `${q1},${q2}`, '--max-order', String(f.call_kwargs.max_order), '--input', file, '--full', '--json']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as WstCliOutput;
      expect(out.config).toMatchObject({ J: f.call_kwargs.J, Q: [q1, q2], max_order: f.call_kwargs.max_order, length: 256, T: 2 ** f.call_kwargs.J });
      expect([out.dims.channels, out.dims.t_out]).toEqual(f.output_shape_single);
      expect(out.dims.per_order).toEqual(f.n_coeffs_per_order);
      expect(out.dims.n_signals).toBe(f.signals.length);
      expect(out.meta.map((m) => m.order)).toEqual(f.meta.order);
      expect(out.meta.map((m) => m.j)).toEqual(f.meta.j);
      expect(out.meta.map((m) => m.xi)).toEqual(f.meta.xi);
      f.signals.forEach((s, i) => {
        expect(firstMismatch((out.S as number[][][])[i].flat(), s.S.flat()), `${s.name} S`).toBeNull();
        expect(firstMismatch(out.features[i], s.S_time_mean), `${s.name} features`).toBeNull();
      });
    });
  }
});

describe('swt wst output and bad input', () => {
  const ramp = Array.from({ length: 256 }, (_, t) => Math.sin(t / 9) + t / 100);

  it('prints features without S unless --full, and a readable summary without --json', async () => {
    const file = input('ok.json', JSON.stringify({ signals: [ramp, ramp.map((v) => 2 * v)] }));
    const j = await swt(['wst', '--J', '6', '--Q', '4', '--input', file, '--json']);
    expect(j.status).toBe(0);
    const out = JSON.parse(j.stdout) as WstCliOutput;
    expect(out.S).toBeUndefined();
    expect(out.features).toHaveLength(2);
    expect(out.features[0]).toHaveLength(67);
    // linear in the signal (no z-scoring unless asked): doubling the input doubles every feature
    out.features[1].forEach((v, c) => expect(Math.abs(v - 2 * out.features[0][c])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v))));
    const z = JSON.parse((await swt(['wst', '--J', '6', '--Q', '4', '--input', file, '--json', '--zscore'])).stdout) as WstCliOutput;
    z.features[1].forEach((v, c) => expect(Math.abs(v - z.features[0][c])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v))));
    const h = await swt(['wst', '--J', '6', '--Q', '4', '--input', file]);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/67 channels \(1 \/ 22 \/ 44 per order\) x 4 time steps; 2 signal\(s\)/);
  });

  const cases: [string, () => string[], RegExp][] = [
    ['a missing file', () => ['--J', '6', '--Q', '4', '--input', path.join(tmp.dir, 'absent.json')], /cannot read input file .*absent\.json/],
    ['bad JSON', () => ['--J', '6', '--Q', '4', '--input', input('bad.json', '{"signals": [[1, 2,')], /bad\.json is not valid JSON/],
    ['no signals array', () => ['--J', '6', '--Q', '4', '--input', input('nosig.json', '{"x": []}')], /no "signals" array; expected \{"signals": \[\[256 numbers\]/],
    ['a wrong length', () => ['--J', '6', '--Q', '4', '--input', input('short.json', JSON.stringify({ signals: [ramp, ramp.slice(1)] }))], /signals\[1\] has 255 samples, expected 256/],
    ['NaN (as Python writes it)', () => ['--J', '6', '--Q', '4', '--input', input('nan.json', `{"signals": [[${ramp.slice(0, 200).join(', ')}, NaN, ${ramp.slice(201).join(', ')}]]}`)], /signals\[0\]\[200\] is NaN; every sample must be a finite number/],
    ['a null sample', () => ['--J', '6', '--Q', '4', '--input', input('null.json', JSON.stringify({ signals: [[null, ...ramp.slice(1)]] }))], /signals\[0\]\[0\] is null/],
    ['J = 0', () => ['--J', '0', '--Q', '4', '--input', input('ok2.json', JSON.stringify({ signals: [ramp] }))], /unsupported configuration: J must be an integer in \[1, 8\]/],
    ['J too large for 256', () => ['--J', '9', '--Q', '4', '--input', input('ok3.json', JSON.stringify({ signals: [ramp] }))], /2\^J may not exceed the length/],
    ['Q = 0', () => ['--J', '6', '--Q', '0', '--input', input('ok4.json', JSON.stringify({ signals: [ramp] }))], /Q1 must be an integer in \[1, 32\], got 0/],
    ['a malformed --Q', () => ['--J', '6', '--Q', '4,x', '--input', input('ok5.json', JSON.stringify({ signals: [ramp] }))], /--Q \(Q2\) must be an integer/],
  ];
  for (const [what, args, message] of cases) {
    it(`exits 2 with a clear message for ${what}`, async () => {
      const r = await swt(['wst', ...args()]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
    });
  }
});
