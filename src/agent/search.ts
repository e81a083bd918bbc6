// A full Stochastic MuZero search over a batch of environments: the native trees choose the leaves,
// the model evaluates them in (at most) two batched calls per simulation, the trees back them up.
// Latents stay here, in one preallocated store indexed by (node index, tree): node j of every tree is
// created by simulation j, so the store holds (max_simulations + 1) x max_trees rows.
import { MctsBatch, type MctsConfig } from '../../bindings/mcts.js';
import type { SearchModel } from './model.js';
import type { Config } from '../config/schema.js';

/** The shape of a batch, which the `mcts` config section does not hold. */
export type MctsShape = Pick<MctsConfig, 'max_trees' | 'num_actions' | 'num_codes'>;

/** The native batch configuration from the `mcts` config section (whose defaults are
 * config/default.yaml, the one place they live) and the batch's shape. */
export function mctsConfigFromConfig(c: Config['mcts'], shape: MctsShape): MctsConfig {
  return {
    ...shape,
    max_simulations: c.simulations,
    mode: c.mode,
    chance: c.chance,
    discount: c.discount,
    pb_c_init: c.pb_c_init,
    pb_c_base: c.pb_c_base,
    dirichlet_alpha: c.dirichlet_alpha,
    exploration_fraction: c.exploration_fraction,
    value_fill: c.value_fill,
    fill_value: c.fill_value,
    normalize: c.normalize,
    gumbel_max_considered: c.gumbel.max_considered,
    gumbel_scale: c.gumbel.scale,
    gumbel_c_visit: c.gumbel.c_visit,
    gumbel_c_scale: c.gumbel.c_scale,
    gumbel_min_q_range: c.gumbel.min_q_range,
    threads: c.threads,
  };
}

export interface SearchOptions {
  /** Integer in [0, 2^53); with the tree ids it seeds every random choice of the search. */
  seed: number;
  /** [n] one id per environment (default 0..n-1). A tree's result depends on (seed, id) and its
   * inputs only, never on the rest of the batch or on the thread count. */
  treeIds?: ArrayLike<number>;
  /** [n, A] legal actions at the roots (nonzero = legal); default all legal. Interior nodes of the
   * learned model treat every action as legal. */
  legal?: ArrayLike<number | boolean>;
  /** Simulations to run (default: the configured `mcts.simulations`). */
  simulations?: number;
  /** Temperature of the PUCT visit distribution used for the policy target and action sampling
   * (default 1; 0 = most visited). Gumbel mode ignores it. */
  temperature?: number;
}

export interface SearchResult {
  /** [n] the action chosen per environment. */
  actions: Int32Array;
  /** [n, A] root visit counts. */
  visits: Int32Array;
  /** [n, A] improved policy (training target). */
  policy: Float64Array;
  /** [n] root values after the search. */
  rootValues: Float64Array;
  /** [n, A] Q(root, a), NaN where never expanded. */
  rootQ: Float64Array;
}

function checkLength(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`search: model ${what} has ${got} values, expected ${want}`);
}

export class Searcher<Obs> {
  readonly batch: MctsBatch;
  private readonly a: number;
  private readonly c: number;
  private readonly h: number;
  private readonly m: number;
  private readonly logits: boolean;
  private readonly store: Float32Array;
  private readonly values: Float64Array;
  private readonly rewards: Float64Array;
  private readonly discounts: Float64Array;
  private readonly actionPriors: Float64Array;
  private readonly codePriors: Float64Array;
  private readonly decIdx: Int32Array;
  private readonly chIdx: Int32Array;
  private readonly decLatents: Float32Array;
  private readonly chLatents: Float32Array;
  private readonly decActions: Int32Array;
  private readonly chCodes: Int32Array;
  private busy = false;

  /** A searcher over batches of up to `maxTrees` environments, configured by the `mcts` config
   * section (`loadConfig().mcts`); the model gives the numbers of actions and chance codes. */
  constructor(
    private readonly model: SearchModel<Obs>,
    mcts: Config['mcts'],
    maxTrees: number,
  ) {
    if (!(Number.isInteger(model.latentSize) && model.latentSize > 0)) {
      throw new Error(`search: model.latentSize must be a positive integer, got ${model.latentSize}`);
    }
    this.batch = new MctsBatch(mctsConfigFromConfig(mcts, { max_trees: maxTrees, num_actions: model.numActions, num_codes: model.numCodes }));
    this.a = model.numActions;
    this.c = model.numCodes;
    this.h = model.latentSize;
    this.m = maxTrees;
    this.logits = model.priors === 'logits';
    const { a, c, h, m } = this;
    this.store = new Float32Array((this.batch.config.max_simulations + 1) * m * h);
    this.values = new Float64Array(m);
    this.rewards = new Float64Array(m);
    this.discounts = new Float64Array(m);
    this.actionPriors = new Float64Array(m * a);
    this.codePriors = new Float64Array(m * c);
    this.decIdx = new Int32Array(m);
    this.chIdx = new Int32Array(m);
    this.decLatents = new Float32Array(m * h);
    this.chLatents = new Float32Array(m * h);
    this.decActions = new Int32Array(m);
    this.chCodes = new Int32Array(m);
  }

