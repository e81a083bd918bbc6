// The parts of training, each on its own: n-step targets (truncation vs terminal), the replay buffer
// (FIFO with a trade quota, recency weights, success memory, persistence), the collapse guard and
// the learner (the loss falls on a fixed batch; the same seed gives bit-identical losses).
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { nStepTargets } from '../src/agent/train/targets.js';
import { ReplayBuffer, type Trajectory } from '../src/agent/train/replay.js';
import { CollapseGuard } from '../src/agent/train/guard.js';
import { Learner, makeBatch } from '../src/agent/train/learner.js';
import { initTfjs } from '../src/agent/network/backend.js';
import { initWeights, networkSpec } from '../src/agent/network/spec.js';
import { Prng } from '../src/util/prng.js';

const config = loadConfig({ preset: 'test' });
const D = 6;

/** A synthetic episode of T decisions whose reward follows the action (BUY pays +1, SELL −1). */
function episode(id: number, T: number, trades: number, seed = id): Trajectory {
  const rng = new Prng(seed);
  const obs = Float32Array.from({ length: (T + 1) * D }, () => rng.normal());
  const actions = Int32Array.from({ length: T }, () => rng.below(3));
  return {
    episode: id,
    start: 0,
    end: T + 1,
    obs,
    masks: new Uint8Array((T + 1) * 4).fill(1),
    actions,
    rewards: Float64Array.from(actions, (a) => (a === 1 ? 1 : a === 2 ? -1 : 0)),
    values: Float32Array.from({ length: T + 1 }, () => rng.float()),
    policies: Float32Array.from({ length: (T + 1) * 4 }, () => 0.25),
    trades,
    netPips: trades * 2,
    bestTradePips: trades ? 5 + id : -Infinity,
  };
}

describe('n-step TD targets', () => {
  const r = [1, 0, 2, 0, 1];
  const v = [10, 20, 30, 40, 50, 60];
  it('sum n discounted rewards, then bootstrap from the search value n steps on', () => {
    const z = nStepTargets(r, v, 2, 0.5, 'truncation');
    expect(z[0]).toBeCloseTo(1 + 0.5 * 0 + 0.25 * 30, 12);
    expect(z[2]).toBeCloseTo(2 + 0 + 0.25 * 50, 12);
  });
  it('a session end is a truncation: the return is cut at T and bootstrapped from the last state; a terminal adds nothing', () => {
    const trunc = nStepTargets(r, v, 3, 0.5, 'truncation');
    const term = nStepTargets(r, v, 3, 0.5, 'terminal');
    // t = 4: one reward left, then the last state (T = 5)
    expect(trunc[4]).toBeCloseTo(1 + 0.5 * 60, 12);
    expect(term[4]).toBeCloseTo(1, 12);
    expect(trunc[5]).toBe(60);
    expect(term[5]).toBe(0);
    // far from the end both agree
    expect(trunc[0]).toBe(term[0]);
  });
});

