// Several policies validated in parallel piscina workers give exactly the results of one worker (a
// policy that never trades among them: graded REJECT with its report); the main process writes them all
// to `validations`; a failing job's error keeps its kind (bad input: exit 2, any other failure: exit 1)
// across the thread.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, swt, tempDir } from './helpers/paths.js';
import { pdfPageCount, pdfTextRuns } from './helpers/pdf.js';
import { SYN, synthStore } from './helpers/synth-store.js';
import { Store } from '../src/store/db.js';

const BUILT = existsSync(path.join(ROOT, 'dist', 'workers', 'validate.js'));
const tmp = tempDir('swt-validate-par-');
let db = '';

beforeAll(async () => {
  db = await synthStore(tmp.dir, 'edge', { from: '2024-01-01', to: '2024-02-15', seed: 5, edge: true });
}, 60_000);
afterAll(() => tmp.cleanup());

const POLICIES = ['mean-reversion:window=240,entry_z=1.5,exit_z=0', 'ma-crossover', 'buy-and-hold', 'hold', 'mean-reversion:window=120,entry_z=2.5'];

type Out = { validations: Array<{ id: number; key: string; report: { dir: string; pdf: string; html: string; pages: number } | null; result: Record<string, any> }> };
let one: Out;
let two: Out;

async function run(workers: number, out: string): Promise<Out> {
  const args = ['validate', '--db', db, ...POLICIES.flatMap((p) => ['--policy', p]), '--workers', String(workers), '--out', out, '--json'];
  const r = await swt(args);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Out;
}

describe.skipIf(!BUILT)('swt validate --workers', () => {
  it('gives identical results with 2 workers and with 1, one report directory per policy', async () => {
    one = (await run(1, path.join(tmp.dir, 'w1')));
    two = (await run(2, path.join(tmp.dir, 'w2')));
    expect(one.validations.map((v) => v.key)).toEqual(['mean-reversion-1', 'ma-crossover', 'buy-and-hold', 'hold', 'mean-reversion-2']);
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

  it('grades the policy that never trades REJECT, with the reason and its report, in a worker and in-process alike', () => {
    for (const out of [one, two]) {
      const v = out.validations.find((x) => x.key === 'hold')!;
      expect(v.result.metrics.trades).toBe(0);
      expect(v.result.grade).toMatchObject({ recommendation: 'REJECT', letter: 'F', score: 0 });
      expect(v.result.grade.rationale).toBe(`no trade closed over ${v.result.provenance.sessions_run} sessions: nothing to size, nothing to deploy`);
      expect(v.result.montecarlo.status).toBe('no_trades');
      expect(v.result.scenarios).toEqual([]);
      expect(v.report!.pages).toBe(3);
      expect(pdfPageCount(v.report!.pdf)).toBe(3);
      expect(pdfTextRuns(v.report!.pdf).join('\n')).toContain('No trade closed');
      expect(readFileSync(v.report!.html, 'utf8')).toContain('data-chart="actions"');
    }
  });

  it('the main process saved every validation', async () => {
    const store = await Store.open(db);
    try {
      const rows = await store.all<{ policy: string; n: number }>('SELECT policy, count(*) AS n FROM validations GROUP BY policy ORDER BY policy');
      expect(rows).toEqual([
        { policy: 'buy-and-hold', n: 2 },
        { policy: 'hold', n: 2 },
        { policy: 'ma-crossover', n: 2 },
        { policy: 'mean-reversion', n: 4 },
      ]);
    } finally {
      store.close();
    }
  });

  it("a worker's bad-input error still exits 2 with its message, and nothing is saved", async () => {
    // Two stored runs, each validated on its own market in its own worker with a walk-forward: the first
    // is valid; the second has too few sessions for the walk-forward's folds, which only its job finds
    // out (the main process never looks at the sessions).
    // one after the other: the backtests write to the same store
    const ids: string[] = [];
    for (const n of [10, 4]) {
      const bt = await swt(['backtest', '--db', db, '--instrument', SYN, '--policy', 'buy-and-hold', '--sessions', String(n), '--json']);
      expect(bt.status, bt.stderr).toBe(0);
      ids.push(JSON.parse(bt.stdout).run.run_id as string);
    }
    const r = await swt(['validate', '--db', db, '--run', ids[0], '--run', ids[1], '--walk-forward', '--workers', '2', '--no-report']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/swt: error: walk-forward with 5 folds and an in-sample ratio of 3 needs at least 8 sessions, the market has 4: use fewer folds or a longer range/);
    const store = await Store.open(db);
    try {
      expect(await store.one<{ n: number }>('SELECT count(*) AS n FROM validations')).toEqual({ n: 10 });
    } finally {
      store.close();
    }
  });

  it("a worker's failure that is not bad input (the report directory cannot be made) exits 1 with its message", async () => {
    const blocker = path.join(tmp.dir, 'a-file');
    writeFileSync(blocker, 'not a directory\n');
    const r = await swt(['validate', '--db', db, '--policy', 'random', '--policy', 'buy-and-hold', '--workers', '2', '--out', path.join(blocker, 'reports')]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/swt: error: ENOTDIR: not a directory, mkdir '.*a-file\/reports\/(random|buy-and-hold)'/);
  });

  it('refuses an existing parent report directory without --force, before any work', async () => {
    const r = await swt(['validate', '--db', db, '--policy', 'random', '--policy', 'hold', '--out', path.join(tmp.dir, 'w1')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/already exists/);
  });
});
