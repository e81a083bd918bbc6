// The PPO actor-critic as something that acts: the ONNX graph on ONNX Runtime (rollouts, backtests,
// live) or the tfjs build (training, the parity reference). Both take a batch of windows [n, H·D] and
// legal masks [n, A] and give masked logits [n, A] and values [n].
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import type { PpoSpec } from '../network/ppo-spec.js';
import type { PpoTfjsNetwork } from '../network/ppo-tfjs.js';
import { N_ACTIONS } from '../../env/types.js';

export interface PpoOutput {
  logits: Float32Array;
  values: Float32Array;
}

export interface PpoRunner {
  readonly spec: PpoSpec;
  readonly engine: string;
  run(window: Float32Array, mask: Float32Array, n: number): Promise<PpoOutput>;
  dispose(): Promise<void>;
}

function check(spec: PpoSpec, window: Float32Array, mask: Float32Array, n: number): void {
  const w = spec.history * spec.obs_dim;
  if (window.length < n * w) throw new Error(`ppo: window holds ${window.length} values, ${n} rows need ${n * w}`);
  if (mask.length < n * N_ACTIONS) throw new Error(`ppo: mask holds ${mask.length} values, ${n} rows need ${n * N_ACTIONS}`);
}

export class PpoOnnxRunner implements PpoRunner {
  readonly engine = 'onnxruntime-cpu';
  private constructor(
    readonly spec: PpoSpec,
    private readonly session: ort.InferenceSession,
  ) {}

  static async create(spec: PpoSpec, graph: Uint8Array, threads = 1): Promise<PpoOnnxRunner> {
    try {
      const session = await ort.InferenceSession.create(graph, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
      return new PpoOnnxRunner(spec, session);
    } catch (e) {
      throw new Error(`onnxruntime cannot load the ppo policy graph: ${(e as Error).message}`);
    }
  }

  async run(window: Float32Array, mask: Float32Array, n: number): Promise<PpoOutput> {
    check(this.spec, window, mask, n);
    const w = this.spec.history * this.spec.obs_dim;
    const res = await this.session.run({
      obs: new ort.Tensor('float32', window.subarray(0, n * w), [n, w]),
      mask: new ort.Tensor('float32', mask.subarray(0, n * N_ACTIONS), [n, N_ACTIONS]),
    });
    return { logits: res.logits.data as Float32Array, values: res.value.data as Float32Array };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

export class PpoTfjsRunner implements PpoRunner {
  readonly engine: string;
  readonly spec: PpoSpec;
  constructor(readonly net: PpoTfjsNetwork) {
    this.spec = net.spec;
    this.engine = `tfjs-${tf.getBackend()}`;
  }

  async run(window: Float32Array, mask: Float32Array, n: number): Promise<PpoOutput> {
    check(this.spec, window, mask, n);
    const w = this.spec.history * this.spec.obs_dim;
    const out = tf.tidy(() => this.net.forward(tf.tensor2d(window.subarray(0, n * w), [n, w]), tf.tensor2d(mask.subarray(0, n * N_ACTIONS), [n, N_ACTIONS])));
    const r = { logits: out.logits.dataSync() as Float32Array, values: out.value.dataSync() as Float32Array };
    tf.dispose([out.logits, out.value]);
    return r;
  }

  async dispose(): Promise<void> {}
}

/** Index of the largest logit (the first on a tie): the greedy action (masked logits never win). */
export function greedy(logits: Float32Array, row: number): number {
  let best = 0;
  let v = logits[row * N_ACTIONS];
  for (let a = 1; a < N_ACTIONS; a++) {
    const x = logits[row * N_ACTIONS + a];
    if (x > v) {
      v = x;
      best = a;
    }
  }
  return best;
}

/** A draw from softmax(logits) of a row with a uniform u in [0, 1) (float64 arithmetic). */
export function sample(logits: Float32Array, row: number, u: number): number {
  const o = row * N_ACTIONS;
  let m = -Infinity;
  for (let a = 0; a < N_ACTIONS; a++) m = Math.max(m, logits[o + a]);
  let z = 0;
  const p = [0, 0, 0, 0];
  for (let a = 0; a < N_ACTIONS; a++) {
    p[a] = Math.exp(logits[o + a] - m);
    z += p[a];
  }
  let acc = 0;
  let last = 0;
  for (let a = 0; a < N_ACTIONS; a++) {
    if (p[a] === 0) continue;
    last = a;
    acc += p[a] / z;
    if (u < acc) return a;
  }
  return last;
}

/** log softmax(logits)[a] of a row (float64). */
export function logProb(logits: Float32Array, row: number, a: number): number {
  const o = row * N_ACTIONS;
  let m = -Infinity;
  for (let k = 0; k < N_ACTIONS; k++) m = Math.max(m, logits[o + k]);
  let z = 0;
  for (let k = 0; k < N_ACTIONS; k++) z += Math.exp(logits[o + k] - m);
  return logits[o + a] - m - Math.log(z);
}
