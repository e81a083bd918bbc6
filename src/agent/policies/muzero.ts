// `muzero`: a checkpoint's network, served by ONNX Runtime and searched by the native batched MCTS
// (src/agent/muzero/actor.ts), as a policy like any other: backtest, validation (each worker opens its
// own session), walk-forward and live. Each decision's search is seeded by (seed, episode, step in the
// episode), so the actions do not depend on the batch, the lanes or the worker count.
import type { Config } from '../../config/schema.js';
import { loadConfig } from '../../config/load.js';
import type { EnvView } from '../../env/env.js';
import { N_ACTIONS } from '../../env/types.js';
import type { Store } from '../../store/db.js';
import { resolveCheckpoint, type CheckpointFamily } from '../checkpoints/registry.js';
import { readCheckpointMeta, servedSimulations } from '../checkpoints/checkpoint.js';
import { decisionId, MuZeroActor } from '../muzero/actor.js';
import { num, PolicyError, type ParamSpec, type Policy, type PolicyContext, type PolicyParams, type ResolvedPolicy } from './types.js';

/** The checkpoint reference of a learned policy (muzero, ppo). */
export const CHECKPOINT_PARAM: ParamSpec = {
  name: 'checkpoint',
  type: 'string',
  default: 'latest',
  pattern: /^[A-Za-z0-9_.\/-]+$/,
  grid: [],
  description: 'checkpoint: latest, best (highest evaluation SQN), an id from `swt checkpoints list`, or a directory',
};

const MUZERO_DEFAULT_SIMULATIONS = 15;

export const MUZERO_PARAMS: readonly ParamSpec[] = [
  CHECKPOINT_PARAM,
  { name: 'simulations', type: 'int', default: 0, min: 0, max: 400, grid: [], description: `search simulations per decision (0: what the checkpoint was evaluated with, ${MUZERO_DEFAULT_SIMULATIONS} for one that records none)` },
  { name: 'temperature', type: 'float', default: 0, min: 0, max: 10, grid: [], description: 'visit-count temperature (0: the most visited; evaluation default)' },
];

/** The simulations a `muzero` policy searches with when neither it nor its checkpoint says (what training evaluates with by default). */
export function muzeroDefaultSimulations(): number {
  return MUZERO_DEFAULT_SIMULATIONS;
}

/**
 * Main process: `latest`/`best`/an id → the checkpoint's id (recorded with the run) and its directory;
 * `latest` and `best` among the given learner's checkpoints (muzero, ppo).
 */
export function checkpointResolver(family: CheckpointFamily) {
  return async (params: PolicyParams, ctx: { store: Store; config: Config }): Promise<ResolvedPolicy> => {
    const ref = String(params.checkpoint);
    const { id, dir } = await resolveCheckpoint(ctx.store, ref, family);
    // simulations 0: the search the checkpoint's evaluation played, so the run records the number it plays
    const out: Record<string, PolicyParams[string]> = { ...params, checkpoint: id ?? ref };
    if (family === 'muzero') out.simulations = servedSimulations(num(params, 'simulations'), await readCheckpointMeta(dir), MUZERO_DEFAULT_SIMULATIONS);
    return { params: out, artifacts: { checkpoint_dir: dir } };
  };
}

export class MuZeroPolicy implements Policy {
  readonly name = 'muzero';
  readonly needsObservation = true;
  /** [batch, 4] root visit counts of the last decision of each lane (what the dashboard shows). */
  visits = new Float32Array(0);
  private obs = new Float32Array(0);
  private mask = new Uint8Array(0);
  private ids = new Float64Array(0);
  private lanes = new Int32Array(0);

  constructor(
    readonly params: PolicyParams,
    readonly actor: MuZeroActor,
  ) {}

  begin(view: EnvView): void {
    if (view.obsDim !== this.actor.obsDim) {
      throw new PolicyError(`muzero: checkpoint ${this.params.checkpoint} observes ${this.actor.obsDim} values, the env gives ${view.obsDim} (another feature set or env.stack)`);
    }
    const B = view.batch;
    this.obs = new Float32Array(B * view.obsDim);
    this.mask = new Uint8Array(B * N_ACTIONS);
    this.ids = new Float64Array(B);
    this.lanes = new Int32Array(B);
    this.visits = new Float32Array(B * N_ACTIONS);
  }

  resetLane(): void {}

  lastVisits(lane: number): Float32Array {
    return this.visits.subarray(lane * N_ACTIONS, (lane + 1) * N_ACTIONS);
  }

  async act(obs: Float32Array | null, mask: Uint8Array, view: EnvView, out: Uint8Array): Promise<void> {
    if (!obs) throw new PolicyError('muzero reads the observation: run it with a feature set');
    const D = view.obsDim;
    let n = 0;
    for (let i = 0; i < view.batch; i++) {
      if (view.active[i] === 0) continue;
      this.obs.set(obs.subarray(i * D, (i + 1) * D), n * D);
      this.mask.set(mask.subarray(i * N_ACTIONS, (i + 1) * N_ACTIONS), n * N_ACTIONS);
      this.ids[n] = decisionId(view.episode[i], view.t[i] - view.start[i]);
      this.lanes[n] = i;
      n++;
    }
    if (n === 0) return;
    const r = await this.actor.act(this.obs, this.mask, n, this.ids.subarray(0, n));
    for (let k = 0; k < n; k++) {
      const lane = this.lanes[k];
      out[lane] = r.actions[k];
      this.visits.set(r.visits.subarray(k * N_ACTIONS, (k + 1) * N_ACTIONS), lane * N_ACTIONS);
    }
  }

  close(): Promise<void> {
    return this.actor.close();
  }
}

export async function createMuZeroPolicy(params: PolicyParams, ctx: PolicyContext): Promise<Policy> {
  const dir = ctx.artifacts?.checkpoint_dir ?? String(params.checkpoint);
  const actor = await MuZeroActor.open({
    checkpoint: dir,
    store: null,
    featureHash: ctx.featureHash ?? undefined,
    config: ctx.config ?? loadConfig(),
    seed: ctx.seed,
    // 0: the checkpoint's recorded search (the actor reads it), else the policy's default
    simulations: num(params, 'simulations') || undefined,
    defaultSimulations: MUZERO_DEFAULT_SIMULATIONS,
    temperature: num(params, 'temperature'),
    maxBatch: 64,
  });
  return new MuZeroPolicy(params, actor);
}
