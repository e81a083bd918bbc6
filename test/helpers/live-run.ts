// A paper run for the dashboard tests: real 2016 GBP/JPY bars replayed through G's ReplayFeed, the
// LiveSession (ma-crossover, sessions tiling the replay), the PaperBroker, the RiskEngine and the Runner,
// every step an event on a real EventBus. (app/live.ts assembles a run from the config, but its replay
// starts at the first stored bar; this builds the same pieces by hand to replay one chosen day.)
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { importFiles } from '../../src/data/import.js';
import { envConfigFromConfig } from '../../src/env/config.js';
import { loadBars } from '../../src/env/market.js';
import { createPolicy } from '../../src/agent/policies/registry.js';
import { LiveSession } from '../../src/live/session.js';
import { EventBus } from '../../src/live/events.js';
import { RiskEngine } from '../../src/live/risk.js';
import { Runner } from '../../src/live/runner.js';
import { PaperBroker } from '../../src/live/paper.js';
import { ReplayFeed } from '../../src/live/feed.js';
import { systemClock, VirtualClock, type Clock } from '../../src/live/clock.js';
import { Store } from '../../src/store/db.js';
import { SHARED } from './paths.js';

export const I = 'GBP_JPY';

/** A store at `file` holding the real bars (the whole shared CSV). */
export async function realBarsStore(file: string, hold: 'run' | 'unit' = 'run'): Promise<Store> {
  // the import's staging tables live on one connection: it runs with the file held, then the store reopens
  const store = await Store.open(file);
  await importFiles(store, [path.join(SHARED, 'data', 'GBPJPY_M1_20160422_20160624.csv.gz')], { instrument: I, format: 'csv' });
  if (hold === 'run') return store;
  store.close();
  return Store.open(file, { hold });
}

export interface PaperRun {
  runner: Runner;
  bus: EventBus;
  session: LiveSession;
  broker: PaperBroker;
  feed: ReplayFeed;
  clock: Clock;
  config: Config;
  pipSize: number;
}

/** Bars of [from, to) replayed at `speed` × real time (Infinity: at once, on a virtual clock). */
export async function paperRun(store: Store, o: { from: string; to: string; speed: number; bus?: EventBus }): Promise<PaperRun> {
  const config = loadConfig();
  const env = envConfigFromConfig(config, I);
  const policy = await createPolicy('ma-crossover', {}, { seed: 1, env, fit: null });
  const bars = await loadBars(store, I, { from: new Date(o.from), to: new Date(o.to) });
  // sessions of data.session_length bars tiling the replay, as the backtest trades them
  const length = config.data.session_length;
  const starts = Array.from({ length: Math.floor(bars.ts.length / length) }, (_, k) => bars.ts[k * length]);
  const session = LiveSession.create({ env, policy, features: null, schedule: { starts, length } });
  const clock: Clock = Number.isFinite(o.speed) ? systemClock : new VirtualClock(bars.ts[0]);
  const bus = o.bus ?? new EventBus();
  const inst = config.instruments[I];
  const broker = new PaperBroker({ instrument: I, pipSize: inst.pip_size, spreadPips: inst.spread_pips, slippagePips: 0, balance: 100_000 });
  const feed = new ReplayFeed(bars, { speed: o.speed, clock, barMs: env.barMs });
  const risk = new RiskEngine({ maxPositionUnits: env.units, maxOrderUnits: 2 * env.units, maxOrdersPerMinute: 6, dailyLossPips: 10_000, killSwitchFile: null }, bus, clock);
  const runner = new Runner({
    instrument: I,
    units: env.units,
    session,
    broker,
    feed,
    clock,
    bus,
    risk,
    calendar: null,
    flattenBeforeCloseMinutes: 15,
    manualTrades: 'flatten',
    reconcileEveryMs: 60 * 60_000,
    maxClockSkewMs: config.live.max_clock_skew_s * 1000,
    runId: 'dashtest',
    strategy: 'ma-crossover',
  });
  return { runner, bus, session, broker, feed, clock, config, pipSize: inst.pip_size };
}
