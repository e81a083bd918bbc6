// `swt train --algo ppo` through the shared run loop on a real (small) store: synthetic bars with the
// planted edge, sessions of 60 bars, real feature rows, ONNX rollouts, the tfjs learner, checkpoints
// and the training tables. Then the `ppo` policy: a backtest of the trained checkpoint runs (a real
// CLI process) and is deterministic; the checkpoint refusal rules hold across the two families.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { trainFromStore, type TrainRequest } from '../src/app/train.js';
import { storedMeta } from '../src/agent/checkpoints/registry.js';
import { CheckpointError, loadCheckpoint } from '../src/agent/checkpoints/checkpoint.js';
import { MuZeroActor } from '../src/agent/muzero/actor.js';
import { createPolicy } from '../src/agent/policies/registry.js';
import { envConfigFromConfig } from '../src/env/config.js';
import { Store } from '../src/store/db.js';
import { SYN } from './helpers/synth-store.js';
import { query, trainStore } from './helpers/train-store.js';
import { swt, tempDir } from './helpers/paths.js';

const t = tempDir('swt-ppo-train-');
afterAll(t.cleanup);
let base = '';
let n = 0;

const overrides = (dir: string, extra: Record<string, unknown> = {}) => ({
  'data.session_length': 60,
  'ppo.envs': 4,
  'ppo.rollout': 32,
  'ppo.minibatch': 64,
  'ppo.epochs': 2,
  'ppo.eval_every': 4,
  'train.eval_sessions': 2,
  'train.eval_min_trades': 2,
  'train.guard.min_decisions': 100,
  'train.guard.window_decisions': 400,
  'checkpoints.dir': path.join(dir, 'checkpoints'),
  'checkpoints.keep_last': 2,
  ...extra,
});

function fresh(): { db: string; dir: string; config: Config; train: (r: Partial<TrainRequest>) => ReturnType<typeof trainFromStore> } {
  const dir = path.join(t.dir, `run${n++}`);
  const db = path.join(t.dir, `run${n}.duckdb`);
  copyFileSync(base, db);
  const config = loadConfig({ preset: 'test', algo: 'ppo', overrides: overrides(dir) });
  return {
    db,
    dir,
    config,
    train: async (r) => {
      const store = await Store.open(db, { hold: 'unit' });
      try {
        return await trainFromStore(store, config, { algo: 'ppo', preset: 'test', instrument: SYN, range: { from: null, to: null }, resume: false, maxEpisodes: 30, maxMinutes: null, ...r });
      } finally {
        store.close();
      }
    },
  };
}


async function files(db: string, id: string) {
  const store = await Store.open(db);
  try {
    return (await storedMeta(store, id))!;
  } finally {
    store.close();
  }
}

beforeAll(async () => {
  base = await trainStore(t.dir);
}, 240_000);

