import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { HAS_SHARED, SHARED, swt as swtRaw, tempDir } from './helpers/paths.js';

// The CLI gets the fixture path as an argument; SWT_SHARED is for the test process only (a config
// loader that reads every SWT_* variable as a config key would reject it). Node drops undefined values.
const swt = (args: string[]) => swtRaw(args, { env: { SWT_SHARED: undefined as unknown as string } });

const BANDY = path.join(SHARED, 'fixtures', 'bandy', 'trades.csv');
const tmp = tempDir('swt-mc-cli-');
const file = (name: string, text: string) => {
  const p = path.join(tmp.dir, name);
  writeFileSync(p, text);
  return p;
};
let small: string;

beforeAll(() => {
  small = file('small.csv', `gain\n${Array.from({ length: 300 }, (_, i) => (((i * 7919) % 300) - 130) * 1e-4).join('\n')}\n`);
});
afterAll(() => tmp.cleanup());

/** JSON of a run without the wall-clock fields, which legitimately differ between runs. */
function figures(stdout: string): unknown {
  const j = JSON.parse(stdout);
  delete j.seconds_per_repeat;
  for (const r of j.repeats) delete r.seconds;
  delete j.params.threads;
  return j;
}

describe('swt mc safe-f', () => {
  it.skipIf(!HAS_SHARED)("--json on Bandy's trades agrees with his reference (safe-f 3.630 ± 3%, CAR25 134.9 ± 5%)", async () => {
    const r = await swt(['mc', 'safe-f', '--trades', BANDY, '--forecast', '500', '--curves', '1000', '--dd-tolerance', '0.10', '--tail', '5', '--repeats', '5', '--seed', '1', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of ['safe_f_mean', 'safe_f_sd', 'car25_mean', 'car25_sd', 'seconds_per_repeat']) expect(typeof j[k], k).toBe('number');
    expect(Math.abs(j.safe_f_mean - 3.63) / 3.63).toBeLessThan(0.03);
    expect(Math.abs(j.car25_mean - 134.9) / 134.9).toBeLessThan(0.05);
    expect(j.trades).toBe(1000);
    expect(j.repeats).toHaveLength(5);
    expect(Object.keys(j.dd_percentiles)).toEqual(['p5', 'p10', 'p25', 'p50', 'p75', 'p90', 'p95']);
    expect(j.twr_percentiles.p25).toBeGreaterThan(1);
    expect(j.car_percentiles.p25).toBeGreaterThan(0);
  });

  it('gives the same figures for any --threads, and for the same --seed', async () => {
    const args = ['mc', 'safe-f', '--trades', small, '--repeats', '2', '--forecast', '200', '--json'];
    const one = await swt([...args, '--threads', '1']);
    const two = await swt([...args, '--threads', '2']);
    expect(one.status).toBe(0);
    expect(figures(two.stdout)).toEqual(figures(one.stdout));
    const other = await swt([...args, '--seed', '2']);
    expect(figures(other.stdout)).not.toEqual(figures(one.stdout));
  });

  it('prints a readable summary without --json', async () => {
    const r = await swt(['mc', 'safe-f', '--trades', small, '--repeats', '2']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/safe-f\s+\d+\.\d{3} ± \d+\.\d{3}/);
    expect(r.stdout).toMatch(/CAR25\s+-?\d+\.\d%/);
    expect(r.stdout).toMatch(/p95/);
  });

  it('all-negative gains: safe-f 0, reported as such, exit 0', async () => {
    const r = await swt(['mc', 'safe-f', '--trades', file('neg.csv', '-0.01\n-0.02\n-0.001\n'), '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.safe_f_mean).toBe(0);
    expect(j.status).toBe('no_positive_gains');
    expect(j.note).toMatch(/safe-f is 0/);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['a non-numeric line (named by line number)', ['--trades', 'BAD'], /bad\.csv:4: not a finite number, got "oops"/],
    ['a NaN line', ['--trades', 'NAN'], /nan\.csv:2: not a finite number, got "NaN"/],
    ['an empty trades file', ['--trades', 'EMPTY'], /empty trade list/],
    ['a missing trades file', ['--trades', '/nonexistent/trades.csv'], /cannot read trades file/],
    ['--forecast 0', ['--trades', 'SMALL', '--forecast', '0'], /--forecast must be an integer >= 1, got "0"/],
    ['--curves 0', ['--trades', 'SMALL', '--curves', '0'], /--curves must be an integer >= 1/],
    ['--dd-tolerance 1.5', ['--trades', 'SMALL', '--dd-tolerance', '1.5'], /--dd-tolerance must be a number in \(0, 1\), got "1.5"/],
    ['--dd-tolerance 0', ['--trades', 'SMALL', '--dd-tolerance', '0'], /--dd-tolerance must be a number in \(0, 1\)/],
    ['--tail 100', ['--trades', 'SMALL', '--tail', '100'], /--tail must be a number in \(0, 100\)/],
    ['no --trades', [], /required option '--trades <file>'/],
  ];
  for (const [what, args, message] of bad) {
    it(`rejects ${what} with exit code 2 and a clear message`, async () => {
      const paths: Record<string, string> = {
        BAD: file('bad.csv', 'gain\n0.01\n-0.02\noops\n0.03\n'),
        NAN: file('nan.csv', '0.01\nNaN\n'),
        EMPTY: file('empty.csv', '\n'),
        SMALL: small,
      };
      const r = await swt(['mc', 'safe-f', ...args.map((a) => paths[a] ?? a), '--json']);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
    });
  }
});

describe('swt mc scenarios', () => {
  it('--json reports every stress scenario beside the original', async () => {
    const r = await swt(['mc', 'scenarios', '--trades', small, '--repeats', '2', '--forecast', '200', '--adverse-gain', '0.0002', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.scenarios.map((s: { name: string }) => s.name)).toEqual(['original', 'drop_random', 'drop_best_winners', 'longer_forecast', 'adverse', 'early_stop']);
    const by = Object.fromEntries(j.scenarios.map((s: { name: string }) => [s.name, s]));
    expect(by.original.safe_f.safe_f_mean).toBe(j.original_safe_f);
    expect(by.longer_forecast.forecast).toBe(300);
    expect(by.early_stop.forecast).toBe(100);
    expect(by.adverse.param).toBe(0.0002);
    expect(by.adverse.at_original_f.f).toBe(j.original_safe_f);
    expect(by.adverse.at_original_f.car_percentiles.p25).toBeLessThan(by.original.at_original_f.car_percentiles.p25);
  });

  it('prints a side-by-side table and accepts --only', async () => {
    const r = await swt(['mc', 'scenarios', '--trades', small, '--repeats', '1', '--only', 'adverse,early_stop']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^original\s+300\s+500/m);
    expect(r.stdout).toMatch(/^adverse\s+300\s+500/m);
    expect(r.stdout).toMatch(/^early_stop\s+300\s+250/m);
    expect(r.stdout).not.toMatch(/^drop_random/m);
    const bad = await swt(['mc', 'scenarios', '--trades', small, '--only', 'moon']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown scenario "moon"/);
  });
});
