// A backtest against the store: market (bars, sessions, optional features) → policy through the env →
// run and trades saved → metrics. Shared by `swt backtest`, the main job and validation.
import type { Store } from '../store/db.js';
import type { Config } from '../config/schema.js';
import { configHash } from '../config/load.js';
import { envConfigFromConfig, envDocument } from '../env/config.js';
import { loadMarket, type Market } from '../env/market.js';
import type { TimeRange } from '../data/range.js';
import { createPolicy, getPolicySpec } from '../agent/policies/registry.js';
import { loadFeatures } from '../features/store.js';
import { runBacktestAsync, type BacktestResult } from './backtest.js';
import { newRunId, saveRun, type RunRecord } from './runs.js';

export interface StoredBacktestOptions {
  policy: string;
  params: Record<string, string | number>;
  instrument: string;
  range: TimeRange;
  sessions: number | 'all';
  seed: number;
  /** Feature set to load (null: none; policies that need observations require one). */
  featureSet: string | null;
  save?: boolean;
  onEpisode?: (done: number, total: number) => void;
}

export interface StoredBacktest {
  run: RunRecord;
  result: BacktestResult;
  market: Market;
}

export async function backtestFromStore(store: Store, config: Config, o: StoredBacktestOptions): Promise<StoredBacktest> {
  const t0 = performance.now();
  const spec = getPolicySpec(o.policy); // unknown policy: refused before any data is read
  const policy = createPolicy(o.policy, o.params, { seed: o.seed });
  const env = envConfigFromConfig(config, o.instrument);
  const featureSet = o.featureSet ?? (policy.needsObservation ? config.features.default_set : null);
  const market = await loadMarket(
    store,
    {
      instrument: o.instrument,
      range: o.range,
      sessionLength: config.data.session_length,
      maxGap: config.data.max_gap_minutes,
      sessions: o.sessions,
      seed: o.seed,
      stack: config.env.stack,
    },
    featureSet
      ? async (bars) => {
          const f = await loadFeatures(store, featureSet, o.instrument, bars.ts);
          return { set: f.set.name, hash: f.set.hash, matrix: { data: f.data, nFeatures: f.nFeatures }, ok: (t: number) => f.status[t] === 0 };
        }
      : undefined,
  );
  const result = await runBacktestAsync({
    bars: market.bars,
    features: market.features,
    episodes: market.episodes,
    policy,
    env,
    batch: config.env.batch,
    onEpisode: o.onEpisode,
  });
  const run: RunRecord = {
    run_id: newRunId(),
    kind: 'backtest',
    policy: spec.name,
    params: result.policy.params,
    instrument: o.instrument,
    data_first: market.first,
    data_last: market.last,
    range_from: o.range.from?.toISOString() ?? null,
    range_to: o.range.to?.toISOString() ?? null,
    sessions: market.episodes.start.length,
    sessions_without_features: market.sessionsWithoutFeatures,
    session_length: market.sessionLength,
    seed: o.seed,
    config_hash: configHash(config),
    feature_set: market.featureSet,
    feature_hash: market.featureHash,
    env: envDocument(env),
    metrics: result.metrics,
    trades: result.trades.count,
    seconds: Math.round(performance.now() - t0) / 1000,
  };
  if (o.save !== false) await saveRun(store, run, result.trades);
  return { run, result, market };
}
