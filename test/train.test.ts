// The training loop on a real (small) store: synthetic bars, sessions of 60 bars, real feature rows,
// ONNX self-play, the tfjs learner, checkpoints and the store's training tables. A tiny network and a
// few thousand env steps per run keep it to seconds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { evaluatePolicy, splitSessions, trainFromStore, trainStatus, type TrainRequest } from '../src/app/train.js';
import { resolveCheckpoint, storedMeta } from '../src/agent/checkpoints/registry.js';
import { createMuZeroPolicy, muzeroDefaultSimulations } from '../src/agent/policies/muzero.js';
import { MuZeroActor } from '../src/agent/muzero/actor.js';
import { loadStoreMarket } from '../src/app/market.js';
import { envConfigFromConfig } from '../src/env/config.js';
import { Store } from '../src/store/db.js';
import { SYN } from './helpers/synth-store.js';
import { query, trainStore } from './helpers/train-store.js';
import { ROOT, swt, tempDir } from './helpers/paths.js';
import { existsSync } from 'node:fs';

const t = tempDir('swt-train-');
afterAll(t.cleanup);
let base = '';
let n = 0;

const overrides = (dir: string, extra: Record<string, unknown> = {}) => ({
  'data.session_length': 60,
  'train.envs': 4,
  'train.batch_size': 16,
  'train.updates_per_iteration': 3,
  'train.min_replay_episodes': 4,
  'train.refresh_every': 3,
  'train.eval_every': 6,
  'train.eval_sessions': 2,
  'train.eval_min_trades': 2,
  'train.guard.min_decisions': 200,
  'train.guard.window_decisions': 600,
  'model.hidden': 16,
  'model.head_hidden': 8,
  'model.latent': 8,
  'model.chance_codes': 4,
  'checkpoints.dir': path.join(dir, 'checkpoints'),
  'checkpoints.keep_last': 2,
  ...extra,
});

/** A fresh copy of the prepared store, its config, and a runner. */
function fresh(extra: Record<string, unknown> = {}): { db: string; config: Config; train: (r: Partial<TrainRequest>) => ReturnType<typeof trainFromStore> } {
  const dir = path.join(t.dir, `run${n++}`);
  const db = path.join(t.dir, `run${n}.duckdb`);
  copyFileSync(base, db);
  const config = loadConfig({ preset: 'test', overrides: overrides(dir, extra) });
  return {
    db,
    config,
    train: async (r) => {
      const store = await Store.open(db, { hold: 'unit' });
      try {
        return await trainFromStore(store, config, { preset: 'test', instrument: SYN, range: { from: null, to: null }, resume: false, maxEpisodes: 12, maxMinutes: null, ...r });
      } finally {
        store.close();
      }
    },
  };
}


const filesOf = async (db: string, id: string) => (await (async () => {
  const store = await Store.open(db);
  try {
    return (await storedMeta(store, id))!.files;
  } finally {
    store.close();
  }
})());

beforeAll(async () => {
  base = await trainStore(t.dir);
}, 240_000);

