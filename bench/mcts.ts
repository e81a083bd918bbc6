// MCTS benchmarks. Prints name=value lines:
//   mcts_simulations_per_s_15 / _50: tree work only (traverse + backpropagate through the binding,
//     with a trivial evaluator that replays precomputed leaf evaluations), batch 64, median of runs;
//   mcts_simulations_per_s: the headline, the lower of the two; variants for Gumbel, sampled chance
//     codes, and a batch of 1024 on one thread and on all cores;
//   search_ms_per_decision_batch64: a full search (15 simulations) of 64 environments with a tiny tfjs
//     MLP model (wasm backend, falling back to cpu), median of runs; also _50 for 50 simulations.
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { MctsBatch, type MctsConfig } from '../bindings/mcts.js';
import { Searcher, mctsConfigFromConfig } from '../src/agent/search.js';
import { loadConfig, DEFAULT_CONFIG_FILE } from '../src/config/load.js';
import type { SearchModel, InitialOutput, DecisionOutput, ChanceOutput } from '../src/agent/model.js';

const B = 64;
const A = 4;
const C = 32;
/** config/default.yaml's mcts section; each figure names what it changes. */
const MCTS = loadConfig({ file: DEFAULT_CONFIG_FILE(), env: {} }).mcts;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Simulations per second of the tree work alone for `sims` simulations per search. */
function treeWork(sims: number, mode: MctsConfig['mode'], chance: MctsConfig['chance'], B = 64, threads = 1): number {
  const batch = new MctsBatch(mctsConfigFromConfig({ ...MCTS, simulations: sims, mode, chance, threads }, { max_trees: B, num_actions: A, num_codes: C }));
  const r = rng(1);
  // A pool of precomputed evaluations, replayed in rotation: the evaluator costs nothing, yet the
  // trees see varied values and priors (so they grow as in a real search, not as a degenerate chain).
  const POOL = 16;
  const values = Array.from({ length: POOL }, () => Float64Array.from({ length: B }, () => r() * 2 - 1));
  const rewards = Array.from({ length: POOL }, () => Float64Array.from({ length: B }, () => r() - 0.5));
  const actionPriors = Array.from({ length: POOL }, () => Float64Array.from({ length: B * A }, () => r() * 2));
  const codePriors = Array.from({ length: POOL }, () => Float64Array.from({ length: B * C }, () => r() * 2));
  const rootPriors = Float64Array.from({ length: B * A }, () => r());
  const rootValues = Float64Array.from({ length: B }, () => r());
  const legal = new Uint8Array(B * A).fill(1);
  const treeIds = Float64Array.from({ length: B }, (_, i) => i);
  const search = (seed: number) => {
    batch.prepare({ priors: rootPriors, rootValues, legal, seed, treeIds });
    for (let s = 0; s < sims; s++) {
      batch.traverse();
      const k = (s + seed) % POOL;
      batch.backpropagate({ values: values[k], rewards: rewards[k], actionPriors: actionPriors[k], codePriors: codePriors[k] });
    }
  };
  for (let i = 0; i < 50; i++) search(i); // warm-up
  const rates: number[] = [];
  let seed = 100;
  for (let run = 0; run < 9; run++) {
    const t0 = process.hrtime.bigint();
    let searches = 0;
    let elapsed = 0;
    while (elapsed < 0.25) {
      search(seed++);
      searches++;
      elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    }
    rates.push((searches * B * sims) / elapsed);
  }
  batch.free();
  return median(rates);
}

// ---- a tiny tfjs Stochastic MuZero model ---------------------------------------------------------

const OBS = 32;
const H = 32;
const HID = 64;

function dense(inputs: number, outputs: number): { w: tf.Tensor2D; b: tf.Tensor1D } {
  return { w: tf.randomNormal([inputs, outputs], 0, 1 / Math.sqrt(inputs), 'float32', 7) as tf.Tensor2D, b: tf.zeros([outputs]) };
}

function mlp(x: tf.Tensor2D, l1: { w: tf.Tensor2D; b: tf.Tensor1D }, l2: { w: tf.Tensor2D; b: tf.Tensor1D }): tf.Tensor2D {
  return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, l1.w), l1.b)), l2.w), l2.b);
}

