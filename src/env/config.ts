// Environment configuration: instrument costs, position size, observation stacking and reward.
import type { Config } from '../config/schema.js';
import { EnvInputError } from './types.js';

export type RewardMode = 'amddp' | 'dense';

/**
 * Which spread a fill pays. constant: `spreadPips` on every round trip. recorded: each side pays half
 * of the spread recorded for the bar it fills at (BarSeries.spread, ask − bid at the bar's open; see
 * MarketCore in ./step.ts for exactly which bar), so bars must carry recorded spreads.
 */
export type SpreadMode = 'constant' | 'recorded';

export interface RewardConfig {
  /**
   * amddp (sparse): a step's reward is Σ over trades closed in that step of
   *     net_pips − penalty · MAE_pips
   *   and 0 otherwise.
   * dense: a step's reward is the change of episode equity plus the penalty at each close:
   *     (E_after − E_before) − Σ_closed penalty · MAE_pips
   *   where E = realised net pips of this episode + current_pips of the open trade (marked at the
   *   last close, net of both half-spreads; see src/features/position.ts). So opening pays −spread
   *   plus the first bar's move at once, each held bar pays its close-to-close move, the close pays the
   *   difference between the exit fill and the last mark.
   * Both modes sum to the same episode return: Σ_trades (net_pips − penalty · MAE_pips).
   * In both modes every decision that stays flat (HOLD while flat) also pays −idlePenalty.
   */
  mode: RewardMode;
  penalty: number;
  idlePenalty: number;
}

export interface EnvConfig {
  /** Price units per pip (0.01 for JPY quotes, 0.0001 otherwise). */
  pipSize: number;
  /** Round-trip spread in pips; half is charged at entry, half at exit (spread 'constant'). */
  spreadPips: number;
  spread: SpreadMode;
  /** Position size; every pip figure (trades, features, reward) is price pips × units. */
  units: number;
  reward: RewardConfig;
  /** K: the observation holds the rows of the last K bars (oldest first). */
  stack: number;
  /** Bar length in ms: a forced close at the last bar's close is stamped ts[last] + barMs. */
  barMs: number;
}

export const DEFAULT_ENV_CONFIG: Readonly<EnvConfig> = Object.freeze({
  pipSize: 0.01,
  spreadPips: 4,
  spread: 'constant' as SpreadMode,
  units: 1,
  reward: Object.freeze({ mode: 'amddp' as RewardMode, penalty: 0.01, idlePenalty: 0 }),
  stack: 1,
  barMs: 60_000,
});

export interface EnvConfigInput {
  pipSize?: number;
  spreadPips?: number;
  spread?: SpreadMode;
  units?: number;
  reward?: Partial<RewardConfig>;
  stack?: number;
  barMs?: number;
}

function positive(name: string, v: number): number {
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new EnvInputError(`${name} must be a number > 0, got ${v}`);
  return v;
}
function nonNegative(name: string, v: number): number {
  if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new EnvInputError(`${name} must be a number >= 0, got ${v}`);
  return v;
}

/** Fills defaults and validates; throws EnvInputError naming the bad field. */
export function envConfig(input: EnvConfigInput = {}): EnvConfig {
  const d = DEFAULT_ENV_CONFIG;
  const mode = input.reward?.mode ?? d.reward.mode;
  if (mode !== 'amddp' && mode !== 'dense') throw new EnvInputError(`reward.mode must be 'amddp' or 'dense', got '${String(mode)}'`);
  const spread = input.spread ?? d.spread;
  if (spread !== 'constant' && spread !== 'recorded') throw new EnvInputError(`spread must be 'constant' or 'recorded', got '${String(spread)}'`);
  const stack = input.stack ?? d.stack;
  if (!Number.isInteger(stack) || stack < 1) throw new EnvInputError(`stack must be an integer >= 1, got ${stack}`);
  return {
    pipSize: positive('pipSize', input.pipSize ?? d.pipSize),
    spreadPips: nonNegative('spreadPips', input.spreadPips ?? d.spreadPips),
    spread,
    units: positive('units', input.units ?? d.units),
    reward: {
      mode,
      penalty: nonNegative('reward.penalty', input.reward?.penalty ?? d.reward.penalty),
      idlePenalty: nonNegative('reward.idlePenalty', input.reward?.idlePenalty ?? d.reward.idlePenalty),
    },
    stack,
    barMs: positive('barMs', input.barMs ?? d.barMs),
  };
}

/** The env config for `instrument` from the effective swt config (instruments.* and env.*). */
export function envConfigFromConfig(config: Config, instrument: string): EnvConfig {
  const inst = config.instruments[instrument];
  if (!inst) {
    throw new EnvInputError(
      `unknown instrument '${instrument}': add it under instruments in the config (known: ${Object.keys(config.instruments).join(', ')})`,
    );
  }
  return envConfig({
    pipSize: inst.pip_size,
    spreadPips: inst.spread_pips,
    spread: config.env.spread,
    units: config.env.units,
    stack: config.env.stack,
    barMs: config.env.bar_ms,
    reward: { mode: config.env.reward.mode, penalty: config.env.reward.penalty, idlePenalty: config.env.reward.idle_penalty },
  });
}

/** An EnvConfig as a stored / printed JSON document (snake_case, like every JSON swt writes). */
export interface EnvDocument {
  pip_size: number;
  spread_pips: number;
  spread: SpreadMode;
  units: number;
  reward: { mode: RewardMode; penalty: number; idle_penalty: number };
  stack: number;
  bar_ms: number;
}

export function envDocument(e: EnvConfig): EnvDocument {
  return {
    pip_size: e.pipSize,
    spread_pips: e.spreadPips,
    spread: e.spread,
    units: e.units,
    reward: { mode: e.reward.mode, penalty: e.reward.penalty, idle_penalty: e.reward.idlePenalty },
    stack: e.stack,
    bar_ms: e.barMs,
  };
}
