// The model interface the search runs on (Stochastic MuZero's three learned functions, batched).
// Latents cross this interface as flat Float32Array rows of `latentSize` values: the search keeps
// every node's latent in a TypeScript-side store indexed by the node index the native tree reports
// (as LightZero does), and hands the model the rows it needs, gathered into one batch per call.
//
// Scalars (values, rewards) are plain numbers: a network with categorical value/reward heads decodes
// them with the shared support helpers (bindings/mcts.ts: twoHotDecode) before returning.

export type MaybePromise<T> = T | Promise<T>;

/** Output of the representation + prediction functions for n observations. */
export interface InitialOutput {
  /** [n, latentSize] */
  latents: Float32Array;
  /** [n] value of each root state. */
  values: ArrayLike<number>;
  /** [n, numActions] policy, as logits or probabilities (see `SearchModel.priors`). */
  policy: ArrayLike<number>;
}

/** Output of the afterstate dynamics + afterstate prediction for k (state, action) pairs. */
export interface DecisionOutput {
  /** [k, latentSize] afterstate latents. */
  afterstates: Float32Array;
  /** [k] afterstate values Q(s, a). */
  values: ArrayLike<number>;
  /** [k, numCodes] chance code distribution sigma, as logits or probabilities. */
  chancePolicy: ArrayLike<number>;
}

/** Output of the dynamics + prediction for k (afterstate, code) pairs. */
export interface ChanceOutput {
  /** [k, latentSize] next state latents. */
  latents: Float32Array;
  /** [k] reward of the transition. */
  rewards: ArrayLike<number>;
  /** [k] value of the next state. */
  values: ArrayLike<number>;
  /** [k, numActions] policy at the next state, as logits or probabilities. */
  policy: ArrayLike<number>;
  /** [k] discount of each transition, in [0, 1]: gamma normally, 0 when it ends the episode (the
   * search then never bootstraps from the next state's value). Absent: the configured
   * `mcts.discount` for all. */
  discounts?: ArrayLike<number>;
}

/**
 * A Stochastic MuZero model, batched. `Obs` is whatever the representation network takes for a batch
 * of n observations (e.g. a Float32Array [n, features]).
 */
export interface SearchModel<Obs> {
  readonly numActions: number;
  /** Number of chance codes C. */
  readonly numCodes: number;
  /** Length of one latent (states and afterstates share it). */
  readonly latentSize: number;
  /** Whether policies and chance policies are logits (softmax applied by the search) or probabilities. */
  readonly priors: 'logits' | 'probs';
  /** Representation + prediction for n observations. */
  initial(obs: Obs, n: number): MaybePromise<InitialOutput>;
  /** Afterstate dynamics: (state latent, action) -> afterstate, its value and chance policy. */
  recurrentDecision(latents: Float32Array, actions: Int32Array): MaybePromise<DecisionOutput>;
  /** Dynamics: (afterstate latent, chance code) -> next state, reward, value and policy. */
  recurrentChance(afterstates: Float32Array, codes: Int32Array): MaybePromise<ChanceOutput>;
}
