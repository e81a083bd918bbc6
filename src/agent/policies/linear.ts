// `linear`: the feature-reading baseline. A ridge regression of the next-`horizon`-bar move on the
// market part of the observation, fitted in sample; it trades when the predicted move beats the round
// trip by `margin`. It is the plumbing test for policies that read features, and the bar a learned agent
// has to clear: an agent that cannot beat a linear model of its own inputs has learned nothing.
//
// Model. x = the feature rows of the last K bars (exactly the market part of the env's observation,
// oldest first, zeros before bar 0), y = (close[t + horizon] − close[t]) in pips of the whole position.
// Each x_j is standardised with its in-sample mean and (population) stdev (a constant column gets weight
// 0); w solves (Z'Z / n + lambda · I) w = Z'(y − ȳ) / n, and the prediction is ȳ + Σ_j w_j z_j.
// In-sample rows are the bars t of the fit episodes with t + horizon still inside the episode, so no
// label reaches past an episode (nor, in walk-forward, into the out-of-sample part).
//
// Trading. cost = the round-trip spread of the position. Flat: BUY when the prediction exceeds
// cost + margin, SELL when it is below −(cost + margin). In a position: CLOSE once the prediction points
// against it (long: < 0, short: > 0).
import type { EnvView } from '../../env/env.js';
import { BUY, CLOSE, HOLD, SELL } from '../../env/types.js';
import { N_POSITION_FEATURES } from '../../features/position.js';
import { num, PolicyError, type FitSample, type ParamSpec, type Policy, type PolicyContext, type PolicyParams } from './types.js';

export const LINEAR_PARAMS: readonly ParamSpec[] = [
  { name: 'horizon', type: 'int', default: 30, min: 1, max: 1440, grid: [15, 30, 60], description: 'bars ahead the move is predicted' },
  // Measured on the planted-edge series: lambda 0.01 fits the in-sample noise (walk-forward efficiency
  // 0.15), lambda 100 shrinks every prediction below the spread (no trade); 0.3–3 is the useful range.
  { name: 'lambda', type: 'float', default: 1, min: 0, max: 1e6, grid: [0.3, 1, 3], description: 'ridge penalty on the standardised features' },
  { name: 'margin', type: 'float', default: 0, min: 0, max: 1000, grid: [], description: 'pips the predicted move must beat the round trip by (not searched by default)' },
];

/** Sufficient statistics of one (sample, horizon): everything but lambda. */
interface FitStats {
  n: number;
  d: number;
  mean: Float64Array;
  /** 1 / stdev, 0 for a constant column. */
  invSd: Float64Array;
  yMean: number;
  /** Z'Z / n, d × d row-major (full). */
  zz: Float64Array;
  /** Z'(y − ȳ) / n. */
  zy: Float64Array;
}

export interface LinearModel {
  horizon: number;
  lambda: number;
  rows: number;
  /** Weights on the standardised features, the standardisation, and the intercept ȳ. */
  weights: Float64Array;
  mean: Float64Array;
  invSd: Float64Array;
  intercept: number;
}

const statsCache = new WeakMap<FitSample, Map<string, FitStats>>();

/** Writes the market part of the observation of bar t (K stacked feature rows) into x. */
function marketRow(sample: FitSample, K: number, t: number, x: Float64Array): void {
  const F = sample.features.nFeatures;
  const f = sample.features.data;
  let w = 0;
  for (let k = K - 1; k >= 0; k--) {
    const r = t - k;
    if (r >= 0) for (let j = 0; j < F; j++) x[w + j] = f[r * F + j];
    else for (let j = 0; j < F; j++) x[w + j] = 0;
    w += F;
  }
}

function fitStats(sample: FitSample, K: number, horizon: number, pipsPerPrice: number): FitStats {
  const key = `${K}:${horizon}:${pipsPerPrice}`;
  let byKey = statsCache.get(sample);
  const hit = byKey?.get(key);
  if (hit) return hit;
  const d = K * sample.features.nFeatures;
  const close = sample.bars.close;
  const { start, end } = sample.episodes;
  const x = new Float64Array(d);
  const mean = new Float64Array(d);
  const m2 = new Float64Array(d);
  let n = 0;
  let ySum = 0;
  // Pass 1: means and variances (Welford, in the order the rows come).
  for (let e = 0; e < start.length; e++) {
    for (let t = start[e]; t + horizon <= end[e] - 1; t++) {
      marketRow(sample, K, t, x);
      n++;
      ySum += (close[t + horizon] - close[t]) * pipsPerPrice;
      for (let j = 0; j < d; j++) {
        const delta = x[j] - mean[j];
        mean[j] += delta / n;
        m2[j] += delta * (x[j] - mean[j]);
      }
    }
  }
  if (n < d + 2) {
    throw new PolicyError(`linear: the fit sample has ${n} rows for ${d} features (horizon ${horizon}); it needs at least ${d + 2}: fit on a longer range`);
  }
  const yMean = ySum / n;
  const invSd = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const sd = Math.sqrt(m2[j] / n);
    invSd[j] = sd > 1e-12 ? 1 / sd : 0;
  }
  // Pass 2: Z'Z and Z'(y − ȳ), upper triangle, then mirrored.
  const zz = new Float64Array(d * d);
  const zy = new Float64Array(d);
  const z = new Float64Array(d);
  for (let e = 0; e < start.length; e++) {
    for (let t = start[e]; t + horizon <= end[e] - 1; t++) {
      marketRow(sample, K, t, x);
      const y = (close[t + horizon] - close[t]) * pipsPerPrice - yMean;
      for (let j = 0; j < d; j++) z[j] = (x[j] - mean[j]) * invSd[j];
      for (let i = 0; i < d; i++) {
        const zi = z[i];
        if (zi === 0) continue;
        zy[i] += zi * y;
        const row = i * d;
        for (let j = i; j < d; j++) zz[row + j] += zi * z[j];
      }
    }
  }
  for (let i = 0; i < d; i++) {
    zy[i] /= n;
    for (let j = i; j < d; j++) {
      const v = zz[i * d + j] / n;
      zz[i * d + j] = v;
      zz[j * d + i] = v;
    }
  }
  const stats = { n, d, mean, invSd, yMean, zz, zy };
  if (!byKey) {
    byKey = new Map();
    statsCache.set(sample, byKey);
  }
  byKey.set(key, stats);
  return stats;
}

