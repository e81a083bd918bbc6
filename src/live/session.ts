// LiveSession: the market core on a series that grows, one bar at a time. It is what a live runner (and a
// replay) drives, and it does per bar exactly what the vectorised env does per step, through the same
// code: the single-lane market step (src/env/step.ts), the same observation assembly
// (src/env/observation.ts), the same feature-row builder as the store build, the same policy objects.
// Replaying stored bars through it reproduces a backtest of the same sessions trade for trade.
//
// Per bar t1 (the newest):
//   1. the decision taken at the close of bar t1 − 1 fills and bar t1 is marked (step). Who fills it is
//      the caller's: without an `executed` argument it fills at open[t1] (a replay with no broker, the
//      backtest's rule); a live runner passes what the broker actually did (its fill price and time,
//      or null when nothing was filled), so the position, and the position features, come from fills;
//      when t1 is the session's last bar the position is force-closed at its close (sessionEnd 'close')
//      or left open (truncate);
//   2. the feature row of bar t1 is built (status ok / warm-up / gap);
//   3. a session that starts at t1 begins (flat);
//   4. inside a session, before its last bar, the policy decides (a HOLD without asking it when the
//      observation would read a feature row that is not ok: it is recorded with that reason).
import type { Policy } from '../agent/policies/types.js';
import type { EnvConfig } from '../env/config.js';
import type { EnvView } from '../env/env.js';
import { observationSize, positionSlot, writeObservation } from '../env/observation.js';
import { GrowingRows, GrowingSeries, type Bar } from '../env/series.js';
import { END_FORCE_CLOSE, END_NONE, END_TRUNCATE, MarketCore, type SessionEnd } from '../env/step.js';
import type { TradeRecord } from '../env/trades.js';
import { EnvInputError, HOLD, N_ACTIONS, type BarSeries } from '../env/types.js';
import { N_POSITION_FEATURES } from '../features/position.js';

/** Feature rows for the newest bar of a growing series: the store build's row builder, run live. */
export interface FeatureRowSource {
  readonly width: number;
  /** Writes the row of bar i (reading bars <= i only) into `out`; returns its status (0 ok, 1 warm-up, 2 gap). */
  rowAt(bars: BarSeries, i: number, out: Float32Array): number;
  /** Releases native resources. */
  free?(): void;
}

export const ROW_OK = 0;

/** When sessions start (first bar times, ascending) and how many bars each holds; null = one endless session. */
export interface SessionSchedule {
  starts: ArrayLike<number>;
  length: number;
}

export interface LiveSessionOptions {
  env: EnvConfig;
  policy: Policy;
  /** Required when the policy reads observations. */
  features?: FeatureRowSource | null;
  schedule?: SessionSchedule | null;
  sessionEnd?: SessionEnd;
  /** The instrument (named in errors). */
  instrument?: string;
}

export type DecisionReason = 'policy' | 'feature_row_not_ok' | 'session_last_bar';

export interface BarOutcome {
  index: number;
  ts: number;
  /** Feature row status of this bar (ok when no feature source is used). */
  status: number;
  /** Reward of the step that ended at this bar (0 outside a session). */
  reward: number;
  /** Trades closed at this bar (a manual close and a forced close can both happen). */
  closed: TradeRecord[];
  /** The decision taken at this bar's close (null: none, outside a session or at its last bar). */
  decision: number | null;
  reason: DecisionReason | null;
  /** The search's root visit counts behind the decision ([HOLD, BUY, SELL, CLOSE]); null: the policy does not search, or was not asked. */
  visits: number[] | null;
  /** Episode (session number in the schedule) this bar belongs to, or −1. */
  episode: number;
}

class SessionView implements EnvView {
  readonly batch = 1;
  bars: BarSeries;
  readonly t = new Int32Array(1);
  readonly start = new Int32Array(1);
  readonly end = new Int32Array(1);
  readonly episode = new Int32Array(1).fill(-1);
  readonly active = new Uint8Array(1);
  readonly side: Int8Array;
  readonly mask = new Uint8Array(N_ACTIONS);
  constructor(
    bars: BarSeries,
    side: Int8Array,
    readonly obsDim: number,
  ) {
    this.bars = bars;
    this.side = side;
  }
}

