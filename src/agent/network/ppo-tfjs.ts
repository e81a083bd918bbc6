// The tfjs build of the PPO spec (./ppo-spec.ts): trainable variables, the normaliser's statistics as
// non-trainable variables, and the forward pass evaluated exactly as the ONNX graph is (./onnx.ts).
import * as tf from '@tensorflow/tfjs-core';
import { paramSize, type Weights } from './spec.js';
import { NORM_MEAN, NORM_STD, checkPpoWeights, ppoParameters, type PpoSpec } from './ppo-spec.js';
import { applyLayers } from './tfjs.js';

let instances = 0;

export class PpoTfjsNetwork {
  readonly variables = new Map<string, tf.Variable>();
  private readonly prefix: string;

  constructor(
    readonly spec: PpoSpec,
    weights: Weights,
  ) {
    checkPpoWeights(spec, weights);
    this.prefix = `swt_ppo${++instances}/`;
    for (const p of ppoParameters(spec)) {
      this.variables.set(p.name, tf.variable(tf.tensor(weights.get(p.name)!, p.shape, 'float32'), p.trainable !== false, this.prefix + p.name));
    }
  }

  private v(name: string): tf.Variable {
    const x = this.variables.get(name);
    if (!x) throw new Error(`tfjs ppo network: no parameter ${name}`);
    return x;
  }

  /**
   * The window [n, H·D] normalised and clamped, and its last observation [n, D] (the current one).
   */
  normalise(window: tf.Tensor): { window: tf.Tensor; current: tf.Tensor } {
    const { history: H, obs_dim: D, clamp } = this.spec;
    const n = window.shape[0];
    const x3 = tf.reshape(window, [n, H, D]);
    const z = tf.clipByValue(tf.div(tf.sub(x3, this.v(NORM_MEAN)), this.v(NORM_STD)), -clamp, clamp);
    const flat = tf.reshape(z, [n, H * D]);
    return { window: flat, current: tf.slice(flat, [0, (H - 1) * D], [n, D]) };
  }

  /** Masked logits [n, A] and values [n, 1] of a batch; differentiable. `mask` is float 1 (legal) / 0. */
  forward(window: tf.Tensor, mask: tf.Tensor): { logits: tf.Tensor; value: tf.Tensor } {
    const s = this.spec;
    const eps = s.layer_norm_epsilon;
    const get = (name: string) => this.v(name);
    const z = this.normalise(window);
    const enc = applyLayers(z.window, s.encoder, get, eps, 0);
    const x = tf.concat([enc, z.current], 1);
    const raw = applyLayers(x, s.actor, get, eps, 0);
    const logits = tf.add(raw, tf.mul(tf.sub(mask, 1), -s.mask_logit));
    return { logits, value: applyLayers(x, s.critic, get, eps, 0) };
  }

  trainable(): tf.Variable[] {
    return ppoParameters(this.spec)
      .filter((p) => p.trainable !== false)
      .map((p) => this.v(p.name));
  }

  getWeights(): Weights {
    const w: Weights = new Map();
    for (const p of ppoParameters(this.spec)) w.set(p.name, new Float32Array(this.v(p.name).dataSync() as Float32Array));
    return w;
  }

  setWeights(weights: Weights): void {
    checkPpoWeights(this.spec, weights);
    for (const p of ppoParameters(this.spec)) this.v(p.name).assign(tf.tensor(weights.get(p.name)!, p.shape, 'float32'));
  }

  /** Replaces the normaliser's statistics (D values each; std > 0). */
  setNormalizer(mean: Float32Array, std: Float32Array): void {
    const D = this.spec.obs_dim;
    if (mean.length !== D || std.length !== D) throw new Error(`ppo normaliser: expected ${D} values, got mean ${mean.length}, std ${std.length}`);
    this.v(NORM_MEAN).assign(tf.tensor1d(mean));
    this.v(NORM_STD).assign(tf.tensor1d(std));
  }

  parameterOf(variableName: string): string {
    return variableName.startsWith(this.prefix) ? variableName.slice(this.prefix.length) : variableName;
  }

  /** Parameter count (trainable ones). */
  size(): number {
    return ppoParameters(this.spec)
      .filter((p) => p.trainable !== false)
      .reduce((a, p) => a + paramSize(p), 0);
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}
