// bench:train — self-play and learner throughput of the default network (config defaults, no preset):
// 64 environments in lock-step, 15-simulation Gumbel searches over ONNX Runtime, then learner updates
// (batch 256, unroll 5) on what was collected. Prints name=value lines and the core count.
// Then PPO (the ppo config section, no preset): rollouts of ppo.rollout steps on ppo.envs lanes acting
// through ONNX Runtime (and, for comparison, through tfjs), and the PPO epochs over a rollout.
// Bars are the synthetic generator's; the feature rows are random (the speed does not depend on them).
import { loadConfig } from '../src/config/load.js';
import { weekCalendar } from '../src/data/calendar.js';
import { generateBars } from '../src/data/synth.js';
import { envConfigFromConfig } from '../src/env/config.js';
import { sessionEpisodes } from '../src/env/episodes.js';
import { observationSize } from '../src/env/observation.js';
import { featureSetObservation } from '../src/agent/checkpoints/registry.js';
import { initTfjs } from '../src/agent/network/backend.js';
import { buildOnnxGraphs } from '../src/agent/network/onnx.js';
import { OnnxModel } from '../src/agent/network/model.js';
import { initWeights, networkSpecFromConfig } from '../src/agent/network/spec.js';
import { MuZeroActor } from '../src/agent/muzero/actor.js';
import { collect } from '../src/agent/selfplay/selfplay.js';
import { ReplayBuffer } from '../src/agent/train/replay.js';
import { Learner, makeBatch } from '../src/agent/train/learner.js';
import { Prng } from '../src/util/prng.js';
import { initPpoWeights, ppoSpecFromConfig } from '../src/agent/network/ppo-spec.js';
import { PpoLearner } from '../src/agent/ppo/learner.js';
import { report, reportCores } from './util.js';

const config = loadConfig();
const tc = config.train;
const backend = (await initTfjs()).backend;
const ts: number[] = [];
const o: number[] = [];
const h: number[] = [];
const l: number[] = [];
const c: number[] = [];
generateBars({ from: '2022-01-03', to: '2022-01-14', seed: 1, startPrice: 150, pipSize: 0.01, calendar: weekCalendar(config) }, (ms, bo, bh, bl, bc) => {
  ts.push(ms);
  o.push(bo);
  h.push(bh);
  l.push(bl);
  c.push(bc);
});
const bars = { ts: Float64Array.from(ts), open: Float64Array.from(o), high: Float64Array.from(h), low: Float64Array.from(l), close: Float64Array.from(c) };
const F = featureSetObservation(config, config.features.default_set).nFeatures;
const rng = new Prng(3);
const features = { data: Float32Array.from({ length: ts.length * F }, () => rng.normal()), nFeatures: F };
const L = config.data.session_length;
const starts = Array.from({ length: Math.floor(ts.length / L) - 1 }, (_, i) => i * L);
const sessions = sessionEpisodes(starts, L, ts.length);
const spec = networkSpecFromConfig(config, observationSize(config.env.stack, F));
const weights = initWeights(spec, 1);
const envs = 64;
const actor = MuZeroActor.fromModel(await OnnxModel.create(spec, buildOnnxGraphs(spec, weights)), { config, seed: 1, maxBatch: envs });
const res = (await collect({ bars, features, sessions, env: envConfigFromConfig(config, 'SYN_GBPJPY'), actor, lanes: envs, firstEpisode: 0, rng: new Prng(1) }))!;
await actor.close();
const replay = new ReplayBuffer(tc.replay, spec.obs_dim, tc.td_steps, config.mcts.discount);
for (const t of res.trajectories) replay.add(t);
const learner = new Learner(spec, weights, tc);
const sampler = new Prng(2);
learner.update(makeBatch(replay.sample(tc.batch_size, sampler), tc.unroll, spec.obs_dim, spec.support, config.mcts.discount)); // warm-up (kernels, allocations)
const updates = 5;
const t0 = performance.now();
for (let i = 0; i < updates; i++) learner.update(makeBatch(replay.sample(tc.batch_size, sampler), tc.unroll, spec.obs_dim, spec.support, config.mcts.discount));
const trainS = (performance.now() - t0) / 1000 / updates;
learner.dispose();
// One iteration of the default schedule: a collect (64 sessions) then updates_per_iteration updates.
const iterTrain = trainS * tc.updates_per_iteration;
report('backend', `tfjs-${backend}`);
report('selfplay_envs', envs);
report('selfplay_simulations', config.mcts.simulations);
report('selfplay_env_steps_per_s', res.envSteps / res.seconds, 0);
report('selfplay_collect_s', res.seconds);
report('train_batch', tc.batch_size);
report('train_unroll', tc.unroll);
report('train_steps_per_s', 1 / trainS);
report('train_samples_per_s', tc.batch_size / trainS, 0);
report('iteration_updates', tc.updates_per_iteration);
report('selfplay_share', res.seconds / (res.seconds + iterTrain));
report('train_share', iterTrain / (res.seconds + iterTrain));
// ---- PPO ----
const ppoSpec = ppoSpecFromConfig(config, observationSize(config.env.stack, F));
const ppo = new PpoLearner(ppoSpec, initPpoWeights(ppoSpec, 1), config.ppo);
const envCfg = envConfigFromConfig(config, 'SYN_GBPJPY');
const rolloutInput = { bars, features, sessions, env: envCfg, seed: 1, firstEpisode: 0 };
await ppo.rollout({ ...rolloutInput, iteration: 0 }); // warm-up
const ro = (await ppo.rollout({ ...rolloutInput, iteration: 1 }))!;
const roTfjs = (await ppo.rollout({ ...rolloutInput, iteration: 1, engine: 'tfjs' }))!;
ppo.train(ro, 1, 0); // warm-up
const tp = performance.now();
const ppoSteps = ppo.train(ro, 1, 1).length;
const ppoTrainS = (performance.now() - tp) / 1000;
ppo.dispose();
report('ppo_envs', config.ppo.envs);
report('ppo_rollout', config.ppo.rollout);
report('ppo_env_steps_per_s', ro.envSteps / ro.seconds, 0);
report('ppo_env_steps_per_s_tfjs', roTfjs.envSteps / roTfjs.seconds, 0);
report('ppo_minibatch', config.ppo.minibatch);
report('ppo_updates_per_s', ppoSteps / ppoTrainS);
report('ppo_iteration_s', ro.seconds + ppoTrainS);
report('load_average_1m', (await import('node:os')).loadavg()[0]);
reportCores();
