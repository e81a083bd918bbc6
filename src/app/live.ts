// A live or paper run assembled from the config: the policy (fitted in sample when it fits), the
// feature-row builder, the LiveSession, the broker (paper or OANDA), the feed (replay of stored bars or
// the price stream), the risk engine, the runner and its event bus. `swt live` and the tests build
// runs through here only.
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { Store } from '../store/db.js';
import type { TimeRange } from '../data/range.js';
import { weekCalendar } from '../data/calendar.js';
import { envConfigFromConfig } from '../env/config.js';
import { loadBars } from '../env/market.js';
import { createPolicy, getPolicySpec, resolvePolicy } from '../agent/policies/registry.js';
import type { ParamValue } from '../agent/policies/types.js';
import { rowBuilderFor } from '../features/row.js';
import { LiveSession, type SessionSchedule } from '../live/session.js';
import { EventBus } from '../live/events.js';
import { RiskEngine } from '../live/risk.js';
import { Runner } from '../live/runner.js';
import { PaperBroker } from '../live/paper.js';
import { OandaClient } from '../live/oanda/client.js';
import { loadToken } from '../live/secret.js';
import { timeMs } from '../live/oanda/models.js';
import { MarketCalendar } from '../live/calendar.js';
import { ReplayFeed, StreamFeed, type Backfill, type Feed } from '../live/feed.js';
import { systemClock, VirtualClock, type Clock } from '../live/clock.js';
import type { Broker } from '../live/broker.js';
import type { JournalHooks } from '../live/journal.js';
import { UsageError } from '../util/errors.js';
import { featureSetFor, fitSampleOf, loadFitMarket, loadStoreMarket } from './market.js';

export interface LiveRunOptions {
  broker: 'paper' | 'oanda';
  mode: 'practice' | 'live';
  policy: string;
  params: Record<string, ParamValue>;
  instrument: string;
  feed: 'stream' | 'replay';
  /** Replay speed (× real time; Infinity: as fast as possible, on a virtual clock). */
  speed: number;
  /** Replay: the traded range (bars before it are replayed too: the features' warm-up). */
  range: TimeRange;
  /**
   * Replay: the first bar replayed (null or absent: the first stored bar). Bars before it are neither
   * replayed nor warm the features up: a run that starts here sees the market from here on.
   */
  start?: Date | null;
  /** Replay: trade the stored sessions of the range, like `swt backtest` (else one endless session). */
  sessions: boolean;
  seed: number;
  /** The broker to use instead of building one (tests: an OANDA client on the fake server). */
  brokerOverride?: Broker | null;
  /** The replay's bars come from here instead of the store (bench: the fake server's stream feeds a paper run). */
  feedOverride?: Feed | null;
  clock?: Clock | null;
  /** The event bus to emit on (a subscriber that must see the start-up events attaches before). */
  bus?: EventBus | null;
  env?: NodeJS.ProcessEnv;
  runId?: string;
  journal?: JournalHooks | null;
}

export interface LiveRun {
  runner: Runner;
  bus: EventBus;
  session: LiveSession;
  broker: Broker;
  feed: Feed;
  clock: Clock;
  close(): Promise<void>;
}

/** The OANDA client of the config for `mode`, with the token from the environment or its file. */
export function oandaClientFromConfig(config: Config, mode: 'practice' | 'live', env: NodeJS.ProcessEnv = process.env): OandaClient {
  const o = config.live.oanda;
  const accountId = env[o.account_env];
  if (!accountId) throw new UsageError(`no OANDA account id: set ${o.account_env} (the v20 account, like 101-004-1234567-001)`);
  const host = o[mode];
  return new OandaClient({
    restUrl: host.rest_url,
    streamUrl: host.stream_url,
    accountId,
    token: loadToken({ envVar: o.token_env, file: o.token_file, env }),
    timeoutMs: o.timeout_ms,
    retries: o.retries,
    backoffMs: o.backoff_ms,
    maxBackoffMs: o.max_backoff_ms,
    staleMs: o.stale_ms,
    requestsPerSecond: o.requests_per_second,
    orderLookupAttempts: o.order_lookup_attempts,
    orderLookupDelayMs: o.order_lookup_delay_ms,
  });
}

/**
 * Gaps of a stream feed are backfilled from the candles endpoint: complete candles only, with their
 * bid/ask (the recorded spread at the open, like the aggregator's and the stored bars').
 */