describe('swt train (the loop)', () => {
  it('is reproducible: the same seed and config give identical actions and losses over the first 3 iterations', async () => {
    const a = fresh();
    const b = fresh();
    const ra = await a.train({ maxEpisodes: 12 });
    const rb = await b.train({ maxEpisodes: 12 });
    expect(ra.iterations).toBe(3);
    expect(ra.updates).toBe(9); // 4 episodes fill min_replay_episodes: every iteration trains
    const rows = (db: string) => query<{ kind: string; step: bigint; metrics: string }>(db, "SELECT kind, step, metrics FROM training_metrics WHERE kind IN ('update', 'episode') ORDER BY kind, step, episode");
    const ma = await rows(a.db);
    expect(ma.filter((r) => r.kind === 'update')).toHaveLength(9);
    expect(ma.filter((r) => r.kind === 'episode')).toHaveLength(12);
    expect(await rows(b.db)).toEqual(ma);
    // the replay (every observation, action, search value and policy) is byte-identical
    const fa = await filesOf(a.db, ra.last_checkpoint);
    const fb = await filesOf(b.db, rb.last_checkpoint);
    expect(fb['replay.bin'].sha256).toBe(fa['replay.bin'].sha256);
    expect(fb['weights.bin'].sha256).toBe(fa['weights.bin'].sha256);
  }, 180_000);

  it('resumes exactly: interrupted (mid-collect) and resumed ends identical to an uninterrupted run of the same length (hindsight targets on, so the replay carries them too)', async () => {
    const hindsight = { 'train.loss.hindsight': 1 };
    const whole = fresh(hindsight);
    const rw = await whole.train({ maxEpisodes: 20 });
    const cut = fresh(hindsight);
    let polls = 0;
    // the stop request lands inside the fourth collect (polled once per env step): that collect is abandoned
    const stopped = await cut.train({ maxEpisodes: 20, shouldStop: () => ++polls > 3 * 60 + 30 });
    expect(stopped.status).toBe('stopped');
    expect(stopped.episodes).toBe(12);
    const resumed = await cut.train({ maxEpisodes: 20, resume: true });
    expect(resumed.status).toBe('finished');
    expect(resumed.episodes).toBe(20);
    expect(resumed.updates).toBe(rw.updates);
    const fw = await filesOf(whole.db, rw.last_checkpoint);
    const fr = await filesOf(cut.db, resumed.last_checkpoint);
    for (const f of ['weights.bin', 'optimizer.bin', 'replay.bin', 'actor_weights.bin']) expect(fr[f].sha256, f).toBe(fw[f].sha256);
    const losses = (db: string) => query<{ step: bigint; metrics: string }>(db, "SELECT step, metrics FROM training_metrics WHERE kind = 'update' ORDER BY step");
    expect(await losses(cut.db)).toEqual(await losses(whole.db));
    // every evaluation checkpoint is there, and best resolves to the highest evaluation SQN
    const st = await (async () => {
      const s = await Store.open(cut.db);
      try {
        return await trainStatus(s);
      } finally {
        s.close();
      }
    })();
    expect(st.run!.episodes).toBe(20);
    expect(st.last_evaluation).not.toBeNull();
  }, 240_000);

  it("records the search its evaluation played in every checkpoint, and `--policy muzero` serves the checkpoint with it: the stored evaluation is what validation plays", async () => {
    const r = fresh();
    // the test preset: self-play searches 8 simulations at c_scale 0.1; evaluations 4 at c_scale 3
    expect(r.config.mcts.simulations).toBe(8);
    expect(r.config.mcts.gumbel.c_scale).toBe(0.1);
    expect(muzeroDefaultSimulations()).toBe(15);
    const s = await r.train({ maxEpisodes: 8 }); // 6 updates: one evaluation (eval_every 6), checkpointed
    const store = await Store.open(r.db);
    try {
      const meta = (await storedMeta(store, s.last_checkpoint))!;
      expect(meta.search).toEqual({ simulations: 4, c_scale: 3, min_q_range: 10 });
      const stored = meta.evaluation!;
      expect(stored.sessions).toBe(2);
      expect(stored.trades).toBeGreaterThan(0); // so that the comparison below compares trades
      const market = await loadStoreMarket(store, r.config, { instrument: SYN, range: { from: null, to: null }, sessions: 'all', seed: 0, featureSet: r.config.features.default_set });
      const env = envConfigFromConfig(r.config, SYN);
      const { evaluation } = splitSessions(market.episodes, r.config, r.config.train.seed);
      const { dir } = await resolveCheckpoint(store, s.last_checkpoint);
      // served under the default config (c_scale 0.1, min_q_range 0): the checkpoint's search wins
      const served = loadConfig({ overrides: { 'data.session_length': 60 } });
      expect(served.mcts.gumbel.c_scale).toBe(0.1);
      expect(served.mcts.gumbel.min_q_range).toBe(0);
      const play = async (simulations: number, config: Config) => {
        const policy = await createMuZeroPolicy({ checkpoint: dir, simulations, temperature: 0 }, { seed: r.config.train.seed, config, featureHash: market.featureHash, env, fit: null });
        try {
          return await evaluatePolicy(policy, market, evaluation, env, r.config);
        } finally {
          await policy.close?.();
        }
      };
      const validated = await play(0, served); // simulations 0: the policy's default
      expect({ trades: stored.trades, net_pips: stored.net_pips, sqn: stored.sqn }).toEqual({ trades: validated.trades, net_pips: validated.net_pips, sqn: validated.sqn });
      // the search's improved policy shows the Gumbel settings (c_scale scales the Q bonus): an actor
      // opened on the checkpoint plays the recorded ones, not the serving config's
      const policyOf = async (search?: { c_scale: number; min_q_range: number }) => {
        const actor = await MuZeroActor.open({ checkpoint: dir, store: null, config: served, seed: 1, maxBatch: 4, ...(search ? { search } : {}) });
        try {
          const obs = Float32Array.from({ length: 4 * actor.obsDim }, (_, i) => Math.sin(i * 0.37));
          const mask = Uint8Array.from([1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1]);
          return Array.from((await actor.act(obs, mask, 4, [1, 2, 3, 4])).policy);
        } finally {
          await actor.close();
        }
      };
      const recorded = await policyOf();
      expect(recorded).toEqual(await policyOf({ c_scale: 3, min_q_range: 10 }));
      expect(recorded).not.toEqual(await policyOf({ c_scale: served.mcts.gumbel.c_scale, min_q_range: served.mcts.gumbel.min_q_range }));
    } finally {
      store.close();
    }
  }, 180_000);

  it('gives an evaluation with fewer than train.eval_min_trades trades no SQN, so it never becomes best', async () => {
    const r = fresh({ 'train.eval_min_trades': 100_000 });
    const s = await r.train({ maxEpisodes: 8 });
    expect(s.best_checkpoint).toBeNull();
    expect(s.best_sqn).toBeNull();
    const store = await Store.open(r.db);
    try {
      const e = (await storedMeta(store, s.last_checkpoint))!.evaluation!;
      expect(e.trades).toBeGreaterThan(0); // it traded, and still has no SQN
      expect(e.sqn).toBeUndefined();
      await expect(resolveCheckpoint(store, 'best', 'muzero')).rejects.toThrow(/best/);
    } finally {
      store.close();
    }
  }, 120_000);

  it('refuses --resume under another config, naming both hashes', async () => {
    const r = fresh();
    await r.train({ maxEpisodes: 4 });
    const other = loadConfig({ preset: 'test', overrides: overrides(path.join(t.dir, 'other'), { 'train.batch_size': 8 }) });
    const store = await Store.open(r.db, { hold: 'unit' });
    try {
      await expect(trainFromStore(store, other, { preset: 'test', instrument: SYN, range: { from: null, to: null }, resume: true, maxEpisodes: 8, maxMinutes: null })).rejects.toThrow(/--resume: run .* was trained with config \w+ .*this config is \w+/);
    } finally {
      store.close();
    }
  }, 120_000);

  it('raises the HOLD-only alarm when idling pays (a 400-pip spread) and stores its event', async () => {
    const r = fresh({ 'instruments.SYN_GBPJPY.spread_pips': 400, 'train.updates_per_iteration': 8, 'train.optimizer.warmup_steps': 0, 'train.optimizer.lr': 0.01 });
    const warnings: string[] = [];
    // trading opens at -400 pips at once (dense reward): the network learns to stay flat; the run stops at the alarm
    const s = await r.train({ maxEpisodes: 96, onWarning: (m) => warnings.push(m), shouldStop: () => warnings.some((w) => w.includes('HOLD while flat')) });
    expect(s.collapses).toContain('hold_only');
    expect(warnings.some((w) => /collapse: HOLD while flat/.test(w))).toBe(true);
    const events = await query<{ kind: string; message: string; details: string }>(r.db, 'SELECT kind, message, details FROM training_events');
    const ev = events.find((e) => e.kind === 'hold_only');
    expect(ev).toBeDefined();
    expect(JSON.parse(ev!.details).share).toBeGreaterThan(0.95);
    expect(s.status).toBe('stopped');
  }, 240_000);
});

describe.skipIf(!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js')))('swt train (the CLI)', () => {
  it('refuses an unknown preset with exit code 2 and reports the latest run as snake_case JSON', async () => {
    const bad = await swt(['train', '--preset', 'huge', '--db', base]);
    expect(bad.status).toBe(2);
    const st = await swt(['train', 'status', '--json', '--db', base]);
    expect(st.status, st.stderr).toBe(0);
    expect(JSON.parse(st.stdout)).toEqual({ run: null, last_metrics: null, last_evaluation: null, events: [] });
  }, 60_000);
});
