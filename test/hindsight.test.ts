// Hindsight targets: one position does not move the market, so the bars of a decision also say what each
// untaken action would have earned. A branch is the env's own step run from a copy of the lane; it must
// equal a separate env that really played those actions, and it must leave the real lane untouched.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { envConfigFromConfig } from '../src/env/config.js';
import { sessionEpisodes } from '../src/env/episodes.js';
import { TradingEnv } from '../src/env/env.js';
import { BUY, CLOSE, HOLD, SELL } from '../src/env/types.js';
import { observationSize } from '../src/env/observation.js';
import { buildOnnxGraphs } from '../src/agent/network/onnx.js';
import { OnnxModel } from '../src/agent/network/model.js';
import { initWeights, networkSpecFromConfig } from '../src/agent/network/spec.js';
import { MuZeroActor } from '../src/agent/muzero/actor.js';
import { collect, stayFlatValue } from '../src/agent/selfplay/selfplay.js';
import { flattenObservation, HindsightBrancher } from '../src/agent/selfplay/hindsight.js';
import { Prng } from '../src/util/prng.js';
import { ReplayBuffer } from '../src/agent/train/replay.js';
import { makeBatch } from '../src/agent/train/learner.js';
import { twoHotDecode } from '../bindings/mcts.js';
import { randomWalk, synthMarket } from './helpers/series.js';

const config = loadConfig({ preset: 'test' });
const env = envConfigFromConfig(config, 'SYN_GBPJPY');
const GAMMA = 0.9;
const H = 6;
const S = 3;

/** The discounted rewards of `actions` played from bar `from` by a real env lane that first plays `prefix`. */
function played(bars: ReturnType<typeof randomWalk>, prefix: number[], actions: number[]): number {
  const e = new TradingEnv(bars, null, env, { batch: 1, observations: false, sessionEnd: 'truncate' });
  e.reset(0, 0, bars.close.length, 0);
  for (const a of prefix) e.step([a]);
  let g = 0;
  let d = 1;
  for (const a of actions) {
    e.step([a]);
    g += d * e.reward[0];
    d *= GAMMA;
  }
  return g;
}

describe('hindsight branches', () => {
  const bars = randomWalk(200, 5, { sigma: 0.05 });
  const T = bars.close.length - 1;
  const brancher = new HindsightBrancher(env, { horizon: H, gamma: GAMMA, steps: S });
  const ret = new Float64Array(4);
  const len = new Int32Array(4);
  const first = new Float64Array(4 * S);
  const lane = (prefix: number[]) => {
    const e = new TradingEnv(bars, null, env, { batch: 1, observations: false, sessionEnd: 'truncate' });
    e.reset(0, 0, bars.close.length, 0);
    for (const a of prefix) e.step([a]);
    return e;
  };

  it('while flat: an entry is held to the horizon and closed, HOLD is one step, each equal to a real env playing it', () => {
    const prefix = [HOLD, HOLD, HOLD];
    const e = lane(prefix);
    brancher.branch(e.core, 0, bars, e.t[0], prefix.length, T, SELL, ret, len, first);
    expect(Array.from(len)).toEqual([1, H, 0, 0]); // SELL taken, CLOSE illegal
    expect(ret[HOLD]).toBeCloseTo(played(bars, prefix, [HOLD]), 12);
    expect(ret[BUY]).toBeCloseTo(played(bars, prefix, [BUY, HOLD, HOLD, HOLD, HOLD, CLOSE]), 12);
    expect(ret[BUY]).not.toBe(0);
    // the first S rewards one by one (the learner unrolls them): the entry pays its spread and the bar's move
    expect(first[BUY * S]).toBe(played(bars, prefix, [BUY]));
    expect(first[BUY * S] + GAMMA * first[BUY * S + 1] + GAMMA ** 2 * first[BUY * S + 2]).toBeCloseTo(played(bars, prefix, [BUY, HOLD, HOLD]), 12);
    expect(first[HOLD * S]).toBe(ret[HOLD]);
    expect(first[HOLD * S + 1]).toBeNaN(); // a one-step branch
  });

  it('in a position: CLOSE is one step, HOLD holds to the horizon, from the real trade state', () => {
    const prefix = [BUY, HOLD, HOLD, HOLD, HOLD];
    const e = lane(prefix);
    const before = Float64Array.from(e.state);
    brancher.branch(e.core, 0, bars, e.t[0], prefix.length, T, HOLD, ret, len, first);
    expect(Array.from(len)).toEqual([0, 0, 0, 1]);
    expect(ret[CLOSE]).toBeCloseTo(played(bars, prefix, [CLOSE]), 12);
    brancher.branch(e.core, 0, bars, e.t[0], prefix.length, T, CLOSE, ret, len, first);
    expect(Array.from(len)).toEqual([H, 0, 0, 0]);
    expect(ret[HOLD]).toBeCloseTo(played(bars, prefix, [HOLD, HOLD, HOLD, HOLD, HOLD, CLOSE]), 12);
    // the real lane is untouched: same trade state, still long, and its next step is what it would have been
    expect(Array.from(e.state)).toEqual(Array.from(before));
    expect(e.side[0]).toBe(1);
    e.step([HOLD]);
    expect(e.reward[0]).toBe(played(bars, prefix, [HOLD]));
  });

  it('shortens holds at the session end and drops an entry with no room to close', () => {
    const prefix = Array.from({ length: T - 3 }, () => HOLD);
    const e = lane(prefix);
    brancher.branch(e.core, 0, bars, e.t[0], prefix.length, T, HOLD, ret, len, first);
    expect(Array.from(len)).toEqual([0, 3, 3, 0]);
    const last = lane(Array.from({ length: T - 1 }, () => HOLD));
    brancher.branch(last.core, 0, bars, last.t[0], T - 1, T, HOLD, ret, len, first);
    expect(Array.from(len)).toEqual([0, 0, 0, 0]);
  });
});

