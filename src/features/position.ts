// Position state and the 9 position features: the ONE implementation shared by the environment
// (training, validation) and, later, the live runner. A number computed in two places is a bug
// waiting to happen, so everything the agent sees about its own trade is defined here.
//
// Definitions (all "pips" figures are for the whole position: price pips × units)
// ---------------------------------------------------------------------------
//   dir            +1 long, −1 short
//   entry price    Pe, the fill price (the open of the bar after the decision)
//   gross(p)       dir · (p − Pe) / pip_size · units                       (price move only)
//   cost           spread_pips · units: half paid at entry, half at exit; a round trip pays all of it
//   mark           the close of each bar the position is held (starting with the entry bar)
//
//   current_pips   gross(last mark) − cost: the net pips if the trade were closed at the last close,
//                  i.e. including the entry half-spread already paid and the exit half-spread it would
//                  still pay. Right after the fill (before any mark) it is −cost.
//   peak_pips      max of current_pips over the marks of this trade, starting from the fill (−cost)
//   trough_pips    min of the same series
//   max_drawdown   max over the marks of (running peak − current_pips), ≥ 0
//   MAE / MFE      max adverse / favourable excursion in GROSS pips (price only, no cost) over the
//                  highs and lows of every held bar (the entry bar's range counts: the fill is its
//                  open) and the exit fill; both ≥ 0 (the entry price itself is excursion 0)
//   bars_held      number of marks so far = bars the position has been open, counting the entry bar
//
// The reward of a closed trade (amddp) is  net_pips − penalty · MAE  (see src/env/env.ts), so the
// position feature `amddp_reward` is that reward if the trade were closed at the last close:
//   current_pips − penalty · MAE_so_far.
//
// Features (f(v, s) = (2/π)·atan(v/s), all zero when flat):
//   0 current_equity_pips   f(current_pips, 150)
//   1 bars_since_entry      f(bars_held, 2000)
//   2 position_efficiency   clip(current_pips / max(peak_pips, |trough_pips|, 1), −1, 1)
//   3 pips_from_peak        f(peak_pips − current_pips, 150)
//   4 max_drawdown_pips     f(max_drawdown, 150)
//   5 amddp_reward          f(current_pips − penalty · MAE, 150)
//   6 is_long               1 if long
//   7 is_short              1 if short
//   8 has_position          1 if long or short

export const POSITION_FEATURE_NAMES = [
  'current_equity_pips',
  'bars_since_entry',
  'position_efficiency',
  'pips_from_peak',
  'max_drawdown_pips',
  'amddp_reward',
  'is_long',
  'is_short',
  'has_position',
] as const;
export const N_POSITION_FEATURES = 9;

export const POSITION_FEATURE_SCALES = {
  current_equity_pips: 150,
  bars_since_entry: 2000,
  pips_from_peak: 150,
  max_drawdown_pips: 150,
  amddp_reward: 150,
} as const;

// Layout of one trade state inside a Float64Array (the env keeps B of them back to back; live keeps
// one). Offsets are relative to the state's base offset.
export const ST_SIDE = 0; // 0 flat, +1 long, −1 short
export const ST_ENTRY_PRICE = 1;
export const ST_BARS = 2;
export const ST_CURRENT = 3;
export const ST_PEAK = 4;
export const ST_TROUGH = 5;
export const ST_MAX_DD = 6;
export const ST_MAE = 7;
export const ST_MFE = 8;
export const TRADE_STATE_SIZE = 9;

/** How prices turn into pips for one position: `pipsPerPrice = units / pip_size`, `costPips = spread · units`. */
export interface PipModel {
  readonly pipsPerPrice: number;
  readonly costPips: number;
}

export function pipModel(pipSize: number, spreadPips: number, units = 1): PipModel {
  if (!(pipSize > 0) || !Number.isFinite(pipSize)) throw new RangeError(`pip size must be a positive number, got ${pipSize}`);
  if (!(spreadPips >= 0) || !Number.isFinite(spreadPips)) throw new RangeError(`spread must be a number of pips >= 0, got ${spreadPips}`);
  if (!(units > 0) || !Number.isFinite(units)) throw new RangeError(`units must be a positive number, got ${units}`);
  return { pipsPerPrice: units / pipSize, costPips: spreadPips * units };
}

/** Clears a state to flat. */
export function clearTrade(st: Float64Array, o: number): void {
  for (let k = 0; k < TRADE_STATE_SIZE; k++) st[o + k] = 0;
}

/** Opens a trade filled at `entryPrice`: the fill is the first mark (current = peak = trough = −cost). */
export function openTrade(st: Float64Array, o: number, side: number, entryPrice: number, costPips: number): void {
  st[o + ST_SIDE] = side;
  st[o + ST_ENTRY_PRICE] = entryPrice;
  st[o + ST_BARS] = 0;
  st[o + ST_CURRENT] = -costPips;
  st[o + ST_PEAK] = -costPips;
  st[o + ST_TROUGH] = -costPips;
  st[o + ST_MAX_DD] = 0;
  st[o + ST_MAE] = 0;
  st[o + ST_MFE] = 0;
}

/** Gross pips of the open trade at `price`. */
export function grossPipsAt(st: Float64Array, o: number, price: number, pipsPerPrice: number): number {
  return st[o + ST_SIDE] * (price - st[o + ST_ENTRY_PRICE]) * pipsPerPrice + 0;
}

