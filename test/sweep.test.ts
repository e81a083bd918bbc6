// `swt sweep` on the planted-edge synthetic series (acceptance 4 of issue 14): a Sobol' sweep over
// mean-reversion's parameters with successive halving (10 → 40 → all 135 out-of-sample sessions) finds
// a champion whose out-of-sample score is within 10% of the best point of the full 48-point grid, for
// at most 30% of the grid's cost counted in full-budget evaluations (Σ sessions evaluated / sessions of
// the full budget; the grid evaluates each point once at the full budget). A sweep killed mid-way
// (SIGKILL of the CLI process) resumes with --resume without redoing finished evaluations and reaches
// the same champion; 1 and 2 workers give identical trials and champion; the time limit and the target
// score stop it; the report holds the champion's validation, the stages, the effect plots and the
// templates; a bad space file is refused with exit code 2.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, swt, tempDir } from './helpers/paths.js';
import { spawnSwt } from './helpers/processes.js';
import { SYN, synthStore } from './helpers/synth-store.js';
import { loadConfig } from '../src/config/load.js';
import { Store } from '../src/store/db.js';
import { runSweep, type SweepSummary } from '../src/app/sweep.js';
import { REPORT_CHARTS } from '../src/validation/report/index.js';

const BUILT = existsSync(path.join(ROOT, 'dist', 'workers', 'validate.js')) && existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'sweep.js'));
const tmp = tempDir('swt-sweep-');
let db = '';
let sweepFile = '';
let gridFile = '';

const COMMON = `policy: mean-reversion
instrument: ${SYN}
out_of_sample: { from: "2024-01-15", to: "2024-02-29" }
scoring: { scenarios: none, curves: 300, repeats: 1 }
`;

beforeAll(async () => {
  db = await synthStore(tmp.dir, 'edge', { from: '2024-01-01', to: '2024-02-29', seed: 5, edge: true });
  sweepFile = path.join(tmp.dir, 'mr-sweep.yaml');
  writeFileSync(
    sweepFile,
    `${COMMON}params:
  window: { type: int, min: 20, max: 300, log: true }
  entry_z: { type: float, min: 1.0, max: 3.5 }
  exit_z: { type: float, min: 0.0, max: 1.2 }
sampler: { kind: sobol, seed: 1 }
trials: 32
stages: [ { sessions: 10 }, { sessions: 40 }, { sessions: all } ]
keep: 0.25
`,
  );
  gridFile = path.join(tmp.dir, 'mr-grid.yaml');
  // The policy's own declared grid (src/agent/policies/registry.ts), every point on every session.
  writeFileSync(
    gridFile,
    `${COMMON}params:
  window: { choices: [30, 60, 120, 240] }
  entry_z: { choices: [1.5, 2, 2.5, 3] }
  exit_z: { choices: [0, 0.5, 1] }
sampler: { kind: grid }
stages: [ { sessions: all } ]
`,
  );
}, 120_000);
afterAll(() => tmp.cleanup());

function copyDb(name: string): string {
  const file = path.join(tmp.dir, `${name}.duckdb`);
  copyFileSync(db, file);
  return file;
}

async function sweepIn(file: string, space: string, opts: { workers?: number; reportDir?: string | null } = {}): Promise<SweepSummary> {
  const store = await Store.open(file);
  try {
    return await runSweep(store, loadConfig(), { spaceFile: space, maxMinutes: null, targetScore: null, resume: false, workers: opts.workers, reportDir: opts.reportDir ?? null });
  } finally {
    store.close();
  }
}

async function rows(file: string): Promise<Array<Record<string, unknown>>> {
  const store = await Store.open(file);
  try {
    const r = await store.all(`SELECT trial, stage, sessions, CAST(params AS VARCHAR) AS params, score, trades, net_pips, CAST(finished_at AS VARCHAR) AS finished_at FROM sweep_trials ORDER BY trial, stage`);
    return r.map((x) => ({ ...x, trial: Number(x.trial), stage: Number(x.stage), sessions: Number(x.sessions), trades: Number(x.trades) }));
  } finally {
    store.close();
  }
}

const noTime = (rs: Array<Record<string, unknown>>) => rs.map(({ finished_at: _f, ...r }) => r);
const championOf = (s: SweepSummary) => ({ trial: s.champion!.trial, stage: s.champion!.stage, params: s.champion!.params, score: s.champion!.score });

let grid: SweepSummary;
let one: SweepSummary;
let oneRows: Array<Record<string, unknown>>;

