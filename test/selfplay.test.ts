// Self-play exploration: a share of the decisions taken while flat is executed as a random legal
// action (seeded by the decision), exits stay the search's, and the action mix counts the search's
// own choices, so exploration cannot hide a collapse.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { envConfigFromConfig } from '../src/env/config.js';
import { sessionEpisodes } from '../src/env/episodes.js';
import { observationSize } from '../src/env/observation.js';
import { buildOnnxGraphs } from '../src/agent/network/onnx.js';
import { OnnxModel } from '../src/agent/network/model.js';
import { initWeights, networkSpecFromConfig } from '../src/agent/network/spec.js';
import { MuZeroActor } from '../src/agent/muzero/actor.js';
import { collect, type CollectResult } from '../src/agent/selfplay/selfplay.js';
import { Prng } from '../src/util/prng.js';
import { synthMarket } from './helpers/series.js';

const config = loadConfig({ preset: 'test' });
const F = 8;
const { bars, features } = await synthMarket(F);
const ts = bars.ts;
const L = config.data.session_length;
const sessions = sessionEpisodes(Array.from({ length: Math.floor(ts.length / L) - 1 }, (_, i) => i * L), L, ts.length);
const spec = networkSpecFromConfig(config, observationSize(config.env.stack, F));
const env = envConfigFromConfig(config, 'SYN_GBPJPY');

async function play(share: number, seed: number): Promise<CollectResult> {
  const actor = MuZeroActor.fromModel(await OnnxModel.create(spec, buildOnnxGraphs(spec, initWeights(spec, 1))), { config, seed: 1, maxBatch: 4 });
  try {
    return (await collect({ bars, features, sessions, env, actor, lanes: 4, firstEpisode: 0, rng: new Prng(1), randomAction: { share, seed } }))!;
  } finally {
    await actor.close();
  }
}

describe('self-play random entries', () => {
  let none: CollectResult;
  let all: CollectResult;
  beforeAll(async () => {
    none = await play(0, 7);
    all = await play(1, 7);
  });

  it('are off at share 0', () => {
    expect(none.counts.random).toBe(0);
  });

  it('at share 1 replace every flat decision by a uniformly drawn legal action, and never an exit', () => {
    expect(all.counts.random).toBeGreaterThan(0);
    expect(all.counts.random).toBeLessThanOrEqual(all.counts.flat);
    let buys = 0;
    let sells = 0;
    for (const t of all.trajectories) {
      for (let u = 0; u < t.actions.length; u++) {
        const a = t.actions[u];
        expect(t.masks[u * 4 + a]).toBe(1); // always legal
        if (a === 1) buys++;
        if (a === 2) sells++;
      }
    }
    expect(buys).toBeGreaterThan(0);
    expect(sells).toBeGreaterThan(0);
  });

  it('are drawn from the seed and the decision only: the same seed plays the same, another seed differs', async () => {
    const again = await play(1, 7);
    const other = await play(1, 8);
    const acts = (r: CollectResult) => r.trajectories.map((t) => Array.from(t.actions));
    expect(acts(again)).toEqual(acts(all));
    expect(acts(other)).not.toEqual(acts(all));
  });
});

describe('the discount travels with the network', () => {
  // The value and Q heads predict sums discounted at the training gamma: a policy served under a config
  // with another mcts.discount must still back up with the network's own.
  const obs = new Float32Array(4 * spec.obs_dim).map((_, i) => Math.sin(i));
  const mask = new Uint8Array([1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0]);
  const ids = [0, 1, 2, 3];
  const rootValues = async (netDiscount: number | undefined, configDiscount: number) => {
    const s = { ...spec, discount: netDiscount };
    if (netDiscount === undefined) delete s.discount;
    const cfg = { ...config, mcts: { ...config.mcts, discount: configDiscount } };
    const actor = MuZeroActor.fromModel(await OnnxModel.create(s, buildOnnxGraphs(s, initWeights(s, 3))), { config: cfg, seed: 1, maxBatch: 4 });
    try {
      return Array.from((await actor.act(obs, mask, 4, ids)).values);
    } finally {
      await actor.close();
    }
  };

  it('is recorded in the spec the config builds', () => {
    expect(spec.discount).toBe(config.mcts.discount);
  });

  it('overrides the serving config; a spec without one falls back to the config', async () => {
    const own = await rootValues(0.5, 0.5);
    expect(await rootValues(0.5, 0.997)).toEqual(own);
    expect(await rootValues(undefined, 0.5)).toEqual(own);
    expect(await rootValues(undefined, 0.997)).not.toEqual(own);
  });
});
