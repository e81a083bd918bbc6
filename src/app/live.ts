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
import { createPolicy, getPolicySpec, parsePolicyArg, resolvePolicy } from '../agent/policies/registry.js';
import type { ParamValue } from '../agent/policies/types.js';
import { rowBuilderFor } from '../features/row.js';
import { LiveSession, type SessionSchedule } from '../live/session.js';
import { EventBus } from '../live/events.js';
import { RiskEngine, type RiskLimits } from '../live/risk.js';
import { Journal } from '../live/journal.js';
import { StrategyRecord } from '../live/performance.js';
import { createShadow, type Shadow } from '../live/shadow.js';
import { SharedFeatureRows } from '../live/shadow-rows.js';
import { positionSizer, type PositionSizer, type SizingConfig, type ValidatedSafeF } from '../live/sizing.js';
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
  /** The live strategy's spec as given (its tag in strategy_trades and the journal); default: the policy's name. */
  strategy?: string;
  /** Shadow strategies (policy specs as given to --shadow): each on its own paper book. */
  shadows?: readonly string[];
  /**
   * The run's journal file: the shadows' journals and every strategy's record (strategy_trades,
   * strategy_performance) go here. null: none are stored (the records are kept in memory).
   */
  journalStore?: Store | null;
}

export interface LiveRun {
  runner: Runner;
  bus: EventBus;
  session: LiveSession;
  broker: Broker;
  feed: Feed;
  clock: Clock;
  /** The live strategy's spec (as given). */
  strategy: string;
  /** Its sizer (its `scale` is the promoter's rollout stage). */
  sizer: PositionSizer;
  shadows: Shadow[];
  /** Every strategy's record, live first, by spec. */
  records: Map<string, StrategyRecord>;
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

/** A strategy's risk limits and sizing: live.risk and live.sizing, overridden by live.strategies[spec]. */
export function strategyConfig(config: Config, spec: string, envUnits: number): { limits: RiskLimits; sizing: SizingConfig } {
  const own = config.live.strategies[spec] ?? {};
  const r = { ...config.live.risk, ...own.risk };
  const z = { ...config.live.sizing, ...own.sizing };
  return {
    limits: { maxPositionUnits: r.max_position_units, maxOrderUnits: r.max_order_units, maxOrdersPerMinute: r.max_orders_per_minute, dailyLossPips: r.daily_loss_pips, killSwitchFile: r.kill_switch_file },
    sizing: { ...z, units: z.units ?? envUnits },
  };
}

/** The safe-f of the newest validation of `policy` with these (resolved) parameters on the instrument; null: none. */
export async function latestSafeF(store: Store, policy: string, params: Record<string, ParamValue>, instrument: string): Promise<ValidatedSafeF | null> {
  const rows = await store.all<{ id: number; params: string; safe_f: number | null }>(
    `SELECT id, params::VARCHAR AS params, CAST(result->'$.montecarlo.safe_f_mean' AS DOUBLE) AS safe_f FROM validations WHERE policy = $1 AND instrument = $2 ORDER BY id DESC`,
    [policy, instrument],
  );
  const key = canonical(params);
  const hit = rows.find((r) => canonical(JSON.parse(r.params) as Record<string, ParamValue>) === key);
  return hit && hit.safe_f !== null ? { safe_f: Number(hit.safe_f), validation_id: Number(hit.id) } : null;
}

const canonical = (p: Record<string, ParamValue>) => JSON.stringify(Object.keys(p).sort().map((k) => [k, p[k]]));

export async function createLiveRun(store: Store, config: Config, o: LiveRunOptions): Promise<LiveRun> {
  const strategy = o.strategy ?? o.policy;
  const shadowSpecs = o.shadows ?? [];
  for (const [k, sh] of shadowSpecs.entries()) {
    if (sh === strategy) throw new UsageError(`--shadow ${sh}: it is the live strategy`);
    if (shadowSpecs.indexOf(sh) !== k) throw new UsageError(`--shadow ${sh} is given twice`);
  }
  const env = envConfigFromConfig(config, o.instrument);
  const markets = new Map<string, Promise<Awaited<ReturnType<typeof loadStoreMarket>>>>();
  // one feature-row builder per feature set, shared by every session that reads it
  const rowSets = new Map<string, SharedFeatureRows>();
  const sessions: LiveSession[] = [];
  const closeSessions = async () => {
    for (const x of sessions) await x.close();
    for (const r of rowSets.values()) r.free();
  };

  /** A strategy's policy and session, built as a single-strategy run builds them. */
  const buildStrategy = async (name: string, given: Record<string, ParamValue>) => {
    const spec = getPolicySpec(name);
    const featureSet = featureSetFor(config, [name], null);
    const req = { instrument: o.instrument, range: o.range, sessions: 'all' as const, seed: o.seed, featureSet };
    let schedule: SessionSchedule | null = null;
    let featureHash: string | null = null;
    if (o.feed === 'replay' && o.sessions) {
      const key = featureSet ?? '';
      if (!markets.has(key)) markets.set(key, loadStoreMarket(store, config, req));
      const m = await markets.get(key)!;
      schedule = { starts: Array.from(m.episodes.start, (s) => m.bars.ts[s]), length: config.data.session_length };
      featureHash = m.featureHash;
    }
    // A live run fits on everything stored before now; a replay on everything before its range.
    const fitReq = o.feed === 'replay' ? req : { ...req, range: { from: new Date(), to: null } };
    const fit = await loadFitMarket(store, config, name, fitReq, null);
    const { params, artifacts } = await resolvePolicy(name, given, { store, config });
    const policy = await createPolicy(name, params, { seed: o.seed, env, fit: fitSampleOf(fit), config, artifacts, featureHash });
    let features = null;
    if (spec.observes) {
      const set = featureSet ?? config.features.default_set;
      if (!rowSets.has(set)) rowSets.set(set, new SharedFeatureRows(rowBuilderFor(config, set, o.instrument, 1)));
      features = rowSets.get(set)!.view();
    }
    const session = LiveSession.create({ env, policy, instrument: o.instrument, features, schedule });
    sessions.push(session);
    return { session, params };
  };

  const clock = o.clock ?? (o.feed === 'replay' && !Number.isFinite(o.speed) ? new VirtualClock(0) : systemClock);
  const bus = o.bus ?? new EventBus();
  const inst = config.instruments[o.instrument];
  const records = new Map<string, StrategyRecord>();
  const journals: Journal[] = [];
  const runId = o.runId ?? newLiveRunId();
  const calendar = o.feed === 'replay' ? null : MarketCalendar.fromConfig(config);
  const paperBook = { pipSize: inst.pip_size, spreadPips: inst.spread_pips, slippagePips: config.live.paper.slippage_pips, balance: config.live.paper.balance };

  /** The strategy's record and sizer (Kelly reads the record; safe_f the newest validation). */
  const sizing = async (spec: string, name: string, params: Record<string, ParamValue>, shadow: boolean, b: EventBus, balance: () => Promise<number | null>) => {
    const sc = strategyConfig(config, spec, env.units);
    const record = (
      await StrategyRecord.open(o.journalStore ?? null, { runId, strategy: spec, shadow, instrument: o.instrument, window: sc.sizing.window, pipSize: inst.pip_size, envUnits: env.units, quotePerAccount: sc.sizing.quote_per_account })
    ).attach(b);
    records.set(spec, record);
    const safeF = sc.sizing.method === 'safe_f' ? await latestSafeF(store, name, params, o.instrument) : null;
    return { limits: sc.limits, sizer: positionSizer({ config: sc.sizing, stats: () => record.stats(), safeF, balance }) };
  };

  let built;
  try {
    built = await buildStrategy(o.policy, o.params);
  } catch (e) {
    await closeSessions();
    throw e;
  }
  const session = built.session;
  const broker =
    o.brokerOverride ??
    (o.broker === 'paper'
      ? new PaperBroker({ instrument: o.instrument, ...paperBook })
      : oandaClientFromConfig(config, o.mode, o.env));
  const live = await sizing(strategy, o.policy, built.params, false, bus, async () => (await broker.accountSummary()).balance);

  const shadows: Shadow[] = [];
  try {
    for (const [k, sh] of shadowSpecs.entries()) {
      const { name, params: given } = parsePolicyArg(sh);
      const b = await buildStrategy(name, given);
      const shBus = new EventBus();
      const own = await sizing(sh, name, b.params, true, shBus, async () => paperBook.balance);
      let journal: Journal | null = null;
      if (o.journalStore) {
        journal = new Journal(o.journalStore, runId, sh, true);
        journal.attach(shBus);
        journals.push(journal);
      }
      shadows.push(
        createShadow({
          strategy: sh,
          instrument: o.instrument,
          units: env.units,
          session: b.session,
          book: paperBook,
          limits: own.limits,
          clock,
          calendar,
          flattenBeforeCloseMinutes: config.live.flatten_before_close_minutes,
          reconcileEveryMs: config.live.reconcile_every_s * 1000,
          maxClockSkewMs: config.live.max_clock_skew_s * 1000,
          clientIdPrefix: `${runId}s${k + 1}`,
          journal,
          sizer: own.sizer,
          bus: shBus,
        }),
      );
    }
  } catch (e) {
    await closeSessions();
    await (broker as Broker).close?.();
    throw e;
  }

  let feed: Feed;
  if (o.feedOverride) feed = o.feedOverride;
  else if (o.feed === 'replay') feed = new ReplayFeed(await loadBars(store, o.instrument, { from: o.start ?? null, to: o.range.to }, { spreads: env.spread === 'recorded' }), { speed: o.speed, clock, barMs: env.barMs });
  else {
    const source = broker instanceof OandaClient ? broker : oandaClientFromConfig(config, o.mode, o.env);
    const backfill = candleBackfill(source);
    feed = new StreamFeed({ instrument: o.instrument, broker: source, clock, bus, week: weekCalendar(config), barMs: env.barMs, graceMs: config.live.bar_grace_ms, backfill });
  }
  const risk = new RiskEngine(live.limits, bus, clock);
  const runner = new Runner({
    instrument: o.instrument,
    units: env.units,
    session,
    broker,
    feed,
    clock,
    bus,
    risk,
    calendar,
    flattenBeforeCloseMinutes: config.live.flatten_before_close_minutes,
    manualTrades: config.live.manual_trades,
    reconcileEveryMs: config.live.reconcile_every_s * 1000,
    maxClockSkewMs: config.live.max_clock_skew_s * 1000,
    runId,
    strategy,
    journal: o.journal ?? null,
    sizer: live.sizer,
    followers: shadows,
  });
  return {
    runner,
    bus,
    session,
    broker,
    feed,
    clock,
    strategy,
    sizer: live.sizer,
    shadows,
    records,
    async close() {
      feed.close();
      try {
        for (const j of journals) await j.close();
        for (const r of records.values()) await r.close();
      } finally {
        await closeSessions();
        await (broker as Broker).close?.();
      }
    },
  };
}
