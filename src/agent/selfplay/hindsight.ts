// Hindsight targets for the actions self-play did not take.
//
// One position in one instrument does not move the market: the bars an episode saw are what any other
// action would have seen. So every decision answers "what if" for each legal action it did not take, by
// running the env's own step (MarketCore, the one implementation of fills, costs and rewards) from a
// copy of the lane, on the same bars:
//   an entry (BUY or SELL while flat)   enter, hold, CLOSE at the horizon: L = min(H, T − u) steps (L ≥ 2)
//   HOLD in a position (CLOSE was taken) hold, CLOSE at the horizon: the same L
//   HOLD while flat, CLOSE               one step, flat afterwards: L = 1
// (u: the decision's index in the episode, T: its decisions, H: train.hindsight.horizon). Each branch
// ends flat at state u + L, and its target is the discounted sum of the branch's rewards plus the
// discounted value of that flat state:
//   q_a = Σ_{i<L} γ^i r_i + γ^L · max(V_flat(u + L), V_stay)
// V_flat is the stored search value where the episode itself was flat at u + L, else the network's value
// of that observation with its position features zeroed (what a flat agent observes there). V_stay is the
// value of staying flat for ever (0 without an idle penalty): an agent can always do that, so a flat state
// is worth at least it; without the floor, values learned under exploration (random entries soon after
// any exit) price every exit at a round trip, and the agent never closes. The learner
// (src/agent/train/learner.ts) unrolls each branch beside the taken path, whose targets are the n-step ones,
// through the dynamics for up to K steps (the unroll): at step i the action the branch takes, the afterstate Q W_i, the reward r_i and the next
// state's value W_{i+1} = (W_i − r_i) / γ, with W_0 = q_a. The Q head then learns entries and exits at every
// decision, not only where exploration happened to take them, and the search's deeper simulations of an
// untaken action (dynamics, then the next state's value) learn them too: trained on taken transitions
// only, those overrode the Q head (measured: a checkpoint whose Q preferred CLOSE in 96% of long states
// closed in 14% of them at 2 simulations and never at 8).
//
// The continuation (hold to the horizon, then flat) is a fixed policy, not the agent's: a branch's
// target is a lower bound of what the agent could make of it, as the n-step target is an estimate under
// the agent's own (exploring) policy.
import type { EnvConfig } from '../../env/config.js';
import { END_NONE, MarketCore } from '../../env/step.js';
import { TradeLog } from '../../env/trades.js';
import { BUY, CLOSE, HOLD, N_ACTIONS, SELL, type BarSeries } from '../../env/types.js';
import { N_POSITION_FEATURES } from '../../features/position.js';

export interface HindsightOptions {
  /** H: the longest a branch holds a position, in decisions (its CLOSE included). */
  horizon: number;
  /** γ of the targets (the network's discount). */
  gamma: number;
  /** S: the branch rewards kept per decision, for the learner's unroll along the branch (train.unroll). */
  steps: number;
}

/** The action a branch of action `a` (holding or not, of length L) takes at its step i. */
export function branchAction(a: number, holds: boolean, L: number, i: number): number {
  return i === 0 ? a : i === L - 1 && holds ? CLOSE : HOLD;
}

/** Whether the branch of `a` from a decision taken flat (or not) holds a position to its horizon. */
export function branchHolds(a: number, flat: boolean): boolean {
  return flat ? a === BUY || a === SELL : a === HOLD;
}

/** Runs the what-if branches of one decision on a private one-lane copy of the env's market core. */
export class HindsightBrancher {
  private readonly scratch: MarketCore;
  private readonly trades = new TradeLog(8);

  constructor(
    env: EnvConfig,
    readonly opts: HindsightOptions,
  ) {
    if (!(Number.isInteger(opts.horizon) && opts.horizon >= 2)) throw new RangeError(`hindsight: horizon must be an integer >= 2, got ${opts.horizon}`);
    if (!(Number.isInteger(opts.steps) && opts.steps >= 1)) throw new RangeError(`hindsight: steps must be an integer >= 1, got ${opts.steps}`);
    this.scratch = new MarketCore(env, 1, this.trades);
  }

  /**
   * For lane `lane` of `core` at bar t (decision u of an episode of T decisions), before the step of
   * the executed action `taken`: writes, per action a, the branch's discounted reward sum to
   * ret[a], its first S rewards to first[a·S ..] (NaN past its end) and its length L to len[a] (0: no
   * branch: a was taken, is illegal, or has no room to close).
   */
  branch(core: MarketCore, lane: number, bars: BarSeries, t: number, u: number, T: number, taken: number, ret: Float64Array, len: Int32Array, first: Float64Array): void {
    const flat = core.side[lane] === 0;
    const room = Math.min(this.opts.horizon, T - u);
    for (let a = 0; a < N_ACTIONS; a++) {
      ret[a] = 0;
      len[a] = 0;
      first.fill(NaN, a * this.opts.steps, (a + 1) * this.opts.steps);
      if (a === taken || !core.legal(lane, a)) continue;
      const holds = branchHolds(a, flat);
      const L = holds ? room : 1;
      if (holds && L < 2) continue;
      this.scratch.copyLane(core, lane, 0);
      let g = 0;
      let disc = 1;
      for (let i = 0; i < L; i++) {
        const r = this.scratch.step(0, branchAction(a, holds, L, i), bars, t + i, END_NONE);
        if (i < this.opts.steps) first[a * this.opts.steps + i] = r;
        g += disc * r;
        disc *= this.opts.gamma;
      }
      this.trades.clear();
      ret[a] = g;
      len[a] = L;
    }
  }
}

/**
 * The flat version of an observation (env.stack rows of features + 9 position features): every stacked
 * row's position features zeroed, in place.
 */
export function flattenObservation(obs: Float32Array, offset: number, obsDim: number, stack: number): void {
  const row = obsDim / stack;
  for (let k = 0; k < stack; k++) obs.fill(0, offset + (k + 1) * row - N_POSITION_FEATURES, offset + (k + 1) * row);
}

