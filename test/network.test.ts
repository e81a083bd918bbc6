// The network spec and its two builds: the ONNX graphs (ONNX Runtime) and the tfjs model agree on
// every output of every graph, each build is deterministic, and the tfjs model trains.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { twoHotEncode } from '../bindings/mcts.js';
import { initTfjs } from '../src/agent/network/backend.js';
import {
  GRAPH_NAMES,
  architectureId,
  initWeights,
  networkSpec,
  parameters,
  paramSize,
  networkSpecFromConfig,
  type GraphName,
  type NetworkSizes,
  type NetworkSpec,
} from '../src/agent/network/spec.js';
import { buildOnnxGraphs } from '../src/agent/network/onnx.js';
import { OnnxModel, TfjsModel, type Feeds, type GraphResult } from '../src/agent/network/model.js';
import { TfjsNetwork, dense, clipByGlobalNorm } from '../src/agent/network/tfjs.js';
import { loadConfig } from '../src/config/load.js';
import { Prng } from '../src/util/prng.js';
import { randomFeeds } from './helpers/network.js';

const SMALL: NetworkSizes = { obsDim: 23, hidden: 32, blocks: 2, latent: 16, codes: 8, support: { lo: -20, hi: 20, bins: 41 } }; // linear heads
const DEFAULT: NetworkSizes = { obsDim: 80, hidden: 256, blocks: 1, latent: 128, codes: 32, headHidden: 64, support: { lo: -300, hi: 300, bins: 601 } };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function expectBitIdentical(a: GraphResult, b: GraphResult): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(a)) expect(Buffer.from(a[k].buffer, a[k].byteOffset, a[k].byteLength).equals(Buffer.from(b[k].buffer, b[k].byteOffset, b[k].byteLength))).toBe(true);
}

beforeAll(async () => {
  await initTfjs();
});

describe('the network spec', () => {
  it('is plain data whose hash is the architecture_id: sizes change it, nothing else does', () => {
    const spec = networkSpec(SMALL);
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
    expect(architectureId(spec)).toMatch(/^[0-9a-f]{16}$/);
    expect(architectureId(networkSpec({ ...SMALL }))).toBe(architectureId(spec));
    for (const change of [{ hidden: 33 }, { blocks: 1 }, { latent: 17 }, { codes: 9 }, { obsDim: 24 }, { headHidden: 4 }, { support: { lo: -20, hi: 20, bins: 21 } }]) {
      expect(architectureId(networkSpec({ ...SMALL, ...change }))).not.toBe(architectureId(spec));
    }
  });

  it('names the six functions and three graphs, heads sized from the spec', () => {
    const spec = networkSpec(SMALL);
    expect(Object.keys(spec.functions)).toEqual(['representation', 'prediction', 'afterstate_dynamics', 'afterstate_prediction', 'dynamics', 'chance_encoder']);
    expect(Object.keys(spec.graphs)).toEqual(['initial', 'decision', 'chance']);
    // every dense kernel is [inputs, units], every LayerNorm has a scale and an offset
    const params = parameters(spec);
    expect(params.find((p) => p.name === 'afterstate_dynamics/input/kernel')!.shape).toEqual([16 + 4, 32]);
    expect(params.find((p) => p.name === 'dynamics/input/kernel')!.shape).toEqual([16 + 8, 32]);
    expect(params.find((p) => p.name === 'chance_encoder/input/kernel')!.shape).toEqual([2 * 23, 32]);
    expect(params.find((p) => p.name === 'prediction/value/kernel')!.shape).toEqual([32, 41]);
    expect(params.find((p) => p.name === 'afterstate_prediction/chance/kernel')!.shape).toEqual([32, 8]);
    expect(params.filter((p) => p.name.endsWith('/gamma')).length).toBe(6 * (1 + 2 * 2));
    expect(new Set(params.map((p) => p.name)).size).toBe(params.length);
    // with head_hidden, the policy, chance and support heads get a hidden layer; latent heads stay linear
    const wide = parameters(networkSpec({ ...SMALL, headHidden: 6 }));
    expect(wide.find((p) => p.name === 'prediction/value_hidden/kernel')!.shape).toEqual([32, 6]);
    expect(wide.find((p) => p.name === 'prediction/value/kernel')!.shape).toEqual([6, 41]);
    expect(wide.find((p) => p.name === 'afterstate_prediction/chance_hidden/kernel')!.shape).toEqual([32, 6]);
    expect(wide.find((p) => p.name === 'representation/state/kernel')!.shape).toEqual([32, 16]);
    expect(wide.some((p) => p.name === 'representation/state_hidden/kernel')).toBe(false);
  });

  it('is sized from the config: model section, mcts.support, and the observation size passed in', () => {
    const config = loadConfig();
    const spec = networkSpecFromConfig(config, 80);
    expect(spec.hidden).toBe(config.model.hidden);
    expect(spec.blocks).toBe(config.model.blocks);
    expect(spec.head_hidden).toBe(config.model.head_hidden);
    expect(spec.latent).toBe(config.model.latent);
    expect(spec.num_codes).toBe(config.model.chance_codes);
    expect(spec.support).toEqual(config.mcts.support);
    expect(spec.obs_dim).toBe(80);
    expect(() => networkSpec({ ...SMALL, hidden: 0 })).toThrow(/hidden must be an integer >= 1, got 0/);
  });

  it('seeded initial weights: the same seed gives the same bytes, another seed others', () => {
    const spec = networkSpec(SMALL);
    const a = initWeights(spec, 7);
    const b = initWeights(spec, 7);
    const c = initWeights(spec, 8);
    let total = 0;
    for (const p of parameters(spec)) {
      expect(a.get(p.name)).toEqual(b.get(p.name));
      total += paramSize(p);
    }
    expect(a.get('representation/input/kernel')).not.toEqual(c.get('representation/input/kernel'));
    expect(total).toBeGreaterThan(10_000);
  });
});

