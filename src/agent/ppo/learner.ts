// The PPO learner: rollouts on vectorised TradingEnv lanes, GAE(λ), the clipped surrogate with value
// clipping and an entropy bonus, minibatch epochs, Adam with global-norm clipping.
//
// A rollout: every lane starts a session drawn (seeded) from the training sessions, at a seeded offset
// inside it (so a rollout shorter than a session still covers every part of the sessions), and steps
// `rollout` decisions, starting a new drawn session whenever one ends. The env runs with
// sessionEnd 'truncate': a session end is a truncation, not a terminal, so the advantage bootstraps
// from the critic's value of the last state; so does the rollout's end. Everything a rollout draws
// (sessions, offsets, sampled actions) comes from streams of (seed, iteration), so a rollout depends
// only on the seed, the iteration and the weights, and a resumed run continues exactly.
//
// Acting uses the ONNX graph on ONNX Runtime (bench:train measures it against tfjs). After a rollout
// the normaliser folds in its observations and the old log-probabilities and values are recomputed
// under the new statistics with tfjs, so the first epoch starts at ratio 1 for the network it trains.
import * as tf from '@tensorflow/tfjs-core';
import type { Config } from '../../config/schema.js';
import type { EnvConfig } from '../../env/config.js';
import { TradingEnv } from '../../env/env.js';
import { N_ACTIONS, type BarSeries, type EpisodeSet, type FeatureMatrix } from '../../env/types.js';
import { Prng, streamSeed } from '../../util/prng.js';
import { buildPpoOnnx } from '../network/onnx.js';
import type { PpoSpec } from '../network/ppo-spec.js';
import { PpoTfjsNetwork } from '../network/ppo-tfjs.js';
import type { Weights } from '../network/spec.js';
import { applyClippedGradients, optimizerState, restoreOptimizer, takeScalars, type NamedArray } from '../network/tfjs.js';
import { emptyCounts, type DecisionCounts } from '../selfplay/selfplay.js';
import { PpoOnnxRunner, PpoTfjsRunner, logProb, sample, type PpoRunner } from './model.js';
import { RunningNormalizer, type NormalizerState } from './normalizer.js';
import { ObsWindow } from './window.js';

export type PpoConfig = Config['ppo'];

export interface PpoLosses {
  total: number;
  policy: number;
  value: number;
  entropy: number;
  approx_kl: number;
  clip_fraction: number;
  grad_norm: number;
  lr: number;
}

export interface RolloutInput {
  bars: BarSeries;
  features: FeatureMatrix;
  sessions: EpisodeSet;
  env: EnvConfig;
  seed: number;
  /** Rollout number: with the seed, it picks every stream the rollout draws from. */
  iteration: number;
  /** Number of the first episode this rollout starts (episodes are numbered across the run). */
  firstEpisode: number;
  /** Acting engine (default onnx). */
  engine?: 'onnx' | 'tfjs';
  stop?: () => boolean;
}

export interface Rollout {
  lanes: number;
  steps: number;
  /** (steps · lanes) × H·D windows, time-major (sample t · lanes + lane). */
  windows: Float32Array;
  masks: Float32Array;
  actions: Int32Array;
  rewards: Float64Array;
  /** 1 where the lane's session ended after the step (its bootstrap window is in `boot`). */
  done: Uint8Array;
  /** Windows of the states after each step that ended a session, by sample index. */
  boot: Map<number, Float32Array>;
  /** Windows of each lane's state after the last step. */
  last: Float32Array;
  counts: DecisionCounts;
  episodes: number;
  envSteps: number;
  trades: number;
  netPips: number;
  seconds: number;
}

const STREAM_SESSIONS = 0x70706f31;
const STREAM_ACTIONS = 0x70706f32;
const STREAM_SHUFFLE = 0x70706f33;

export class PpoLearner {
  readonly net: PpoTfjsNetwork;
  readonly optimizer: tf.AdamOptimizer;
  normalizer: RunningNormalizer;
  /** Gradient steps applied so far. */
  steps = 0;

  constructor(
    readonly spec: PpoSpec,
    weights: Weights,
    readonly cfg: PpoConfig,
  ) {
    this.net = new PpoTfjsNetwork(spec, weights);
    const o = cfg.optimizer;
    this.optimizer = tf.train.adam(o.lr, o.beta1, o.beta2, o.epsilon) as tf.AdamOptimizer;
    this.normalizer = new RunningNormalizer(spec.obs_dim, cfg.normalizer_epsilon);
  }

