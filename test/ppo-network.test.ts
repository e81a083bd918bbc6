// The PPO actor-critic spec and its two builds: ONNX Runtime and tfjs agree within 1e-5 on masked
// logits and values, the input normalisation (running statistics in the weights, clamp to [-1, 1])
// included; masking gives illegal actions probability 0; the ONNX bytes depend only on spec and weights.
import { describe, it, expect, beforeAll } from 'vitest';
import { initTfjs } from '../src/agent/network/backend.js';
import { NORM_MEAN, NORM_STD, initPpoWeights, ppoArchitectureId, ppoParameters, ppoSpec, ppoSpecFromConfig } from '../src/agent/network/ppo-spec.js';
import { PpoTfjsNetwork } from '../src/agent/network/ppo-tfjs.js';
import { buildPpoOnnx } from '../src/agent/network/onnx.js';
import { PpoOnnxRunner, PpoTfjsRunner } from '../src/agent/ppo/model.js';
import { loadConfig } from '../src/config/load.js';
import { Prng } from '../src/util/prng.js';

const spec = ppoSpec({ obsDim: 18, history: 5, encoder: 32, actorHidden: 64, criticHidden: 96 });

function inputs(n: number, seed: number): { window: Float32Array; mask: Float32Array } {
  const rng = new Prng(seed);
  const window = Float32Array.from({ length: n * spec.history * spec.obs_dim }, () => rng.normal() * 3 + 1);
  const mask = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const flat = rng.below(2) === 0;
    mask.set(flat ? [1, 1, 1, 0] : [1, 0, 0, 1], i * 4);
  }
  return { window, mask };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('PPO network', () => {
  beforeAll(async () => {
    await initTfjs();
  });

  it('has the configured shape by default: H 5, encoder 32, actor 64, critic 96, and a stable architecture id', () => {
    const s = ppoSpecFromConfig(loadConfig(), 18);
    expect([s.history, s.encoder_units, s.actor_hidden, s.critic_hidden, s.clamp]).toEqual([5, 32, 64, 96, 1]);
    expect(ppoArchitectureId(s)).toBe(ppoArchitectureId(ppoSpecFromConfig(loadConfig(), 18)));
    expect(ppoArchitectureId(s)).not.toBe(ppoArchitectureId(ppoSpecFromConfig(loadConfig(), 19)));
    const names = ppoParameters(s).map((p) => p.name);
    expect(names.slice(0, 2)).toEqual([NORM_MEAN, NORM_STD]);
    expect(names).toContain('actor/norm/gamma');
    expect(names).toContain('critic/norm/gamma');
  });

  it('ONNX Runtime and tfjs agree within 1e-5, with non-trivial normalisation statistics that clamp', async () => {
    const w = initPpoWeights(spec, 7);
    const rng = new Prng(11);
    // statistics that matter: shifted means, small and large scales, so that many inputs clamp
    w.set(NORM_MEAN, Float32Array.from({ length: spec.obs_dim }, () => rng.normal()));
    w.set(NORM_STD, Float32Array.from({ length: spec.obs_dim }, (_, i) => (i % 3 === 0 ? 0.5 : 4) + rng.float()));
    const n = 64;
    const { window, mask } = inputs(n, 3);
    const net = new PpoTfjsNetwork(spec, w);
    const tfjs = await new PpoTfjsRunner(net).run(window, mask, n);
    const onnx = await PpoOnnxRunner.create(spec, buildPpoOnnx(spec, w));
    const ort = await onnx.run(window, mask, n);
    await onnx.dispose();
    expect(maxAbsDiff(ort.values, tfjs.values)).toBeLessThan(1e-5);
    expect(ort.values.length).toBe(n);
    // legal logits agree; illegal ones are pushed far below
    let legal = 0;
    for (let i = 0; i < n * 4; i++) {
      if (mask[i] === 1) {
        expect(Math.abs(ort.logits[i] - tfjs.logits[i])).toBeLessThan(1e-5);
        legal++;
      } else {
        expect(ort.logits[i]).toBeLessThan(-1e8);
        expect(tfjs.logits[i]).toBeLessThan(-1e8);
      }
    }
    expect(legal).toBeGreaterThan(n * 2);
    // the normalisation changes the outputs (so it really is inside both builds)
    const plain = initPpoWeights(spec, 7);
    const onnxPlain = await PpoOnnxRunner.create(spec, buildPpoOnnx(spec, plain));
    const other = await onnxPlain.run(window, mask, n);
    await onnxPlain.dispose();
    expect(maxAbsDiff(other.values, ort.values)).toBeGreaterThan(1e-3);
    net.dispose();
  });

  it('clamps normalised inputs to [-1, 1]: scaling an input beyond the clamp changes nothing', async () => {
    const w = initPpoWeights(spec, 9);
    const { window, mask } = inputs(8, 5);
    const big = Float32Array.from(window, (x) => (x > 0 ? 50 : -50));
    const bigger = Float32Array.from(window, (x) => (x > 0 ? 5000 : -5000));
    const r = await PpoOnnxRunner.create(spec, buildPpoOnnx(spec, w));
    const a = await r.run(big, mask, 8);
    const b = await r.run(bigger, mask, 8);
    await r.dispose();
    expect(maxAbsDiff(a.values, b.values)).toBe(0);
    expect(maxAbsDiff(a.logits, b.logits)).toBe(0);
  });

  it('builds the same ONNX bytes from the same spec and weights', () => {
    const w = initPpoWeights(spec, 1);
    expect(Buffer.from(buildPpoOnnx(spec, w)).equals(Buffer.from(buildPpoOnnx(spec, initPpoWeights(spec, 1))))).toBe(true);
    expect(Buffer.from(buildPpoOnnx(spec, w)).equals(Buffer.from(buildPpoOnnx(spec, initPpoWeights(spec, 2))))).toBe(false);
  });

  it('refuses weights with a non-positive normaliser scale', () => {
    const w = initPpoWeights(spec, 1);
    w.get(NORM_STD)![3] = 0;
    expect(() => buildPpoOnnx(spec, w)).toThrow(/normalizer\/std\[3\] is 0/);
  });
});
