// A paper run for the dashboard tests: real 2016 GBP/JPY bars of one chosen day replayed through
// createLiveRun (src/app/live.ts: the ReplayFeed, the LiveSession with ma-crossover in one endless
// session, the PaperBroker, the RiskEngine and the Runner), every step an event on a real EventBus.
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { importFiles } from '../../src/data/import.js';
import { indexSessions } from '../../src/data/sessions.js';
import { createLiveRun } from '../../src/app/live.js';
import type { LiveSession } from '../../src/live/session.js';
import { EventBus } from '../../src/live/events.js';
import type { Runner } from '../../src/live/runner.js';
import type { PaperBroker } from '../../src/live/paper.js';
import type { ReplayFeed } from '../../src/live/feed.js';
import type { Clock } from '../../src/live/clock.js';
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
  const base = loadConfig();
  // a day of ma-crossover stays clear of the daily loss limit; hourly reconciliations keep the replay quick
  const config: Config = { ...base, live: { ...base.live, risk: { ...base.live.risk, daily_loss_pips: 10_000 }, reconcile_every_s: 3600 } };
  const run = await createLiveRun(store, config, {
    broker: 'paper',
    mode: 'practice',
    policy: 'ma-crossover',
    params: {},
    instrument: I,
    feed: 'replay',
    speed: o.speed,
    start: new Date(o.from),
    range: { from: new Date(o.from), to: new Date(o.to) },
    sessions: false,
    seed: 1,
    runId: 'dashtest',
    bus: o.bus ?? new EventBus(),
  });
  return { runner: run.runner, bus: run.bus, session: run.session, broker: run.broker as PaperBroker, feed: run.feed as ReplayFeed, clock: run.clock, config, pipSize: config.instruments[I].pip_size };
}

/**
 * `swt live` from the CLI on a paper replay: a main store at DIR/swt.duckdb with the real bars of
 * 2016-06-16..21 and their sessions (a replay plays every stored bar, so only a few days), and the
 * environment that points the runner's files into DIR with limits a replay never trips by accident.
 */
export async function replayCliStore(dir: string): Promise<Store> {
  const store = await realBarsStore(path.join(dir, 'swt.duckdb'));
  await store.run(`DELETE FROM bars WHERE ts < '2016-06-16' OR ts >= '2016-06-22'`);
  const config = loadConfig();
  await indexSessions(store, config, I, config.data.session_length, config.data.max_gap_minutes);
  return store;
}

export function replayCliEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SWT_STORE__DB: path.join(dir, 'swt.duckdb'),
    SWT_LIVE__JOURNAL: path.join(dir, 'journal.duckdb'),
    SWT_LIVE__API__STATE_FILE: path.join(dir, 'runner.json'),
    SWT_LIVE__RISK__DAILY_LOSS_PIPS: '100000',
    SWT_LIVE__RISK__MAX_ORDERS_PER_MINUTE: '1000',
    ...extra,
  };
}
