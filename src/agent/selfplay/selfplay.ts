// Self-play: B environments in lock-step, each on a session drawn (seeded) from the training range,
// every decision one batched search over the actor's network. The session end is a truncation (the
// env keeps the position open), and the last state is searched too, so training can bootstrap from it.
//
// Determinism: the sessions come from the caller's Prng, and the search of decision (episode, step)
// is seeded by the actor's seed and decisionId(episode, step) only, so a collect depends on the seed,
// the episode numbers and the weights, never on timing or batch splits.
import { TradingEnv } from '../../env/env.js';
import type { EnvConfig } from '../../env/config.js';
import { HOLD, N_ACTIONS, type BarSeries, type EpisodeSet, type FeatureMatrix } from '../../env/types.js';
import { streamSeed, type Prng } from '../../util/prng.js';
import { decisionId, type MuZeroActor } from '../muzero/actor.js';
import { flatAt, type Trajectory } from '../train/replay.js';
import { flattenObservation, HindsightBrancher, type HindsightOptions } from './hindsight.js';

export interface CollectInput {
  bars: BarSeries;
  features: FeatureMatrix;
  /** Sessions to draw from (with replacement). */
  sessions: EpisodeSet;
  env: EnvConfig;
  actor: MuZeroActor;
  lanes: number;
  /** Episode number of lane 0 (lane i plays firstEpisode + i). */
  firstEpisode: number;
  rng: Prng;
  /** Checked after every step: true abandons the collect (nothing is returned). */
  stop?: () => boolean;
  /**
   * Share of decisions taken while flat (`share`) and in a position (`inPosition`, default 0) whose
   * executed action is a uniformly random legal one instead of the search's. The draw is seeded by
   * (seed, decision id) only, like the search.
   */
  randomAction?: { share: number; seed: number; inPosition?: number };
  /** Hindsight targets of the untaken actions (./hindsight.ts); absent: none are computed. */
  hindsight?: HindsightOptions;
}

/** What the collect's decisions were, for the action mix and the collapse guard. */
export interface DecisionCounts {
  /** By action: HOLD, BUY, SELL, CLOSE. */
  actions: number[];
  /** Decisions taken while flat, and HOLDs among them. */
  flat: number;
  holdFlat: number;
  /** Decisions taken while in a position. */
  inMarket: number;
  /** Decisions whose executed action was the random exploration's, not the search's. */
  random: number;
}

export interface CollectResult {
  trajectories: Trajectory[];
  counts: DecisionCounts;
  envSteps: number;
  seconds: number;
}

export function emptyCounts(): DecisionCounts {
  return { actions: [0, 0, 0, 0], flat: 0, holdFlat: 0, inMarket: 0, random: 0 };
}