  get windowSize(): number {
    return this.spec.history * this.spec.obs_dim;
  }

  private async runner(engine: 'onnx' | 'tfjs'): Promise<PpoRunner> {
    return engine === 'tfjs' ? new PpoTfjsRunner(this.net) : PpoOnnxRunner.create(this.spec, buildPpoOnnx(this.spec, this.getWeights()));
  }

  /** One rollout of cfg.rollout decisions on each of cfg.envs lanes; null when `stop` abandoned it. */
  async rollout(input: RolloutInput): Promise<Rollout | null> {
    const t0 = performance.now();
    const N = this.cfg.envs;
    const T = this.cfg.rollout;
    const W = this.windowSize;
    const D = this.spec.obs_dim;
    const A = N_ACTIONS;
    const nSessions = input.sessions.start.length;
    if (nSessions === 0) throw new Error('ppo: no training session to draw from');
    const env = new TradingEnv(input.bars, input.features, input.env, { batch: N, sessionEnd: 'truncate' });
    if (env.obsDim !== D) throw new Error(`ppo: the env observes ${env.obsDim} values, the network ${D}`);
    const sessRng = new Prng(streamSeed(input.seed, input.iteration), STREAM_SESSIONS);
    const actRng = new Prng(streamSeed(input.seed, input.iteration), STREAM_ACTIONS);
    const window = new ObsWindow(N, this.spec.history, D);
    const obs = new Float32Array(N * D);
    let episode = input.firstEpisode;
    const start = (lane: number, offset: boolean) => {
      const k = sessRng.below(nSessions);
      const s = input.sessions.start[k];
      const e = input.sessions.end[k];
      const off = offset ? sessRng.below(Math.max(1, e - s - 2)) : 0;
      env.reset(lane, s + off, e, episode++);
      window.reset(lane);
    };
    for (let i = 0; i < N; i++) start(i, true);
    const out: Rollout = {
      lanes: N,
      steps: T,
      windows: new Float32Array(T * N * W),
      masks: new Float32Array(T * N * A),
      actions: new Int32Array(T * N),
      rewards: new Float64Array(T * N),
      done: new Uint8Array(T * N),
      boot: new Map(),
      last: new Float32Array(N * W),
      counts: emptyCounts(),
      episodes: 0,
      envSteps: 0,
      trades: 0,
      netPips: 0,
      seconds: 0,
    };
    const runner = await this.runner(input.engine ?? 'onnx');
    const acts = new Uint8Array(N);
    try {
      for (let t = 0; t < T; t++) {
        if (input.stop?.()) return null;
        env.observe(obs);
        const base = t * N;
        for (let i = 0; i < N; i++) {
          window.push(i, obs, i * D);
          window.write(i, out.windows, (base + i) * W);
          for (let a = 0; a < A; a++) out.masks[(base + i) * A + a] = env.mask[i * A + a];
        }
        const r = await runner.run(out.windows.subarray(base * W, (base + N) * W), out.masks.subarray(base * A, (base + N) * A), N);
        const c = out.counts;
        for (let i = 0; i < N; i++) {
          const a = sample(r.logits, i, actRng.float());
          acts[i] = a;
          out.actions[base + i] = a;
          c.actions[a]++;
          if (env.side[i] === 0) {
            c.flat++;
            if (a === 0) c.holdFlat++;
          } else c.inMarket++;
        }
        env.step(acts);
        out.envSteps += N;
        for (let i = 0; i < N; i++) {
          out.rewards[base + i] = env.reward[i];
          if (env.done[i]) {
            out.done[base + i] = 1;
            // the state the session was truncated in: its window bootstraps the advantage
            const last = new Float32Array(D);
            env.observeLane(i, last, 0);
            window.push(i, last, 0);
            const w = new Float32Array(W);
            window.write(i, w, 0);
            out.boot.set(base + i, w);
            out.episodes++;
            start(i, false);
          }
        }
      }
      env.observe(obs);
      for (let i = 0; i < N; i++) {
        window.push(i, obs, i * D);
        window.write(i, out.last, i * W);
      }
    } finally {
      await runner.dispose();
    }
    out.episodes += N; // the lanes' unfinished sessions count as played episodes too
    for (let k = 0; k < env.trades.count; k++) out.netPips += env.trades.netPips[k];
    out.trades = env.trades.count;
    out.seconds = (performance.now() - t0) / 1000;
    return out;
  }