  /** Searches from n observations and returns the decisions and training targets. One search at a
   * time per Searcher (its trees and latent store are reused); use one Searcher per concurrent search. */
  async search(obs: Obs, n: number, options: SearchOptions): Promise<SearchResult> {
    if (this.busy) throw new Error('search: this Searcher is already running a search (use one Searcher per concurrent search)');
    this.busy = true;
    try {
      return await this.run(obs, n, options);
    } finally {
      this.busy = false;
    }
  }

  private async run(obs: Obs, n: number, options: SearchOptions): Promise<SearchResult> {
    const { a, c, h, m, model, batch, store } = this;
    if (!(Number.isInteger(n) && n >= 1 && n <= m)) throw new Error(`search: n must be an integer in [1, ${m}], got ${n}`);
    const sims = options.simulations ?? batch.config.max_simulations;
    if (!(Number.isInteger(sims) && sims >= 0 && sims <= batch.config.max_simulations)) {
      throw new Error(`search: simulations must be an integer in [0, ${batch.config.max_simulations}], got ${sims}`);
    }
    const temperature = options.temperature ?? 1;

    const root = await model.initial(obs, n);
    checkLength('initial().latents', root.latents.length, n * h);
    checkLength('initial().values', root.values.length, n);
    checkLength('initial().policy', root.policy.length, n * a);
    store.set(root.latents, 0); // node 0 of tree i sits at row i
    batch.prepare({
      priors: root.policy,
      priorsAreLogits: this.logits,
      rootValues: root.values,
      legal: options.legal,
      seed: options.seed,
      treeIds: options.treeIds,
      simulations: sims,
    });

    const values = this.values.subarray(0, n);
    const rewards = this.rewards.subarray(0, n);
    const discounts = this.discounts.subarray(0, n);
    const actionPriors = this.actionPriors.subarray(0, n * a);
    const codePriors = this.codePriors.subarray(0, n * c);
    for (let sim = 0; sim < sims; sim++) {
      const { parentIndex, edge, isChance } = batch.traverse();
      // Leaves that are afterstates need (state, action) -> recurrentDecision; leaves that are
      // decision nodes need (afterstate, code) -> recurrentChance.
      let nd = 0;
      let nc = 0;
      for (let i = 0; i < n; i++) {
        const row = (parentIndex[i] * m + i) * h;
        if (isChance[i]) {
          this.decIdx[nd] = i;
          this.decActions[nd] = edge[i];
          this.decLatents.set(store.subarray(row, row + h), nd * h);
          nd++;
        } else {
          this.chIdx[nc] = i;
          this.chCodes[nc] = edge[i];
          this.chLatents.set(store.subarray(row, row + h), nc * h);
          nc++;
        }
      }
      const [dec, ch] = await Promise.all([
        nd > 0 ? model.recurrentDecision(this.decLatents.subarray(0, nd * h), this.decActions.subarray(0, nd)) : null,
        nc > 0 ? model.recurrentChance(this.chLatents.subarray(0, nc * h), this.chCodes.subarray(0, nc)) : null,
      ]);
      const newRow = (sim + 1) * m;
      // Rows of afterstate leaves are ignored by the trees, so only decision leaves need a discount.
      let modelDiscounts = false;
      if (dec) {
        checkLength('recurrentDecision().afterstates', dec.afterstates.length, nd * h);
        checkLength('recurrentDecision().values', dec.values.length, nd);
        checkLength('recurrentDecision().chancePolicy', dec.chancePolicy.length, nd * c);
        for (let k = 0; k < nd; k++) {
          const i = this.decIdx[k];
          values[i] = dec.values[k];
          rewards[i] = 0;
          for (let j = 0; j < c; j++) codePriors[i * c + j] = dec.chancePolicy[k * c + j];
          store.set(dec.afterstates.subarray(k * h, (k + 1) * h), (newRow + i) * h);
        }
      }
      if (ch) {
        checkLength('recurrentChance().latents', ch.latents.length, nc * h);
        checkLength('recurrentChance().values', ch.values.length, nc);
        checkLength('recurrentChance().rewards', ch.rewards.length, nc);
        checkLength('recurrentChance().policy', ch.policy.length, nc * a);
        if (ch.discounts) checkLength('recurrentChance().discounts', ch.discounts.length, nc);
        modelDiscounts = ch.discounts !== undefined;
        for (let k = 0; k < nc; k++) {
          const i = this.chIdx[k];
          values[i] = ch.values[k];
          rewards[i] = ch.rewards[k];
          if (ch.discounts) discounts[i] = ch.discounts[k];
          for (let j = 0; j < a; j++) actionPriors[i * a + j] = ch.policy[k * a + j];
          store.set(ch.latents.subarray(k * h, (k + 1) * h), (newRow + i) * h);
        }
      }
      batch.backpropagate({
        values,
        rewards,
        discounts: modelDiscounts ? discounts : undefined,
        actionPriors,
        codePriors,
        priorsAreLogits: this.logits,
      });
    }

    return {
      visits: batch.rootVisits(),
      rootValues: batch.rootValues(),
      rootQ: batch.rootQ(),
      policy: batch.improvedPolicy(temperature),
      actions: batch.selectAction(temperature),
    };
  }

  /** Releases the native trees. */
  free(): void {
    this.batch.free();
  }
}
