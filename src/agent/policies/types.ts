// The one policy interface: rule-based baselines, the feature-reading `linear`, and learned agents
// (MuZero, PPO) that load checkpoints and answer asynchronously. The same policy object runs in a
// backtest (B lanes over stored sessions) and in a LiveSession (one lane on a series that grows), so a
// policy may only keep state it can build bar by bar: nothing may be precomputed over the whole series.
import type { Config } from '../../config/schema.js';
import type { EnvConfig } from '../../env/config.js';
import type { Store } from '../../store/db.js';
import type { EnvView } from '../../env/env.js';
import type { BarSeries, EpisodeSet, FeatureMatrix } from '../../env/types.js';
import { InputError } from '../../util/errors.js';

/** A parameter value: numbers, or strings (a checkpoint id, a mode name). */
export type ParamValue = number | string;
export type PolicyParams = Readonly<Record<string, ParamValue>>;

export interface Policy {
  readonly name: string;
  /** Resolved parameters (declared defaults filled in). */
  readonly params: PolicyParams;
  /** Whether act() reads the observation batch; when false the runner skips building observations. */
  readonly needsObservation: boolean;
  /** Called once before a run with the runner's view (batch size; the bars may grow afterwards). */
  begin(view: EnvView): void;
  /**
   * Lane `lane` starts episode number `episode` at bar view.t[lane] (seed per-episode state from the
   * episode number, never from the lane; history before the start may be read, it is the real past).
   */
  resetLane(lane: number, episode: number, view: EnvView): void;
  /**
   * Writes one action per active lane into `out[lane]`. `obs` is batch × view.obsDim (null when
   * needsObservation is false), `mask` batch × 4 legal actions. A policy may read bars of lane `i` only
   * at indices <= view.t[i] (the no-look-ahead contract; tests check it). Inactive lanes
   * (view.active[i] === 0) are ignored. May return a promise (network inference): runners await it.
   */
  act(obs: Float32Array | null, mask: Uint8Array, view: EnvView, out: Uint8Array): void | Promise<void>;
  /**
   * Search policies: the root visit counts ([HOLD, BUY, SELL, CLOSE]) behind lane `lane`'s last
   * decision, valid until the next act(). Absent for policies that do not search.
   */
  lastVisits?(lane: number): ArrayLike<number>;
  /** Releases native resources (ONNX sessions, search trees). Optional. */
  close?(): void | Promise<void>;
}

export type ParamType = 'int' | 'float' | 'string';

/** A declared parameter: the registry refuses anything else; walk-forward searches numeric `grid`s. */
export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  readonly default: ParamValue;
  /** Inclusive bounds (numeric parameters). */
  readonly min?: number;
  readonly max?: number;
  /** String parameters: the allowed values, or a pattern the value must match. */
  readonly choices?: readonly string[];
  readonly pattern?: RegExp;
  /** Values a parameter search tries by default (numeric parameters; empty: not searched). */
  readonly grid: readonly number[];
  readonly description: string;
}

/**
 * In-sample data a policy learns from before it acts (`linear` fits on it; walk-forward passes each
 * fold's in-sample part). Episodes index into the bars; feature rows are aligned with the bars.
 */
export interface FitSample {
  readonly bars: BarSeries;
  readonly features: FeatureMatrix;
  readonly episodes: EpisodeSet;
}

export interface PolicyContext {
  /** Seed of stochastic policies (and of the search of learned ones). */
  seed: number;
  /** The effective config (learned policies read their search settings from it); null: the defaults. */
  config?: Config | null;
  /** What `PolicySpec.resolve` found in the main process (e.g. a checkpoint's directory). */
  artifacts?: Readonly<Record<string, string>>;
  /** Hash of the feature set the observations come from (a learned policy refuses another). */
  featureHash?: string | null;
  /** The environment's rules (costs, stack K): a policy that trades on predicted moves needs the spread. */
  env: EnvConfig;
  /** In-sample data for policies that fit (PolicySpec.fits); null otherwise. */
  fit: FitSample | null;
}

export interface PolicySpec {
  readonly name: string;
  readonly description: string;
  readonly params: readonly ParamSpec[];
  /** Whether the policy reads features (observations): runners then load a feature set. */
  readonly observes: boolean;
  /** Whether the policy must be fitted on in-sample data before it acts (PolicyContext.fit). */
  readonly fits?: boolean;
  /** Cross-parameter constraint (e.g. fast < slow): a message when violated, null when fine. */
  readonly check?: (params: PolicyParams) => string | null;
  /**
   * Runs in the main process, which holds the store, before any worker creates the policy: turns
   * references into what they name now (a checkpoint `best` into its id, the id into its directory), so
   * that a stored run records exactly what ran and workers never open the store.
   */
  readonly resolve?: (params: PolicyParams, ctx: { store: Store; config: Config }) => Promise<ResolvedPolicy>;
  /** The learner (`swt train --algo`) whose checkpoints this policy plays: walk-forward retrains with it. */
  readonly learner?: 'muzero' | 'ppo';
  readonly create: (params: PolicyParams, ctx: PolicyContext) => Promise<Policy>;
}

export interface ResolvedPolicy {
  params: Record<string, ParamValue>;
  artifacts: Record<string, string>;
}

/** Unknown policy, unknown/invalid parameter, a policy that cannot run on what it was given. */
export class PolicyError extends InputError {}

/** A numeric parameter of resolved params (the registry has checked its type). */
export function num(params: PolicyParams, name: string): number {
  const v = params[name];
  if (typeof v !== 'number') throw new PolicyError(`parameter ${name} must be a number, got ${String(v)}`);
  return v;
}
