// The trading environment, vectorised over B lanes (one episode per lane) with typed arrays.
//
// Rules
// -----
// * Actions: 0 HOLD, 1 BUY, 2 SELL, 3 CLOSE. Flat: HOLD, BUY, SELL are legal. In a position: HOLD,
//   CLOSE. One position of `units` at a time. An illegal action is an error (the mask says what is legal).
// * Timing, no look-ahead: a lane at bar t has seen everything up to the close of bar t (feature row t,
//   position marked at close[t]). Its decision fills at open[t + 1]; the lane then moves to bar t + 1
//   and marks the position at close[t + 1] (high/low of bar t + 1 widen MAE/MFE).
// * An episode [start, end) has end − start − 1 decisions, at bars start .. end − 2. When the lane
//   reaches bar end − 1 the episode is done; a position still open is closed at close[end − 1], stamped
//   ts[end − 1] + barMs and marked forced.
// * Costs: the round-trip spread (spreadPips · units) is charged half at entry and half at exit, so
//   net_pips = gross_pips − spreadPips · units for every trade (forced ones included).
// * Reward: see RewardConfig in ./config.ts:
//     amddp:  r_t = Σ_{trades closed in step t} (net_pips − penalty · MAE_pips) − idle_t
//     dense:  r_t = (E_{t+1} − E_t) − Σ_{trades closed in step t} penalty · MAE_pips − idle_t
//   with E = realised net pips + current_pips of the open trade, and idle_t = idlePenalty when the
//   lane was flat and chose HOLD. Rewards of step t are in `reward` after step().
// * Observation at bar t (when enabled): for k = K−1 … 0 (oldest first) the feature row of bar t − k
//   followed by the 9 position features at the close of bar t − k. Rows before the episode start use
//   the series' real earlier feature rows (what a live runner would also have) with flat position
//   features; rows before bar 0 are zeros.
import {
  N_POSITION_FEATURES,
  ST_BARS,
  ST_CURRENT,
  ST_ENTRY_PRICE,
  ST_MAE,
  ST_MFE,
  TRADE_STATE_SIZE,
  clearTrade,
  markTrade,
  openTrade,
  pipModel,
  touchPrice,
  writePositionFeatures,
} from '../features/position.js';
import type { EnvConfig } from './config.js';
import { TradeLog } from './trades.js';
import {
  ACTION_NAMES,
  BUY,
  CLOSE,
  EnvInputError,
  HOLD,
  N_ACTIONS,
  SELL,
  validateBars,
  validateFeatures,
  type BarSeries,
  type FeatureMatrix,
} from './types.js';

/** What a policy may read about the lanes (all arrays are indexed by lane; read-only by contract). */
export interface EnvView {
  readonly batch: number;
  readonly bars: BarSeries;
  /** Current bar per lane: the policy may read bars and features at indices <= t[lane] only. */
  readonly t: Int32Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly episode: Int32Array;
  readonly active: Uint8Array;
  /** 0 flat, +1 long, −1 short. */
  readonly side: Int8Array;
  /** Legal actions, 4 per lane (1 = legal). */
  readonly mask: Uint8Array;
  readonly obsDim: number;
}

export interface EnvOptions {
  batch: number;
  /** Build observations (feature rows + position features). Rule-based policies do without, which is faster. */
  observations?: boolean;
  trades?: TradeLog;
}

export class TradingEnv implements EnvView {
  readonly batch: number;
  readonly cfg: EnvConfig;
  readonly bars: BarSeries;
  readonly features: FeatureMatrix | null;
  readonly nBars: number;
  readonly nFeatures: number;
  /** Length of one stacked row: nFeatures + 9. */
  readonly rowDim: number;
  /** stack · rowDim (0 when observations are disabled). */
  readonly obsDim: number;
  readonly observations: boolean;

  readonly t: Int32Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly episode: Int32Array;
  readonly active: Uint8Array;
  readonly side: Int8Array;
  readonly entryIndex: Int32Array;
  /** Trade state per lane, TRADE_STATE_SIZE values each (layout in src/features/position.ts). */
  readonly state: Float64Array;
  readonly mask: Uint8Array;
  readonly reward: Float64Array;
  readonly done: Uint8Array;
  /** Decisions taken so far, by action. */
  readonly actionCounts = new Float64Array(N_ACTIONS);
  readonly trades: TradeLog;
  steps = 0;
  activeCount = 0;
  /** Sum of every reward paid so far (both reward modes give the same total over whole episodes). */
  rewardTotal = 0;

  private readonly pipsPerPrice: number;
  private readonly costPips: number;
  private readonly penalty: number;
  private readonly idle: number;
  private readonly dense: boolean;
  private readonly stack: number;
  /** Position features of the last K bars per lane (ring indexed by (t − start) mod K). */
  private readonly posRing: Float32Array;
  /** MAE (including the exit fill) of the trade closeTrade() just recorded. */
  private lastMae = 0;

