// The single-lane market step: all of one bar's work for one position, the ONE implementation shared by
// the vectorised env (backtests, training, validation: B lanes) and the LiveSession (live and replay:
// one lane on a growing series). A number computed in two places is a bug waiting to happen, so the
// fill, the marking, every kind of close, MAE, the reward and the position features live here only.
//
// One step of lane i from bar t (decision `a` taken at the close of bar t) to bar t1 = t + 1:
//   1. the decision fills at open[t1]: BUY/SELL open a position (half the spread paid at entry), CLOSE
//      closes it (the other half at exit), HOLD does nothing (and pays the idle penalty while flat);
//   2. an open position is marked at bar t1 (its high and low widen MAE/MFE, its close is the new mark);
//   3. when t1 is the episode's last bar the end rule applies:
//        END_FORCE_CLOSE  close at close[t1], stamped ts[t1] + barMs, marked forced (backtests: accounting)
//        END_TRUNCATE     nothing is closed: the position stays open and training bootstraps from it
//        END_NONE         t1 is not the last bar
//   4. the reward (see RewardConfig in ./config.ts):
//        amddp:  r = Σ_{trades closed in the step} (net_pips − penalty · MAE_pips) − idle
//        dense:  r = (E_after − E_before) − Σ_{closed} penalty · MAE_pips − idle
//      with E = realised net pips of the step + current_pips of the open trade.
// Legality is checked here too: flat → HOLD, BUY, SELL; in a position → HOLD, CLOSE.
//
// Costs are charged here only. env.spread 'constant': every round trip pays spreadPips · units, half at
// entry and half at exit. env.spread 'recorded': each side pays half the recorded spread (ask − bid at
// the bar's open, BarSeries.spread) of the bar whose price it fills at: the entry of a decision at bar t
// pays half of bar t + 1's spread, a CLOSE at bar t pays half of bar t + 1's, a forced close at close[t1]
// half of bar t1's (the spread recorded at that bar's open: the nearest recorded quote), and an adopted
// or outside close half of the bar it is booked at. While the trade is open it is marked as if the exit
// paid the entry's half-spread again (current_pips = gross − entry bar's spread), the best estimate
// without looking ahead. A bar without a recorded spread is an error, never a silent fallback.
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
import { ACTION_NAMES, BUY, CLOSE, EnvInputError, HOLD, N_ACTIONS, SELL, missingSpreadError, type BarSeries } from './types.js';

export const END_NONE = 0;
export const END_FORCE_CLOSE = 1;
export const END_TRUNCATE = 2;
export type EndRule = typeof END_NONE | typeof END_FORCE_CLOSE | typeof END_TRUNCATE;

/** What happens to an open position at the end of an episode (session). */
export type SessionEnd = 'close' | 'truncate';

/**
 * Positions of `lanes` lanes and the rules that move them. The arrays are indexed by lane (state: lane ·
 * TRADE_STATE_SIZE); readers treat them as read-only.
 */
export class MarketCore {
  readonly lanes: number;
  /** Trade state per lane, TRADE_STATE_SIZE values each (layout in src/features/position.ts). */
  readonly state: Float64Array;
  /** 0 flat, +1 long, −1 short. */
  readonly side: Int8Array;
  /** Bar index of the open trade's entry fill (−1 when flat). */
  readonly entryIndex: Int32Array;
  /** Time of the open trade's entry fill. */
  readonly entryTs: Float64Array;
  /** Episode number each lane runs (recorded with its trades). */
  readonly episode: Int32Array;
  /** Closed trades, in the order they closed. */
  readonly trades: TradeLog;
  readonly pipsPerPrice: number;
  /** The constant round-trip cost (spread 'constant'). */
  readonly costPips: number;
  /** Whether fills pay the bars' recorded spreads (spread 'recorded'). */
  readonly recorded: boolean;
  /** Round-trip cost the open trade was entered with (its entry bar's): what its marks assume the exit pays. */
  readonly entryCost: Float64Array;
  readonly penalty: number;
  readonly idlePenalty: number;
  readonly dense: boolean;
  readonly barMs: number;
  /** After step(): the net pips realised by a close in that step (0 when nothing closed). */
  lastRealised = 0;
  /** After step(): index in `trades` of the first trade the step closed, or −1. */
  lastTrade = -1;
  /** After close(): the MAE of the trade it recorded. */
  lastMae = 0;