describe('the stay-flat floor', () => {
  it('is the discounted sum of idle penalties for ever, 0 without one', () => {
    expect(stayFlatValue(0, 0.997)).toBe(0);
    expect(stayFlatValue(0.1, 0.9)).toBeCloseTo(-1, 12);
    expect(stayFlatValue(0.1, 1)).toBe(-Infinity);
  });
});

/** Self-play with hindsight on a small synthetic market and a randomly initialised network. */
async function selfPlay(lanes: number, seed: number, steps: number) {
  const F = 8;
  const { bars, features } = await synthMarket(F);
  const L = config.data.session_length;
  const sessions = sessionEpisodes(Array.from({ length: Math.floor(bars.ts.length / L) - 1 }, (_, i) => i * L), L, bars.ts.length);
  const spec = networkSpecFromConfig(config, observationSize(config.env.stack, F));
  const model = await OnnxModel.create(spec, buildOnnxGraphs(spec, initWeights(spec, 1)));
  const actor = MuZeroActor.fromModel(model, { config, seed: 1, maxBatch: 4 });
  const gamma = config.mcts.discount;
  const res = (await collect({ bars, features, sessions, env, actor, lanes, firstEpisode: 0, rng: new Prng(seed), randomAction: { share: 0.5, seed: 3, inPosition: 0.05 }, hindsight: { horizon: 10, gamma, steps } }))!;
  return { spec, model, actor, gamma, res };
}

