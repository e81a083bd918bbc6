// The MuZero learner (tfjs): a batch of replay positions unrolled K dynamics steps through the network,
// the Stochastic MuZero losses, global-norm clipping and Adam with warm-up, decay and L2 weight decay.
//
// Per sample at decision t, with s_0 = h(obs_t) and, for k = 0 … K:
//   prediction f(s_k) → policy (CE vs the search policy at t+k), value (CE vs two-hot z_{t+k})
//   for k < K: afterstate as_k = φ(s_k, a_{t+k}); ψ(as_k) → σ (CE vs the encoder's code c_k, which
//   is held fixed there), Q (CE vs two-hot z_{t+k}); c_k = e(obs_{t+k}, obs_{t+k+1}) one-hot with a
//   straight-through gradient; commitment ‖c_k − softmax(e)‖²; g(as_k, c_k) → s_{k+1}, reward (CE vs
//   two-hot r_{t+k}).
// Losses of the unrolled steps (k ≥ 1 for the prediction, every afterstate/dynamics term) are scaled
// by 1/K and the gradient entering each new state is scaled by `dynamics_gradient_scale` (MuZero's
// 0.5), so the unroll depth does not change the size of the update. Positions past the end of the
// episode are masked out: the last state T still has a value target (the truncation bootstrap).
import * as tf from '@tensorflow/tfjs-core';
import { twoHotEncode, type SupportSpec } from '../../../bindings/mcts.js';
import type { Config } from '../../config/schema.js';
import { N_ACTIONS } from '../../env/types.js';
import { parameters, type NetworkSpec, type Weights } from '../network/spec.js';
import { applyClippedGradients, optimizerState, restoreOptimizer, stopGradient, takeScalars, TfjsNetwork, type NamedArray } from '../network/tfjs.js';
import { flatAt, steps, type Sample } from './replay.js';
import { branchAction, branchHolds } from '../selfplay/hindsight.js';

export type TrainConfig = Config['train'];

/** A training batch as flat typed arrays (B samples, K unroll steps). */
export interface Batch {
  size: number;
  unroll: number;
  /** (K + 1) × B × D observations at t + k (clamped to the last state). */
  obs: Float32Array;
  /** K × B actions. */
  actions: Int32Array;
  /** (K + 1) × B × A search policies. */
  policy: Float32Array;
  /** (K + 1) × B × bins two-hot value targets. */
  value: Float32Array;
  /** K × B × bins two-hot reward targets. */
  reward: Float32Array;
  /** (K + 1) × B: 1 where state t + k exists (t + k ≤ T). */
  stateMask: Float32Array;
  /** K × B: 1 where decision t + k exists (t + k < T). */
  actionMask: Float32Array;
  /** The hindsight branches of the samples, when their trajectories carry them (else null). */
  hindsight: HindsightBatch | null;
}

/**
 * The branches of the untaken actions at each sample's decision t, unrolled (../selfplay/hindsight.ts),
 * row b·A + a of each step k < K: K × B·A actions the branch takes, K × B·A × bins two-hot afterstate Q
 * W_k, reward r_k and next-state value W_{k+1}, and K × B·A masks (1 while the branch lasts).
 */
export interface HindsightBatch {
  actions: Int32Array;
  q: Float32Array;
  reward: Float32Array;
  value: Float32Array;
  mask: Float32Array;
}

/** The hindsight part of a batch: the W recursion W_{k+1} = (W_k − r_k) / γ along each branch. */
function hindsightBatch(samples: Sample[], K: number, support: SupportSpec, gamma: number): HindsightBatch | null {
  if (!samples.some((s) => s.traj.hindsight)) return null;
  const A = N_ACTIONS;
  const BA = samples.length * A;
  const hz = new Float64Array(K * BA);
  const hr = new Float64Array(K * BA);
  const hv = new Float64Array(K * BA);
  const actions = new Int32Array(K * BA);
  const mask = new Float32Array(K * BA);
  samples.forEach(({ traj, t }, b) => {
    if (!traj.hindsight) return;
    const S = traj.hindsightReward!.length / traj.hindsight.length;
    const flat = flatAt(traj, t);
    for (let a = 0; a < A; a++) {
      let w = traj.hindsight[t * A + a];
      if (Number.isNaN(w)) continue;
      const L = traj.hindsightLength![t * A + a];
      const holds = branchHolds(a, flat);
      for (let k = 0; k < Math.min(K, L, S); k++) {
        const r = traj.hindsightReward![(t * A + a) * S + k];
        const row = k * BA + b * A + a;
        actions[row] = branchAction(a, holds, L, k);
        hz[row] = w;
        hr[row] = r;
        w = (w - r) / gamma;
        hv[row] = w;
        mask[row] = 1;
      }
    }
  });
  const twoHot = (x: Float64Array) => Float32Array.from(twoHotEncode(x, support));
  return { actions, q: twoHot(hz), reward: twoHot(hr), value: twoHot(hv), mask };
}

