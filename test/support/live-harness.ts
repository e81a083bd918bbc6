// A runner on the OANDA client against the fake v20 server, driven bar by bar with a scripted policy
// (the actions a test needs at given bars), on a virtual clock. The runner, session, market core, risk
// engine, reconciliation and client are the real ones; only the market is scripted. With `stream` the
// bars come the live way instead: the fake's price stream through the client, the bar aggregator and the
// stream feed (gaps backfilled from the fake's candles), with the runner running its feed.
import { OandaClient } from '../../src/live/oanda/client.js';
import { Secret } from '../../src/live/secret.js';
import { EventBus, type LiveEventMap, type LiveEventName } from '../../src/live/events.js';
import { RiskEngine, type RiskLimits } from '../../src/live/risk.js';
import { Runner } from '../../src/live/runner.js';
import { LiveSession } from '../../src/live/session.js';
import { VirtualClock } from '../../src/live/clock.js';
import { StreamFeed, type Feed } from '../../src/live/feed.js';
import { MarketCalendar } from '../../src/live/calendar.js';
import { candleBackfill } from '../../src/app/live.js';
import { loadConfig } from '../../src/config/load.js';
import { weekCalendar } from '../../src/data/calendar.js';
import type { RunnerSummary } from '../../src/live/runner.js';
import type { ManualTrades } from '../../src/live/reconcile.js';
import type { Policy } from '../../src/agent/policies/types.js';
import { envConfig } from '../../src/env/config.js';
import { HOLD } from '../../src/env/types.js';
import { FakeV20 } from './fake-v20.js';

export const TOKEN = 'tok-7d1e4a52-harness-secret';
export const I = 'GBP_JPY';

/** A policy that plays `script[barIndex]` (HOLD elsewhere); illegal entries are a test bug, and the session says so. */
export function scriptedPolicy(script: Record<number, number>): Policy {
  return {
    name: 'scripted',
    params: {},
    needsObservation: false,
    begin() {},
    resetLane() {},
    act(_obs, _mask, view, out) {
      out[0] = script[view.t[0]] ?? HOLD;
    },
  };
}

const idleFeed: Feed = {
  async *bars() {},
  close() {},
};

export interface Harness {
  fake: FakeV20;
  t0: number;
  client: OandaClient;
  runner: Runner;
  session: LiveSession;
  risk: RiskEngine;
  clock: VirtualClock;
  events: Array<{ name: LiveEventName; e: LiveEventMap[LiveEventName] }>;
  of<K extends LiveEventName>(name: K): Array<LiveEventMap[K]>;
  /** Feeds bar i (price p): the fake quotes p ± 2 pips, the clock moves to the bar's end. */
  bar(i: number, p?: number): Promise<void>;
  /** Stream mode: a PRICE line at market time t0 + ms, quoted p ± 2 pips (the clocks move to it). */
  tick(ms: number, p: number): void;
  /** The line `tick` would send, for writing it in pieces. */
  priceLine(ms: number, p: number): string;
  /** Stream mode: the runner's run (its feed to the end); null otherwise. */
  running: Promise<RunnerSummary> | null;
  /** Resolves once the runner has taken `n` bars. */
  bars(n: number, timeoutMs?: number): Promise<void>;
  brokerUnits(): number;
  close(): Promise<void>;
}

export interface HarnessOptions {
  script: Record<number, number>;
  units?: number;
  manualTrades?: ManualTrades;
  limits?: Partial<RiskLimits>;
  timeoutMs?: number;
  /** Market time of bar 0 (default: the current minute). The fake broker's clock follows the virtual one. */
  t0?: number;
  /** The config's market calendar, flattening this many minutes before the weekly close. */
  flattenBeforeCloseMinutes?: number;
  /** Bars from the fake's price stream (see above), heartbeats every `heartbeatMs`. */
  stream?: { heartbeatMs: number; staleMs: number };
}