export function candleBackfill(client: OandaClient): Backfill {
  return async (instrument: string, from: number, to: number) =>
    (await client.candles(instrument, { from, to, price: 'MBA' })).candles
      .filter((c) => c.complete && c.mid)
      .map((c) => ({
        ts: timeMs(c.time),
        open: Number(c.mid!.o),
        high: Number(c.mid!.h),
        low: Number(c.mid!.l),
        close: Number(c.mid!.c),
        spread: c.bid && c.ask ? Number(c.ask.o) - Number(c.bid.o) : undefined,
        bid: null,
        ask: null,
        ticks: 0,
      }));
}

/** A run id: the prefix of every client id the run sends (unique, so a restart never reuses one). */
export const newLiveRunId = () => `swt${randomBytes(4).toString('hex')}`;

export async function createLiveRun(store: Store, config: Config, o: LiveRunOptions): Promise<LiveRun> {
  const spec = getPolicySpec(o.policy);
  const env = envConfigFromConfig(config, o.instrument);
  const featureSet = featureSetFor(config, [o.policy], null);
  const req = { instrument: o.instrument, range: o.range, sessions: 'all' as const, seed: o.seed, featureSet };
  let schedule: SessionSchedule | null = null;
  let featureHash: string | null = null;
  if (o.feed === 'replay' && o.sessions) {
    const m = await loadStoreMarket(store, config, req);
    schedule = { starts: Array.from(m.episodes.start, (s) => m.bars.ts[s]), length: config.data.session_length };
    featureHash = m.featureHash;
  }
  // A live run fits on everything stored before now; a replay on everything before its range.
  const fitReq = o.feed === 'replay' ? req : { ...req, range: { from: new Date(), to: null } };
  const fit = await loadFitMarket(store, config, o.policy, fitReq, null);
  const { params, artifacts } = await resolvePolicy(o.policy, o.params, { store, config });
  const policy = await createPolicy(o.policy, params, { seed: o.seed, env, fit: fitSampleOf(fit), config, artifacts, featureHash });
  const session = LiveSession.create({ env, policy, instrument: o.instrument, features: spec.observes ? rowBuilderFor(config, featureSet ?? config.features.default_set, o.instrument, 1) : null, schedule });
  const clock = o.clock ?? (o.feed === 'replay' && !Number.isFinite(o.speed) ? new VirtualClock(0) : systemClock);
  const bus = o.bus ?? new EventBus();
  const inst = config.instruments[o.instrument];
  const broker =
    o.brokerOverride ??
    (o.broker === 'paper'
      ? new PaperBroker({ instrument: o.instrument, pipSize: inst.pip_size, spreadPips: inst.spread_pips, slippagePips: config.live.paper.slippage_pips, balance: config.live.paper.balance })
      : oandaClientFromConfig(config, o.mode, o.env));
  let feed: Feed;
  if (o.feedOverride) feed = o.feedOverride;
  else if (o.feed === 'replay') feed = new ReplayFeed(await loadBars(store, o.instrument, { from: o.start ?? null, to: o.range.to }, { spreads: env.spread === 'recorded' }), { speed: o.speed, clock, barMs: env.barMs });
  else {
    const source = broker instanceof OandaClient ? broker : oandaClientFromConfig(config, o.mode, o.env);
    const backfill = candleBackfill(source);
    feed = new StreamFeed({ instrument: o.instrument, broker: source, clock, bus, week: weekCalendar(config), barMs: env.barMs, graceMs: config.live.bar_grace_ms, backfill });
  }
  const r = config.live.risk;
  const risk = new RiskEngine(
    { maxPositionUnits: r.max_position_units, maxOrderUnits: r.max_order_units, maxOrdersPerMinute: r.max_orders_per_minute, dailyLossPips: r.daily_loss_pips, killSwitchFile: r.kill_switch_file },
    bus,
    clock,
  );
  const runner = new Runner({
    instrument: o.instrument,
    units: env.units,
    session,
    broker,
    feed,
    clock,
    bus,
    risk,
    calendar: o.feed === 'replay' ? null : MarketCalendar.fromConfig(config),
    flattenBeforeCloseMinutes: config.live.flatten_before_close_minutes,
    manualTrades: config.live.manual_trades,
    reconcileEveryMs: config.live.reconcile_every_s * 1000,
    maxClockSkewMs: config.live.max_clock_skew_s * 1000,
    runId: o.runId ?? newLiveRunId(),
    strategy: spec.name,
    journal: o.journal ?? null,
  });
  return {
    runner,
    bus,
    session,
    broker,
    feed,
    clock,
    async close() {
      feed.close();
      await session.close();
      await (broker as Broker).close?.();
    },
  };
}