  constructor(bars: BarSeries, features: FeatureMatrix | null, cfg: EnvConfig, opts: EnvOptions) {
    const B = opts.batch;
    if (!Number.isInteger(B) || B < 1) throw new EnvInputError(`batch must be an integer >= 1, got ${B}`);
    this.nBars = validateBars(bars);
    if (features) validateFeatures(features, this.nBars);
    this.batch = B;
    this.cfg = cfg;
    this.bars = bars;
    this.features = features;
    this.nFeatures = features ? features.nFeatures : 0;
    this.observations = opts.observations ?? true;
    this.stack = cfg.stack;
    this.rowDim = this.nFeatures + N_POSITION_FEATURES;
    this.obsDim = this.observations ? this.stack * this.rowDim : 0;
    const pm = pipModel(cfg.pipSize, cfg.spreadPips, cfg.units);
    this.pipsPerPrice = pm.pipsPerPrice;
    this.costPips = pm.costPips;
    this.penalty = cfg.reward.penalty;
    this.idle = cfg.reward.idlePenalty;
    this.dense = cfg.reward.mode === 'dense';
    this.t = new Int32Array(B);
    this.start = new Int32Array(B);
    this.end = new Int32Array(B);
    this.episode = new Int32Array(B).fill(-1);
    this.active = new Uint8Array(B);
    this.side = new Int8Array(B);
    this.entryIndex = new Int32Array(B);
    this.state = new Float64Array(B * TRADE_STATE_SIZE);
    this.mask = new Uint8Array(B * N_ACTIONS);
    this.reward = new Float64Array(B);
    this.done = new Uint8Array(B);
    this.trades = opts.trades ?? new TradeLog();
    this.posRing = new Float32Array(this.observations ? B * this.stack * N_POSITION_FEATURES : 0);
  }

