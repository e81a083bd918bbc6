// The acting half of MuZero, for the `muzero` policy, self-play, validation and live: a checkpoint's
// network served by ONNX Runtime (or any NetworkModel), searched by the native batched MCTS.
//
// Seeding: tree i of a search draws its random numbers from (seed, ids[i]) only, and the ONNX graphs
// compute each row independently of the others in its batch, so an action depends on the
// observation, the mask, the seed and the decision's id, never on which other decisions share the
// batch, how a batch is split, or the thread count.
//
// This is the one module that configures the Searcher (src/agent/search.ts) for the network.
import type { Store } from '../../store/db.js';
import type { Config } from '../../config/schema.js';
import { Searcher } from '../search.js';
import { OnnxModel, type NetworkModel } from '../network/model.js';
import type { NetworkSpec } from '../network/spec.js';
import { compatibility, muzeroNetwork, servedSimulations, type Checkpoint, type CheckpointMeta, type CheckpointSearch } from '../checkpoints/checkpoint.js';
import { openCheckpoint } from '../checkpoints/registry.js';

/** A unique decision id from an episode number and the bar (or step) inside it, for `act` ids. */
export function decisionId(episode: number, step: number): number {
  if (!(Number.isInteger(episode) && episode >= 0 && episode < 2 ** 29 && Number.isInteger(step) && step >= 0 && step < 2 ** 24)) {
    throw new RangeError(`decisionId: episode must be an integer in [0, 2^29) and step in [0, 2^24), got ${episode}, ${step}`);
  }
  return episode * 2 ** 24 + step;
}

export interface ActorOptions {
  config: Config;
  /** Simulations per decision (default mcts.simulations). */
  simulations?: number;
  /** Visit-count temperature for PUCT action selection (default 0: the most visited; Gumbel ignores it). */
  temperature?: number;
  /**
   * The Gumbel settings a checkpoint was evaluated with (its meta.search): they replace the config's
   * c_scale and min_q_range, so a checkpoint is served as it was chosen. Absent: the config's.
   */
  search?: Pick<CheckpointSearch, 'c_scale' | 'min_q_range'>;
  seed: number;
  /** Largest batch one search runs; larger `act` calls are split (with the same results). */
  maxBatch: number;
}

export interface OpenOptions extends ActorOptions {
  /** Simulations when neither `simulations` nor the checkpoint's recorded search gives them (default mcts.simulations). */
  defaultSimulations?: number;
  /** latest, best, an id, a checkpoint directory (resolved through `store`), or a loaded checkpoint. */
  checkpoint: string | Checkpoint;
  store?: Store | null;
  /** Refuse a checkpoint trained on other features (the hash of the feature set it will observe). */
  featureHash?: string;
  /** ONNX Runtime threads per graph run (default 1). */
  threads?: number;
}

export interface ActResult {
  /** [n] chosen actions (0 HOLD, 1 BUY, 2 SELL, 3 CLOSE), always legal under the mask. */
  actions: Int32Array;
  /** [n, 4] root visit counts. */
  visits: Float32Array;
  /** [n] root values after the search. */
  values: Float64Array;
  /** [n, 4] the search's improved policy (the training target). */
  policy: Float32Array;
}

export class MuZeroActor {
  readonly spec: NetworkSpec;
  readonly obsDim: number;
  readonly simulations: number;
  private readonly searcher: Searcher<Float32Array>;
  private readonly temperature: number;
  private readonly seed: number;
  private readonly maxBatch: number;
  private closed = false;