describe.skipIf(!BUILT)('swt sweep on the planted-edge series', () => {
  it('finds a champion within 10% of the best grid point for at most 30% of the grid evaluations', async () => {
    grid = await sweepIn(copyDb('grid'), gridFile);
    const w1 = copyDb('w1');
    one = await sweepIn(w1, sweepFile, { reportDir: path.join(tmp.dir, 'report-w1') });
    oneRows = await rows(w1);

    expect(grid).toMatchObject({ status: 'done', trials: 48, evaluations: 48, full_budget_equivalents: 48, sessions_available: 135, stage_sessions: [135] });
    // workers 0 (auto) is one worker for a rule policy.
    expect(one).toMatchObject({ status: 'done', stop_reason: 'complete', workers: 1, trials: 32, stage_sessions: [10, 40, 135], evaluations_reused: 0 });
    // 32 at stage 0, the best 8 at stage 1, the best 2 of those on every session.
    expect(one.stages.map((s) => s.evaluations)).toEqual([32, 8, 2]);
    // The cost, counted from the stored evaluations.
    const sessions = oneRows.reduce((s, r) => s + Number(r.sessions), 0);
    expect(one.full_budget_equivalents).toBeCloseTo(sessions / 135, 12);
    expect(one.full_budget_equivalents).toBeLessThanOrEqual(0.3 * grid.evaluations);

    // Both champions were scored on the same 135 sessions with the same settings.
    expect(one.champion!.stage).toBe(2);
    expect(one.champion!.sessions).toBe(135);
    expect(grid.champion!.sessions).toBe(135);
    expect(grid.champion!.score).toBeGreaterThan(50); // the planted edge is there to be found
    expect(one.champion!.score).toBeGreaterThanOrEqual(0.9 * grid.champion!.score);
    // The champion is then validated for real (all sessions, every stress scenario) and saved.
    expect(one.champion!.validation_id).toBeGreaterThan(0);
    expect(one.champion!.validation_score).toBeGreaterThan(0);
  });

  it('gives identical trials and champion with 2 workers', async () => {
    const w2 = copyDb('w2');
    const two = await sweepIn(w2, sweepFile, { workers: 2 });
    expect(two.workers).toBe(2);
    expect(noTime(await rows(w2))).toEqual(noTime(oneRows));
    expect(championOf(two)).toEqual(championOf(one));
    // Not trivially equal: the trials really differ.
    expect(new Set(oneRows.map((r) => r.score)).size).toBeGreaterThan(20);
  });

  it('writes a self-contained report: champion and its validation, stage scores, effect plots, templates', async () => {
    const html = readFileSync(path.join(tmp.dir, 'report-w1', 'index.html'), 'utf8');
    for (const id of ['stage-scores', 'effect-window', 'effect-entry_z', 'effect-exit_z', ...REPORT_CHARTS]) expect(html).toContain(`data-chart="${id}"`);
    for (const id of ['champion', 'stages', 'templates']) expect(html).toContain(`data-table="${id}"`);
    expect(html).not.toMatch(/<script|<link|src=|href=/);
    expect(html).toContain(`window=${one.champion!.params.window}`);
    expect(existsSync(path.join(tmp.dir, 'report-w1', 'champion', 'report.pdf'))).toBe(true);
    const json = JSON.parse(readFileSync(path.join(tmp.dir, 'report-w1', 'sweep.json'), 'utf8'));
    expect(json.evaluations).toHaveLength(42);
    expect(json.templates.map((t: { param: string }) => t.param)).toEqual(['window', 'entry_z', 'exit_z']);
    const w = json.templates[0];
    expect(w).toMatchObject({ kind: 'range', log: true, top_trials: 4, all_trials: 32, range_min: 20, range_max: 300 });
    expect(w.top_p10).toBeLessThanOrEqual(w.top_p90);
    // A new sweep does not write over an existing report directory.
    await expect(sweepIn(copyDb('again'), sweepFile, { reportDir: path.join(tmp.dir, 'report-w1') })).rejects.toThrow(/report-w1 already exists: choose another --out or pass --force/);
  });

  it('resumes a sweep killed mid-way without redoing finished evaluations, and reaches the same champion', async () => {
    const file = copyDb('killed');
    const run = spawnSwt(['sweep', '--db', file, '--space', sweepFile, '--no-report', '--json', '--log-level', 'info']);
    // Killed in stage 1, after stage 0 and the first chunk of stage 1 were written.
    await run.waitFor(/round 0 stage 1: \d+ evaluations run/, 90_000);
    run.child.kill('SIGKILL');
    const end = await run.done;
    expect(end.signal).toBe('SIGKILL');
    const before = await rows(file);
    expect(before.length).toBeGreaterThanOrEqual(33);
    expect(before.length).toBeLessThan(42);

    const r = await swt(['sweep', '--db', file, '--space', sweepFile, '--resume', '--no-report', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const resumed = JSON.parse(r.stdout) as SweepSummary;
    expect(resumed).toMatchObject({ status: 'done', resumed: true, evaluations: 42, evaluations_reused: before.length, evaluations_run: 42 - before.length });
    expect(championOf(resumed)).toEqual(championOf(one));
    const after = await rows(file);
    // The evaluations written before the kill are kept as they were (same rows, same finish times).
    expect(after.filter((a) => before.some((b) => b.trial === a.trial && b.stage === a.stage))).toEqual(before);
    expect(noTime(after)).toEqual(noTime(oneRows));

    const again = await swt(['sweep', '--db', file, '--space', sweepFile, '--resume', '--json']);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/--resume: no unfinished sweep of .*mr-sweep\.yaml in the store \(sweep #1 is done\)/);
  });

  it('stops at the time limit and at the target score, and --resume continues', async () => {
    const file = copyDb('limits');
    // Three rounds of 32 draws each: the target, once reached in round 0, spares rounds 1 and 2.
    const rounds = path.join(tmp.dir, 'mr-rounds.yaml');
    writeFileSync(rounds, `${readFileSync(sweepFile, 'utf8')}rounds: 3\n`);
    const stopped = await swt(['sweep', '--db', file, '--space', rounds, '--max-minutes', '0', '--no-report', '--json']);
    expect(stopped.status, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ status: 'stopped', stop_reason: 'max_minutes', evaluations: 0, champion: null });

    const target = 0.95 * one.champion!.score;
    const hit = await swt(['sweep', '--db', file, '--space', rounds, '--resume', '--target-score', String(target), '--no-report', '--json']);
    expect(hit.status, hit.stderr).toBe(0);
    const s = JSON.parse(hit.stdout) as SweepSummary;
    expect(s).toMatchObject({ status: 'target', stop_reason: 'target_score', resumed: true, champion: { trial: one.champion!.trial, stage: 2 } });
    expect(s.champion!.score).toBeGreaterThanOrEqual(target);
    // Round 0 is what the one-round sweep evaluated; rounds 1 and 2 never started.
    expect(s.evaluations).toBe(42);
    expect(noTime(await rows(file))).toEqual(noTime(oneRows));
  });

  it('validates the champion on the holdout when the space has one: data the sweep never chose on', async () => {
    const file = copyDb('holdout');
    const space = path.join(tmp.dir, 'mr-holdout.yaml');
    writeFileSync(
      space,
      readFileSync(sweepFile, 'utf8')
        .replace('out_of_sample: { from: "2024-01-15", to: "2024-02-29" }', 'out_of_sample: { from: "2024-01-15", to: "2024-02-14" }\nholdout: { from: "2024-02-15", to: "2024-02-29" }')
        .replace('trials: 32', 'trials: 4')
        .replace('stages: [ { sessions: 10 }, { sessions: 40 }, { sessions: all } ]', 'stages: [ { sessions: 10 } ]'),
    );
    const s = await sweepIn(file, space);
    expect(s.champion).toMatchObject({ validated_on: 'holdout' });
    const store = await Store.open(file);
    try {
      const v = await store.one<{ result: string }>('SELECT result::VARCHAR AS result FROM validations WHERE id = $1', [s.champion!.validation_id!]);
      const p = JSON.parse(v!.result).provenance;
      expect(p.range_from).toBe('2024-02-15T00:00:00Z');
      expect(p.data_first >= '2024-02-15').toBe(true);
      expect(p.sessions_run).toBeGreaterThan(0);
      // The two ranges split the 135 sessions of the one-range sweeps: none is in both.
      expect(p.sessions_run + s.sessions_available).toBeLessThanOrEqual(135);
    } finally {
      store.close();
    }
  });

  it('refuses a bad space file with exit code 2, naming the file and the field', async () => {
    const bad = path.join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, `${COMMON}params:\n  window: { type: int, min: 20, max: 300 }\n  exit_z: { type: float, min: 0, max: 0 }\ntrials: 4\nstages: [ { sessions: 10 } ]\n`);
    const r = await swt(['sweep', '--db', copyDb('bad'), '--space', bad, '--json']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`swt: error: ${bad}: params.exit_z.max: expected max > min, got min 0, max 0`);
  });
});