/** Plays one session on each lane; null when `stop` asked to abandon it. */
export async function collect(input: CollectInput): Promise<CollectResult | null> {
  const t0 = performance.now();
  const { actor, lanes: B } = input;
  const A = N_ACTIONS;
  const n = input.sessions.start.length;
  if (n === 0) throw new Error('self-play: no training session to draw from');
  const env = new TradingEnv(input.bars, input.features, input.env, { batch: B, sessionEnd: 'truncate' });
  const D = env.obsDim;
  if (D !== actor.obsDim) throw new Error(`self-play: the env observes ${D} values, the network ${actor.obsDim}`);
  const bufs: Trajectory[] = [];
  for (let i = 0; i < B; i++) {
    const k = input.rng.below(n);
    const start = input.sessions.start[k];
    const end = input.sessions.end[k];
    const T = end - start - 1;
    const episode = input.firstEpisode + i;
    env.reset(i, start, end, episode);
    bufs.push({
      episode,
      start,
      end,
      obs: new Float32Array((T + 1) * D),
      masks: new Uint8Array((T + 1) * A),
      actions: new Int32Array(T),
      rewards: new Float64Array(T),
      values: new Float32Array(T + 1),
      policies: new Float32Array((T + 1) * A),
      trades: 0,
      netPips: 0,
      bestTradePips: -Infinity,
    });
  }
  const counts = emptyCounts();
  const obs = new Float32Array(B * D);
  const rowsObs = new Float32Array(B * D);
  const rowsMask = new Uint8Array(B * A);
  const ids = new Float64Array(B);
  const lane = new Int32Array(B);
  const actions = new Int32Array(B);
  const finals: number[] = [];
  let envSteps = 0;
  const explore = input.randomAction && (input.randomAction.share > 0 || (input.randomAction.inPosition ?? 0) > 0) ? input.randomAction : null;
  const exploreSeed = explore ? streamSeed(explore.seed, 0x72616e64) : 0;
  const brancher = input.hindsight ? new HindsightBrancher(input.env, input.hindsight) : null;
  const hRet = brancher ? bufs.map((b) => new Float64Array(b.actions.length * A)) : [];
  const hLen = brancher ? bufs.map((b) => new Int32Array(b.actions.length * A)) : [];
  const bRet = new Float64Array(A);
  const bLen = new Int32Array(A);
  const S = input.hindsight?.steps ?? 0;
  const bFirst = new Float64Array(A * S);
  const hFirst = brancher ? bufs.map((b) => new Float64Array(b.actions.length * A * S)) : [];
  const search = async (k: number) => actor.act(rowsObs, rowsMask, k, ids.subarray(0, k));
  const record = (i: number, u: number, r: { values: Float64Array; policy: Float32Array }, k: number) => {
    const b = bufs[i];
    b.obs.set(rowsObs.subarray(k * D, (k + 1) * D), u * D);
    b.masks.set(rowsMask.subarray(k * A, (k + 1) * A), u * A);
    b.values[u] = r.values[k];
    b.policies.set(r.policy.subarray(k * A, (k + 1) * A), u * A);
  };
  while (env.activeCount > 0) {
    if (input.stop?.()) return null;
    env.observe(obs);
    let k = 0;
    for (let i = 0; i < B; i++) {
      if (!env.active[i]) continue;
      rowsObs.set(obs.subarray(i * D, (i + 1) * D), k * D);
      rowsMask.set(env.mask.subarray(i * A, (i + 1) * A), k * A);
      ids[k] = decisionId(bufs[i].episode, env.t[i] - env.start[i]);
      lane[k++] = i;
    }
    const r = await search(k);
    for (let j = 0; j < k; j++) {
      const i = lane[j];
      const chosen = r.actions[j];
      const u = env.t[i] - env.start[i];
      record(i, u, r, j);
      // Random exits are rarer than random entries: frequent ones would cut holds short and teach that
      // no trade pays its spread; without any, an agent that holds all session never stands flat again.
      const share = explore ? (env.side[i] === 0 ? explore.share : (explore.inPosition ?? 0)) : 0;
      const a = share > 0 ? randomLegal(chosen, share, exploreSeed, ids[j], rowsMask, j * A) : chosen;
      if (a !== chosen) counts.random++;
      bufs[i].actions[u] = a;
      actions[i] = a;
      if (brancher) {
        brancher.branch(env.core, i, input.bars, env.t[i], u, bufs[i].actions.length, a, bRet, bLen, bFirst);
        hRet[i].set(bRet, u * A);
        hFirst[i].set(bFirst, u * A * S);
        hLen[i].set(bLen, u * A);
      }
      // The mix and the collapse guard count the search's choices: exploration must not hide a collapse.
      counts.actions[chosen]++;
      if (env.side[i] === 0) {
        counts.flat++;
        if (chosen === HOLD) counts.holdFlat++;
      } else counts.inMarket++;
    }
    env.step(actions);
    envSteps += k;
    for (let j = 0; j < k; j++) {
      const i = lane[j];
      bufs[i].rewards[env.t[i] - 1 - env.start[i]] = env.reward[i];
      if (env.done[i]) finals.push(i);
    }
    // The last state of finished episodes: searched like any other, for its value (the bootstrap).
    if (finals.length > 0) {
      for (let j = 0; j < finals.length; j++) {
        const i = finals[j];
        env.observeLane(i, rowsObs, j * D);
        rowsMask.set(env.mask.subarray(i * A, (i + 1) * A), j * A);
        ids[j] = decisionId(bufs[i].episode, env.t[i] - env.start[i]);
      }
      const f = await search(finals.length);
      for (let j = 0; j < finals.length; j++) record(finals[j], env.t[finals[j]] - env.start[finals[j]], f, j);
      finals.length = 0;
    }
  }
  // Trades by episode from the env's trade log (an open position at the truncation is not a trade).
  const log = env.trades;
  for (let x = 0; x < log.count; x++) {
    const b = bufs[log.episode[x] - input.firstEpisode];
    b.trades++;
    b.netPips += log.netPips[x];
    if (log.netPips[x] > b.bestTradePips) b.bestTradePips = log.netPips[x];
  }
  if (brancher) await hindsightTargets(bufs, hRet, hLen, hFirst, actor, D, input.env.stack, input.hindsight!.gamma, stayFlatValue(input.env.reward.idlePenalty, input.hindsight!.gamma));
  return { trajectories: bufs, counts, envSteps, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The value of staying flat for ever (HOLD at every decision): a flat state is worth at least that,
 * whatever the network believes, since the agent can always do it.
 */
export function stayFlatValue(idlePenalty: number, gamma: number): number {
  if (idlePenalty === 0) return 0;
  return gamma < 1 ? -idlePenalty / (1 - gamma) : -Infinity;
}

/**
 * Completes the branches into targets q_a = ret + γ^L · max(V_flat(u + L), stay-flat value) (./hindsight.ts):
 * V_flat is the stored search value where the episode was flat at u + L, else the network's value of the
 * flattened observation (one batched call over every such state of the collect).
 */
async function hindsightTargets(bufs: Trajectory[], hRet: Float64Array[], hLen: Int32Array[], hFirst: Float64Array[], actor: MuZeroActor, D: number, stack: number, gamma: number, floor: number): Promise<void> {
  const A = N_ACTIONS;
  // the states needing the network, per trajectory: state index -> row
  const need: Array<Map<number, number>> = [];
  let rows = 0;
  for (let e = 0; e < bufs.length; e++) {
    const b = bufs[e];
    const m = new Map<number, number>();
    for (let x = 0; x < hLen[e].length; x++) {
      const L = hLen[e][x];
      if (L === 0) continue;
      const j = Math.floor(x / A) + L;
      if (flatAt(b, j) || m.has(j)) continue;
      m.set(j, rows++);
    }
    need.push(m);
  }
  const vflat = new Float64Array(rows);
  if (rows > 0) {
    const obs = new Float32Array(rows * D);
    for (let e = 0; e < bufs.length; e++) {
      for (const [j, r] of need[e]) {
        obs.set(bufs[e].obs.subarray(j * D, (j + 1) * D), r * D);
        flattenObservation(obs, r * D, D, stack);
      }
    }
    const CHUNK = 1024;
    for (let from = 0; from < rows; from += CHUNK) {
      const n = Math.min(CHUNK, rows - from);
      const out = await actor.model.initial(obs.subarray(from * D, (from + n) * D), n);
      for (let k = 0; k < n; k++) vflat[from + k] = out.values[k];
    }
  }
  for (let e = 0; e < bufs.length; e++) {
    const b = bufs[e];
    const q = new Float32Array(hLen[e].length).fill(NaN);
    for (let x = 0; x < q.length; x++) {
      const L = hLen[e][x];
      if (L === 0) continue;
      const j = Math.floor(x / A) + L;
      const v = flatAt(b, j) ? b.values[j] : vflat[need[e].get(j)!];
      q[x] = hRet[e][x] + Math.pow(gamma, L) * Math.max(v, floor);
    }
    b.hindsight = q;
    b.hindsightReward = Float32Array.from(hFirst[e]);
    b.hindsightLength = hLen[e];
  }
}

/** `chosen`, or with probability `share` a uniformly random legal action (seeded by seed and id). */
function randomLegal(chosen: number, share: number, seed: number, id: number, mask: Uint8Array, at: number): number {
  const h = streamSeed(seed, id);
  if (h / 4294967296 >= share) return chosen;
  let legal = 0;
  for (let a = 0; a < N_ACTIONS; a++) legal += mask[at + a];
  let pick = streamSeed(h, 1) % legal;
  for (let a = 0; a < N_ACTIONS; a++) {
    if (!mask[at + a]) continue;
    if (pick-- === 0) return a;
  }
  return chosen;
}