  private constructor(
    readonly model: NetworkModel,
    /** The checkpoint's metadata (null for an actor over a bare model). */
    readonly meta: CheckpointMeta | null,
    opts: ActorOptions,
  ) {
    if (!(Number.isInteger(opts.maxBatch) && opts.maxBatch >= 1)) throw new RangeError(`MuZeroActor: maxBatch must be an integer >= 1, got ${opts.maxBatch}`);
    this.spec = model.spec;
    this.obsDim = model.spec.obs_dim;
    this.simulations = opts.simulations ?? opts.config.mcts.simulations;
    this.temperature = opts.temperature ?? 0;
    this.seed = opts.seed;
    this.maxBatch = opts.maxBatch;
    // The tree store is sized by max_simulations: a policy asking for more than the config's simulations
    // gets a searcher sized for them.
    // Temperature 0 (evaluation) is the greedy choice in Gumbel mode too: the Gumbel root picks its
    // action with the noise it explored with, so the noise is switched off (scale 0) there.
    // The heads' values are discounted sums at the gamma they were trained for: back up with that one.
    const base = opts.config.mcts;
    const gumbel = opts.search ? { ...base.gumbel, c_scale: opts.search.c_scale, min_q_range: opts.search.min_q_range } : base.gumbel;
    const mcts = { ...base, gumbel, discount: model.spec.discount ?? base.discount };
    const greedy = this.temperature === 0 && mcts.mode === 'gumbel' ? { gumbel: { ...mcts.gumbel, scale: 0 } } : {};
    this.searcher = new Searcher(model, { ...mcts, ...greedy, simulations: Math.max(this.simulations, mcts.simulations) }, opts.maxBatch);
  }

  /** An actor over a checkpoint's ONNX graphs. */
  static async open(opts: OpenOptions): Promise<MuZeroActor> {
    const expect = { featureHash: opts.featureHash };
    const ck = typeof opts.checkpoint === 'string' ? await openCheckpoint(opts.store ?? null, opts.checkpoint, expect) : opts.checkpoint;
    const refusal = compatibility(ck.meta, expect);
    if (refusal) throw refusal;
    const net = muzeroNetwork(ck);
    const model = await OnnxModel.create(net.spec, net.onnx, { threads: opts.threads });
    return new MuZeroActor(model, ck.meta, {
      ...opts,
      simulations: servedSimulations(opts.simulations, ck.meta, opts.defaultSimulations),
      search: opts.search ?? ck.meta.search,
    });
  }

  /** An actor over any network model (e.g. TfjsModel, for parity checks against ONNX). */
  static fromModel(model: NetworkModel, opts: ActorOptions): MuZeroActor {
    return new MuZeroActor(model, null, opts);
  }

  /**
   * One decision for each of n rows: obs [n, obsDim], mask [n, 4] (1 = legal), ids [n] unique decision
   * ids in [0, 2^53) (see decisionId) that seed each row's search.
   */
  async act(obs: Float32Array, mask: Uint8Array, n: number, ids: ArrayLike<number>): Promise<ActResult> {
    if (this.closed) throw new Error('MuZeroActor: used after close()');
    const A = this.spec.num_actions;
    const D = this.obsDim;
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`act: n must be an integer >= 1, got ${n}`);
    if (obs.length < n * D) throw new RangeError(`act: obs holds ${obs.length} values, ${n} rows of ${D} need ${n * D}`);
    if (mask.length < n * A) throw new RangeError(`act: mask holds ${mask.length} values, ${n} rows need ${n * A}`);
    if (ids.length < n) throw new RangeError(`act: ${ids.length} ids for ${n} rows`);
    const actions = new Int32Array(n);
    const visits = new Float32Array(n * A);
    const values = new Float64Array(n);
    const policy = new Float32Array(n * A);
    for (let from = 0; from < n; from += this.maxBatch) {
      const k = Math.min(this.maxBatch, n - from);
      const treeIds = Array.from({ length: k }, (_, i) => ids[from + i]);
      const r = await this.searcher.search(obs.subarray(from * D, (from + k) * D), k, {
        seed: this.seed,
        treeIds,
        legal: mask.subarray(from * A, (from + k) * A),
        simulations: this.simulations,
        temperature: this.temperature,
      });
      actions.set(r.actions, from);
      visits.set(r.visits, from * A);
      values.set(r.rootValues, from);
      policy.set(r.policy, from * A);
    }
    return { actions, visits, values, policy };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.searcher.free();
    await this.model.dispose();
  }
}
