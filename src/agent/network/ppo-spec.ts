// The PPO actor-critic, described once as plain data in the layer vocabulary of ./spec.ts. The same
// description builds the tfjs model that trains (./ppo-tfjs.ts) and the ONNX graph that acts
// (buildPpoOnnx in ./onnx.ts); a parity test holds them together. Its hash is the architecture_id.
//
//   input      the last H env observations of D values, oldest first ([n, H·D]) and the legal mask [n, A]
//   normalise  per observation value: (x − mean) / std, clamped to [−clamp, clamp]; mean and std are
//              parameters that the optimizer never touches (running statistics of the rollouts), so
//              they live in the checkpoint's weights and in the ONNX graph's initializers
//   encoder    temporal encoder: dense(H·D → E) + LayerNorm + ReLU over the normalised window
//   actor      [encoder, normalised current observation] → dense(actor_hidden) + LayerNorm + ReLU → A logits
//   critic     the same input → dense(critic_hidden) + LayerNorm + ReLU → 1 value
//   mask       illegal actions' logits get mask_logit added (their probability is 0 in float32)
import { hashOf } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { CLOSE, N_ACTIONS } from '../../env/types.js';
import { NETWORK_MAJOR, checkParams, initParams, layerParams, type Layer, type ParamSpec, type Weights } from './spec.js';

export const PPO_FORMAT = 'swt-ppo-mlp';
export const PPO_GRAPH = 'policy';
export const NORM_MEAN = 'normalizer/mean';
export const NORM_STD = 'normalizer/std';

export interface PpoSpec {
  format: typeof PPO_FORMAT;
  major: number;
  /** D: values in one env observation. */
  obs_dim: number;
  /** H: observations in the temporal window. */
  history: number;
  num_actions: number;
  encoder_units: number;
  actor_hidden: number;
  critic_hidden: number;
  layer_norm_epsilon: number;
  clamp: number;
  mask_logit: number;
  encoder: Layer[];
  actor: Layer[];
  critic: Layer[];
}

export interface PpoSizes {
  obsDim: number;
  history: number;
  encoder: number;
  actorHidden: number;
  criticHidden: number;
  layerNormEpsilon?: number;
}

function mlp(name: string, inputs: number, hidden: number, out: number): Layer[] {
  return [
    { op: 'dense', name: `${name}/hidden`, inputs, units: hidden },
    { op: 'layer_norm', name: `${name}/norm`, size: hidden },
    { op: 'relu' },
    { op: 'dense', name: `${name}/out`, inputs: hidden, units: out },
  ];
}

export function ppoSpec(s: PpoSizes): PpoSpec {
  for (const [k, v] of [
    ['obsDim', s.obsDim],
    ['history', s.history],
    ['encoder', s.encoder],
    ['actorHidden', s.actorHidden],
    ['criticHidden', s.criticHidden],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`ppo network spec: ${k} must be an integer >= 1, got ${v}`);
  }
  const D = s.obsDim;
  const E = s.encoder;
  return {
    format: PPO_FORMAT,
    major: NETWORK_MAJOR,
    obs_dim: D,
    history: s.history,
    num_actions: N_ACTIONS,
    encoder_units: E,
    actor_hidden: s.actorHidden,
    critic_hidden: s.criticHidden,
    layer_norm_epsilon: s.layerNormEpsilon ?? 1e-5,
    clamp: 1,
    mask_logit: -1e9,
    encoder: [{ op: 'dense', name: 'encoder/dense', inputs: s.history * D, units: E }, { op: 'layer_norm', name: 'encoder/norm', size: E }, { op: 'relu' }],
    actor: mlp('actor', E + D, s.actorHidden, N_ACTIONS),
    critic: mlp('critic', E + D, s.criticHidden, 1),
  };
}

/** The architecture the config's `ppo.model` section describes, for env observations of `obsDim` values. */
export function ppoSpecFromConfig(config: Config, obsDim: number): PpoSpec {
  const m = config.ppo.model;
  return ppoSpec({ obsDim, history: m.history, encoder: m.encoder, actorHidden: m.actor_hidden, criticHidden: m.critic_hidden, layerNormEpsilon: m.layer_norm_epsilon });
}

export function ppoArchitectureId(spec: PpoSpec): string {
  return hashOf(spec);
}

/** Every parameter, in the order weights are stored: the normaliser's statistics first. */
export function ppoParameters(spec: PpoSpec): ParamSpec[] {
  const out: ParamSpec[] = [
    { name: NORM_MEAN, shape: [spec.obs_dim], init: 'zeros', trainable: false },
    { name: NORM_STD, shape: [spec.obs_dim], init: 'ones', trainable: false },
  ];
  layerParams(spec.encoder, out);
  layerParams(spec.actor, out);
  layerParams(spec.critic, out);
  return out;
}

/**
 * Seeded initial weights. `closeLogit` is the initial bias of CLOSE (legal only in a position): a
 * negative one makes early positions last (e^-3: about 20 bars on average) instead of the ~2 bars of
 * a uniform exit, so the first rollouts see trades long enough for the edge to pay the spread.
 */
export function initPpoWeights(spec: PpoSpec, seed: number, closeLogit = 0): Weights {
  const w = initParams(ppoParameters(spec), seed);
  w.get('actor/out/bias')![CLOSE] = closeLogit;
  return w;
}

export function checkPpoWeights(spec: PpoSpec, w: Weights): void {
  checkParams(ppoParameters(spec), w);
  const std = w.get(NORM_STD)!;
  for (let i = 0; i < std.length; i++) if (!(std[i] > 0)) throw new Error(`weights: ${NORM_STD}[${i}] is ${std[i]}, must be > 0`);
}

export function isPpoSpec(spec: { format: string }): spec is PpoSpec {
  return spec.format === PPO_FORMAT;
}