/** Solves (A + lambda I) w = b for symmetric positive (semi)definite A by Cholesky; A is d × d. */
export function ridgeSolve(A: Float64Array, b: Float64Array, d: number, lambda: number): Float64Array {
  const L = new Float64Array(d * d);
  // A constant column has a zero row and column: its weight is 0 whatever lambda is (a tiny jitter keeps
  // the factorisation defined when lambda is 0).
  const ridge = lambda > 0 ? lambda : 1e-9;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * d + j] + (i === j ? ridge : 0);
      for (let k = 0; k < j; k++) s -= L[i * d + k] * L[j * d + k];
      if (i === j) {
        if (!(s > 0)) throw new PolicyError(`linear: the regularised normal matrix is not positive definite (pivot ${i}); raise lambda`);
        L[i * d + i] = Math.sqrt(s);
      } else {
        L[i * d + j] = s / L[j * d + j];
      }
    }
  }
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * d + k] * y[k];
    y[i] = s / L[i * d + i];
  }
  const w = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < d; k++) s -= L[k * d + i] * w[k];
    w[i] = s / L[i * d + i];
  }
  return w;
}

/** Fits the model on a sample (statistics cached per sample and horizon: a lambda grid costs one pass). */
export function fitLinear(sample: FitSample, K: number, horizon: number, lambda: number, pipsPerPrice: number): LinearModel {
  const s = fitStats(sample, K, horizon, pipsPerPrice);
  const weights = ridgeSolve(s.zz, s.zy, s.d, lambda);
  for (let j = 0; j < s.d; j++) if (s.invSd[j] === 0) weights[j] = 0;
  return { horizon, lambda, rows: s.n, weights, mean: s.mean, invSd: s.invSd, intercept: s.yMean };
}

export class LinearPolicy implements Policy {
  readonly name = 'linear';
  readonly needsObservation = true;
  private rowDim = 0;
  private readonly threshold: number;
  constructor(
    readonly params: PolicyParams,
    readonly model: LinearModel,
    private readonly K: number,
    private readonly F: number,
    costPips: number,
  ) {
    this.threshold = costPips + num(params, 'margin');
  }

  begin(view: EnvView): void {
    this.rowDim = this.F + N_POSITION_FEATURES;
    if (view.obsDim !== this.K * this.rowDim) {
      throw new PolicyError(`linear was fitted on ${this.F} features × ${this.K} bars, but the observation has ${view.obsDim} values (expected ${this.K * this.rowDim}): use the same feature set and env.stack`);
    }
  }

  resetLane(): void {}

  /** The predicted move (pips) of lane `lane` from its observation. */
  predict(obs: Float32Array, lane: number, obsDim: number): number {
    const { weights: w, mean, invSd, intercept } = this.model;
    const F = this.F;
    let p = intercept;
    let o = lane * obsDim;
    let j = 0;
    for (let k = 0; k < this.K; k++) {
      for (let c = 0; c < F; c++, j++) if (invSd[j] !== 0) p += w[j] * (obs[o + c] - mean[j]) * invSd[j];
      o += this.rowDim;
    }
    return p;
  }

  act(obs: Float32Array | null, _mask: Uint8Array, view: EnvView, out: Uint8Array): void {
    if (!obs) throw new PolicyError('linear reads the observation: run it with a feature set');
    const thr = this.threshold;
    for (let i = 0; i < view.batch; i++) {
      if (view.active[i] === 0) continue;
      const p = this.predict(obs, i, view.obsDim);
      const side = view.side[i];
      if (side === 0) out[i] = p > thr ? BUY : p < -thr ? SELL : HOLD;
      else if (side > 0) out[i] = p < 0 ? CLOSE : HOLD;
      else out[i] = p > 0 ? CLOSE : HOLD;
    }
  }
}

export async function createLinearPolicy(params: PolicyParams, ctx: PolicyContext): Promise<Policy> {
  const sample = ctx.fit;
  if (!sample) throw new PolicyError('linear needs an in-sample fit');
  const K = ctx.env.stack;
  const pipsPerPrice = ctx.env.units / ctx.env.pipSize;
  const model = fitLinear(sample, K, num(params, 'horizon'), num(params, 'lambda'), pipsPerPrice);
  return new LinearPolicy(params, model, K, sample.features.nFeatures, ctx.env.spreadPips * ctx.env.units);
}
