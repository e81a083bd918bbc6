// Backtest runner (pure, in memory): a policy through the env over a set of episodes, B at a time.
// Same inputs, same seed → the same trades bit for bit, whatever the batch size: episodes are handed
// to lanes in order, stochastic policies seed per episode, and trades come back in canonical order
// (exit time, episode, entry bar).
import type { ParamValue, Policy } from '../agent/policies/types.js';
import type { EnvConfig } from '../env/config.js';
import { checkFeatureCoverage, episodeTotals } from '../env/episodes.js';
import { TradingEnv } from '../env/env.js';
import { TradeLog } from '../env/trades.js';
import { EnvInputError, type BarSeries, type EpisodeSet, type FeatureMatrix } from '../env/types.js';
import { computeMetrics, DAY_MS, type Metrics } from './metrics.js';

export interface BacktestInput {
  bars: BarSeries;
  features?: FeatureMatrix | null;
  episodes: EpisodeSet;
  policy: Policy;
  env: EnvConfig;
  /** Lanes stepped together (default 64, never more than the number of episodes). */
  batch?: number;
  periodsPerYear?: number;
  /** Called after each finished episode with (finished, total). */
  onEpisode?: (finished: number, total: number) => void;
}

export interface BacktestResult {
  policy: { name: string; params: Record<string, ParamValue> };
  /** Closed trades in canonical order. */
  trades: TradeLog;
  /** Decisions by action: HOLD, BUY, SELL, CLOSE. */
  actionCounts: Float64Array;
  decisions: number;
  episodes: number;
  /** Bars inside the episodes. */
  totalBars: number;
  /** UTC day numbers covered by the episodes' bars. */
  days: number[];
  /** Sum of rewards over the run (the reward mode's total; summation order follows the lanes). */
  rewardTotal: number;
  metrics: Metrics;
}

/** UTC days holding at least one bar of the episodes, ascending. */
export function episodeDays(bars: BarSeries, episodes: EpisodeSet): number[] {
  const set = new Set<number>();
  for (let e = 0; e < episodes.start.length; e++) {
    let last = NaN;
    for (let t = episodes.start[e]; t < episodes.end[e]; t++) {
      const d = Math.floor(bars.ts[t] / DAY_MS);
      if (d !== last) {
        set.add(d);
        last = d;
      }
    }
  }
  return [...set].sort((a, b) => a - b);
}

/** The shared loop of the sync and async runners. */
class Loop {
  readonly env: TradingEnv;
  readonly obs: Float32Array | null;
  readonly actions: Uint8Array;
  private next = 0;
  private finishedEpisodes = 0;
  readonly total: number;

  constructor(private readonly input: BacktestInput) {
    const total = input.episodes.start.length;
    if (total === 0) throw new EnvInputError('no episode to run: the requested range holds no valid session');
    if (input.episodes.end.length !== total) throw new EnvInputError('episodes.start and episodes.end differ in length');
    this.total = total;
    const batch = Math.min(input.batch ?? 64, total);
    const policy = input.policy;
    // Features given are features promised: refuse rows an episode would read that are not valid.
    if (input.features) checkFeatureCoverage(input.bars, input.features, input.episodes, input.env.stack);
    this.env = new TradingEnv(input.bars, input.features ?? null, input.env, { batch, observations: policy.needsObservation });
    this.obs = policy.needsObservation ? new Float32Array(batch * this.env.obsDim) : null;
    this.actions = new Uint8Array(batch);
    policy.begin(this.env);
    for (let lane = 0; lane < batch; lane++) this.assign(lane);
  }

  private assign(lane: number): void {
    if (this.next >= this.total) {
      this.env.deactivate(lane);
      return;
    }
    const e = this.next++;
    this.env.reset(lane, this.input.episodes.start[e], this.input.episodes.end[e], e);
    this.input.policy.resetLane(lane, e, this.env);
  }

  get running(): boolean {
    return this.env.activeCount > 0;
  }

  prepare(): void {
    if (this.obs) this.env.observe(this.obs);
  }

  advance(): void {
    const finished = this.env.step(this.actions);
    if (finished > 0) {
      const done = this.env.done;
      for (let lane = 0; lane < this.env.batch; lane++) {
        if (done[lane] === 1) {
          this.finishedEpisodes++;
          this.input.onEpisode?.(this.finishedEpisodes, this.total);
          this.assign(lane);
        }
      }
    }
  }

  result(): BacktestResult {
    const { bars, episodes, policy } = this.input;
    const trades = this.env.trades.sorted();
    const totalBars = episodeTotals(episodes).bars;
    const days = episodeDays(bars, episodes);
    const actionCounts = Float64Array.from(this.env.actionCounts);
    return {
      policy: { name: policy.name, params: { ...policy.params } },
      trades,
      actionCounts,
      decisions: actionCounts.reduce((a, b) => a + b, 0),
      episodes: this.total,
      totalBars,
      days,
      rewardTotal: this.env.rewardTotal,
      metrics: computeMetrics({ trades, actionCounts, totalBars, days, periodsPerYear: this.input.periodsPerYear }),
    };
  }
}

function isThenable(v: unknown): v is PromiseLike<void> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Runs any policy through the env; act() is awaited only when it returns a promise (network inference). */
export async function runBacktest(input: BacktestInput): Promise<BacktestResult> {
  const loop = new Loop(input);
  const { policy } = input;
  const env = loop.env;
  while (loop.running) {
    loop.prepare();
    const r = policy.act(loop.obs, env.mask, env, loop.actions);
    if (isThenable(r)) await r;
    loop.advance();
  }
  return loop.result();
}