export async function harness(o: HarnessOptions): Promise<Harness> {
  const fake = await FakeV20.start({ token: TOKEN });
  fake.setPrice(I, 149.98, 150.02);
  const client = new OandaClient({
    restUrl: fake.url,
    streamUrl: fake.url,
    accountId: fake.accountId,
    token: new Secret(TOKEN),
    timeoutMs: o.timeoutMs ?? 300,
    retries: 2,
    backoffMs: 5,
    maxBackoffMs: 20,
    staleMs: o.stream?.staleMs ?? 500,
    requestsPerSecond: 100,
    orderLookupAttempts: 3,
    orderLookupDelayMs: 10,
    random: () => 0.5,
  });
  const units = o.units ?? 1;
  const env = envConfig({ units });
  // virtual time starts at the real minute, so the fake broker's real fill times agree with it
  const T0 = o.t0 ?? Math.floor(Date.now() / 60_000) * 60_000;
  const clock = new VirtualClock(T0);
  // a fixed market time: the fake stamps its fills and lines at the virtual time (no clock skew)
  const follow = (ms: number) => {
    if (o.t0 !== undefined) fake.clockSkewMs = ms - Date.now();
  };
  follow(T0);
  const bus = new EventBus();
  const events: Harness['events'] = [];
  bus.onAny((name, e) => events.push({ name, e }));
  const risk = new RiskEngine({ maxPositionUnits: units, maxOrderUnits: 2 * units, maxOrdersPerMinute: 10, dailyLossPips: 1e6, killSwitchFile: null, ...o.limits }, bus, clock);
  const session = LiveSession.create({ env, policy: scriptedPolicy(o.script) });
  const config = loadConfig({ env: {} });
  const feed: Feed = o.stream
    ? new StreamFeed({ instrument: I, broker: client, clock, bus, week: weekCalendar(config), barMs: 60_000, graceMs: 1e12, backfill: candleBackfill(client) })
    : idleFeed;
  if (o.stream) fake.heartbeats(o.stream.heartbeatMs);
  const runner = new Runner({
    instrument: I,
    units,
    session,
    broker: client,
    feed,
    clock,
    bus,
    risk,
    calendar: o.flattenBeforeCloseMinutes !== undefined ? MarketCalendar.fromConfig(config) : null,
    flattenBeforeCloseMinutes: o.flattenBeforeCloseMinutes ?? 0,
    manualTrades: o.manualTrades ?? 'flatten',
    reconcileEveryMs: 60_000,
    // virtual bar ends run ahead of the fake's real clock by a few minutes in a test; skew is hours
    maxClockSkewMs: 15 * 60_000,
    runId: 'h',
    strategy: 'scripted',
  });
  const priceLine = (ms: number, p: number) => {
    clock.set(T0 + ms);
    follow(T0 + ms);
    // the fake adds its clock skew to the line's time: take it off, so that the line carries market time
    return fake.priceLine(I, T0 + ms - fake.clockSkewMs, p - 0.02, p + 0.02);
  };
  const running = o.stream ? runner.run() : null;
  if (!running) await runner.start();
  return {
    fake,
    t0: T0,
    client,
    runner,
    session,
    risk,
    clock,
    events,
    of: <K extends LiveEventName>(name: K) => events.filter((x) => x.name === name).map((x) => x.e as LiveEventMap[K]),
    running,
    async bars(n, timeoutMs = 10_000) {
      const t = Date.now();
      while (runner.stats.bars < n) {
        if (Date.now() - t > timeoutMs) throw new Error(`the runner took ${runner.stats.bars} bars, not ${n}, in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    tick(ms, p) {
      fake.streamRaw(priceLine(ms, p));
    },
    priceLine,
    async bar(i, p = 150) {
      const ts = T0 + i * 60_000;
      clock.set(ts + 60_000);
      follow(ts + 60_000);
      fake.setPrice(I, p - 0.02, p + 0.02);
      await runner.onBar({ ts, open: p, high: p + 0.05, low: p - 0.05, close: p, bid: null, ask: null, ticks: 1 });
    },
    brokerUnits: () => fake.positions.get(I)?.units ?? 0,
    async close() {
      feed.close();
      await running?.catch(() => undefined);
      await session.close();
      await client.close();
      await fake.close();
    },
  };
}