/** Widens MAE/MFE with a price the position was exposed to (a bar extreme or the exit fill). */
export function touchPrice(st: Float64Array, o: number, price: number, pipsPerPrice: number): void {
  const g = st[o + ST_SIDE] * (price - st[o + ST_ENTRY_PRICE]) * pipsPerPrice;
  if (g > st[o + ST_MFE]) st[o + ST_MFE] = g;
  if (-g > st[o + ST_MAE]) st[o + ST_MAE] = -g;
}

/**
 * Marks the open trade at the end of a held bar: its high and low widen MAE/MFE, its close becomes the
 * new mark (current_pips) and updates peak, trough and max drawdown. Only this bar's own values are
 * read, so nothing after the bar's close can leak in.
 */
export function markTrade(
  st: Float64Array,
  o: number,
  high: number,
  low: number,
  close: number,
  pipsPerPrice: number,
  costPips: number,
): void {
  const side = st[o + ST_SIDE];
  const pe = st[o + ST_ENTRY_PRICE];
  const gh = side * (high - pe) * pipsPerPrice;
  const gl = side * (low - pe) * pipsPerPrice;
  const gc = side * (close - pe) * pipsPerPrice;
  // Max/min over all three so inconsistent OHLC (close outside [low, high]) still bounds the mark.
  const fav = gh > gl ? (gh > gc ? gh : gc) : gl > gc ? gl : gc;
  const adv = -(gh < gl ? (gh < gc ? gh : gc) : gl < gc ? gl : gc);
  if (fav > st[o + ST_MFE]) st[o + ST_MFE] = fav;
  if (adv > st[o + ST_MAE]) st[o + ST_MAE] = adv;
  const cur = gc - costPips;
  st[o + ST_CURRENT] = cur;
  if (cur > st[o + ST_PEAK]) st[o + ST_PEAK] = cur;
  if (cur < st[o + ST_TROUGH]) st[o + ST_TROUGH] = cur;
  const dd = st[o + ST_PEAK] - cur;
  if (dd > st[o + ST_MAX_DD]) st[o + ST_MAX_DD] = dd;
  st[o + ST_BARS] += 1;
}

const TWO_OVER_PI = 2 / Math.PI;

/** (2/π)·atan(v/s): maps any pip count smoothly into (−1, 1); |v| = s maps to ±0.5. */
export function squash(v: number, s: number): number {
  return TWO_OVER_PI * Math.atan(v / s);
}

/**
 * Writes the 9 position features of the trade state at `st[o..]` into `out[outOffset..outOffset+9]`.
 * `penalty` is the amddp MAE penalty of the reward (so `amddp_reward` is what closing now would pay).
 * A flat state writes nine zeros.
 */
export function writePositionFeatures(
  st: Float64Array,
  o: number,
  penalty: number,
  out: Float32Array | Float64Array,
  outOffset: number,
): void {
  const side = st[o + ST_SIDE];
  if (side === 0) {
    for (let k = 0; k < N_POSITION_FEATURES; k++) out[outOffset + k] = 0;
    return;
  }
  const cur = st[o + ST_CURRENT];
  const peak = st[o + ST_PEAK];
  const trough = st[o + ST_TROUGH];
  const absTrough = trough < 0 ? -trough : trough;
  let denom = peak > absTrough ? peak : absTrough;
  if (denom < 1) denom = 1;
  let eff = cur / denom;
  if (eff > 1) eff = 1;
  else if (eff < -1) eff = -1;
  out[outOffset] = TWO_OVER_PI * Math.atan(cur / 150);
  out[outOffset + 1] = TWO_OVER_PI * Math.atan(st[o + ST_BARS] / 2000);
  out[outOffset + 2] = eff;
  out[outOffset + 3] = TWO_OVER_PI * Math.atan((peak - cur) / 150);
  out[outOffset + 4] = TWO_OVER_PI * Math.atan(st[o + ST_MAX_DD] / 150);
  out[outOffset + 5] = TWO_OVER_PI * Math.atan((cur - penalty * st[o + ST_MAE]) / 150);
  out[outOffset + 6] = side > 0 ? 1 : 0;
  out[outOffset + 7] = side < 0 ? 1 : 0;
  out[outOffset + 8] = 1;
}

/** A readable snapshot of one trade state (for live, logs and tests; the env reads the array directly). */
export interface TradeSnapshot {
  side: -1 | 0 | 1;
  entryPrice: number;
  barsHeld: number;
  currentPips: number;
  peakPips: number;
  troughPips: number;
  maxDrawdownPips: number;
  maePips: number;
  mfePips: number;
}

export function tradeSnapshot(st: Float64Array, o = 0): TradeSnapshot {
  return {
    side: st[o + ST_SIDE] as -1 | 0 | 1,
    entryPrice: st[o + ST_ENTRY_PRICE],
    barsHeld: st[o + ST_BARS],
    currentPips: st[o + ST_CURRENT],
    peakPips: st[o + ST_PEAK],
    troughPips: st[o + ST_TROUGH],
    maxDrawdownPips: st[o + ST_MAX_DD],
    maePips: st[o + ST_MAE],
    mfePips: st[o + ST_MFE],
  };
}
