// `swt sweep` over a learner's training hyper-parameters (issue 14: "training-step budgets for
// muzero"): with a train: block, each trial trains its own MuZero agent on in_sample with its own config
// values over the preset, for the stage's episode budget, and its checkpoint is scored out of sample.
// The checkpoint and training run are recorded per evaluation; the same space gives the same scores
// again, with 1 worker as with 2; a resumed sweep retrains only what has no row; a path the config does not have is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, swt, tempDir } from './helpers/paths.js';
import { SYN, synthStore } from './helpers/synth-store.js';
import { loadConfig } from '../src/config/load.js';
import { hyperparametersHash } from '../src/agent/checkpoints/registry.js';
import { parseSpace } from '../src/validation/sweep/space.js';
import { Store } from '../src/store/db.js';
import type { SweepSummary } from '../src/app/sweep.js';

const BUILT = existsSync(path.join(ROOT, 'dist', 'workers', 'validate.js')) && existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'sweep.js'));
const tmp = tempDir('swt-sweep-train-');
afterAll(() => tmp.cleanup());
const env = { SWT_CHECKPOINTS__DIR: path.join(tmp.dir, 'checkpoints') };

// Tiny budgets: 4 lanes, so 8 and 16 episodes are two and four collects with a few updates each.
const OVERRIDES = { 'train.envs': 4, 'train.min_replay_episodes': 4, 'train.updates_per_iteration': 4, 'train.eval_sessions': 4, 'train.eval_min_trades': 2, 'train.batch_size': 32 };
const SEED = 11;
const space = (params: string) => `policy: muzero
instrument: ${SYN}
seed: ${SEED}
train: { algo: muzero, preset: test, overrides: ${JSON.stringify(OVERRIDES)} }
in_sample: { from: "2024-01-01", to: "2024-01-14" }
out_of_sample: { from: "2024-01-15", to: "2024-01-31" }
params:
${params}
sampler: { kind: sobol, seed: 1 }
trials: 2
stages: [ { episodes: 8 }, { episodes: 16 } ]
keep: 0.5
scoring: { scenarios: none, curves: 100, repeats: 1 }
`;
const PARAMS = `  train.optimizer.lr: { type: float, min: 0.0005, max: 0.01, log: true }
  train.td_steps: { type: int, min: 5, max: 30 }`;

let db = '';
let spaceFile = '';

beforeAll(async () => {
  if (!BUILT) return;
  db = await synthStore(tmp.dir, 'train', { from: '2024-01-01', to: '2024-01-31', seed: 6, edge: true });
  const f = await swt(['features', 'build', '--instrument', SYN, '--db', db], { timeout: 120_000 });
  expect(f.status, f.stderr).toBe(0);
  spaceFile = path.join(tmp.dir, 'lr-td.yaml');
  writeFileSync(spaceFile, space(PARAMS));
}, 180_000);

interface TrialRow {
  trial: number;
  stage: number;
  params: Record<string, number>;
  score: number;
  trades: number;
  net_pips: number;
  checkpoint_id: string;
  train_run_id: string;
  episodes: number;
  hyperparameters_hash: string;
  ck_episodes: number;
  run_seed: number;
  run_episodes: number;
}

async function trialRows(file: string, sweepId: number): Promise<TrialRow[]> {
  const store = await Store.open(file);
  try {
    const rs = await store.all<Record<string, unknown>>(
      `SELECT t.trial, t.stage, CAST(t.params AS VARCHAR) AS params, t.score, t.trades, t.net_pips, t.checkpoint_id, t.train_run_id, t.episodes,
              c.hyperparameters_hash, c.episodes AS ck_episodes, r.seed AS run_seed, r.episodes AS run_episodes
         FROM sweep_trials t LEFT JOIN checkpoints c ON c.id = t.checkpoint_id LEFT JOIN training_runs r ON r.run_id = t.train_run_id
        WHERE t.sweep_id = $1 ORDER BY t.trial, t.stage`,
      [sweepId],
    );
    return rs.map((r) => ({
      trial: Number(r.trial),
      stage: Number(r.stage),
      params: JSON.parse(String(r.params)) as Record<string, number>,
      score: Number(r.score),
      trades: Number(r.trades),
      net_pips: Number(r.net_pips),
      checkpoint_id: String(r.checkpoint_id),
      train_run_id: String(r.train_run_id),
      episodes: Number(r.episodes),
      hyperparameters_hash: String(r.hyperparameters_hash),
      ck_episodes: Number(r.ck_episodes),
      run_seed: Number(r.run_seed),
      run_episodes: Number(r.run_episodes),
    }));
  } finally {
    store.close();
  }
}