/** Gathers the samples into a batch (targets two-hot encoded with the shared support helper). */
export function makeBatch(samples: Sample[], unroll: number, obsDim: number, support: SupportSpec, gamma: number): Batch {
  const B = samples.length;
  const K = unroll;
  const D = obsDim;
  const A = N_ACTIONS;
  const obs = new Float32Array((K + 1) * B * D);
  const actions = new Int32Array(K * B);
  const policy = new Float32Array((K + 1) * B * A);
  const zs = new Float64Array((K + 1) * B);
  const rs = new Float64Array(K * B);
  const stateMask = new Float32Array((K + 1) * B);
  const actionMask = new Float32Array(K * B);
  for (let b = 0; b < B; b++) {
    const { traj, t } = samples[b];
    const T = steps(traj);
    for (let k = 0; k <= K; k++) {
      const u = Math.min(t + k, T);
      const row = k * B + b;
      obs.set(traj.obs.subarray(u * D, (u + 1) * D), row * D);
      if (t + k <= T) {
        stateMask[row] = 1;
        zs[row] = traj.targets[u];
        policy.set(traj.policies.subarray(u * A, (u + 1) * A), row * A);
      } else {
        policy.fill(1 / A, row * A, (row + 1) * A);
      }
      if (k < K && t + k < T) {
        actionMask[row] = 1;
        actions[row] = traj.actions[t + k];
        rs[row] = traj.rewards[t + k];
      }
    }
  }
  return { size: B, unroll: K, obs, actions, policy, value: Float32Array.from(twoHotEncode(zs, support)), reward: Float32Array.from(twoHotEncode(rs, support)), stateMask, actionMask, hindsight: hindsightBatch(samples, K, support, gamma) };
}

export interface Losses {
  total: number;
  policy: number;
  value: number;
  reward: number;
  chance: number;
  q: number;
  commitment: number;
  hindsight: number;
  entropy: number;
  weight_decay: number;
  grad_norm: number;
  lr: number;
}

function copyWeights(w: Weights): Weights {
  return new Map([...w].map(([k, v]) => [k, new Float32Array(v)]));
}

const LOSS_NAMES = ['policy', 'value', 'reward', 'chance', 'q', 'commitment', 'hindsight', 'entropy', 'weight_decay'] as const;

/** Cross-entropy per row of a target distribution against logits. */
function ce(target: tf.Tensor, logits: tf.Tensor): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), -1)) as tf.Tensor1D;
}

/** x forward; the gradient back through it is scaled by s. */
function scaleGradient(x: tf.Tensor, s: number): tf.Tensor {
  return s === 1 ? x : tf.add(tf.mul(x, s), tf.mul(stopGradient(x), 1 - s));
}

export class Learner {
  readonly net: TfjsNetwork;
  readonly optimizer: tf.AdamOptimizer;
  /** Updates applied so far (the learning-rate schedule's clock). */
  steps = 0;
  private readonly kernels: tf.Variable[];
  /** The moving average of the weights (train.ema_decay > 0), else null. */
  private ema: Weights | null;

  constructor(
    readonly spec: NetworkSpec,
    weights: Weights,
    readonly cfg: TrainConfig,
  ) {
    this.net = new TfjsNetwork(spec, weights);
    const o = cfg.optimizer;
    this.optimizer = tf.train.adam(o.lr, o.beta1, o.beta2, o.epsilon) as tf.AdamOptimizer;
    this.kernels = parameters(spec)
      .filter((p) => p.name.endsWith('/kernel'))
      .map((p) => this.net.variables.get(p.name)!);
    this.ema = cfg.ema_decay > 0 ? copyWeights(weights) : null;
  }

  /** The decay of the average at update `step` (TensorFlow's ExponentialMovingAverage with num_updates: early updates weigh more, so the initial weights fade fast). */
  emaDecayAt(step: number): number {
    return Math.min(this.cfg.ema_decay, (1 + step) / (10 + step));
  }