describe('swt train --algo ppo', () => {
  let a: ReturnType<typeof fresh>;
  let ra: Awaited<ReturnType<typeof trainFromStore>>;

  beforeAll(async () => {
    a = fresh();
    ra = await a.train({});
  }, 120_000);

  it('runs the shared loop: PPO checkpoints with evaluations, update/iteration/evaluation metrics, a best checkpoint', async () => {
    // 4 lanes × 32 steps = 128 samples = 2 minibatches × 2 epochs: 4 gradient steps per iteration
    expect(ra.algo).toBe('ppo');
    expect(ra.updates).toBe(4 * ra.iterations);
    expect(ra.episodes).toBeGreaterThanOrEqual(30);
    expect(ra.env_steps).toBe(128 * ra.iterations);
    expect(ra.best_checkpoint).not.toBeNull();
    expect(ra.evaluation?.sessions).toBe(2);
    const kinds = await query<{ kind: string; n: bigint }>(a.db, `SELECT kind, count(*) AS n FROM training_metrics GROUP BY kind ORDER BY kind`);
    const count = Object.fromEntries(kinds.map((k) => [k.kind, Number(k.n)]));
    expect(count.update).toBe(ra.updates);
    expect(count.iteration).toBe(ra.iterations);
    expect(count.evaluation).toBe(ra.iterations); // eval_every 4 = every iteration
    const meta = await files(a.db, ra.last_checkpoint);
    expect(Object.keys(meta.files).sort()).toEqual(['optimizer.bin', 'policy.onnx', 'train_state.json', 'weights.bin']);
    expect((meta.architecture as { format: string }).format).toBe('swt-ppo-mlp');
    const update = await query<{ metrics: string }>(a.db, `SELECT metrics FROM training_metrics WHERE kind = 'update' ORDER BY step LIMIT 1`);
    expect(Object.keys(JSON.parse(update[0].metrics)).sort()).toEqual(['approx_kl', 'clip_fraction', 'entropy', 'grad_norm', 'lr', 'policy', 'total', 'value']);
  });

  it('is reproducible, and resumes exactly after a stop inside a rollout', async () => {
    const b = fresh();
    let polls = 0;
    // the rollout polls once per step: the stop lands inside the third rollout, which is abandoned
    const stopped = await b.train({ shouldStop: () => ++polls > 2 * 32 + 10 });
    expect(stopped.status).toBe('stopped');
    expect(stopped.iterations).toBe(2);
    const resumed = await b.train({ resume: true });
    expect(resumed.updates).toBe(ra.updates);
    const fa = (await files(a.db, ra.last_checkpoint)).files;
    const fb = (await files(b.db, resumed.last_checkpoint)).files;
    for (const f of ['weights.bin', 'optimizer.bin', 'policy.onnx']) expect(fb[f].sha256, f).toBe(fa[f].sha256);
    const losses = (db: string) => query<{ step: bigint; metrics: string }>(db, "SELECT step, metrics FROM training_metrics WHERE kind = 'update' ORDER BY step");
    expect(await losses(b.db)).toEqual(await losses(a.db));
  }, 120_000);

  it('a resume with the other learner is refused', async () => {
    const store = await Store.open(a.db, { hold: 'unit' });
    try {
      await expect(trainFromStore(store, a.config, { algo: 'muzero', preset: 'test', instrument: SYN, range: { from: null, to: null }, resume: true, maxEpisodes: 40, maxMinutes: null })).rejects.toThrow(
        /architecture|trains ppo/,
      );
    } finally {
      store.close();
    }
  });

  it('checkpoints follow the refusal rules: another feature set, and the other family, are refused', async () => {
    const dir = (await query<{ path: string }>(a.db, `SELECT path FROM checkpoints WHERE id = '${ra.best_checkpoint}'`))[0].path;
    await expect(loadCheckpoint(dir, { featureHash: 'another' })).rejects.toMatchObject({ reason: 'feature_set' });
    const env = envConfigFromConfig(a.config, SYN);
    await expect(createPolicy('ppo', { checkpoint: dir }, { seed: 1, env, fit: null, featureHash: 'another' })).rejects.toBeInstanceOf(CheckpointError);
    await expect(MuZeroActor.open({ checkpoint: dir, config: a.config, seed: 1, maxBatch: 4 })).rejects.toThrow(/holds a ppo network, not a muzero one/);
  });

  it('the ppo policy backtests the best checkpoint (a real CLI process), deterministically', async () => {
    const args = ['backtest', '--policy', 'ppo', '--param', 'checkpoint=best', '--instrument', SYN, '--db', a.db, '--no-save', '--json'];
    const env = { SWT_DATA__SESSION_LENGTH: '60', SWT_CHECKPOINTS__DIR: path.join(a.dir, 'checkpoints') };
    const [r1, r2] = [await swt(args, { env }), await swt(args, { env })];
    expect(r1.status, r1.stderr).toBe(0);
    const j1 = JSON.parse(r1.stdout) as { run: { policy: string; params: Record<string, unknown>; metrics: { trades: number; net_pips: number } } };
    const j2 = JSON.parse(r2.stdout) as typeof j1;
    expect(j1.run.policy).toBe('ppo');
    expect(j1.run.params.checkpoint).toBe(ra.best_checkpoint);
    expect(j2.run.metrics).toEqual(j1.run.metrics);
  }, 120_000);
});
