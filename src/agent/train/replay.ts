// The replay buffer of self-play trajectories (the predecessor's design, each part configurable):
//  - FIFO over whole episodes, with a trade quota: eviction keeps at least `trade_quota` of the stored
//    episodes among those that traded (the oldest non-trading episode goes instead), so a policy that
//    drifts towards idling still trains on trades;
//  - recency-weighted sampling: an episode's positions weigh linearly from `recency_min` (oldest) to
//    1 (newest);
//  - a share of each batch (`entry_exit_share`) drawn among the decisions taken while flat and the
//    exits: an agent that holds positions for hours makes few of them, and the Q head learns an
//    action only where it was taken (measured: with 2% of decisions flat, Q(BUY) − Q(SELL) stayed
//    blind to the edge the values of long and short positions had learned; see diagnose-q);
//  - an optional success memory (the best episodes, or those with a profitable trade) that supplies
//    at most `batch_share` of each batch.
// Sampling draws from a caller's Prng only, so a batch depends on the seed and the buffer, nothing else.
import type { Config } from '../../config/schema.js';
import { BUY, CLOSE, N_ACTIONS } from '../../env/types.js';
import type { Prng } from '../../util/prng.js';
import { nStepTargets } from './targets.js';

export type ReplayConfig = Config['train']['replay'];

/** One self-play episode: T decisions, T + 1 states (the last one where the session ended). */
export interface Trajectory {
  /** Episode number (it seeds the episode's searches). */
  episode: number;
  /** Bars [start, end) of the session. */
  start: number;
  end: number;
  /** (T + 1) × obsDim observations. */
  obs: Float32Array;
  /** (T + 1) × 4 legal-action masks. */
  masks: Uint8Array;
  /** T actions taken. */
  actions: Int32Array;
  /** T rewards received. */
  rewards: Float64Array;
  /** T + 1 root values of the searches (the last one searched at the session end, for the bootstrap). */
  values: Float32Array;
  /** (T + 1) × 4 search policies (the policy targets). */
  policies: Float32Array;
  trades: number;
  netPips: number;
  /** Net pips of the best trade (−Infinity without trades). */
  bestTradePips: number;
  /** T × 4 hindsight Q targets of the actions not taken (NaN: none; see ../selfplay/hindsight.ts), when computed. */
  hindsight?: Float32Array;
  /** T × 4 × S: the first S rewards of those branches (NaN past a branch's end). */
  hindsightReward?: Float32Array;
  /** T × 4: the length of each branch (0: none). */
  hindsightLength?: Int32Array;
}

export interface StoredTrajectory extends Trajectory {
  /** n-step value targets z_0..z_T (computed once, when stored). */
  targets: Float64Array;
  /** Σ rewards. */
  return: number;
  /** Decisions taken while flat (an entry was legal) and exits (CLOSE taken), for `entry_exit_share`. */
  entryExit: Int32Array;
}

export const steps = (t: Trajectory): number => t.actions.length;

/** Whether the episode was flat at state u (an entry was legal there). */
export const flatAt = (t: Pick<Trajectory, 'masks'>, u: number): boolean => t.masks[u * N_ACTIONS + BUY] === 1;

export interface Sample {
  traj: StoredTrajectory;
  /** Decision index in [0, T). */
  t: number;
}

export interface ReplayStats {
  episodes: number;
  transitions: number;
  trading_share: number | null;
  mean_return: number | null;
  success_episodes: number;
  evicted: number;
}

export class ReplayBuffer {
  private items: StoredTrajectory[] = [];
  private success: StoredTrajectory[] = [];
  private evicted = 0;

  constructor(
    readonly cfg: ReplayConfig,
    readonly obsDim: number,
    /** n and γ of the value targets. */
    readonly tdSteps: number,
    readonly gamma: number,
  ) {}

  get size(): number {
    return this.items.length;
  }

  get successSize(): number {
    return this.success.length;
  }

  /** Stored episodes, oldest first. */
  episodes(): readonly StoredTrajectory[] {
    return this.items;
  }

