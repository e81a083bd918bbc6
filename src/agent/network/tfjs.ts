// The tfjs build of the network spec: trainable variables and differentiable functions (training),
// and the inference graphs evaluated the same way the ONNX graphs are (./onnx.ts).
//
// Two training details of tfjs on the wasm backend shape this code: the stock gradient of matMul
// takes a transposed batch-matmul path that is several times slower than the plain one, so dense
// layers carry their own gradient that transposes explicitly; and tf.gather has no gradient there,
// so index inputs enter as one-hot matrices (a matMul, as in the ONNX graphs). Gradients need the
// registrations that initTfjs() (./backend.ts) loads.
import * as tf from '@tensorflow/tfjs-core';
import {
  checkWeights,
  parameters,
  type FunctionName,
  type GraphName,
  type Layer,
  type NetworkSpec,
  type Weights,
  walkGraph,
} from './spec.js';

type T2 = tf.Tensor2D;
type CustomGradientFunc<T extends tf.Tensor> = Parameters<typeof tf.customGrad<T>>[0];

/** y = x W + b with a gradient that uses the plain matMul kernel (the same values as the stock one). */
export const dense = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, w, b, save] = args as [T2, T2, tf.Tensor1D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [T2, T2];
      return [tf.matMul(dy as T2, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy as T2), tf.sum(dy, 0)];
    },
  };
}) as CustomGradientFunc<tf.Tensor>) as (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** Identity forward, zero gradient (tfjs has no stopGradient). */
export const stopGradient = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as CustomGradientFunc<tf.Tensor>) as (x: tf.Tensor) => tf.Tensor;

/**
 * One-hot of the argmax code in the forward pass, the softmax's gradient in the backward pass
 * (straight-through estimator): hard + (p - stop(p)) is exactly `hard` forward.
 */
export function straightThroughOneHot(logits: tf.Tensor): T2 {
  const c = logits.shape[logits.shape.length - 1];
  const probs = tf.softmax(logits);
  const hard = tf.cast(tf.oneHot(tf.argMax(logits, -1) as tf.Tensor1D, c), 'float32');
  return tf.add(hard, tf.sub(probs, stopGradient(probs))) as T2;
}

/** sqrt(sum of squares) over all gradients, and the gradients scaled so that it is at most maxNorm. */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: number } {
  const norm = Math.sqrt(
    tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]),
  );
  if (!(norm > maxNorm)) return { grads, norm };
  const scale = maxNorm / norm;
  const out: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, scale);
  return { grads: out, norm };
}

/** A layer list on a batch, its parameters looked up by name (shared by every network family). */
export function applyLayers(x: tf.Tensor, layers: Layer[], param: (name: string) => tf.Tensor, layerNormEpsilon: number, minmaxEpsilon: number): tf.Tensor {
  for (const l of layers) {
    switch (l.op) {
      case 'dense':
        x = dense(x, param(`${l.name}/kernel`), param(`${l.name}/bias`));
        break;
      case 'layer_norm': {
        const mean = tf.mean(x, -1, true);
        const centred = tf.sub(x, mean);
        const variance = tf.mean(tf.square(centred), -1, true);
        x = tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, layerNormEpsilon))), param(`${l.name}/gamma`)), param(`${l.name}/beta`));
        break;
      }
      case 'relu':
        x = tf.relu(x);
        break;
      case 'residual':
        x = tf.add(x, applyLayers(x, l.body, param, layerNormEpsilon, minmaxEpsilon));
        break;
      case 'minmax': {
        const lo = tf.min(x, -1, true);
        const hi = tf.max(x, -1, true);
        x = tf.div(tf.sub(x, lo), tf.maximum(tf.sub(hi, lo), minmaxEpsilon));
        break;
      }
    }
  }
  return x;
}

/** Clips gradients by global norm, applies them and releases them; returns the norm before clipping. */
export function applyClippedGradients(optimizer: tf.Optimizer, grads: Record<string, tf.Tensor>, maxNorm: number): number {
  const clipped = clipByGlobalNorm(grads, maxNorm);
  optimizer.applyGradients(clipped.grads as tf.NamedTensorMap as never);
  tf.dispose(Object.values(grads));
  if (clipped.grads !== grads) tf.dispose(Object.values(clipped.grads));
  return clipped.norm;
}

/** The values of kept scalar tensors, which are released. */
export function takeScalars(kept: Record<string, tf.Scalar>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(kept)) out[k] = v.dataSync()[0];
  tf.dispose(Object.values(kept));
  return out;
}

let instances = 0;

/** The network as tfjs variables. Variables are named `<instance>/<parameter>` (tfjs names are global). */
export class TfjsNetwork {
  readonly spec: NetworkSpec;
  readonly variables: Map<string, tf.Variable>;
  private readonly prefix: string;

  constructor(spec: NetworkSpec, weights: Weights) {
    checkWeights(spec, weights);
    this.spec = spec;
    this.prefix = `swt_net${++instances}/`;
    this.variables = new Map();
    for (const p of parameters(spec)) {
      this.variables.set(p.name, tf.variable(tf.tensor(weights.get(p.name)!, p.shape, 'float32'), true, this.prefix + p.name));
    }
  }

