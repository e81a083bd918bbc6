// The PPO learner on the real TradingEnv and ONNX Runtime: a rollout is a function of (seed,
// iteration, weights); same seed and config give identical first updates; another seed does not;
// the window repeats the first observation of an episode until it has H; the normaliser's running
// statistics equal the plain mean and variance of everything it has seen.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { envConfigFromConfig } from '../src/env/config.js';
import { sessionEpisodes } from '../src/env/episodes.js';
import { observationSize } from '../src/env/observation.js';
import { initTfjs } from '../src/agent/network/backend.js';
import { initPpoWeights, ppoSpecFromConfig } from '../src/agent/network/ppo-spec.js';
import { PpoLearner, type PpoLosses } from '../src/agent/ppo/learner.js';
import { ObsWindow } from '../src/agent/ppo/window.js';
import { RunningNormalizer } from '../src/agent/ppo/normalizer.js';
import { Prng } from '../src/util/prng.js';
import { synthMarket } from './helpers/series.js';

const base = loadConfig({ preset: 'test', algo: 'ppo' });
const config = { ...base, ppo: { ...base.ppo, envs: 4, rollout: 64, minibatch: 64, epochs: 2 } };
const F = 8;
const { bars, features } = await synthMarket(F, { scale: 3, shift: 2 });
const ts = bars.ts;
const L = 40; // short sessions: several session ends (truncations) inside one rollout
const sessions = sessionEpisodes(Array.from({ length: Math.floor(ts.length / L) - 1 }, (_, i) => i * L), L, ts.length);
const spec = ppoSpecFromConfig(config, observationSize(config.env.stack, F));
const env = envConfigFromConfig(config, 'SYN_GBPJPY');

async function firstIteration(seed: number): Promise<{ losses: PpoLosses[]; actions: Int32Array; episodes: number; done: number }> {
  const learner = new PpoLearner(spec, initPpoWeights(spec, seed), config.ppo);
  try {
    const ro = (await learner.rollout({ bars, features, sessions, env, seed, iteration: 0, firstEpisode: 0 }))!;
    const losses = learner.train(ro, seed, 0);
    return { losses, actions: ro.actions, episodes: ro.episodes, done: ro.done.reduce((a, b) => a + b, 0) };
  } finally {
    learner.dispose();
  }
}

describe('PPO learner', () => {
  beforeAll(async () => {
    await initTfjs();
  });

  it('gives identical first updates for the same seed and config, and different ones for another seed', async () => {
    const a = await firstIteration(5);
    const b = await firstIteration(5);
    const c = await firstIteration(6);
    // 4 lanes × 64 steps = 256 samples, minibatch 64, 2 epochs
    expect(a.losses.length).toBe(8);
    expect(a.done).toBeGreaterThan(0); // sessions of 40 bars end inside the rollout: truncations
    expect(a.episodes).toBe(4 + a.done);
    expect(b.actions).toEqual(a.actions);
    expect(b.losses).toEqual(a.losses);
    expect(c.losses[0].total).not.toBe(a.losses[0].total);
    for (const l of a.losses) for (const v of Object.values(l)) expect(Number.isFinite(v)).toBe(true);
    // the first minibatch starts at the rollout's own policy: ratio 1, no clipping
    expect(a.losses[0].clip_fraction).toBe(0);
    expect(Math.abs(a.losses[0].approx_kl)).toBeLessThan(1e-6);
    // the entropy of a fresh policy over 2-3 legal actions lies between ln 2 and ln 3
    expect(a.losses[0].entropy).toBeGreaterThan(0.6);
    expect(a.losses[0].entropy).toBeLessThan(Math.log(3) + 1e-6);
  });

  it('samples only legal actions', async () => {
    const learner = new PpoLearner(spec, initPpoWeights(spec, 1), config.ppo);
    const ro = (await learner.rollout({ bars, features, sessions, env, seed: 1, iteration: 3, firstEpisode: 0 }))!;
    learner.dispose();
    for (let k = 0; k < ro.actions.length; k++) expect(ro.masks[k * 4 + ro.actions[k]]).toBe(1);
    expect(ro.counts.actions.reduce((x, y) => x + y, 0)).toBe(ro.envSteps);
  });

  it('the window holds the last H observations oldest first, repeating the first until it has H', () => {
    const w = new ObsWindow(2, 3, 2);
    const out = new Float32Array(6);
    w.push(1, Float32Array.of(1, 1), 0);
    w.write(1, out, 0);
    expect([...out]).toEqual([1, 1, 1, 1, 1, 1]);
    w.push(1, Float32Array.of(2, 2), 0);
    w.push(1, Float32Array.of(3, 3), 0);
    w.push(1, Float32Array.of(4, 4), 0);
    w.write(1, out, 0);
    expect([...out]).toEqual([2, 2, 3, 3, 4, 4]);
    w.reset(1);
    expect(() => w.write(1, out, 0)).toThrow(/no observation/);
    expect(() => w.write(0, out, 0)).toThrow(/no observation/);
  });

  it('the running normaliser equals the mean and variance of all rows seen, in any chunking', () => {
    const r = new Prng(9);
    const rows = Float32Array.from({ length: 300 * 3 }, () => r.normal() * 5 + 2);
    const one = new RunningNormalizer(2, 0);
    one.update(rows, 300, 3, 1); // columns 1 and 2 of 3
    const chunked = new RunningNormalizer(2, 0);
    chunked.update(rows.subarray(0, 100 * 3), 100, 3, 1);
    chunked.update(rows.subarray(100 * 3), 200, 3, 1);
    for (let j = 0; j < 2; j++) {
      let m = 0;
      for (let i = 0; i < 300; i++) m += rows[i * 3 + 1 + j];
      m /= 300;
      let v = 0;
      for (let i = 0; i < 300; i++) v += (rows[i * 3 + 1 + j] - m) ** 2;
      v /= 300;
      expect(one.mean[j]).toBeCloseTo(m, 9);
      expect(chunked.mean[j]).toBeCloseTo(m, 9);
      expect(chunked.stats().std[j]).toBeCloseTo(Math.sqrt(v), 4);
    }
  });
});