describe('the replay buffer', () => {
  const cfg = (over: Partial<(typeof config)['train']['replay']> = {}) => ({ ...config.train.replay, ...over });
  it('is FIFO over episodes but keeps the trade quota: the oldest idle episode goes instead of a trading one', () => {
    const buf = new ReplayBuffer(cfg({ capacity_episodes: 4, trade_quota: 0.5, success: { ...config.train.replay.success, mode: 'off' } }), D, 5, 0.99);
    [episode(0, 10, 3), episode(1, 10, 0), episode(2, 10, 0), episode(3, 10, 2)].forEach((e) => buf.add(e));
    // plain FIFO would evict trader 0 and leave 1 trader in 4 (25% < 50%): the oldest idle one goes
    buf.add(episode(4, 10, 0));
    expect(buf.episodes().map((e) => e.episode)).toEqual([0, 2, 3, 4]);
    for (const id of [5, 6, 7]) buf.add(episode(id, 10, 0));
    expect(buf.episodes().map((e) => e.episode)).toEqual([0, 3, 6, 7]);
    expect(buf.stats()).toMatchObject({ episodes: 4, evicted: 4, trading_share: 0.5 });
    // without a quota it is plain FIFO
    const fifo = new ReplayBuffer(cfg({ capacity_episodes: 4, trade_quota: 0, success: { ...config.train.replay.success, mode: 'off' } }), D, 5, 0.99);
    for (const id of [0, 1, 2, 3, 4]) fifo.add(episode(id, 10, id === 0 ? 3 : 0));
    expect(fifo.episodes().map((e) => e.episode)).toEqual([1, 2, 3, 4]);
  });

  it('samples recent episodes more often: linear weights from recency_min to 1', () => {
    const buf = new ReplayBuffer(cfg({ capacity_episodes: 10, recency_min: 0.5, success: { ...config.train.replay.success, mode: 'off' } }), D, 5, 0.99);
    for (let i = 0; i < 10; i++) buf.add(episode(i, 20, 1));
    const counts = new Array<number>(10).fill(0);
    for (const s of buf.sample(40_000, new Prng(7))) counts[s.traj.episode]++;
    // expected shares: (0.5 + 0.5 i / 9) / sum; the newest is drawn twice as often as the oldest
    expect(counts[9] / counts[0]).toBeGreaterThan(1.8);
    expect(counts[9] / counts[0]).toBeLessThan(2.2);
  });

  it('draws at most batch_share of a batch from the success memory, which holds the episodes with a profitable trade', () => {
    const succ = { ...config.train.replay.success, mode: 'profitable_trades' as const, min_trade_pips: 8, batch_share: 0.125 };
    const buf = new ReplayBuffer(cfg({ capacity_episodes: 50, success: succ }), D, 5, 0.99);
    for (let i = 0; i < 20; i++) buf.add(episode(i, 10, i % 5 === 0 ? 1 : 0)); // best trade 5 + id: episodes 5, 10, 15 qualify
    expect(buf.successSize).toBe(3);
    const batch = buf.sample(64, new Prng(1));
    expect(batch.slice(56).every((s) => [5, 10, 15].includes(s.traj.episode))).toBe(true);
    expect(batch.length).toBe(64);
  });

  it('draws entry_exit_share of a batch among the decisions taken while flat (an entry was legal) and the exits', () => {
    const buf = new ReplayBuffer(cfg({ capacity_episodes: 50, entry_exit_share: 0.5, success: { ...config.train.replay.success, mode: 'off' } }), D, 5, 0.99);
    for (let i = 0; i < 10; i++) {
      const e = episode(i, 40, 1);
      // flat at decisions 0..3 only; in a position (BUY/SELL illegal, CLOSE legal) after
      for (let u = 4; u <= 40; u++) e.masks.set([1, 0, 0, 1], u * 4);
      e.actions[20] = 3; // one exit
      buf.add(e);
    }
    const batch = buf.sample(200, new Prng(2));
    const isEntryExit = (t: number) => t < 4 || t === 20;
    expect(batch.slice(100).every((s) => isEntryExit(s.t))).toBe(true);
    expect(batch.slice(100).some((s) => s.t === 20)).toBe(true);
    const n = batch.filter((s) => isEntryExit(s.t)).length;
    expect(n).toBeLessThan(100 + 30); // the other half: uniform over 40 decisions, an eighth of them entries or the exit
  });

  it('round-trips through its bytes and then samples exactly as the original', () => {
    const buf = new ReplayBuffer(cfg({ capacity_episodes: 8 }), D, 5, 0.99);
    for (let i = 0; i < 12; i++) buf.add(episode(i, 15, i % 3));
    const copy = ReplayBuffer.deserialize(buf.serialize(), buf.cfg, 5, 0.99);
    expect(copy.stats()).toEqual(buf.stats());
    const a = buf.sample(100, new Prng(3)).map((s) => [s.traj.episode, s.t]);
    const b = copy.sample(100, new Prng(3)).map((s) => [s.traj.episode, s.t]);
    expect(b).toEqual(a);
    expect(Array.from(copy.episodes()[0].obs)).toEqual(Array.from(buf.episodes()[0].obs));
  });
});