  /** Starts episode `episode` = bars [start, end) on `lane`, flat. An unfinished episode there is abandoned (its open trade is not recorded). */
  reset(lane: number, start: number, end: number, episode: number): void {
    if (!Number.isInteger(lane) || lane < 0 || lane >= this.batch) throw new EnvInputError(`lane must be in [0, ${this.batch}), got ${lane}`);
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > this.nBars || end - start < 2) {
      throw new EnvInputError(`episode ${episode}: bars [${start}, ${end}) must lie in [0, ${this.nBars}) and hold at least 2 bars`);
    }
    if (!this.active[lane]) this.activeCount++;
    this.active[lane] = 1;
    this.t[lane] = start;
    this.start[lane] = start;
    this.end[lane] = end;
    this.episode[lane] = episode;
    this.side[lane] = 0;
    this.entryIndex[lane] = -1;
    clearTrade(this.state, lane * TRADE_STATE_SIZE);
    this.setMask(lane, 0);
    this.done[lane] = 0;
    this.reward[lane] = 0;
    if (this.observations) {
      this.posRing.fill(0, lane * this.stack * N_POSITION_FEATURES, (lane + 1) * this.stack * N_POSITION_FEATURES);
    }
  }

  /** Marks a lane inactive without recording anything (used when no episode is left for it). */
  deactivate(lane: number): void {
    if (this.active[lane]) this.activeCount--;
    this.active[lane] = 0;
  }

  private setMask(lane: number, side: number): void {
    const m = lane * N_ACTIONS;
    const flat = side === 0 ? 1 : 0;
    this.mask[m + HOLD] = 1;
    this.mask[m + BUY] = flat;
    this.mask[m + SELL] = flat;
    this.mask[m + CLOSE] = 1 - flat;
  }

  /**
   * Writes the observation of every active lane into `out` (batch × obsDim, row-major); rows of
   * inactive lanes are left as they are.
   */
  observe(out: Float32Array): void {
    if (!this.observations) throw new EnvInputError('observations are disabled for this env (created with observations: false)');
    if (out.length < this.batch * this.obsDim) throw new EnvInputError(`observation buffer holds ${out.length} values, needs ${this.batch * this.obsDim}`);
    const F = this.nFeatures;
    const K = this.stack;
    const P = N_POSITION_FEATURES;
    const fdata = this.features ? this.features.data : null;
    const ring = this.posRing;
    for (let i = 0; i < this.batch; i++) {
      if (!this.active[i]) continue;
      const t = this.t[i];
      const s = this.start[i];
      let w = i * this.obsDim;
      for (let k = K - 1; k >= 0; k--) {
        const r = t - k;
        if (F > 0) {
          if (r >= 0 && fdata) {
            const src = r * F;
            for (let j = 0; j < F; j++) out[w + j] = fdata[src + j];
          } else {
            for (let j = 0; j < F; j++) out[w + j] = 0;
          }
          w += F;
        }
        if (r >= s) {
          const src = (i * K + ((r - s) % K)) * P;
          for (let j = 0; j < P; j++) out[w + j] = ring[src + j];
        } else {
          for (let j = 0; j < P; j++) out[w + j] = 0;
        }
        w += P;
      }
    }
  }

  /** Position features of `lane` at its current bar (9 values), for inspection and live parity. */
  positionFeatures(lane: number, out: Float32Array = new Float32Array(N_POSITION_FEATURES)): Float32Array {
    writePositionFeatures(this.state, lane * TRADE_STATE_SIZE, this.penalty, out, 0);
    return out;
  }

  private closeTrade(lane: number, exitIndex: number, exitTs: number, exitPrice: number, forced: boolean): number {
    const st = this.state;
    const o = lane * TRADE_STATE_SIZE;
    touchPrice(st, o, exitPrice, this.pipsPerPrice);
    const side = this.side[lane];
    // + 0 turns a short's −0 into 0 so records never carry a negative zero.
    const gross = side * (exitPrice - st[o + ST_ENTRY_PRICE]) * this.pipsPerPrice + 0;
    const net = gross - this.costPips;
    const mae = st[o + ST_MAE];
    this.lastMae = mae;
    const r = net - this.penalty * mae;
    const e = this.entryIndex[lane];
    this.trades.push(
      this.episode[lane],
      side,
      e,
      exitIndex,
      this.bars.ts[e],
      exitTs,
      st[o + ST_ENTRY_PRICE],
      exitPrice,
      gross,
      net,
      this.costPips,
      mae,
      st[o + ST_MFE],
      st[o + ST_BARS],
      forced,
      r,
    );
    clearTrade(st, o);
    this.side[lane] = 0;
    this.entryIndex[lane] = -1;
    return net;
  }

  /**
   * Applies one decision per active lane (`actions[lane]`), moves every active lane one bar on and
   * fills `reward` and `done`. Returns the number of lanes whose episode ended in this step (they are
   * inactive afterwards until reset).
   */
  step(actions: ArrayLike<number>): number {
    const B = this.batch;
    const { open, high, low, close, ts } = this.bars;
    const st = this.state;
    const ppp = this.pipsPerPrice;
    const cost = this.costPips;
    const pen = this.penalty;
    const dense = this.dense;
    const counts = this.actionCounts;
    const obs = this.observations;
    let finished = 0;
    for (let i = 0; i < B; i++) {
      if (this.active[i] === 0) {
        this.reward[i] = 0;
        this.done[i] = 0;
        continue;
      }
      const a = actions[i];
      const t = this.t[i];
      const t1 = t + 1;
      const o = i * TRADE_STATE_SIZE;
      const side0 = this.side[i];
      const eqBefore = side0 !== 0 ? st[o + ST_CURRENT] : 0;
      let realised = 0;
      let penalties = 0;
      let r = 0;
      if (side0 === 0) {
        if (a === HOLD) {
          r -= this.idle;
        } else if (a === BUY || a === SELL) {
          const dir = a === BUY ? 1 : -1;
          openTrade(st, o, dir, open[t1], cost);
          this.side[i] = dir;
          this.entryIndex[i] = t1;
        } else {
          this.illegal(i, a);
        }
      } else if (a === CLOSE) {
        realised += this.closeTrade(i, t1, ts[t1], open[t1], false);
        penalties += pen * this.lastMae;
      } else if (a !== HOLD) {
        this.illegal(i, a);
      }
      counts[a]++;
      this.t[i] = t1;
      if (this.side[i] !== 0) markTrade(st, o, high[t1], low[t1], close[t1], ppp, cost);
      let isDone = 0;
      if (t1 === this.end[i] - 1) {
        isDone = 1;
        if (this.side[i] !== 0) {
          realised += this.closeTrade(i, t1, ts[t1] + this.cfg.barMs, close[t1], true);
          penalties += pen * this.lastMae;
        }
      }
      if (dense) {
        const eqAfter = realised + (this.side[i] !== 0 ? st[o + ST_CURRENT] : 0);
        r += eqAfter - eqBefore - penalties;
      } else {
        r += realised - penalties;
      }
      this.reward[i] = r;
      this.rewardTotal += r;
      this.done[i] = isDone;
      this.setMask(i, this.side[i]);
      if (obs) {
        const K = this.stack;
        writePositionFeatures(st, o, pen, this.posRing, (i * K + ((t1 - this.start[i]) % K)) * N_POSITION_FEATURES);
      }
      if (isDone) {
        this.active[i] = 0;
        this.activeCount--;
        finished++;
      }
      this.steps++;
    }
    return finished;
  }

  private illegal(lane: number, a: number): never {
    const name = Number.isInteger(a) && a >= 0 && a < N_ACTIONS ? ACTION_NAMES[a] : 'not an action';
    const where = this.side[lane] === 0 ? 'while flat (legal: HOLD, BUY, SELL)' : 'in a position (legal: HOLD, CLOSE)';
    throw new EnvInputError(`lane ${lane}, episode ${this.episode[lane]}, bar ${this.t[lane]}: action ${a} (${name}) is not legal ${where}`);
  }
}