  /** Learning rate of update `step`: linear warm-up, then exponential decay, floored at min_lr. */
  lrAt(step: number): number {
    const o = this.cfg.optimizer;
    const warm = o.warmup_steps > 0 ? Math.min(1, (step + 1) / o.warmup_steps) : 1;
    const decay = Math.pow(o.decay_rate, Math.max(0, step - o.warmup_steps) / o.decay_steps);
    return Math.max(o.min_lr, o.lr * warm * decay);
  }

  /** The losses of a batch as scalars (total first), differentiable. */
  private lossTerms(batch: Batch): Record<(typeof LOSS_NAMES)[number] | 'total', tf.Scalar> {
    const { size: B, unroll: K } = batch;
    const D = this.spec.obs_dim;
    const A = N_ACTIONS;
    const bins = this.spec.support.bins;
    const w = this.cfg.loss;
    const net = this.net;
    const rows = (a: Float32Array, k: number, width: number) => tf.tensor2d(a.subarray(k * B * width, (k + 1) * B * width), [B, width]);
    const vec = (a: Float32Array, k: number) => tf.tensor1d(a.subarray(k * B, (k + 1) * B));
    const acc: Record<string, tf.Tensor> = {};
    const add = (name: string, perRow: tf.Tensor, mask: tf.Tensor, scale: number) => {
      const term = tf.mul(tf.sum(tf.mul(perRow, mask)), scale / B);
      acc[name] = acc[name] ? tf.add(acc[name], term) : term;
    };
    const state = net.call('representation', [rows(batch.obs, 0, D)]).state;
    // Hindsight (../selfplay/hindsight.ts): the branch of every untaken action at the first decision,
    // unrolled beside the taken path with the market's own chance codes (the market moved the same
    // whatever the action): at step k the branch's afterstate Q, its reward and its next state's value.
    // B·A rows, row b·A + a; the taken action's targets are the n-step ones. The branches ride in the
    // same calls as the taken path (rows B.. of each batch): one call per function and step instead of
    // two halves the learner's kernels, which, not arithmetic, are what an update costs on wasm.
    const h = w.hindsight > 0 ? batch.hindsight : null;
    const BA = B * A;
    /** [B, width] → [B·A, width], row b·A + a a copy of row b. */
    const tile = (x: tf.Tensor, width: number) => tf.reshape(tf.tile(tf.expandDims(x, 1), [1, A, 1]), [BA, width]);
    const slice = (a: Float32Array, k: number) => tf.tensor2d(a.subarray(k * BA * bins, (k + 1) * BA * bins), [BA, bins]);
    const hMaskAt = (k: number) => tf.tensor1d(h!.mask.subarray(k * BA, (k + 1) * BA));
    const taken = (x: tf.Tensor) => (h ? tf.slice(x, [0, 0], [B, -1]) : x);
    const branches = (x: tf.Tensor) => tf.slice(x, [B, 0], [BA, -1]);
    // [B (+ B·A), latent]: the taken path's state, then (with hindsight) the branches' after step k - 1
    let joint = state;
    for (let k = 0; k <= K; k++) {
      const scale = k === 0 ? 1 : 1 / K;
      const sMask = vec(batch.stateMask, k);
      const pred = net.call('prediction', [joint]);
      if (h && k > 0) add('hindsight', ce(slice(h.value, k - 1), branches(pred.value)), hMaskAt(k - 1), 1 / K);
      const policyLogits = taken(pred.policy);
      add('policy', ce(rows(batch.policy, k, A), policyLogits), sMask, scale);
      add('value', ce(rows(batch.value, k, bins), taken(pred.value)), sMask, scale);
      const p = tf.softmax(policyLogits);
      add('entropy', tf.neg(tf.sum(tf.mul(p, tf.logSoftmax(policyLogits)), -1)), sMask, scale);
      if (k === K) break;
      // every branch starts from its decision's represented state
      if (h && k === 0) joint = tf.concat([state, tile(state, this.spec.latent)], 0);
      const aMask = vec(batch.actionMask, k);
      const enc = net.encode(rows(batch.obs, k, D), rows(batch.obs, k + 1, D));
      const hard = stopGradient(enc.code);
      const actions = tf.tensor1d(batch.actions.subarray(k * B, (k + 1) * B), 'int32');
      const allActions = h ? tf.concat([actions, tf.tensor1d(h.actions.subarray(k * BA, (k + 1) * BA), 'int32')], 0) : actions;
      const after = net.call('afterstate_dynamics', [joint, allActions]).afterstate;
      const ap = net.call('afterstate_prediction', [after]);
      const dscale = 1 / K;
      add('chance', ce(hard, taken(ap.chance)), aMask, dscale);
      add('q', ce(rows(batch.value, k, bins), taken(ap.q)), aMask, dscale);
      if (h) add('hindsight', ce(slice(h.q, k), branches(ap.q)), hMaskAt(k), 1 / K);
      add('commitment', tf.sum(tf.square(tf.sub(hard, tf.softmax(enc.logits))), -1), aMask, dscale);
      const dyn = net.call('dynamics', [after, h ? tf.concat([enc.code, tile(hard, this.spec.num_codes)], 0) : enc.code]);
      add('reward', ce(rows(batch.reward, k, bins), taken(dyn.reward)), aMask, dscale);
      if (h) add('hindsight', ce(slice(h.reward, k), branches(dyn.reward)), hMaskAt(k), 1 / K);
      joint = scaleGradient(dyn.state, w.dynamics_gradient_scale);
    }
    if (!acc.hindsight) acc.hindsight = tf.scalar(0);
    acc.weight_decay = tf.mul(tf.addN(this.kernels.map((v) => tf.sum(tf.square(v)))), this.cfg.optimizer.weight_decay);
    const total = tf.addN([
      tf.mul(acc.policy, w.policy),
      tf.mul(acc.value, w.value),
      tf.mul(acc.reward, w.reward),
      tf.mul(acc.chance, w.chance),
      tf.mul(acc.q, w.q),
      tf.mul(acc.commitment, w.commitment),
      tf.mul(acc.hindsight, w.hindsight),
      tf.mul(acc.entropy, -w.entropy),
      acc.weight_decay,
    ]);
    return { total, ...acc } as Record<(typeof LOSS_NAMES)[number] | 'total', tf.Scalar>;
  }