describe.each([
  ['small (hidden 32, 2 blocks, 41 bins)', SMALL],
  ['default (hidden 256, 1 block, heads with 64 hidden, 601 bins)', DEFAULT],
])('ONNX Runtime and tfjs on the %s network', (_label, sizes) => {
  const spec = networkSpec(sizes);
  const weights = initWeights(spec, 11);
  let onnx: OnnxModel;
  let tfjs: TfjsModel;
  beforeAll(async () => {
    onnx = await OnnxModel.create(spec, buildOnnxGraphs(spec, weights));
    tfjs = TfjsModel.fromWeights(spec, weights);
  });
  afterAll(async () => {
    await onnx.dispose();
    await tfjs.dispose();
  });

  it.each(GRAPH_NAMES.map((g) => [g]))('the %s graph: every output within 1e-5 on random inputs (batch 1 and 64)', async (graph) => {
    for (const n of [1, 64]) {
      const feeds = randomFeeds(spec, graph, n, 100 + n);
      const a = await onnx.runner.run(graph, feeds, n);
      const b = await tfjs.runner.run(graph, feeds, n);
      expect(Object.keys(a)).toEqual(spec.graphs[graph].outputs.map((o) => o.name));
      for (const k of Object.keys(a)) {
        expect(a[k].length).toBeGreaterThan(0);
        expect(maxAbsDiff(a[k], b[k]), `${graph}.${k}`).toBeLessThan(1e-5);
      }
    }
  });

  it('latents are min-max scaled to [0, 1] per row, support heads are distributions', async () => {
    const n = 16;
    const r = await onnx.runner.run('initial', randomFeeds(spec, 'initial', n, 5), n);
    for (let i = 0; i < n; i++) {
      const row = r.latent.subarray(i * spec.latent, (i + 1) * spec.latent);
      expect(Math.min(...row)).toBe(0);
      expect(Math.max(...row)).toBeCloseTo(1, 5);
      const p = r.value.subarray(i * spec.support.bins, (i + 1) * spec.support.bins);
      expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
    }
  });

  it('the SearchModel outputs agree too (values decoded from the support with the native helpers)', async () => {
    const n = 32;
    const [obs] = randomFeeds(spec, 'initial', n, 9) as [Float32Array];
    const a = await onnx.initial(obs, n);
    const b = await tfjs.initial(obs, n);
    expect(maxAbsDiff(a.latents, b.latents)).toBeLessThan(1e-5);
    expect(maxAbsDiff(a.policy, b.policy)).toBeLessThan(1e-5);
    // A scalar is h^-1 of an expectation over the support: its error grows with its size.
    for (let i = 0; i < n; i++) expect(Math.abs(a.values[i] - b.values[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(a.values[i])));
    const codes = Int32Array.from({ length: n }, (_, i) => i % spec.num_codes);
    const ca = await onnx.recurrentChance(a.latents, codes);
    const cb = await tfjs.recurrentChance(a.latents, codes);
    for (let i = 0; i < n; i++) expect(Math.abs(ca.rewards[i] - cb.rewards[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(ca.rewards[i])));
    const acts = Int32Array.from({ length: n }, (_, i) => i % 4);
    const da = await onnx.recurrentDecision(a.latents, acts);
    const db = await tfjs.recurrentDecision(a.latents, acts);
    expect(maxAbsDiff(da.afterstates, db.afterstates)).toBeLessThan(1e-5);
    expect(maxAbsDiff(da.chancePolicy, db.chancePolicy)).toBeLessThan(1e-5);
  });

  it('each backend run twice gives bit-identical outputs, and ONNX rows do not depend on the rest of the batch', async () => {
    const n = 64;
    for (const graph of GRAPH_NAMES) {
      const feeds = randomFeeds(spec, graph, n, 31);
      expectBitIdentical(await onnx.runner.run(graph, feeds, n), await onnx.runner.run(graph, feeds, n));
      expectBitIdentical(await tfjs.runner.run(graph, feeds, n), await tfjs.runner.run(graph, feeds, n));
      // the first k rows alone equal the first k rows of the full batch
      const k = 7;
      const part = await onnx.runner.run(
        graph,
        feeds.map((f, i) => f.subarray(0, spec.graphs[graph].inputs[i].kind === 'index' ? k : k * spec.graphs[graph].inputs[i].size)),
        k,
      );
      const full = await onnx.runner.run(graph, feeds, n);
      for (const key of Object.keys(part)) expect(part[key]).toEqual(full[key].subarray(0, part[key].length));
    }
  });

  it('a rebuild from the same weights gives the same ONNX bytes, and a new session the same outputs', async () => {
    const g1 = buildOnnxGraphs(spec, weights);
    const g2 = buildOnnxGraphs(spec, initWeights(spec, 11));
    for (const name of GRAPH_NAMES) expect(Buffer.from(g1[name]).equals(Buffer.from(g2[name]))).toBe(true);
    const other = await OnnxModel.create(spec, g2);
    const feeds = randomFeeds(spec, 'chance', 8, 3);
    expectBitIdentical(await onnx.runner.run('chance', feeds, 8), await other.runner.run('chance', feeds, 8));
    await other.dispose();
  });
});

describe('bad graph inputs', () => {
  it('name the input and the expected size', async () => {
    const spec = networkSpec(SMALL);
    const m = await OnnxModel.create(spec, buildOnnxGraphs(spec, initWeights(spec, 1)));
    await expect(m.runner.run('initial', [new Float32Array(22)], 1)).rejects.toThrow(/initial: input obs has 22 values, expected 23 \(1 rows\)/);
    await expect(m.runner.run('decision', [new Float32Array(16), new Float32Array(1) as unknown as Int32Array], 1)).rejects.toThrow(/input action must be an Int32Array/);
    await m.dispose();
    expect(() => new TfjsNetwork(spec, new Map())).toThrow(/parameter representation\/input\/kernel is missing/);
  });
});

describe('training in tfjs', () => {
  it('the custom-gradient dense layer has the stock gradients', () => {
    const rng = new Prng(4);
    const x = tf.tensor2d(Float32Array.from({ length: 5 * 7 }, () => rng.normal()), [5, 7]);
    const w = tf.tensor2d(Float32Array.from({ length: 7 * 3 }, () => rng.normal()), [7, 3]);
    const b = tf.tensor1d(Float32Array.from({ length: 3 }, () => rng.normal()));
    const t = tf.tensor2d(Float32Array.from({ length: 5 * 3 }, () => rng.normal()), [5, 3]);
    const loss = (f: (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.square(f(xx, ww, bb)), t)) as tf.Scalar;
    const ours = tf.grads(loss(dense))([x, w, b]);
    const stock = tf.grads(loss((xx, ww, bb) => tf.add(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), bb)))([x, w, b]);
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(ours[i].dataSync(), stock[i].dataSync())).toBeLessThan(1e-4);
  });

  it('a one-step Stochastic MuZero loss decreases under Adam, and the straight-through code trains the encoder', () => {
    const spec = networkSpec(SMALL);
    const net = new TfjsNetwork(spec, initWeights(spec, 2));
    const rng = new Prng(6);
    const n = 32;
    const O = spec.obs_dim;
    const obs = tf.tensor2d(Float32Array.from({ length: n * O }, () => rng.normal()), [n, O]);
    const next = tf.tensor2d(Float32Array.from({ length: n * O }, () => rng.normal()), [n, O]);
    const actions = tf.tensor1d(Int32Array.from({ length: n }, () => rng.below(4)), 'int32');
    const policyTarget = tf.oneHot(tf.tensor1d(Int32Array.from({ length: n }, () => rng.below(4)), 'int32'), 4);
    const support = spec.support;
    const target = (xs: number[]) => tf.tensor2d(Float32Array.from(twoHotEncode(xs, support)), [n, support.bins]);
    const values = target(Array.from({ length: n }, () => rng.normal() * 5));
    const rewards = target(Array.from({ length: n }, () => rng.normal() * 3));
    const ce = (targets: tf.Tensor, logits: tf.Tensor) => tf.mean(tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1)));
    const lossFn = () =>
      tf.tidy(() => {
        const s = net.call('representation', [obs]).state;
        const f = net.call('prediction', [s]);
        const as = net.call('afterstate_dynamics', [s, actions]).afterstate;
        const psi = net.call('afterstate_prediction', [as]);
        const { code } = net.encode(obs, next);
        const g = net.call('dynamics', [as, code]);
        const f1 = net.call('prediction', [g.state]);
        return tf.addN([ce(policyTarget, f.policy), ce(values, f.value), ce(values, psi.q), ce(rewards, g.reward), ce(values, f1.value), ce(code, psi.chance)]) as tf.Scalar;
      });
    const optimizer = tf.train.adam(3e-3);
    const encoderKernel = net.variables.get('chance_encoder/input/kernel')!;
    const { grads } = tf.variableGrads(lossFn, [encoderKernel]);
    const encoderGrad = tf.sum(tf.abs(Object.values(grads)[0])).dataSync()[0];
    expect(encoderGrad).toBeGreaterThan(0);
    tf.dispose(Object.values(grads));
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) {
      const { value, grads: g } = tf.variableGrads(lossFn, net.trainable());
      const clipped = clipByGlobalNorm(g, 10);
      optimizer.applyGradients(clipped.grads as Parameters<typeof optimizer.applyGradients>[0]);
      losses.push(value.dataSync()[0]);
      tf.dispose([value, ...Object.values(g), ...Object.values(clipped.grads)]);
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[39]).toBeLessThan(losses[0] * 0.8);
    optimizer.dispose();
    net.dispose();
  });

  it('clipByGlobalNorm scales the gradients to the norm and leaves small ones alone', () => {
    const g = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
    const big = clipByGlobalNorm(g, 1);
    expect(big.norm).toBeCloseTo(5, 6);
    expect(Array.from(big.grads.a.dataSync())).toEqual([expect.closeTo(0.6, 6), 0]);
    expect(Array.from(big.grads.b.dataSync())).toEqual([0, expect.closeTo(0.8, 6)]);
    const small = clipByGlobalNorm(g, 10);
    expect(small.grads).toBe(g);
  });
});
