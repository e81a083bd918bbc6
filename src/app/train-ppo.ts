// The PPO learner inside the shared run loop of ./train.ts (`swt train --algo ppo`): one iteration is
// a rollout on ppo.envs TradingEnv lanes and ppo.epochs passes of minibatch updates over it. Updates
// count gradient steps (ppo.eval_every is in those). A checkpoint carries the weights (the normaliser's
// statistics included, so the ONNX graph applies them), Adam's state and the normaliser's running sums;
// the rollout streams derive from (seed, iteration), so --resume continues exactly.
import { buildPpoOnnx } from '../agent/network/onnx.js';
import { initPpoWeights, ppoSpecFromConfig } from '../agent/network/ppo-spec.js';
import { PpoLearner, type PpoLosses } from '../agent/ppo/learner.js';
import { PpoOnnxRunner } from '../agent/ppo/model.js';
import type { NormalizerState } from '../agent/ppo/normalizer.js';
import { PpoPolicy } from '../agent/policies/ppo.js';
import { UsageError } from '../util/errors.js';
import { evaluatePolicy, type DriverFactory, type MetricRow } from './train.js';

function meanLosses(all: PpoLosses[]): Record<string, number> | null {
  if (all.length === 0) return null;
  const out: Record<string, number> = {};
  for (const l of all) for (const [k, v] of Object.entries(l)) out[k] = (out[k] ?? 0) + v / all.length;
  return out;
}

export const ppoDriver: DriverFactory = {
  algo: 'ppo',
  spec: (config, obsDim) => ppoSpecFromConfig(config, obsDim),
  async create({ config, market, obsDim, env, trainSessions, seed, resume }) {
    const spec = ppoSpecFromConfig(config, obsDim);
    const cfg = config.ppo;
    let learner: PpoLearner;
    if (resume) {
      const { ck, state } = resume;
      if (!ck.optimizer || !state.normalizer) throw new UsageError(`--resume: checkpoint ${ck.meta.id} holds no PPO training state (not saved by swt train --algo ppo)`);
      learner = new PpoLearner(spec, ck.weights, cfg);
      await learner.restore(ck.optimizer, Number(state.updates), state.normalizer as NormalizerState);
    } else {
      learner = new PpoLearner(spec, initPpoWeights(spec, seed, cfg.initial_close_logit), cfg);
    }
    const features = market.features!;
    return {
      spec,
      async iterate(run, stop) {
        const ro = await learner.rollout({ bars: market.bars, features, sessions: trainSessions, env, seed: run.seed, iteration: run.iterations, firstEpisode: run.episodes, stop });
        if (!ro) return null;
        const losses = learner.train(ro, run.seed, run.iterations);
        const rows: MetricRow[] = losses.map((l, i) => ({ kind: 'update', step: run.updates + i + 1, episode: run.episodes + ro.episodes, metrics: l }));
        let reward = 0;
        for (const r of ro.rewards) reward += r;
        return {
          rows,
          counts: ro.counts,
          episodes: ro.episodes,
          envSteps: ro.envSteps,
          trades: ro.trades,
          netPips: ro.netPips,
          updates: losses.length,
          losses: meanLosses(losses),
          collectSeconds: ro.seconds,
          extra: { rollout_seconds: ro.seconds, rollout_reward: reward, rollout_trades: ro.trades, rollout_net_pips: ro.netPips, normalizer_count: learner.normalizer.count },
        };
      },
      weights: () => learner.getWeights(),
      optimizerState: () => learner.optimizerState(),
      saved: () => ({ state: { normalizer: learner.normalizer.state() }, rng: {}, files: {} }),
      async evaluate(weights, sessions) {
        const runner = await PpoOnnxRunner.create(spec, buildPpoOnnx(spec, weights));
        return evaluatePolicy(new PpoPolicy({ checkpoint: 'training' }, runner), market, sessions, env, config);
      },
      dispose: () => learner.dispose(),
    };
  },
};