describe('the collapse guard', () => {
  const g = { window_decisions: 1000, min_decisions: 500, hold_flat_max: 0.95, in_market_max: 0.95 };
  it('raises HOLD-only once when HOLD passes the share of flat decisions, and again only after it cleared', () => {
    const guard = new CollapseGuard(g);
    expect(guard.observe({ actions: [300, 0, 0, 0], flat: 300, holdFlat: 300, inMarket: 0, random: 0 })).toEqual([]); // too few decisions yet
    const raised = guard.observe({ actions: [300, 0, 0, 0], flat: 300, holdFlat: 300, inMarket: 0, random: 0 });
    expect(raised.map((r) => r.kind)).toEqual(['hold_only']);
    expect(guard.observe({ actions: [300, 0, 0, 0], flat: 300, holdFlat: 300, inMarket: 0, random: 0 })).toEqual([]);
    guard.observe({ actions: [100, 100, 100, 0], flat: 300, holdFlat: 100, inMarket: 0, random: 0 });
    guard.observe({ actions: [100, 100, 100, 0], flat: 300, holdFlat: 100, inMarket: 0, random: 0 });
    expect(guard.activeAlarms()).toEqual([]);
    expect(guard.mix().decisions).toBe(1200); // whole old chunks leave while the rest still fills the window
    expect(guard.mix().share.BUY).toBeCloseTo(200 / 1200, 12);
  });
  it('raises always-in-market when nearly every decision is taken in a position', () => {
    const guard = new CollapseGuard(g);
    expect(guard.observe({ actions: [580, 10, 0, 10], flat: 10, holdFlat: 0, inMarket: 590, random: 0 }).map((r) => r.kind)).toEqual(['always_in_market']);
  });
});

describe('the learner', () => {
  beforeAll(async () => {
    await initTfjs();
  });
  const spec = networkSpec({ obsDim: D, hidden: 16, blocks: 1, latent: 8, codes: 4, headHidden: 8, support: config.mcts.support });
  const buf = new ReplayBuffer({ ...config.train.replay, capacity_episodes: 10 }, D, 5, 0.99);
  for (let i = 0; i < 6; i++) buf.add(episode(i, 12, 1));
  const batch = makeBatch(buf.sample(32, new Prng(5)), 5, D, spec.support, config.mcts.discount);

  it('masks the unroll past the end of an episode but keeps the last state (the bootstrap)', () => {
    const b = makeBatch([{ traj: buf.episodes()[0], t: 10 }], 5, D, spec.support, config.mcts.discount);
    expect(Array.from(b.actionMask)).toEqual([1, 1, 0, 0, 0]); // decisions 10, 11 of 12
    expect(Array.from(b.stateMask)).toEqual([1, 1, 1, 0, 0, 0]); // states 10, 11, 12
  });

  it('lowers the loss on a fixed batch', () => {
    const l = new Learner(spec, initWeights(spec, 1), { ...config.train, optimizer: { ...config.train.optimizer, lr: 0.003, warmup_steps: 0 } });
    const before = l.evaluate(batch).total;
    for (let i = 0; i < 60; i++) l.update(batch);
    const after = l.evaluate(batch);
    l.dispose();
    expect(after.total).toBeLessThan(0.8 * before);
    expect(Number.isFinite(after.reward)).toBe(true);
  });

  it('gives bit-identical losses for the same seed and batches', () => {
    const run = () => {
      const l = new Learner(spec, initWeights(spec, 9), config.train);
      const out = [0, 1, 2, 3].map(() => l.update(batch));
      l.dispose();
      return out;
    };
    expect(run()).toEqual(run());
  });

  it('serves the moving average of its weights when train.ema_decay > 0: each update moves it (1 − decay) of the way to the weights', async () => {
    const w0 = initWeights(spec, 3);
    const l = new Learner(spec, w0, { ...config.train, ema_decay: 0.9 });
    const plain = new Learner(spec, w0, { ...config.train, ema_decay: 0 });
    expect(l.servedWeights()).toEqual(w0);
    const name = [...w0.keys()][0];
    let expected = Float64Array.from(w0.get(name)!);
    for (let t = 0; t < 12; t++) {
      l.update(batch);
      plain.update(batch);
      await new Promise((r) => setImmediate(r)); // each update is long on wasm: let the worker answer vitest
      const d = Math.fround(Math.min(0.9, (1 + t) / (10 + t)));
      const w = l.getWeights().get(name)!;
      expected = Float64Array.from(expected, (e, i) => Math.fround(d * e + (1 - d) * w[i]));
    }
    const served = l.servedWeights().get(name)!;
    expect(Array.from(served)).toEqual(Array.from(expected));
    // the average lags the weights, and averaging does not change the updates themselves
    expect(served).not.toEqual(l.getWeights().get(name));
    expect(l.getWeights()).toEqual(plain.getWeights());
    expect(plain.servedWeights()).toEqual(plain.getWeights());
    // a restored average is served as saved
    const saved = l.servedWeights();
    const again = new Learner(spec, l.getWeights(), { ...config.train, ema_decay: 0.9 });
    again.restoreAverage(saved);
    expect(again.servedWeights()).toEqual(saved);
    for (const x of [l, plain, again]) x.dispose();
  });
});