  private store(t: Trajectory): StoredTrajectory {
    const T = steps(t);
    if (t.obs.length !== (T + 1) * this.obsDim) throw new RangeError(`replay: episode ${t.episode} has ${t.obs.length} observation values, ${T + 1} states of ${this.obsDim} need ${(T + 1) * this.obsDim}`);
    if (t.values.length !== T + 1 || t.policies.length !== (T + 1) * N_ACTIONS || t.masks.length !== (T + 1) * N_ACTIONS || t.rewards.length !== T) {
      throw new RangeError(`replay: episode ${t.episode} has inconsistent lengths (T = ${T})`);
    }
    if (t.hindsight) {
      const n = T * N_ACTIONS;
      const r = t.hindsightReward?.length ?? 0;
      if (t.hindsight.length !== n || t.hindsightLength?.length !== n || r === 0 || r % n !== 0) {
        throw new RangeError(`replay: episode ${t.episode} has ${t.hindsight.length} hindsight targets, ${t.hindsightLength?.length ?? 0} lengths and ${r} rewards; ${T} decisions need ${n}, ${n} and a multiple of ${n}`);
      }
    }
    let ret = 0;
    for (let i = 0; i < T; i++) ret += t.rewards[i];
    const entryExit: number[] = [];
    for (let u = 0; u < t.actions.length; u++) if (flatAt(t, u) || t.actions[u] === CLOSE) entryExit.push(u);
    return { ...t, targets: nStepTargets(t.rewards, t.values, this.tdSteps, this.gamma, 'truncation'), return: ret, entryExit: Int32Array.from(entryExit) };
  }

  add(t: Trajectory): void {
    if (steps(t) < 1) return;
    const s = this.store(t);
    this.items.push(s);
    this.evict();
    this.remember(s);
  }

  private evict(): void {
    const { capacity_episodes: cap, trade_quota: quota } = this.cfg;
    while (this.items.length > cap) {
      let victim = 0;
      if (this.items[0].trades > 0) {
        const trading = this.items.reduce((a, x) => a + (x.trades > 0 ? 1 : 0), 0);
        if ((trading - 1) / (this.items.length - 1) < quota) {
          const idle = this.items.findIndex((x) => x.trades === 0);
          if (idle >= 0) victim = idle;
        }
      }
      this.items.splice(victim, 1);
      this.evicted++;
    }
  }

  private remember(s: StoredTrajectory): void {
    const m = this.cfg.success;
    if (m.mode === 'off') return;
    let enters: boolean;
    if (m.mode === 'profitable_trades') {
      enters = s.bestTradePips >= m.min_trade_pips;
    } else {
      // top_episodes: the return ranks in the top share of the episodes now in the buffer
      const better = this.items.reduce((a, x) => a + (x.return > s.return ? 1 : 0), 0);
      enters = s.trades > 0 && better < m.top_fraction * this.items.length;
    }
    if (!enters) return;
    this.success.push(s);
    if (this.success.length > m.capacity_episodes) this.success.shift();
  }

  /**
   * n positions: round(n · batch_share) from the success memory (when it holds any), the rest from the
   * buffer, recency-weighted.
   */
  sample(n: number, rng: Prng): Sample[] {
    if (this.items.length === 0) throw new Error('replay: sample from an empty buffer');
    const fromSuccess = this.success.length > 0 ? Math.round(n * this.cfg.success.batch_share) : 0;
    const out: Sample[] = [];
    const main = this.cumulative(this.items, this.cfg.recency_min);
    const fromEntryExit = Math.round((n - fromSuccess) * this.cfg.entry_exit_share);
    for (let i = 0; i < n - fromSuccess - fromEntryExit; i++) out.push(this.draw(this.items, main, rng));
    for (let i = 0; i < fromEntryExit; i++) out.push(this.draw(this.items, main, rng, true));
    if (fromSuccess > 0) {
      const succ = this.cumulative(this.success, 1);
      for (let i = 0; i < fromSuccess; i++) out.push(this.draw(this.success, succ, rng));
    }
    return out;
  }

  /** Cumulative weights per episode: positions × (lo + (1 − lo) · rank / (count − 1)). */
  private cumulative(list: StoredTrajectory[], lo: number): Float64Array {
    const c = new Float64Array(list.length);
    let acc = 0;
    const last = Math.max(list.length - 1, 1);
    for (let i = 0; i < list.length; i++) {
      acc += steps(list[i]) * (lo + ((1 - lo) * i) / last);
      c[i] = acc;
    }
    return c;
  }

