// The one policy interface: rule-based baselines now, MuZero and ONNX policies later.
import type { EnvView } from '../../env/env.js';
import { InputError } from '../../util/errors.js';

export interface Policy {
  readonly name: string;
  /** Resolved parameters (declared defaults filled in). */
  readonly params: Readonly<Record<string, number>>;
  /** Whether act() reads the observation batch; when false the env skips building observations. */
  readonly needsObservation: boolean;
  /** Called once before a run with the env's view (batch size, bars); precompute here. */
  begin(view: EnvView): void;
  /** Lane `lane` starts episode number `episode` (seed per-episode state from it, never from the lane). */
  resetLane(lane: number, episode: number): void;
  /**
   * Writes one action per active lane into `out[lane]`. `obs` is batch × view.obsDim (null when
   * needsObservation is false), `mask` batch × 4 legal actions. A policy may read bars and features of
   * lane `i` only at indices <= view.t[i] (the no-look-ahead contract; tests check the baselines).
   * Inactive lanes (view.active[i] === 0) are ignored. May return a promise (network inference); the
   * synchronous backtest runner refuses such policies, the async one awaits them.
   */
  act(obs: Float32Array | null, mask: Uint8Array, view: EnvView, out: Uint8Array): void | Promise<void>;
}

export type ParamType = 'int' | 'float';

/** A declared tunable parameter: the registry refuses anything else; walk-forward searches `grid`. */
export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  readonly default: number;
  /** Inclusive bounds. */
  readonly min: number;
  readonly max: number;
  /** Values a parameter search tries by default. */
  readonly grid: readonly number[];
  readonly description: string;
}

export interface PolicySpec {
  readonly name: string;
  readonly description: string;
  readonly params: readonly ParamSpec[];
  /** Cross-parameter constraint (e.g. fast < slow): a message when violated, null when fine. */
  readonly check?: (params: Readonly<Record<string, number>>) => string | null;
  readonly create: (params: Readonly<Record<string, number>>, opts: { seed: number }) => Policy;
}

/** Unknown policy, unknown/invalid parameter (exit code 2). */
export class PolicyError extends InputError {}
