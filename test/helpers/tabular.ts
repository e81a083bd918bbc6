// Exact tabular Stochastic MuZero models for testing the search against known answers. A latent is
// one float holding a state id (decision states) or an afterstate id; the model answers every call
// from the MDP's tables, so the search is the only thing under test.
import type { SearchModel, InitialOutput, DecisionOutput, ChanceOutput } from '../../src/agent/model.js';

export interface TabularMdp {
  numActions: number;
  numCodes: number;
  /** Afterstate id reached by taking action a in state s. */
  afterstate(s: number, a: number): number;
  /** Chance distribution over codes at afterstate x (length numCodes, sums to 1). */
  sigma(x: number): number[];
  /** Next state and reward when nature picks code c at afterstate x. */
  outcome(x: number, c: number): { next: number; reward: number };
  /** Discount of that transition (0 ends the episode). Default: the model returns no discounts, so
   * the search applies the configured one. */
  discount?(x: number, c: number): number;
  /** Policy prior at s (probabilities); default uniform. */
  prior?(s: number): number[];
  /** Value estimate at a leaf state; default 0 (no heuristic: the search must look ahead). */
  value?(s: number): number;
  /** Value estimate at a leaf afterstate; default 0. */
  afterValue?(x: number): number;
}

export interface CallCounts {
  initial: number;
  decision: number;
  chance: number;
}

/** The model over root state ids (obs = the ids of the n roots). */
export function tabularModel(mdp: TabularMdp): SearchModel<ArrayLike<number>> & { calls: CallCounts } {
  const { numActions: A, numCodes: C } = mdp;
  const prior = (s: number) => mdp.prior?.(s) ?? new Array<number>(A).fill(1 / A);
  const calls: CallCounts = { initial: 0, decision: 0, chance: 0 };
  return {
    numActions: A,
    numCodes: C,
    latentSize: 1,
    priors: 'probs',
    calls,
    initial(obs: ArrayLike<number>, n: number): InitialOutput {
      calls.initial++;
      const latents = new Float32Array(n);
      const values = new Float64Array(n);
      const policy = new Float64Array(n * A);
      for (let i = 0; i < n; i++) {
        latents[i] = obs[i];
        values[i] = mdp.value?.(obs[i]) ?? 0;
        policy.set(prior(obs[i]), i * A);
      }
      return { latents, values, policy };
    },
    recurrentDecision(latents: Float32Array, actions: Int32Array): DecisionOutput {
      calls.decision++;
      const k = actions.length;
      const afterstates = new Float32Array(k);
      const values = new Float64Array(k);
      const chancePolicy = new Float64Array(k * C);
      for (let i = 0; i < k; i++) {
        const x = mdp.afterstate(latents[i], actions[i]);
        afterstates[i] = x;
        values[i] = mdp.afterValue?.(x) ?? 0;
        chancePolicy.set(mdp.sigma(x), i * C);
      }
      return { afterstates, values, chancePolicy };
    },
    recurrentChance(afterstates: Float32Array, codes: Int32Array): ChanceOutput {
      calls.chance++;
      const k = codes.length;
      const latents = new Float32Array(k);
      const rewards = new Float64Array(k);
      const values = new Float64Array(k);
      const policy = new Float64Array(k * A);
      const discounts = mdp.discount ? new Float64Array(k) : undefined;
      for (let i = 0; i < k; i++) {
        const { next, reward } = mdp.outcome(afterstates[i], codes[i]);
        latents[i] = next;
        rewards[i] = reward;
        values[i] = mdp.value?.(next) ?? 0;
        policy.set(prior(next), i * A);
        if (discounts) discounts[i] = mdp.discount!(afterstates[i], codes[i]);
      }
      return { latents, rewards, values, policy, discounts };
    },
  };
}

/** A 32-bit integer hash mapped to [0, 1): deterministic pseudo-random tables. */
export function hash01(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) {
    h ^= x | 0;
    h = Math.imul(h, 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return (h >>> 0) / 4294967296;
}

/** A random stochastic MDP over `states` states (rewards in [-1, 1], random sigma and priors). */
export function randomMdp(numActions: number, numCodes: number, states = 500): TabularMdp {
  const norm = (w: number[]) => {
    const s = w.reduce((p, q) => p + q, 0);
    return w.map((v) => v / s);
  };
  return {
    numActions,
    numCodes,
    afterstate: (s, a) => s * numActions + a,
    sigma: (x) => norm(Array.from({ length: numCodes }, (_, c) => 0.05 + hash01(x, c, 11))),
    outcome: (x, c) => ({ next: Math.floor(hash01(x, c, 12) * states), reward: 2 * hash01(x, c, 13) - 1 }),
    prior: (s) => norm(Array.from({ length: numActions }, (_, a) => 0.05 + hash01(s, a, 14))),
    value: (s) => hash01(s, 15) - 0.5,
    afterValue: (x) => hash01(x, 16) - 0.5,
  };
}