  /** The losses of a batch without an update. */
  evaluate(batch: Batch): Omit<Losses, 'grad_norm' | 'lr'> {
    const t = tf.tidy(() => this.lossTerms(batch));
    const out = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.dataSync()[0]]));
    tf.dispose(Object.values(t));
    return out as unknown as Omit<Losses, 'grad_norm' | 'lr'>;
  }

  /** One update on a batch; returns the losses before it. */
  update(batch: Batch): Losses {
    const lr = this.lrAt(this.steps);
    (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
    const kept: Record<string, tf.Scalar> = {};
    const { grads } = tf.variableGrads(() => {
      const terms = this.lossTerms(batch);
      for (const n of LOSS_NAMES) kept[n] = tf.keep(terms[n]);
      kept.total = tf.keep(tf.clone(terms.total));
      return terms.total;
    }, this.net.trainable());
    const norm = applyClippedGradients(this.optimizer, grads, this.cfg.optimizer.max_grad_norm);
    if (this.ema) {
      // in float32 on the CPU, in spec order: the same bits whatever the backend's kernels do
      const d = Math.fround(this.emaDecayAt(this.steps));
      for (const [name, v] of this.net.variables) {
        const w = v.dataSync() as Float32Array;
        const e = this.ema.get(name)!;
        for (let i = 0; i < e.length; i++) e[i] = d * e[i] + (1 - d) * w[i];
      }
    }
    this.steps++;
    return { ...takeScalars(kept), grad_norm: norm, lr } as Losses;
  }

  getWeights(): Weights {
    return this.net.getWeights();
  }

  /** What evaluations and checkpoints use: the moving average of the weights (copies), or the weights when it is off. */
  servedWeights(): Weights {
    return this.ema ? copyWeights(this.ema) : this.getWeights();
  }

  /** Whether the learner keeps a moving average (train.ema_decay > 0). */
  get averaging(): boolean {
    return this.ema !== null;
  }

  /** Restores the moving average a checkpoint saved (its served weights). */
  restoreAverage(weights: Weights): void {
    if (this.ema) this.ema = copyWeights(weights);
  }

  optimizerState(): Promise<NamedArray[]> {
    return optimizerState(this.net, this.optimizer);
  }

  async restore(state: NamedArray[], steps: number): Promise<void> {
    await restoreOptimizer(this.optimizer, state);
    this.steps = steps;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.net.dispose();
  }
}