describe('self-play with hindsight', async () => {
  const { model, actor, gamma, res } = await selfPlay(4, 1, 5);
  const D = actor.obsDim;

  it('gives every legal untaken action a target and none to the taken or illegal ones', () => {
    for (const t of res.trajectories) {
      const h = t.hindsight!;
      expect(h.length).toBe(t.actions.length * 4);
      for (let u = 0; u < t.actions.length; u++) {
        for (let a = 0; a < 4; a++) {
          const q = h[u * 4 + a];
          const legal = t.masks[u * 4 + a] === 1;
          const roomy = u + 2 <= t.actions.length;
          if (a === t.actions[u] || !legal) expect(q).toBeNaN();
          else if (roomy) expect(Number.isFinite(q)).toBe(true);
        }
      }
    }
  });

  it('bootstraps a flat HOLD branch taken instead of an entry from the network on the flattened next observation, floored at the stay-flat value (0 here)', async () => {
    let checked = 0;
    for (const t of res.trajectories) {
      for (let u = 0; u + 1 < t.actions.length; u++) {
        const a = t.actions[u];
        if (t.masks[u * 4 + BUY] !== 1 || a === HOLD) continue;
        // the episode entered at u, so it is in a position at u + 1: V_flat comes from the network
        const o = Float32Array.from(t.obs.subarray((u + 1) * D, (u + 2) * D));
        flattenObservation(o, 0, D, config.env.stack);
        const v = (await model.initial(o, 1)).values[0];
        expect(t.hindsight![u * 4 + HOLD]).toBeCloseTo(-env.reward.idlePenalty + gamma * Math.max(v, 0), 4);
        expect(t.hindsightReward![(u * 4 + HOLD) * 5]).toBeCloseTo(-env.reward.idlePenalty, 12);
        expect(t.hindsightLength![u * 4 + HOLD]).toBe(1);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describe('hindsight in the replay and the batch', async () => {
  const K = 5;
  const { spec, gamma, res } = await selfPlay(2, 2, K);
  const buf = new ReplayBuffer(config.train.replay, spec.obs_dim, config.train.td_steps, gamma);
  for (const t of res.trajectories) buf.add(t);

  it('are left out of a batch whose trajectories carry none (the default path builds nothing for them)', () => {
    const { hindsight: _h, hindsightReward: _r, hindsightLength: _l, ...plain } = buf.episodes()[0];
    expect(makeBatch([{ traj: plain, t: 3 }], K, spec.obs_dim, spec.support, gamma).hindsight).toBeNull();
  });

  it('survive a checkpoint of the replay bit for bit', () => {
    const again = ReplayBuffer.deserialize(buf.serialize(), config.train.replay, config.train.td_steps, gamma);
    const fields = (b: ReplayBuffer) => b.episodes().map((t) => [Array.from(t.hindsight!), Array.from(t.hindsightReward!), Array.from(t.hindsightLength!)]);
    expect(fields(again)).toEqual(fields(buf));
  });

  it('unroll each branch with its own actions and W_{k+1} = (W_k − r_k) / γ while it lasts', () => {
    const traj = buf.episodes()[0];
    const flatU = Array.from({ length: traj.actions.length - 12 }, (_, u) => u).find((u) => traj.masks[u * 4 + BUY] === 1 && traj.actions[u] === HOLD)!;
    const h = makeBatch([{ traj, t: flatU }], K, spec.obs_dim, spec.support, gamma).hindsight!;
    const BA = 4;
    // a BUY branch while flat: BUY, then HOLDs (horizon 10 > K), present at every step
    expect(Array.from({ length: K }, (_, k) => h.actions[k * BA + BUY])).toEqual([BUY, HOLD, HOLD, HOLD, HOLD]);
    expect(Array.from({ length: K }, (_, k) => h.mask[k * BA + BUY])).toEqual([1, 1, 1, 1, 1]);
    // the taken HOLD has no branch; a flat HOLD-instead branch would be one step, CLOSE is illegal
    expect(Array.from({ length: K }, (_, k) => h.mask[k * BA + HOLD])).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from({ length: K }, (_, k) => h.mask[k * BA + CLOSE])).toEqual([0, 0, 0, 0, 0]);
    // the decoded Q target of step 1 is (W_0 − r_0) / γ
    const bins = spec.support.bins;
    const decode = (a: Float32Array, row: number) => twoHotDecode(a.subarray(row * bins, (row + 1) * bins), spec.support)[0];
    const w0 = traj.hindsight![flatU * 4 + BUY];
    const r0 = traj.hindsightReward![(flatU * 4 + BUY) * K];
    expect(decode(h.q, BUY)).toBeCloseTo(w0, 3);
    expect(decode(h.q, BA + BUY)).toBeCloseTo((w0 - r0) / gamma, 3);
    expect(decode(h.value, BUY)).toBeCloseTo((w0 - r0) / gamma, 3);
  });
});