function tinyModel(): SearchModel<Float32Array> {
  const repr = [dense(OBS, HID), dense(HID, H)] as const;
  const pred = [dense(H, HID), dense(HID, A + 1)] as const; // policy logits + value
  const afterDyn = [dense(H + A, HID), dense(HID, H)] as const;
  const afterPred = [dense(H, HID), dense(HID, C + 1)] as const; // code logits + afterstate value
  const dyn = [dense(H + C, HID), dense(HID, H + 1)] as const; // next latent + reward
  const split = (t: tf.Tensor2D, n: number) => tf.split(t, [n, t.shape[1] - n], 1) as [tf.Tensor2D, tf.Tensor2D];
  return {
    numActions: A,
    numCodes: C,
    latentSize: H,
    priors: 'logits',
    initial(obs: Float32Array, n: number): InitialOutput {
      const [latents, head] = tf.tidy(() => {
        const s = tf.tanh(mlp(tf.tensor2d(obs, [n, OBS]), ...repr));
        return [s, mlp(s, ...pred)] as const;
      });
      const [policy, value] = split(head, A);
      const out = { latents: latents.dataSync() as Float32Array, policy: policy.dataSync(), values: value.dataSync() };
      tf.dispose([latents, head, policy, value]);
      return out;
    },
    recurrentDecision(latents: Float32Array, actions: Int32Array): DecisionOutput {
      const k = actions.length;
      const [after, head] = tf.tidy(() => {
        const x = tf.concat([tf.tensor2d(latents, [k, H]), tf.oneHot(tf.tensor1d(actions, 'int32'), A).toFloat()], 1) as tf.Tensor2D;
        const as = tf.tanh(mlp(x, ...afterDyn));
        return [as, mlp(as, ...afterPred)] as const;
      });
      const [codes, value] = split(head, C);
      const out = { afterstates: after.dataSync() as Float32Array, chancePolicy: codes.dataSync(), values: value.dataSync() };
      tf.dispose([after, head, codes, value]);
      return out;
    },
    recurrentChance(afterstates: Float32Array, codes: Int32Array): ChanceOutput {
      const k = codes.length;
      const [next, head] = tf.tidy(() => {
        const x = tf.concat([tf.tensor2d(afterstates, [k, H]), tf.oneHot(tf.tensor1d(codes, 'int32'), C).toFloat()], 1) as tf.Tensor2D;
        const out = mlp(x, ...dyn);
        const [lat, rew] = split(out, H);
        const s = tf.tanh(lat);
        return [s, tf.concat([mlp(s, ...pred), rew], 1) as tf.Tensor2D] as const;
      });
      const [policy, rest] = split(head, A);
      const [value, reward] = tf.split(rest, [1, 1], 1);
      const out = { latents: next.dataSync() as Float32Array, policy: policy.dataSync(), values: value.dataSync(), rewards: reward.dataSync() };
      tf.dispose([next, head, policy, rest, value, reward]);
      return out;
    },
  };
}

async function searchMs(sims: number): Promise<number> {
  // PUCT, as this figure has always been measured (the configured default is Gumbel).
  const searcher = new Searcher(tinyModel(), { ...MCTS, simulations: sims, mode: 'puct' }, B);
  const r = rng(3);
  const obs = Float32Array.from({ length: B * OBS }, () => r() * 2 - 1);
  // Warm-up: the backend prepares kernels per input shape, and the leaf batches vary in size.
  for (let i = 0; i < 10; i++) await searcher.search(obs, B, { seed: i });
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    await searcher.search(obs, B, { seed: 10 + i });
    times.push(performance.now() - t0);
  }
  searcher.free();
  return median(times);
}

async function main(): Promise<void> {
  console.log(`cores=${os.availableParallelism()}`);
  const s15 = treeWork(15, 'puct', 'deterministic');
  const s50 = treeWork(50, 'puct', 'deterministic');
  console.log(`mcts_simulations_per_s_15=${Math.round(s15)}`);
  console.log(`mcts_simulations_per_s_50=${Math.round(s50)}`);
  console.log(`mcts_simulations_per_s=${Math.round(Math.min(s15, s50))}`);
  console.log(`mcts_simulations_per_s_gumbel_15=${Math.round(treeWork(15, 'gumbel', 'deterministic'))}`);
  console.log(`mcts_simulations_per_s_sample_50=${Math.round(treeWork(50, 'puct', 'sample'))}`);
  // Threads over trees pay off for large batches only (a batch of 64 is one unit of parallel work).
  console.log(`mcts_simulations_per_s_batch1024_threads1_50=${Math.round(treeWork(50, 'puct', 'deterministic', 1024, 1))}`);
  console.log(`mcts_simulations_per_s_batch1024_threads${os.availableParallelism()}_50=${Math.round(treeWork(50, 'puct', 'deterministic', 1024, 0))}`);

  let backend = 'wasm';
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend returned false');
    await tf.ready();
  } catch (e) {
    console.error(`bench: tfjs wasm backend unavailable (${(e as Error).message}); using cpu`);
    await tf.setBackend('cpu');
    backend = 'cpu';
  }
  console.log(`tfjs_backend=${backend}`);
  console.log(`search_ms_per_decision_batch64=${(await searchMs(15)).toFixed(2)}`);
  console.log(`search_ms_per_decision_batch64_50=${(await searchMs(50)).toFixed(2)}`);
}

await main();