  constructor(cfg: EnvConfig, lanes: number, trades?: TradeLog) {
    if (!Number.isInteger(lanes) || lanes < 1) throw new EnvInputError(`lanes must be an integer >= 1, got ${lanes}`);
    const pm = pipModel(cfg.pipSize, cfg.spreadPips, cfg.units);
    this.lanes = lanes;
    this.pipsPerPrice = pm.pipsPerPrice;
    this.costPips = pm.costPips;
    this.recorded = cfg.spread === 'recorded';
    this.entryCost = new Float64Array(lanes);
    this.penalty = cfg.reward.penalty;
    this.idlePenalty = cfg.reward.idlePenalty;
    this.dense = cfg.reward.mode === 'dense';
    this.barMs = cfg.barMs;
    this.state = new Float64Array(lanes * TRADE_STATE_SIZE);
    this.side = new Int8Array(lanes);
    this.entryIndex = new Int32Array(lanes).fill(-1);
    this.entryTs = new Float64Array(lanes);
    this.episode = new Int32Array(lanes).fill(-1);
    this.trades = trades ?? new TradeLog();
  }

  /** Lane `lane` starts episode `episode`, flat. An open trade there is abandoned, not recorded. */
  resetLane(lane: number, episode: number): void {
    clearTrade(this.state, lane * TRADE_STATE_SIZE);
    this.side[lane] = 0;
    this.entryIndex[lane] = -1;
    this.episode[lane] = episode;
  }

  /**
   * Lane `to` takes lane `from` of `src` exactly as it stands (position, trade state, episode), so that
   * what-if steps can run from it without touching the source (training's hindsight branches).
   */
  copyLane(src: MarketCore, from: number, to: number): void {
    if (src.costPips !== this.costPips || src.pipsPerPrice !== this.pipsPerPrice || src.recorded !== this.recorded) {
      throw new EnvInputError('copyLane: the two cores price positions differently');
    }
    this.state.set(src.state.subarray(from * TRADE_STATE_SIZE, (from + 1) * TRADE_STATE_SIZE), to * TRADE_STATE_SIZE);
    this.side[to] = src.side[from];
    this.entryIndex[to] = src.entryIndex[from];
    this.entryTs[to] = src.entryTs[from];
    this.entryCost[to] = src.entryCost[from];
    this.episode[to] = src.episode[from];
  }

  /** The round-trip cost of a fill at bar i: the constant, or (recorded) bar i's spread in pips. */
  costAt(bars: BarSeries, i: number): number {
    if (!this.recorded) return this.costPips;
    const s = bars.spread ? bars.spread[i] : NaN;
    if (!(s >= 0)) throw missingSpreadError(bars.instrument, bars.ts[i], bars.spread ? 'its spread is not recorded' : 'the bars were loaded without spreads');
    return s * this.pipsPerPrice;
  }

  /**
   * Opens a position of direction `dir` (+1 long, −1 short) filled at `price` (bar `entryIndex` of `bars`,
   * time `entryTs`); the entry pays half the round-trip cost at that bar.
   */
  open(lane: number, dir: 1 | -1, price: number, bars: BarSeries, entryIndex: number, entryTs: number): void {
    if (this.side[lane] !== 0) throw new EnvInputError(`lane ${lane}: a position is already open`);
    const cost = this.costAt(bars, entryIndex);
    this.entryCost[lane] = cost;
    openTrade(this.state, lane * TRADE_STATE_SIZE, dir, price, cost);
    this.side[lane] = dir;
    this.entryIndex[lane] = entryIndex;
    this.entryTs[lane] = entryTs;
  }

  /** Marks the open position at the end of a held bar (no-op when flat). */
  mark(lane: number, high: number, low: number, close: number): void {
    if (this.side[lane] !== 0) markTrade(this.state, lane * TRADE_STATE_SIZE, high, low, close, this.pipsPerPrice, this.entryCost[lane]);
  }

  /** Whether `a` is legal for the lane now. */
  legal(lane: number, a: number): boolean {
    return this.side[lane] === 0 ? a === HOLD || a === BUY || a === SELL : a === HOLD || a === CLOSE;
  }

  /** Writes the 4 legal-action flags of the lane at out[offset..offset+4]. */
  writeMask(lane: number, out: Uint8Array, offset: number): void {
    const flat = this.side[lane] === 0 ? 1 : 0;
    out[offset + HOLD] = 1;
    out[offset + BUY] = flat;
    out[offset + SELL] = flat;
    out[offset + CLOSE] = 1 - flat;
  }

  /** The 9 position features of the lane at its last mark, at out[offset..offset+9]. */
  writePositionFeatures(lane: number, out: Float32Array | Float64Array, offset: number): void {
    writePositionFeatures(this.state, lane * TRADE_STATE_SIZE, this.penalty, out, offset);
  }