  private v(name: string): tf.Variable {
    const x = this.variables.get(name);
    if (!x) throw new Error(`tfjs network: no parameter ${name}`);
    return x;
  }

  private layers(x: tf.Tensor, layers: Layer[]): tf.Tensor {
    return applyLayers(x, layers, (name) => this.v(name), this.spec.layer_norm_epsilon, this.spec.minmax_epsilon);
  }

  /**
   * One function on a batch: its inputs in spec order (an index input is an int32 [n] tensor of
   * indices or a float [n, size] one-hot / straight-through matrix). Returns each head's raw output
   * (latents scaled, logits unnormalised). Differentiable.
   */
  call(fn: FunctionName, args: tf.Tensor[]): Record<string, tf.Tensor> {
    const f = this.spec.functions[fn];
    if (args.length !== f.inputs.length) throw new Error(`tfjs network: ${fn} takes ${f.inputs.length} inputs, got ${args.length}`);
    const parts = f.inputs.map((inp, i) => {
      const a = args[i];
      return inp.kind === 'index' && a.rank === 1 ? tf.cast(tf.oneHot(a as tf.Tensor1D, inp.size), 'float32') : a;
    });
    const x = this.layers(parts.length === 1 ? parts[0] : tf.concat(parts, 1), f.trunk);
    const out: Record<string, tf.Tensor> = {};
    for (const h of f.heads) out[h.name] = this.layers(x, h.layers);
    return out;
  }

  /** An inference graph: outputs by name, support heads as probabilities (as the ONNX graphs give them). */
  graph(name: GraphName, feeds: tf.Tensor[]): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const o of walkGraph(this.spec, name, feeds, (fn, args) => this.call(fn, args))) out[o.name] = o.kind === 'support' ? tf.softmax(o.value) : o.value;
    return out;
  }

  /** The chance encoder e(obs_t, obs_t+1): code logits and the straight-through one-hot code. */
  encode(obs: tf.Tensor, nextObs: tf.Tensor): { logits: tf.Tensor; code: T2 } {
    const logits = this.call('chance_encoder', [obs, nextObs]).code;
    return { logits, code: straightThroughOneHot(logits) };
  }

  /** Trainable variables keyed by their tfjs name (what optimizers and variableGrads use). */
  trainable(): tf.Variable[] {
    return [...this.variables.values()];
  }

  /** The current weights (copies), in spec order. */
  getWeights(): Weights {
    const w: Weights = new Map();
    for (const [name, v] of this.variables) w.set(name, new Float32Array(v.dataSync() as Float32Array));
    return w;
  }

  setWeights(weights: Weights): void {
    checkWeights(this.spec, weights);
    for (const p of parameters(this.spec)) this.v(p.name).assign(tf.tensor(weights.get(p.name)!, p.shape, 'float32'));
  }

  /** Parameter name of a tfjs variable name of this network (for optimizer state). */
  parameterOf(variableName: string): string {
    return variableName.startsWith(this.prefix) ? variableName.slice(this.prefix.length) : variableName;
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}

/** A float32 array with its name and shape (optimizer state, weights on disk). */
export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

// Adam keeps the bias-correction powers beta^t as running products; setWeights recomputes them as
// pow(beta, t), which differs in the last bits. They are saved too, so a restored run continues
// bit for bit.
interface AdamPowers {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}
const ADAM_POWERS = ['adam/acc_beta1', 'adam/acc_beta2'] as const;

/** The optimizer's state (Adam: iteration count, both moments per variable, the bias-correction powers), named by parameter. */
export async function optimizerState(net: { parameterOf(variableName: string): string }, optimizer: tf.Optimizer): Promise<NamedArray[]> {
  const named = await optimizer.getWeights();
  const out = named.map((n) => ({
    name: net.parameterOf(n.name),
    shape: n.tensor.shape.slice(),
    data: Float32Array.from(n.tensor.dataSync() as ArrayLike<number>),
  }));
  if (optimizer instanceof tf.AdamOptimizer) {
    const p = optimizer as unknown as AdamPowers;
    out.push({ name: ADAM_POWERS[0], shape: [], data: Float32Array.from(p.accBeta1.dataSync()) }, { name: ADAM_POWERS[1], shape: [], data: Float32Array.from(p.accBeta2.dataSync()) });
  }
  return out;
}

/** Restores state saved by optimizerState (same network layout; tfjs optimizers are positional). */
export async function restoreOptimizer(optimizer: tf.Optimizer, state: NamedArray[]): Promise<void> {
  const powers = state.filter((s) => (ADAM_POWERS as readonly string[]).includes(s.name));
  await optimizer.setWeights(state.filter((s) => !powers.includes(s)).map((s) => ({ name: s.name, tensor: tf.tensor(s.data, s.shape, 'float32') })));
  if (optimizer instanceof tf.AdamOptimizer && powers.length === 2) {
    const p = optimizer as unknown as AdamPowers;
    p.accBeta1.assign(tf.scalar(powers.find((x) => x.name === ADAM_POWERS[0])!.data[0]));
    p.accBeta2.assign(tf.scalar(powers.find((x) => x.name === ADAM_POWERS[1])!.data[0]));
  }
}