  /** A recency-weighted episode, then a decision in it: any, or (entryExit) a flat decision or an exit. */
  private draw(list: StoredTrajectory[], cum: Float64Array, rng: Prng, entryExit = false): Sample {
    const x = rng.float() * cum[cum.length - 1];
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    const traj = list[lo];
    if (entryExit && traj.entryExit.length > 0) return { traj, t: traj.entryExit[rng.below(traj.entryExit.length)] };
    return { traj, t: rng.below(steps(traj)) };
  }

  stats(): ReplayStats {
    const n = this.items.length;
    const trading = this.items.reduce((a, x) => a + (x.trades > 0 ? 1 : 0), 0);
    return {
      episodes: n,
      transitions: this.items.reduce((a, x) => a + steps(x), 0),
      trading_share: n ? trading / n : null,
      mean_return: n ? this.items.reduce((a, x) => a + x.return, 0) / n : null,
      success_episodes: this.success.length,
      evicted: this.evicted,
    };
  }

  // ---- persistence (a checkpoint carries the buffer so that --resume continues it exactly) -------

  serialize(): Uint8Array {
    const lists = [this.items, this.success];
    const header = {
      format: 'swt-replay',
      version: 2,
      obs_dim: this.obsDim,
      evicted: this.evicted,
      lists: lists.map((l) => l.map((t) => ({ episode: t.episode, start: t.start, end: t.end, steps: steps(t), trades: t.trades, net_pips: t.netPips, best_trade_pips: Number.isFinite(t.bestTradePips) ? t.bestTradePips : null, hindsight_steps: t.hindsight ? t.hindsightReward!.length / t.hindsight.length : 0 }))),
    };
    const parts: Uint8Array[] = [];
    const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (const l of lists) for (const t of l) parts.push(bytes(t.rewards), bytes(t.obs), bytes(t.values), bytes(t.policies), bytes(t.actions), t.masks, ...(t.hindsight ? [bytes(t.hindsight), bytes(t.hindsightReward!), bytes(t.hindsightLength!)] : []));
    const head = new TextEncoder().encode(JSON.stringify(header));
    const total = 4 + head.length + parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(total);
    new DataView(out.buffer).setUint32(0, head.length, true);
    out.set(head, 4);
    let o = 4 + head.length;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  static deserialize(data: Uint8Array, cfg: ReplayConfig, tdSteps: number, gamma: number): ReplayBuffer {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const hl = view.getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(data.subarray(4, 4 + hl))) as {
      format: string;
      obs_dim: number;
      evicted: number;
      lists: Array<Array<{ episode: number; start: number; end: number; steps: number; trades: number; net_pips: number; best_trade_pips: number | null; hindsight_steps?: number }>>;
    };
    if (header.format !== 'swt-replay') throw new Error('replay: not a replay file');
    const buf = new ReplayBuffer(cfg, header.obs_dim, tdSteps, gamma);
    buf.evicted = header.evicted;
    let o = 4 + hl;
    const take = (n: number): ArrayBuffer => {
      const b = data.buffer.slice(data.byteOffset + o, data.byteOffset + o + n) as ArrayBuffer;
      o += n;
      return b;
    };
    const D = header.obs_dim;
    const A = N_ACTIONS;
    const [items, success] = header.lists.map((l) =>
      l.map((h) => {
        const T = h.steps;
        const t: Trajectory = {
          episode: h.episode,
          start: h.start,
          end: h.end,
          trades: h.trades,
          netPips: h.net_pips,
          bestTradePips: h.best_trade_pips ?? -Infinity,
          rewards: new Float64Array(take(T * 8)),
          obs: new Float32Array(take((T + 1) * D * 4)),
          values: new Float32Array(take((T + 1) * 4)),
          policies: new Float32Array(take((T + 1) * A * 4)),
          actions: new Int32Array(take(T * 4)),
          masks: new Uint8Array(take((T + 1) * A)),
        };
        const S = h.hindsight_steps ?? 0;
        if (S > 0) {
          t.hindsight = new Float32Array(take(T * A * 4));
          t.hindsightReward = new Float32Array(take(T * A * S * 4));
          t.hindsightLength = new Int32Array(take(T * A * 4));
        }
        return buf.store(t);
      }),
    );
    buf.items = items;
    buf.success = success;
    return buf;
  }
}