async function sweep(file: string, extra: string[] = []): Promise<SweepSummary> {
  const report = extra.includes('--out') ? [] : ['--no-report'];
  const r = await swt(['sweep', '--space', spaceFile, '--db', file, ...report, '--json', ...extra], { env, timeout: 300_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as SweepSummary;
}

const scores = (rs: TrialRow[]) => rs.map((r) => ({ trial: r.trial, stage: r.stage, params: r.params, score: r.score, trades: r.trades, net_pips: r.net_pips }));

describe.skipIf(!BUILT)('swt sweep over training hyper-parameters', () => {
  let first: SweepSummary;
  let firstRows: TrialRow[];

  it('trains each trial its own checkpoint with its own hyper-parameters and budget, and scores it out of sample', async () => {
    const reportDir = path.join(tmp.dir, 'report');
    first = await sweep(db, ['--workers', '2', '--out', reportDir]);
    expect(first).toMatchObject({ status: 'done', stop_reason: 'complete', policy: 'muzero', workers: 2, trials: 2, stage_episodes: [8, 16] });
    // 2 trials at 8 episodes, the better one again at 16.
    expect(first.stages.map((s) => s.evaluations)).toEqual([2, 1]);
    firstRows = await trialRows(db, first.sweep_id);
    expect(firstRows.map((r) => [r.trial, r.stage, r.episodes])).toEqual([
      [0, 0, 8],
      [0, 1, 16],
      [1, 0, 8],
    ].filter(([t, s]) => s === 0 || t === first.champion!.trial).sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    // Every evaluation trained its own run and checkpoint (a survivor retrains from scratch).
    expect(new Set(firstRows.map((r) => r.checkpoint_id)).size).toBe(3);
    expect(new Set(firstRows.map((r) => r.train_run_id)).size).toBe(3);
    const [a, b] = firstRows.filter((r) => r.stage === 0);
    expect(a.params['train.optimizer.lr']).not.toBe(b.params['train.optimizer.lr']);
    // Different hyper-parameters, different agents: their out-of-sample results differ.
    expect([a.trades, a.net_pips]).not.toEqual([b.trades, b.net_pips]);
    for (const r of firstRows) {
      expect(Object.keys(r.params).sort()).toEqual(['train.optimizer.lr', 'train.td_steps']);
      // The checkpoint was trained with the preset, the block's settings and this trial's values.
      const trialConfig = loadConfig({ preset: 'test', overrides: { ...OVERRIDES, ...r.params }, env: {} });
      expect(r.hyperparameters_hash).toBe(hyperparametersHash(trialConfig));
      expect(trialConfig.train.td_steps).toBe(r.params['train.td_steps']);
      // Seeded from the trial id; the stage's budget played (a collect is 4 episodes), no more.
      expect(r.run_seed).toBe(SEED + r.trial);
      expect(r.run_episodes).toBe(r.episodes);
      expect(r.ck_episodes).toBe(r.episodes);
    }
    expect(a.hyperparameters_hash).not.toBe(b.hyperparameters_hash);
    // The champion is the stage-1 evaluation, validated with its own checkpoint.
    const top = firstRows.find((r) => r.stage === 1)!;
    expect(first.champion).toMatchObject({ trial: top.trial, stage: 1, score: top.score, checkpoint_id: top.checkpoint_id });
    expect(first.champion!.validation_id).toBeGreaterThan(0);
    const html = readFileSync(path.join(reportDir, 'index.html'), 'utf8');
    expect(html).toContain('after 8 → 16 training episodes (preset test');
    expect(html).toContain(`checkpoint ${top.checkpoint_id}`);
  }, 300_000);

  it('gives identical trials and scores when the same space runs again, with another worker count', async () => {
    // Training runs in the sweep's process; only the scoring is spread over the workers.
    const again = await sweep(db, ['--workers', '1']);
    expect(again).toMatchObject({ sweep_id: first.sweep_id + 1, workers: 1 });
    const rows = await trialRows(db, again.sweep_id);
    expect(scores(rows)).toEqual(scores(firstRows));
    // New training runs, new checkpoints, the same results.
    expect(rows.some((r) => firstRows.some((f) => f.checkpoint_id === r.checkpoint_id))).toBe(false);
    expect(again.champion!.score).toBe(first.champion!.score);
  }, 300_000);

  it('resumes a stopped sweep by training only the evaluations without a row', async () => {
    // A sweep killed after its stage-0 chunk: stage 0's rows are in, stage 1's is not.
    const file = path.join(tmp.dir, 'resume.duckdb');
    copyFileSync(db, file);
    const store = await Store.open(file);
    let runsBefore = 0;
    try {
      await store.run('DELETE FROM sweeps WHERE id > $1', [first.sweep_id]);
      await store.run('DELETE FROM sweep_trials WHERE sweep_id > $1 OR (sweep_id = $1 AND stage = 1)', [first.sweep_id]);
      await store.run("UPDATE sweeps SET status = 'stopped' WHERE id = $1", [first.sweep_id]);
      runsBefore = (await store.all('SELECT run_id FROM training_runs')).length;
    } finally {
      store.close();
    }
    const resumed = await sweep(file, ['--resume']);
    expect(resumed).toMatchObject({ sweep_id: first.sweep_id, resumed: true, status: 'done', evaluations_reused: 2, evaluations_run: 1 });
    const after = await Store.open(file);
    try {
      expect((await after.all('SELECT run_id FROM training_runs')).length).toBe(runsBefore + 1);
    } finally {
      after.close();
    }
    expect(scores(await trialRows(file, first.sweep_id))).toEqual(scores(firstRows));
    expect(resumed.champion!.score).toBe(first.champion!.score);
  }, 300_000);

  it('refuses a parameter path the config does not have, with exit code 2', async () => {
    const bad = path.join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, space('  train.optimiser.lr: { type: float, min: 0.001, max: 0.01 }'));
    const r = await swt(['sweep', '--space', bad, '--db', db, '--no-report'], { env });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${bad}: params.train.optimiser.lr: the config has no setting 'train.optimiser.lr'`);
  }, 60_000);
});

describe('training space files', () => {
  const doc = (over: Record<string, unknown>) => ({
    policy: 'muzero',
    train: { preset: 'test' },
    in_sample: { from: '2024-01-01', to: '2024-01-14' },
    out_of_sample: { from: '2024-01-15', to: '2024-01-31' },
    params: { 'train.optimizer.lr': { type: 'float', min: 0.001, max: 0.01, log: true } },
    trials: 4,
    stages: [{ episodes: 8 }, { episodes: 32 }],
    ...over,
  });
  const refusal = (over: Record<string, unknown>) => {
    try {
      parseSpace('t.yaml', doc(over));
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };

  it('accepts config paths under train, ppo, model and mcts, and scores every session by default', () => {
    const s = parseSpace('t.yaml', doc({ params: { 'train.optimizer.lr': { type: 'float', min: 0.001, max: 0.01, log: true }, 'mcts.simulations': { choices: [4, 8] } } }));
    expect(s.keys).toEqual(['train.optimizer.lr', 'mcts.simulations']);
    expect(parseSpace('p.yaml', doc({ policy: 'ppo', train: { preset: 'test' }, params: { 'ppo.entropy': { type: 'float', min: 0.001, max: 0.1, log: true } } })).keys).toEqual(['ppo.entropy']);
  });

  it('names the file and field of a bad path, type, bound, budget or block', () => {
    expect(refusal({ params: { 'train.nope': { type: 'int', min: 1, max: 4 } } })).toBe("t.yaml: params.train.nope: the config has no setting 'train.nope'");
    expect(refusal({ params: { 'store.db': { choices: ['a'] } } })).toMatch(/^t\.yaml: params\.store\.db: a training sweep searches config paths under train, ppo, model, mcts/);
    expect(refusal({ train: { preset: 'test', overrides: { 'env.spread_pips': 3 } } })).toMatch(/^t\.yaml: train\.overrides\.env\.spread_pips: a training sweep sets config paths under train, ppo, model, mcts/);
    expect(refusal({ params: { 'train.optimizer': { type: 'float', min: 0.1, max: 1 } } })).toBe("t.yaml: params.train.optimizer: 'train.optimizer' is a config section, not a setting");
    // The schema's own bounds: td_steps is a positive integer.
    expect(refusal({ params: { 'train.td_steps': { type: 'int', min: 0, max: 10 } } })).toMatch(/^t\.yaml: params\.train\.td_steps: invalid configuration .*train\.td_steps/);
    expect(refusal({ stages: [{ episodes: 8 }, { episodes: 8 }] })).toBe('t.yaml: stages.1.episodes: stages must grow: each stage trains for more episodes than the one before');
    expect(refusal({ stages: [{ sessions: 10 }] })).toBe('t.yaml: stages.0.episodes: expected the training budget of the stage (episodes)');
    expect(refusal({ policy: 'mean-reversion' })).toMatch(/^t\.yaml: train: 'mean-reversion' is not a learned policy/);
    expect(refusal({ train: { algo: 'ppo', preset: 'test' } })).toBe("t.yaml: train.algo: 'muzero' plays muzero checkpoints, not ppo");
    expect(refusal({ in_sample: undefined })).toMatch(/^t\.yaml: in_sample: a training sweep trains every trial on in_sample/);
    expect(refusal({ in_sample: { from: '2024-01-01', to: '2024-01-20' } })).toMatch(/^t\.yaml: in_sample\.to: a training sweep needs in_sample to end before out_of_sample begins/);
    expect(refusal({ fixed: { checkpoint: 'latest' } })).toBe('t.yaml: fixed.checkpoint: each trial plays the checkpoint it trained: remove it');
  });
});