  /** Masked logits and values of many windows (tfjs, in chunks). */
  private evaluateWindows(windows: Float32Array, masks: Float32Array, n: number): { logits: Float32Array; values: Float32Array } {
    const W = this.windowSize;
    const logits = new Float32Array(n * N_ACTIONS);
    const values = new Float32Array(n);
    const chunk = 2048;
    for (let o = 0; o < n; o += chunk) {
      const m = Math.min(chunk, n - o);
      const r = tf.tidy(() => {
        const f = this.net.forward(tf.tensor2d(windows.subarray(o * W, (o + m) * W), [m, W]), tf.tensor2d(masks.subarray(o * N_ACTIONS, (o + m) * N_ACTIONS), [m, N_ACTIONS]));
        return [f.logits, f.value];
      });
      logits.set(r[0].dataSync() as Float32Array, o * N_ACTIONS);
      values.set(r[1].dataSync() as Float32Array, o);
      tf.dispose(r);
    }
    return { logits, values };
  }

  /**
   * Folds the rollout's observations into the normaliser, then the epochs of minibatch updates.
   * Returns the losses of every gradient step.
   */
  train(ro: Rollout, seed: number, iteration: number): PpoLosses[] {
    const cfg = this.cfg;
    const N = ro.lanes;
    const T = ro.steps;
    const n = N * T;
    const W = this.windowSize;
    const D = this.spec.obs_dim;
    // the current observation is the last D values of each window
    this.normalizer.update(ro.windows, n, W, W - D);
    const st = this.normalizer.stats();
    this.net.setNormalizer(st.mean, st.std);

    const old = this.evaluateWindows(ro.windows, ro.masks, n);
    const oldLogp = new Float32Array(n);
    for (let k = 0; k < n; k++) oldLogp[k] = logProb(old.logits, k, ro.actions[k]);
    const bootKeys = [...ro.boot.keys()];
    const bootW = new Float32Array((bootKeys.length + N) * W);
    bootKeys.forEach((k, j) => bootW.set(ro.boot.get(k)!, j * W));
    bootW.set(ro.last, bootKeys.length * W);
    const bootV = this.evaluateWindows(bootW, new Float32Array((bootKeys.length + N) * N_ACTIONS).fill(1), bootKeys.length + N).values;
    const bootOf = new Map<number, number>();
    bootKeys.forEach((k, j) => bootOf.set(k, bootV[j]));

    // GAE(λ) per lane, backwards; a truncation bootstraps from the critic and cuts the λ-chain
    const adv = new Float32Array(n);
    const ret = new Float32Array(n);
    const g = cfg.gamma;
    const gl = cfg.gamma * cfg.gae_lambda;
    for (let i = 0; i < N; i++) {
      let next = 0;
      for (let t = T - 1; t >= 0; t--) {
        const k = t * N + i;
        let nextV: number;
        let carry: number;
        if (ro.done[k]) {
          nextV = bootOf.get(k)!;
          carry = 0;
        } else if (t === T - 1) {
          nextV = bootV[bootKeys.length + i];
          carry = 0;
        } else {
          nextV = old.values[k + N];
          carry = next;
        }
        const delta = ro.rewards[k] * cfg.reward_scale + g * nextV - old.values[k];
        next = delta + gl * carry;
        adv[k] = next;
        ret[k] = next + old.values[k];
      }
    }

    const losses: PpoLosses[] = [];
    const M = Math.min(cfg.minibatch, n);
    const order = Int32Array.from({ length: n }, (_, k) => k);
    const rng = new Prng(streamSeed(seed, iteration), STREAM_SHUFFLE);
    const bw = new Float32Array(M * W);
    const bm = new Float32Array(M * N_ACTIONS);
    const ba = new Int32Array(M);
    const bAdv = new Float32Array(M);
    const bRet = new Float32Array(M);
    const bOldV = new Float32Array(M);
    const bOldLp = new Float32Array(M);
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      for (let k = n - 1; k > 0; k--) {
        const j = rng.below(k + 1);
        const x = order[k];
        order[k] = order[j];
        order[j] = x;
      }
      for (let o = 0; o + M <= n; o += M) {
        let mean = 0;
        for (let b = 0; b < M; b++) {
          const k = order[o + b];
          bw.set(ro.windows.subarray(k * W, (k + 1) * W), b * W);
          bm.set(ro.masks.subarray(k * N_ACTIONS, (k + 1) * N_ACTIONS), b * N_ACTIONS);
          ba[b] = ro.actions[k];
          bAdv[b] = adv[k];
          bRet[b] = ret[k];
          bOldV[b] = old.values[k];
          bOldLp[b] = oldLogp[k];
          mean += adv[k];
        }
        mean /= M;
        let v = 0;
        for (let b = 0; b < M; b++) v += (bAdv[b] - mean) ** 2;
        const sd = Math.sqrt(v / M) + 1e-8;
        for (let b = 0; b < M; b++) bAdv[b] = (bAdv[b] - mean) / sd;
        losses.push(this.step(bw, bm, ba, bAdv, bRet, bOldV, bOldLp, M));
      }
    }
    return losses;
  }

  /** One gradient step on a minibatch of M samples. */
  private step(win: Float32Array, mask: Float32Array, actions: Int32Array, adv: Float32Array, ret: Float32Array, oldV: Float32Array, oldLp: Float32Array, M: number): PpoLosses {
    const cfg = this.cfg;
    const W = this.windowSize;
    const kept: Record<string, tf.Scalar> = {};
    const { grads } = tf.variableGrads(() => {
      const f = this.net.forward(tf.tensor2d(win, [M, W]), tf.tensor2d(mask, [M, N_ACTIONS]));
      const logpAll = tf.logSoftmax(f.logits);
      const onehot = tf.cast(tf.oneHot(tf.tensor1d(actions, 'int32'), N_ACTIONS), 'float32');
      const logp = tf.sum(tf.mul(logpAll, onehot), -1);
      const logRatio = tf.sub(logp, tf.tensor1d(oldLp));
      const ratio = tf.exp(logRatio);
      const a = tf.tensor1d(adv);
      const surrogate = tf.minimum(tf.mul(ratio, a), tf.mul(tf.clipByValue(ratio, 1 - cfg.clip, 1 + cfg.clip), a));
      const policy = tf.neg(tf.mean(surrogate)) as tf.Scalar;
      const value = tf.reshape(f.value, [M]);
      const ov = tf.tensor1d(oldV);
      const r = tf.tensor1d(ret);
      const clipped = tf.add(ov, tf.clipByValue(tf.sub(value, ov), -cfg.value_clip, cfg.value_clip));
      const vloss = tf.mul(tf.mean(tf.maximum(tf.square(tf.sub(value, r)), tf.square(tf.sub(clipped, r)))), 0.5) as tf.Scalar;
      const entropy = tf.mean(tf.neg(tf.sum(tf.mul(tf.exp(logpAll), logpAll), -1))) as tf.Scalar;
      const total = tf.addN([policy, tf.mul(vloss, cfg.value_coef), tf.mul(entropy, -cfg.entropy)]) as tf.Scalar;
      kept.policy = tf.keep(policy);
      kept.value = tf.keep(vloss);
      kept.entropy = tf.keep(entropy);
      kept.total = tf.keep(tf.clone(total));
      // (r − 1) − log r: a low-variance estimate of KL(old ‖ new)
      kept.approx_kl = tf.keep(tf.mean(tf.sub(tf.sub(ratio, 1), logRatio)) as tf.Scalar);
      kept.clip_fraction = tf.keep(tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), cfg.clip), 'float32')) as tf.Scalar);
      return total;
    }, this.net.trainable());
    const norm = applyClippedGradients(this.optimizer, grads, cfg.optimizer.max_grad_norm);
    this.steps++;
    return { ...takeScalars(kept), grad_norm: norm, lr: cfg.optimizer.lr } as PpoLosses;
  }

  getWeights(): Weights {
    return this.net.getWeights();
  }

  optimizerState(): Promise<NamedArray[]> {
    return optimizerState(this.net, this.optimizer);
  }

  async restore(opt: NamedArray[], steps: number, normalizer: NormalizerState): Promise<void> {
    await restoreOptimizer(this.optimizer, opt);
    this.steps = steps;
    this.normalizer = RunningNormalizer.fromState(normalizer, this.cfg.normalizer_epsilon);
  }

  dispose(): void {
    this.optimizer.dispose();
    this.net.dispose();
  }
}
