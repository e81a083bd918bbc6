// Position sizing per strategy (issue 14): how many units an entry gets.
//   fixed    `units` units.
//   kelly    fractional Kelly from the strategy's rolling record (its last `window` closed trades in
//            strategy_trades): f* = W − (1 − W) / R (W the win rate, R the payoff ratio), times
//            `kelly_fraction` (0.25), clamped to [min_fraction, max_fraction] (2 %–15 %).
//   safe_f   Bandy's safe-f of the strategy's latest validation (validations.result.montecarlo.safe_f_mean).
// Both fractions are read the way the validation reads safe-f (src/validation/gains.ts: a gain is per
// unit of notional, f = 1 is a notional equal to equity): the position's notional is fraction × balance,
// so units = floor(fraction × scale × balance × quote_per_account / price), the balance converted to the
// instrument's quote currency at `quote_per_account` (quote currency per account currency). Kelly
// falls back to fixed units while its inputs are undefined (fewer than `min_trades` trades, no win or
// no loss yet), safe_f while the strategy has no validation; the reason goes into the journal. The
// size then passes the risk engine's caps (max_order_units, max_position_units). `scale` in (0, 1] is
// the promoter's staged rollout (25 % → 50 % → 100 % of the size); 1 by default.
import { computeMetrics } from '../validation/metrics.js';
import type { TradeColumns } from '../env/trades.js';
import type { SizingEvent } from './events.js';
import { InputError } from '../util/errors.js';

export type SizingMethod = 'fixed' | 'kelly' | 'safe_f';

export interface SizingConfig {
  method: SizingMethod;
  /** fixed: the units; kelly and safe_f: the fallback's. */
  units: number;
  kelly_fraction: number;
  min_fraction: number;
  max_fraction: number;
  /** Kelly needs at least this many closed trades. */
  min_trades: number;
  /** Closed trades the rolling figures are computed over (newest). */
  window: number;
  quote_per_account: number;
}

export const SIZING_DEFAULTS: SizingConfig = { method: 'fixed', units: 1, kelly_fraction: 0.25, min_fraction: 0.02, max_fraction: 0.15, min_trades: 30, window: 100, quote_per_account: 1 };

/** The figures Kelly reads, from the validation metrics of the strategy's rolling trades. */
export interface RollingStats {
  trades: number;
  win_rate: number | null;
  payoff_ratio: number | null;
}

export function rollingStats(trades: TradeColumns): RollingStats {
  const m = computeMetrics({ trades });
  return { trades: m.trades, win_rate: m.win_rate, payoff_ratio: m.payoff_ratio };
}

/** A validation's safe-f (fraction of equity as notional). */
export interface ValidatedSafeF {
  safe_f: number;
  validation_id: number;
}

export interface SizeInput {
  config: SizingConfig;
  stats: RollingStats;
  safeF: ValidatedSafeF | null;
  /** Account balance (account currency); null: unknown (fractions then fall back to fixed units). */
  balance: number | null;
  /** The price the entry is sized at (the decision bar's close). */
  price: number;
  caps: { max_order_units: number; max_position_units: number };
  /** Rollout scale in (0, 1]. */
  scale?: number;
}

export type SizeDecision = Omit<SizingEvent, 'ts' | 'strategy' | 'client_id'>;

/** Kelly's optimal fraction f* = W − (1 − W) / R. */
export function kellyOptimal(winRate: number, payoffRatio: number): number {
  return winRate - (1 - winRate) / payoffRatio;
}

export function checkScale(scale: number): number {
  if (!(scale > 0 && scale <= 1)) throw new InputError(`sizing scale must be in (0, 1], got ${scale}`);
  return scale;
}

/** The units of an entry and every input they came from (pure: the journal stores the result as it is). */
export function sizePosition(i: SizeInput): SizeDecision {
  const c = i.config;
  const scale = checkScale(i.scale ?? 1);
  const d: SizeDecision = {
    method: c.method,
    units: 0,
    requested_units: 0,
    fraction: null,
    raw_fraction: null,
    kelly_multiplier: c.method === 'kelly' ? c.kelly_fraction : null,
    win_rate: i.stats.win_rate,
    payoff_ratio: i.stats.payoff_ratio,
    trades: i.stats.trades,
    safe_f: i.safeF?.safe_f ?? null,
    validation_id: i.safeF?.validation_id ?? null,
    balance: i.balance,
    price: i.price,
    scale,
    clamp: null,
    cap: null,
    fallback: null,
  };
  if (c.method === 'kelly') {
    const { trades, win_rate: w, payoff_ratio: r } = i.stats;
    if (trades < c.min_trades) d.fallback = `kelly needs ${c.min_trades} closed trades, the strategy has ${trades}`;
    else if (w === null || r === null) d.fallback = 'kelly needs a winning and a losing trade (the payoff ratio is undefined)';
    else {
      d.raw_fraction = kellyOptimal(w, r);
      let f = c.kelly_fraction * d.raw_fraction;
      if (f < c.min_fraction) [f, d.clamp] = [c.min_fraction, 'min'];
      else if (f > c.max_fraction) [f, d.clamp] = [c.max_fraction, 'max'];
      d.fraction = f;
    }
  } else if (c.method === 'safe_f') {
    if (!i.safeF) d.fallback = 'no validation of the strategy: no safe-f';
    else d.fraction = d.raw_fraction = i.safeF.safe_f;
  }
  if (d.fraction !== null && (i.balance === null || !(i.balance > 0))) {
    d.fallback = `the balance is unknown (${i.balance}): a fraction cannot be turned into units`;
    d.fraction = null;
  }
  const requested = d.fraction === null ? c.units * scale : (d.fraction * scale * (i.balance as number) * c.quote_per_account) / i.price;
  d.requested_units = Math.floor(requested + 1e-9);
  d.units = d.requested_units;
  if (d.units > i.caps.max_order_units) [d.units, d.cap] = [Math.floor(i.caps.max_order_units), 'max_order_units'];
  if (d.units > i.caps.max_position_units) [d.units, d.cap] = [Math.floor(i.caps.max_position_units), 'max_position_units'];
  return d;
}

/** What the runner asks at each entry: the size of a position opened at `price` under `caps`. */
export interface PositionSizer {
  /** The rollout scale (the promoter sets it; 1 by default). */
  scale: number;
  size(price: number, caps: SizeInput['caps']): Promise<SizeDecision>;
}

export function positionSizer(o: { config: SizingConfig; stats: () => RollingStats; safeF: ValidatedSafeF | null; balance: () => Promise<number | null>; scale?: number }): PositionSizer {
  return {
    scale: checkScale(o.scale ?? 1),
    async size(price, caps) {
      // a fixed size needs no balance (and asks the broker nothing)
      const balance = o.config.method === 'fixed' ? null : await o.balance();
      return sizePosition({ config: o.config, stats: o.stats(), safeF: o.safeF, balance, price, caps, scale: this.scale });
    },
  };
}
