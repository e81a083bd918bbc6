// Baseline policies: enough to run the whole path (env → backtest → metrics) before any network exists,
// and yardsticks a trained agent has to beat. They read closes up to the lane's current bar only.
import type { EnvView } from '../../env/env.js';
import { BUY, CLOSE, HOLD, SELL } from '../../env/types.js';
import { nextF64, seedState, streamSeed } from '../../util/prng.js';
import type { Policy } from './types.js';

/** Always HOLD: zero trades; the floor every metric should be compared with. */
export class HoldPolicy implements Policy {
  readonly name = 'hold';
  readonly params = {};
  readonly needsObservation = false;
  begin(): void {}
  resetLane(): void {}
  act(_obs: Float32Array | null, _mask: Uint8Array, view: EnvView, out: Uint8Array): void {
    out.fill(HOLD, 0, view.batch);
  }
}

/**
 * Random: flat → opens with probability p_open (BUY or SELL with equal odds), else HOLD; in a position
 * → CLOSE with probability p_close, else HOLD. The defaults (2/3, 1/2) are uniform over legal actions.
 * Each episode draws from its own stream seeded by (seed, episode), so the trades do not depend on the
 * batch size or on which lane ran the episode.
 */
export class RandomPolicy implements Policy {
  readonly name = 'random';
  readonly needsObservation = false;
  private rng = new Uint32Array(0);
  constructor(
    readonly params: Readonly<{ p_open: number; p_close: number }>,
    private readonly seed: number,
  ) {}
  begin(view: EnvView): void {
    this.rng = new Uint32Array(view.batch * 4);
  }
  resetLane(lane: number, episode: number): void {
    seedState(this.rng, lane, streamSeed(this.seed, episode));
  }
  act(_obs: Float32Array | null, _mask: Uint8Array, view: EnvView, out: Uint8Array): void {
    const pOpen = this.params.p_open;
    const pClose = this.params.p_close;
    const rng = this.rng;
    for (let i = 0; i < view.batch; i++) {
      if (view.active[i] === 0) continue;
      const u = nextF64(rng, i);
      if (view.side[i] === 0) out[i] = u < pOpen ? (u < pOpen / 2 ? BUY : SELL) : HOLD;
      else out[i] = u < pClose ? CLOSE : HOLD;
    }
  }
}

/** Buys at the first decision of each episode and holds; the env force-closes at the episode's end. */
export class BuyAndHoldPolicy implements Policy {
  readonly name = 'buy-and-hold';
  readonly params = {};
  readonly needsObservation = false;
  begin(): void {}
  resetLane(): void {}
  act(_obs: Float32Array | null, _mask: Uint8Array, view: EnvView, out: Uint8Array): void {
    for (let i = 0; i < view.batch; i++) {
      if (view.active[i] === 0) continue;
      out[i] = view.side[i] === 0 && view.t[i] === view.start[i] ? BUY : HOLD;
    }
  }
}

/**
 * Prefix sums over a close series, shifted by close[0] so the sums of squares keep their precision:
 * sum[k] = Σ_{j<k} (c_j − c_0), sq[k] = Σ_{j<k} (c_j − c_0)². The window ending at bar t (inclusive)
 * is sum[t+1] − sum[t+1−w]: it reads closes <= t only. Cached per close array.
 */
interface Prefix {
  ref: number;
  sum: Float64Array;
  sq: Float64Array;
}
const prefixCache = new WeakMap<Float64Array, Prefix>();

export function closePrefix(close: Float64Array): Prefix {
  let p = prefixCache.get(close);
  if (p) return p;
  const n = close.length;
  const ref = n > 0 ? close[0] : 0;
  const sum = new Float64Array(n + 1);
  const sq = new Float64Array(n + 1);
  let s = 0;
  let q = 0;
  for (let j = 0; j < n; j++) {
    const d = close[j] - ref;
    s += d;
    q += d * d;
    sum[j + 1] = s;
    sq[j + 1] = q;
  }
  p = { ref, sum, sq };
  prefixCache.set(close, p);
  return p;
}

