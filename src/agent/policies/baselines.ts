// Baseline policies: enough to run the whole path (env → backtest → metrics) before any network exists,
// and yardsticks a trained agent has to beat. They read closes up to the lane's current bar only, and
// keep only state they can build bar by bar (the same code runs in a backtest and on a live series).
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
 * Sums over the last `w` closes of each lane, kept bar by bar so that the same code runs on a stored
 * series and on a live series that grows: sum = Σ (c_j − ref), sq = Σ (c_j − ref)² over the closes
 * j in (t − w, t] that exist, ref = the lane's close when the window was (re)built, which keeps the sums
 * of squares precise. advance(lane, t) moves the window to end at bar t: one add and one drop when the
 * previous call was at t − 1, otherwise (a new episode) a rebuild from the closes before t (the real
 * past, which a live runner has too). Only closes <= t are read.
 */
export class RollingCloses {
  readonly sum: Float64Array;
  readonly sq: Float64Array;
  readonly ref: Float64Array;
  /** Closes in the window (< w only near the start of the series). */
  readonly n: Int32Array;
  private readonly last: Int32Array;
  constructor(
    readonly w: number,
    lanes: number,
  ) {
    this.sum = new Float64Array(lanes);
    this.sq = new Float64Array(lanes);
    this.ref = new Float64Array(lanes);
    this.n = new Int32Array(lanes);
    this.last = new Int32Array(lanes).fill(-2);
  }

  /** Forget the lane's window (its next advance rebuilds it). */
  reset(lane: number): void {
    this.last[lane] = -2;
  }

  advance(lane: number, close: Float64Array, t: number): void {
    const w = this.w;
    const ref = this.ref[lane];
    if (this.last[lane] === t - 1 && t > 0) {
      const d = close[t] - ref;
      this.sum[lane] += d;
      this.sq[lane] += d * d;
      if (t - w >= 0) {
        const o = close[t - w] - ref;
        this.sum[lane] -= o;
        this.sq[lane] -= o * o;
      } else {
        this.n[lane]++;
      }
    } else {
      const r = close[t];
      let s = 0;
      let q = 0;
      const from = Math.max(0, t - w + 1);
      for (let j = from; j <= t; j++) {
        const d = close[j] - r;
        s += d;
        q += d * d;
      }
      this.ref[lane] = r;
      this.sum[lane] = s;
      this.sq[lane] = q;
      this.n[lane] = t - from + 1;
    }
    this.last[lane] = t;
  }
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
  private fastW = new RollingCloses(1, 0);
  private slowW = new RollingCloses(1, 0);
  constructor(readonly params: Readonly<{ fast: number; slow: number }>) {}
  begin(view: EnvView): void {
    this.fastW = new RollingCloses(this.params.fast, view.batch);
    this.slowW = new RollingCloses(this.params.slow, view.batch);
  }
  resetLane(lane: number): void {
    this.fastW.reset(lane);
    this.slowW.reset(lane);
  }
  act(_obs: Float32Array | null, _mask: Uint8Array, view: EnvView, out: Uint8Array): void {
    const invF = 1 / this.params.fast;
    const invS = 1 / this.params.slow;
    const F = this.fastW;
    const S = this.slowW;
    const close = view.bars.close;
    for (let i = 0; i < view.batch; i++) {
      if (view.active[i] === 0) continue;
      const t = view.t[i];
      F.advance(i, close, t);
      S.advance(i, close, t);
      if (S.n[i] < this.params.slow) {
        out[i] = HOLD;
        continue;
      }
      // Both sums are relative to their own reference close: add it back before comparing.
      const d = F.sum[i] * invF - S.sum[i] * invS + (F.ref[i] - S.ref[i]);
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
  private win = new RollingCloses(1, 0);
  constructor(readonly params: Readonly<{ window: number; entry_z: number; exit_z: number }>) {}
  begin(view: EnvView): void {
    this.win = new RollingCloses(this.params.window, view.batch);
  }
  resetLane(lane: number): void {
    this.win.reset(lane);
  }
  act(_obs: Float32Array | null, _mask: Uint8Array, view: EnvView, out: Uint8Array): void {
    const w = this.params.window;
    const invW = 1 / w;
    const entry = this.params.entry_z;
    const exit = this.params.exit_z;
    const W = this.win;
    const close = view.bars.close;
    for (let i = 0; i < view.batch; i++) {
      if (view.active[i] === 0) continue;
      const t = view.t[i];
      W.advance(i, close, t);
      if (W.n[i] < w) {
        out[i] = HOLD;
        continue;
      }
      const mean = W.sum[i] * invW;
      const msq = W.sq[i] * invW;
      const v = msq - mean * mean;
      const dev = close[t] - W.ref[i] - mean;
      // Adding and dropping squares leaves a rounding error of a few ulps of the mean square; a
      // variance within 1e-12 of that scale is noise (a flat window), not a signal.
      if (!(v > 1e-300 + 1e-12 * msq)) {
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