/** What the broker did with the last decision: the action that executed, at the fill's (mid) price and time. */
export interface Execution {
  action: number;
  price: number;
  ts: number;
}

export class LiveSession {
  readonly series: GrowingSeries;
  readonly core: MarketCore;
  readonly rows: GrowingRows | null;
  readonly status: number[] = [];
  /** Decisions taken: bar index and action. */
  readonly decisions: Array<{ index: number; ts: number; action: number; reason: DecisionReason }> = [];
  private readonly view: SessionView;
  private readonly K: number;
  private readonly F: number;
  private readonly ring: Float32Array;
  private readonly obs: Float32Array | null;
  private readonly out = new Uint8Array(1);
  private readonly endRule: typeof END_FORCE_CLOSE | typeof END_TRUNCATE;
  private pending: number | null = null;
  private nextSession = 0;
  private inSession = false;
  private carry: { dir: 1 | -1; price: number; ts: number } | null = null;

  private constructor(private readonly opts: LiveSessionOptions) {
    const { env, policy } = opts;
    this.series = new GrowingSeries(4096, opts.instrument);
    this.core = new MarketCore(env, 1);
    this.K = env.stack;
    const features = opts.features ?? null;
    if (policy.needsObservation && !features) throw new EnvInputError(`policy '${policy.name}' reads observations: give the LiveSession a feature row source`);
    this.F = features ? features.width : 0;
    this.rows = features ? new GrowingRows(features.width) : null;
    this.ring = new Float32Array(this.K * N_POSITION_FEATURES);
    const obsDim = policy.needsObservation ? observationSize(this.K, this.F) : 0;
    this.obs = policy.needsObservation ? new Float32Array(obsDim) : null;
    this.view = new SessionView(this.series.view, this.core.side, obsDim);
    this.endRule = (opts.sessionEnd ?? 'close') === 'close' ? END_FORCE_CLOSE : END_TRUNCATE;
    if (opts.schedule && !(Number.isInteger(opts.schedule.length) && opts.schedule.length >= 2)) {
      throw new EnvInputError(`session length must be an integer >= 2, got ${opts.schedule.length}`);
    }
  }

  /** Creates the session and starts the policy (begin) on its one-lane view. */
  static create(opts: LiveSessionOptions): LiveSession {
    const s = new LiveSession(opts);
    s.opts.policy.begin(s.view);
    return s;
  }

  get trades() {
    return this.core.trades;
  }

  /** The signed side of the position (from fills): +1, −1 or 0. */
  get side(): number {
    return this.core.side[0];
  }

  /** The decision waiting for its fill (null: none). */
  get pendingDecision(): number | null {
    return this.pending;
  }

  /** Whether a session is running (positions can only be held inside one). */
  get active(): boolean {
    return this.inSession;
  }

  /**
   * A position the broker holds that the session did not open (adopted at reconciliation): opened at the
   * broker's average price, stamped at the newest bar.
   */
  adopt(dir: 1 | -1, price: number, ts: number): void {
    if (!this.inSession) throw new EnvInputError('no session is running: a position cannot be adopted outside one');
    this.core.open(0, dir, price, this.series.view, this.series.length - 1, ts);
  }

  /**
   * A position to hold from the start of the next session (a restarted runner resuming the broker
   * position it had): taken before that session's first decision.
   */
  adoptAtStart(dir: 1 | -1, price: number, ts: number): void {
    this.carry = { dir, price, ts };
  }

  /** The position was closed at the broker outside a decision (flatten, kill switch, calendar): record it. */
  closeOutside(price: number, ts: number): TradeRecord {
    this.core.close(0, this.series.view, this.series.length - 1, ts, price, true);
    return this.core.trades.record(this.core.lastTrade);
  }