/**
 * Moving-average crossover on closes, always following the regime: the wanted side is the sign of
 * SMA_fast(t) − SMA_slow(t) (both over closes up to and including bar t). Flat → BUY / SELL into the
 * wanted side; in a position → CLOSE as soon as the wanted side is the other one (the next decision
 * opens it). Before `slow` closes exist (start of the series) it holds. Windows may reach back before
 * the episode start: that is real past data, which a live runner also has.
 */
export class MaCrossoverPolicy implements Policy {
  readonly name = 'ma-crossover';
  readonly needsObservation = false;
  private sum: Float64Array = new Float64Array(0);
  constructor(readonly params: Readonly<{ fast: number; slow: number }>) {}
  begin(view: EnvView): void {
    this.sum = closePrefix(view.bars.close).sum;
  }
  resetLane(): void {}
  act(_obs: Float32Array | null, _mask: Uint8Array, view: EnvView, out: Uint8Array): void {
    const fast = this.params.fast;
    const slow = this.params.slow;
    const invF = 1 / fast;
    const invS = 1 / slow;
    const S = this.sum;
    for (let i = 0; i < view.batch; i++) {
      if (view.active[i] === 0) continue;
      const e = view.t[i] + 1;
      if (e < slow) {
        out[i] = HOLD;
        continue;
      }
      const d = (S[e] - S[e - fast]) * invF - (S[e] - S[e - slow]) * invS;
      const want = d > 0 ? 1 : d < 0 ? -1 : 0;
      const side = view.side[i];
      if (side === 0) out[i] = want > 0 ? BUY : want < 0 ? SELL : HOLD;
      else out[i] = want !== 0 && want !== side ? CLOSE : HOLD;
    }
  }
}

/**
 * Mean reversion on the z-score of the close over the last `window` closes (population stdev):
 * z = (c_t − mean) / sd. Flat: z > entry_z → SELL, z < −entry_z → BUY. Long: CLOSE once z >= −exit_z;
 * short: CLOSE once z <= exit_z. A flat window (sd ≈ 0) gives no signal.
 */
export class MeanReversionPolicy implements Policy {
  readonly name = 'mean-reversion';
  readonly needsObservation = false;
  private prefix: Prefix = { ref: 0, sum: new Float64Array(0), sq: new Float64Array(0) };
  private close: Float64Array = new Float64Array(0);
  constructor(readonly params: Readonly<{ window: number; entry_z: number; exit_z: number }>) {}
  begin(view: EnvView): void {
    this.close = view.bars.close;
    this.prefix = closePrefix(view.bars.close);
  }
  resetLane(): void {}
  act(_obs: Float32Array | null, _mask: Uint8Array, view: EnvView, out: Uint8Array): void {
    const w = this.params.window;
    const invW = 1 / w;
    const entry = this.params.entry_z;
    const exit = this.params.exit_z;
    const { ref, sum, sq } = this.prefix;
    const close = this.close;
    for (let i = 0; i < view.batch; i++) {
      if (view.active[i] === 0) continue;
      const t = view.t[i];
      const e = t + 1;
      if (e < w) {
        out[i] = HOLD;
        continue;
      }
      const mean = (sum[e] - sum[e - w]) * invW;
      const v = (sq[e] - sq[e - w]) * invW - mean * mean;
      const dev = close[t] - ref - mean;
      // The prefix difference carries a rounding error of a few ulps of sq[e]; a variance within
      // 1e-12 of that scale is noise (a flat window), not a signal.
      if (!(v > 1e-300 + 1e-12 * sq[e] * invW)) {
        out[i] = HOLD;
        continue;
      }
      const z = dev / Math.sqrt(v);
      const side = view.side[i];
      if (side === 0) out[i] = z > entry ? SELL : z < -entry ? BUY : HOLD;
      else if (side > 0) out[i] = z >= -exit ? CLOSE : HOLD;
      else out[i] = z <= exit ? CLOSE : HOLD;
    }
  }
}
