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
import { N_POSITION_FEATURES } from '../features/position.js';
import type { EnvConfig } from './config.js';
import { END_FORCE_CLOSE, END_NONE, END_TRUNCATE, MarketCore, type SessionEnd } from './step.js';
import { observationSize, positionSlot, writeObservation } from './observation.js';
import { TradeLog } from './trades.js';
import { EnvInputError, N_ACTIONS, validateBars, validateFeatures, type BarSeries, type FeatureMatrix } from './types.js';

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
  /** What the end of an episode does to an open position: 'close' (backtests, default) or 'truncate' (training). */
  sessionEnd?: SessionEnd;
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
  readonly active: Uint8Array;
  /** The single-lane market step, run over every lane (its arrays are the lanes' positions). */
  readonly core: MarketCore;
  readonly episode: Int32Array;
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
  readonly sessionEnd: SessionEnd;
  steps = 0;
  activeCount = 0;
  /** Sum of every reward paid so far (both reward modes give the same total over whole episodes). */
  rewardTotal = 0;

  private readonly stack: number;
  /** Position features of the last K bars per lane (ring indexed by (t − start) mod K). */
  private readonly posRing: Float32Array;

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
    this.obsDim = this.observations ? observationSize(this.stack, this.nFeatures) : 0;
    this.t = new Int32Array(B);
    this.start = new Int32Array(B);
    this.end = new Int32Array(B);
    this.active = new Uint8Array(B);
    this.core = new MarketCore(cfg, B, opts.trades);
    this.episode = this.core.episode;
    this.side = this.core.side;
    this.entryIndex = this.core.entryIndex;
    this.state = this.core.state;
    this.trades = this.core.trades;
    this.sessionEnd = opts.sessionEnd ?? 'close';
    if (this.sessionEnd !== 'close' && this.sessionEnd !== 'truncate') throw new EnvInputError(`sessionEnd must be 'close' or 'truncate', got '${String(this.sessionEnd)}'`);
    this.mask = new Uint8Array(B * N_ACTIONS);
    this.reward = new Float64Array(B);
    this.done = new Uint8Array(B);
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
    this.core.resetLane(lane, episode);
    this.core.writeMask(lane, this.mask, lane * N_ACTIONS);
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

  /**
   * Writes the observation of every active lane into `out` (batch × obsDim, row-major); rows of
   * inactive lanes are left as they are.
   */
  observe(out: Float32Array): void {
    if (!this.observations) throw new EnvInputError('observations are disabled for this env (created with observations: false)');
    if (out.length < this.batch * this.obsDim) throw new EnvInputError(`observation buffer holds ${out.length} values, needs ${this.batch * this.obsDim}`);
    const fdata = this.features ? this.features.data : null;
    for (let i = 0; i < this.batch; i++) {
      if (!this.active[i]) continue;
      writeObservation(out, i * this.obsDim, this.stack, this.nFeatures, fdata, this.t[i], this.start[i], this.posRing, i);
    }
  }

  /** The observation of `lane` at its current bar into out[offset..], whether the lane is active or
   * not (training reads the last state of a finished episode, to bootstrap from it). */
  observeLane(lane: number, out: Float32Array, offset = 0): void {
    if (!this.observations) throw new EnvInputError('observations are disabled for this env (created with observations: false)');
    writeObservation(out, offset, this.stack, this.nFeatures, this.features ? this.features.data : null, this.t[lane], this.start[lane], this.posRing, lane);
  }

  /** Position features of `lane` at its current bar (9 values), for inspection and live parity. */
  positionFeatures(lane: number, out: Float32Array = new Float32Array(N_POSITION_FEATURES)): Float32Array {
    this.core.writePositionFeatures(lane, out, 0);
    return out;
  }

  /**
   * Applies one decision per active lane (`actions[lane]`), moves every active lane one bar on and
   * fills `reward` and `done`. Returns the number of lanes whose episode ended in this step (they are
   * inactive afterwards until reset).
   */
  step(actions: ArrayLike<number>): number {
    const B = this.batch;
    const core = this.core;
    const bars = this.bars;
    const counts = this.actionCounts;
    const obs = this.observations;
    const lastRule = this.sessionEnd === 'close' ? END_FORCE_CLOSE : END_TRUNCATE;
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
      const isDone = t1 === this.end[i] - 1 ? 1 : 0;
      const r = core.step(i, a, bars, t, isDone ? lastRule : END_NONE);
      counts[a]++;
      this.t[i] = t1;
      this.reward[i] = r;
      this.rewardTotal += r;
      this.done[i] = isDone;
      core.writeMask(i, this.mask, i * N_ACTIONS);
      if (obs) {
        const K = this.stack;
        core.writePositionFeatures(i, this.posRing, positionSlot(i, K, t1, this.start[i]));
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
}
