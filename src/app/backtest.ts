// A backtest against the store: market (bars, sessions, the features a policy observes, the in-sample
// market a fitting policy learns from) → policy through the env → run and trades saved → metrics.
// Shared by `swt backtest` and the main job.
import type { Store } from '../store/db.js';
import type { Config } from '../config/schema.js';
import { configHash } from '../config/load.js';
import { envConfigFromConfig, envDocument } from '../env/config.js';
import type { Market } from '../env/market.js';
import type { TimeRange } from '../data/range.js';
import { createPolicy, getPolicySpec, resolvePolicy } from '../agent/policies/registry.js';
import type { ParamValue } from '../agent/policies/types.js';
import { runBacktest, type BacktestResult } from '../validation/backtest.js';
import { newRunId, saveRun, type RunRecord } from '../validation/runs.js';
import { featureSetFor, fitSampleOf, isoOrNull, loadFitMarket, loadStoreMarket } from './market.js';

export interface StoredBacktestOptions {
  policy: string;
  params: Record<string, ParamValue>;
  instrument: string;
  range: TimeRange;
  sessions: number | 'all';
  seed: number;
  /** Feature set to load (null: the default one for policies that observe, none otherwise). */
  featureSet: string | null;
  /** In-sample range of a fitting policy (null: everything before range.from). */
  fitRange?: TimeRange | null;
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
  const env = envConfigFromConfig(config, o.instrument);
  const req = { instrument: o.instrument, range: o.range, sessions: o.sessions, seed: o.seed, featureSet: featureSetFor(config, [o.policy], o.featureSet) };
  const market = await loadStoreMarket(store, config, req);
  const fit = await loadFitMarket(store, config, o.policy, req, o.fitRange ?? null);
  const { params, artifacts } = await resolvePolicy(o.policy, o.params, { store, config });
  const policy = await createPolicy(o.policy, params, { seed: o.seed, env, fit: fitSampleOf(fit), config, artifacts, featureHash: market.featureHash });
  // The run itself needs no store: give the file back to other processes until the run is saved.
  await store.release();
  let result: BacktestResult;
  try {
    result = await runBacktest({ bars: market.bars, features: market.features, episodes: market.episodes, policy, env, batch: config.env.batch, onEpisode: o.onEpisode });
  } finally {
    await policy.close?.();
  }
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
    fit_from: fit ? isoOrNull(fit.range.from) : null,
    fit_to: fit ? isoOrNull(fit.range.to) : null,
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