  /**
   * The one close: the exit fill at `exitPrice` (booked at bar `exitIndex` of `bars`, which pays the exit
   * half of the cost) widens the excursions, the trade is recorded and the lane is flat afterwards.
   * Returns the trade's net pips; `lastMae` holds its MAE (exit fill included) and `lastTrade` its index
   * in `trades`.
   */
  close(lane: number, bars: BarSeries, exitIndex: number, exitTs: number, exitPrice: number, forced: boolean): number {
    const st = this.state;
    const o = lane * TRADE_STATE_SIZE;
    const side = this.side[lane];
    if (side === 0) throw new EnvInputError(`lane ${lane}: no open position to close`);
    // constant: entryCost = costPips and the halves add up to it exactly (halving is exact)
    const cost = this.recorded ? this.entryCost[lane] / 2 + this.costAt(bars, exitIndex) / 2 : this.costPips;
    touchPrice(st, o, exitPrice, this.pipsPerPrice);
    // + 0 turns a short's −0 into 0 so records never carry a negative zero.
    const gross = side * (exitPrice - st[o + ST_ENTRY_PRICE]) * this.pipsPerPrice + 0;
    const net = gross - cost;
    const mae = st[o + ST_MAE];
    const e = this.entryIndex[lane];
    this.lastMae = mae;
    this.lastTrade = this.trades.count;
    this.trades.push(
      this.episode[lane],
      side,
      e,
      exitIndex,
      this.entryTs[lane],
      exitTs,
      st[o + ST_ENTRY_PRICE],
      exitPrice,
      gross,
      net,
      cost,
      mae,
      st[o + ST_MFE],
      st[o + ST_BARS],
      forced,
      net - this.penalty * mae,
    );
    clearTrade(st, o);
    this.side[lane] = 0;
    this.entryIndex[lane] = -1;
    return net;
  }

  /**
   * One bar of the lane: decision `a` taken at the close of bar t fills at open[t + 1], bar t + 1 is
   * marked, and `end` says what happens if t + 1 ends the episode. Returns the step's reward.
   * `fill` replaces the open[t + 1] fill by a broker's (live: the price and time the broker reported);
   * everything else is the same step.
   */
  step(lane: number, a: number, bars: BarSeries, t: number, end: EndRule, fill?: { price: number; ts: number } | null): number {
    const st = this.state;
    const o = lane * TRADE_STATE_SIZE;
    const t1 = t + 1;
    const side0 = this.side[lane];
    const eqBefore = side0 !== 0 ? st[o + ST_CURRENT] : 0;
    let realised = 0;
    let penalties = 0;
    let r = 0;
    this.lastTrade = -1;
    if (side0 === 0) {
      if (a === HOLD) {
        r -= this.idlePenalty;
      } else if (a === BUY || a === SELL) {
        this.open(lane, a === BUY ? 1 : -1, fill ? fill.price : bars.open[t1], bars, t1, fill ? fill.ts : bars.ts[t1]);
      } else {
        this.illegal(lane, a, t);
      }
    } else if (a === CLOSE) {
      realised += this.close(lane, bars, t1, fill ? fill.ts : bars.ts[t1], fill ? fill.price : bars.open[t1], false);
      penalties += this.penalty * this.lastMae;
    } else if (a !== HOLD) {
      this.illegal(lane, a, t);
    }
    this.mark(lane, bars.high[t1], bars.low[t1], bars.close[t1]);
    if (end === END_FORCE_CLOSE && this.side[lane] !== 0) {
      const manual = this.lastTrade;
      realised += this.close(lane, bars, t1, bars.ts[t1] + this.barMs, bars.close[t1], true);
      penalties += this.penalty * this.lastMae;
      if (manual >= 0) this.lastTrade = manual;
    }
    this.lastRealised = realised;
    if (this.dense) {
      const eqAfter = realised + (this.side[lane] !== 0 ? st[o + ST_CURRENT] : 0);
      r += eqAfter - eqBefore - penalties;
    } else {
      r += realised - penalties;
    }
    return r;
  }

  private illegal(lane: number, a: number, t: number): never {
    const name = Number.isInteger(a) && a >= 0 && a < N_ACTIONS ? ACTION_NAMES[a] : 'not an action';
    const where = this.side[lane] === 0 ? 'while flat (legal: HOLD, BUY, SELL)' : 'in a position (legal: HOLD, CLOSE)';
    throw new EnvInputError(`lane ${lane}, episode ${this.episode[lane]}, bar ${t}: action ${a} (${name}) is not legal ${where}`);
  }
}

export { N_POSITION_FEATURES };