  /**
   * Feeds the next completed bar; returns what happened at it. `executed`: what the broker did with the
   * pending decision (omitted: it filled at this bar's open; null: nothing was filled).
   */
  async onBar(bar: Bar, executed?: Execution | null): Promise<BarOutcome> {
    const t1 = this.series.push(bar);
    const bars = this.series.view;
    const view = this.view;
    view.bars = bars;
    const core = this.core;
    const outcome: BarOutcome = { index: t1, ts: bar.ts, status: ROW_OK, reward: 0, closed: [], decision: null, reason: null, visits: null, episode: -1 };

    // 1. The pending decision fills at this bar's open; this bar is marked.
    if (this.inSession) {
      const last = t1 === view.end[0] - 1;
      const before = core.trades.count;
      const action = executed === undefined ? (this.pending ?? HOLD) : (executed?.action ?? HOLD);
      outcome.reward = core.step(0, action, bars, t1 - 1, last ? this.endRule : END_NONE, executed ?? null);
      for (let k = before; k < core.trades.count; k++) outcome.closed.push(core.trades.record(k));
      core.writeMask(0, view.mask, 0);
      view.t[0] = t1;
      core.writePositionFeatures(0, this.ring, positionSlot(0, this.K, t1, view.start[0]));
      outcome.episode = view.episode[0];
      if (last) {
        this.inSession = false;
        view.active[0] = 0;
      }
    }
    this.pending = null;

    // 2. The feature row of this bar.
    if (this.rows && this.opts.features) {
      const row = this.rows.next();
      outcome.status = this.opts.features.rowAt(bars, t1, row);
      this.rows.commit();
    }
    this.status.push(outcome.status);

    // 3. A session that starts here.
    const sched = this.opts.schedule ?? null;
    if (!this.inSession) {
      let starts = false;
      let episode = -1;
      if (sched) {
        while (this.nextSession < sched.starts.length && sched.starts[this.nextSession] < bar.ts) this.nextSession++;
        if (this.nextSession < sched.starts.length && sched.starts[this.nextSession] === bar.ts) {
          starts = true;
          episode = this.nextSession++;
        }
      } else if (t1 === 0 || view.episode[0] < 0) {
        starts = true;
        episode = 0;
      }
      if (starts) {
        this.inSession = true;
        view.active[0] = 1;
        view.t[0] = t1;
        view.start[0] = t1;
        // one endless session: the largest end an Int32 view holds (MAX_SAFE_INTEGER would wrap to −1)
        view.end[0] = sched ? t1 + sched.length : 0x7fffffff;
        view.episode[0] = episode;
        core.resetLane(0, episode);
        if (this.carry) {
          core.open(0, this.carry.dir, this.carry.price, bars, t1, this.carry.ts);
          this.carry = null;
        }
        core.writeMask(0, view.mask, 0);
        this.ring.fill(0);
        this.opts.policy.resetLane(0, episode, view);
        outcome.episode = episode;
      }
    }

    // 4. Decide at this bar's close (not at the session's last bar: it has no next open to fill at).
    if (this.inSession && t1 < view.end[0] - 1) {
      let action: number = HOLD;
      let reason: DecisionReason = 'policy';
      if (this.obs && !this.rowsOk(t1, view.start[0])) {
        reason = 'feature_row_not_ok';
      } else {
        if (this.obs) writeObservation(this.obs, 0, this.K, this.F, this.rows!.data, t1, view.start[0], this.ring, 0);
        const r = this.opts.policy.act(this.obs, view.mask, view, this.out);
        if (r && typeof (r as Promise<void>).then === 'function') await r;
        action = this.out[0];
        if (this.opts.policy.lastVisits) outcome.visits = Array.from(this.opts.policy.lastVisits(0));
        if (!core.legal(0, action)) throw new EnvInputError(`policy '${this.opts.policy.name}' chose an illegal action ${action} at ${new Date(bar.ts).toISOString()}`);
      }
      this.pending = action;
      outcome.decision = action;
      outcome.reason = reason;
      this.decisions.push({ index: t1, ts: bar.ts, action, reason });
    }
    return outcome;
  }

  /** Releases the policy's and the feature builder's native resources. */
  async close(): Promise<void> {
    try {
      await this.opts.policy.close?.();
    } finally {
      this.opts.features?.free?.();
    }
  }

  /** Whether every feature row the observation at bar t reads (t − K + 1 … t, within the series) is ok. */
  private rowsOk(t: number, _start: number): boolean {
    for (let r = Math.max(0, t - this.K + 1); r <= t; r++) if (this.status[r] !== ROW_OK) return false;
    return true;
  }
}
