// Several policies validated in parallel piscina workers give exactly the results of one worker; the main
// process writes them all to `validations`; a failing job's error keeps its kind (bad input: exit 2, any
// other failure: exit 1) across the thread.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, swt, tempDir } from './helpers/paths.js';
import { synthStore } from './helpers/synth-store.js';
import { Store } from '../src/store/db.js';

const BUILT = existsSync(path.join(ROOT, 'dist', 'workers', 'validate.js'));
const tmp = tempDir('swt-validate-par-');
let db = '';

beforeAll(async () => {
  db = await synthStore(tmp.dir, 'edge', { from: '2024-01-01', to: '2024-02-15', seed: 5, edge: true });
}, 60_000);
afterAll(() => tmp.cleanup());

const POLICIES = ['mean-reversion:window=240,entry_z=1.5,exit_z=0', 'ma-crossover', 'buy-and-hold', 'mean-reversion:window=120,entry_z=2.5'];

type Out = { validations: Array<{ id: number; key: string; report: { dir: string } | null; result: Record<string, unknown> }> };

function run(workers: number, out: string): Out {
  const args = ['validate', '--db', db, ...POLICIES.flatMap((p) => ['--policy', p]), '--workers', String(workers), '--out', out, '--json'];
  const r = swt(args);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Out;
}

describe.skipIf(!BUILT)('swt validate --workers', () => {
  it('gives identical results with 2 workers and with 1, one report directory per policy', () => {
    const one = run(1, path.join(tmp.dir, 'w1'));
    const two = run(2, path.join(tmp.dir, 'w2'));
    expect(one.validations.map((v) => v.key)).toEqual(['mean-reversion-1', 'ma-crossover', 'buy-and-hold', 'mean-reversion-2']);
    expect(two.validations.map((v) => v.key)).toEqual(one.validations.map((v) => v.key));
    const strip = (o: Out): Array<Record<string, unknown>> => o.validations.map((v) => ({ ...v.result, timings: null }));
    expect(strip(two)).toEqual(strip(one));
    // Not trivially equal: the policies really differ.
    expect(new Set(strip(one).map((r) => JSON.stringify(r.grade))).size).toBeGreaterThan(1);
    for (const v of two.validations) {
      expect(v.report!.dir).toBe(path.join(tmp.dir, 'w2', v.key));
      expect(existsSync(path.join(v.report!.dir, 'report.pdf'))).toBe(true);
      expect(existsSync(path.join(v.report!.dir, 'index.html'))).toBe(true);
    }
  });

  it('the main process saved every validation', async () => {
    const store = await Store.open(db);
    try {
      const rows = await store.all<{ policy: string; n: number }>('SELECT policy, count(*) AS n FROM validations GROUP BY policy ORDER BY policy');
      expect(rows).toEqual([
        { policy: 'buy-and-hold', n: 2 },
        { policy: 'ma-crossover', n: 2 },
        { policy: 'mean-reversion', n: 4 },
      ]);
    } finally {
      store.close();
    }
  });

  it("a worker's bad-input error still exits 2 with its message, and nothing is saved", async () => {
    const r = swt(['validate', '--db', db, '--policy', 'random', '--policy', 'hold', '--workers', '2', '--no-report']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/swt: error: empty trade list: policy 'hold' closed no trade/);
    const store = await Store.open(db);
    try {
      expect(await store.one<{ n: number }>('SELECT count(*) AS n FROM validations')).toEqual({ n: 8 });
    } finally {
      store.close();
    }
  });

  it("a worker's failure that is not bad input (the report directory cannot be made) exits 1 with its message", () => {
    const blocker = path.join(tmp.dir, 'a-file');
    writeFileSync(blocker, 'not a directory\n');
    const r = swt(['validate', '--db', db, '--policy', 'random', '--policy', 'buy-and-hold', '--workers', '2', '--out', path.join(blocker, 'reports')]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/swt: error: ENOTDIR: not a directory, mkdir '.*a-file\/reports\/(random|buy-and-hold)'/);
  });

  it('refuses an existing parent report directory without --force, before any work', () => {
    const r = swt(['validate', '--db', db, '--policy', 'random', '--policy', 'hold', '--out', path.join(tmp.dir, 'w1')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/already exists/);
  });
});
