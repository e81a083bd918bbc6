// Backtest runs in the store: a run's provenance and metrics in `runs`, every trade in `trades`.
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/db.js';
import { appendColumns, readColumns } from '../store/columnar.js';
import type { TradeLog } from '../env/trades.js';
import type { EnvDocument } from '../env/config.js';
import type { Metrics } from './metrics.js';
import type { ParamValue } from '../agent/policies/types.js';

export interface RunRecord {
  run_id: string;
  kind: 'backtest';
  policy: string;
  params: Record<string, ParamValue>;
  instrument: string;
  data_first: string;
  data_last: string;
  range_from: string | null;
  range_to: string | null;
  /** In-sample range of a fitted policy (null bounds: open; both null: not fitted). */
  fit_from: string | null;
  fit_to: string | null;
  sessions: number;
  /** Sessions of the range left out because their observations would read invalid feature rows. */
  sessions_without_features?: number;
  session_length: number;
  seed: number;
  config_hash: string;
  feature_set: string | null;
  feature_hash: string | null;
  env: EnvDocument;
  metrics: Metrics;
  trades: number;
  seconds: number;
}

export function newRunId(): string {
  return `bt-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}-${randomUUID().slice(0, 8)}`;
}

/** Writes the run and its trades in one transaction. */
export async function saveRun(store: Store, run: RunRecord, trades: TradeLog): Promise<void> {
  await store.transaction(async () => {
    await store.run(
      `INSERT INTO runs (run_id, kind, policy, params, instrument, data_first, data_last, range_from, range_to, sessions, session_length,
                         seed, config_hash, feature_set, feature_hash, env, metrics, trades, seconds, fit_from, fit_to)
       VALUES ($1, $2, $3, $4, $5, $6::TIMESTAMP, $7::TIMESTAMP, $8::TIMESTAMP, $9::TIMESTAMP, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20::TIMESTAMP, $21::TIMESTAMP)`,
      [
        run.run_id,
        run.kind,
        run.policy,
        JSON.stringify(run.params),
        run.instrument,
        run.data_first,
        run.data_last,
        run.range_from,
        run.range_to,
        run.sessions,
        run.session_length,
        run.seed,
        run.config_hash,
        run.feature_set,
        run.feature_hash,
        JSON.stringify(run.env),
        JSON.stringify(run.metrics),
        run.trades,
        run.seconds,
        run.fit_from,
        run.fit_to,
      ],
    );
    const n = trades.count;
    if (n === 0) return;
    const idx = new Int32Array(n).map((_, i) => i);
    const side = Array.from(trades.side.subarray(0, n), (s) => (s > 0 ? 'long' : 'short'));
    await appendColumns(
      store,
      'trades',
      [
        { kind: 'varchar_const', value: run.run_id },
        { kind: 'i32', data: idx },
        { kind: 'i32', data: trades.episode.subarray(0, n) },
        { kind: 'varchar', data: side },
        { kind: 'ts_ms', data: trades.entryTs.subarray(0, n) },
        { kind: 'ts_ms', data: trades.exitTs.subarray(0, n) },
        { kind: 'f64', data: trades.entryPrice.subarray(0, n) },
        { kind: 'f64', data: trades.exitPrice.subarray(0, n) },
        { kind: 'f64', data: trades.grossPips.subarray(0, n) },
        { kind: 'f64', data: trades.netPips.subarray(0, n) },
        { kind: 'f64', data: trades.costPips.subarray(0, n) },
        { kind: 'f64', data: trades.maePips.subarray(0, n) },
        { kind: 'f64', data: trades.mfePips.subarray(0, n) },
        { kind: 'i32', data: trades.barsHeld.subarray(0, n) },
        { kind: 'bool', data: trades.forced.subarray(0, n) },
        { kind: 'f64', data: trades.reward.subarray(0, n) },
      ],
      n,
    );
  });
}

export async function getRun(store: Store, runId: string): Promise<RunRecord | null> {
  const r = await store.one<Record<string, unknown>>(
    `SELECT *, strftime(data_first, '%Y-%m-%dT%H:%M:%SZ') AS df, strftime(data_last, '%Y-%m-%dT%H:%M:%SZ') AS dl,
            strftime(range_from, '%Y-%m-%dT%H:%M:%SZ') AS rf, strftime(range_to, '%Y-%m-%dT%H:%M:%SZ') AS rt,
            strftime(fit_from, '%Y-%m-%dT%H:%M:%SZ') AS ff, strftime(fit_to, '%Y-%m-%dT%H:%M:%SZ') AS ft FROM runs WHERE run_id = $1`,
    [runId],
  );
  if (!r) return null;
  return {
    run_id: String(r.run_id),
    kind: 'backtest',
    policy: String(r.policy),
    params: JSON.parse(String(r.params)) as Record<string, ParamValue>,
    instrument: String(r.instrument),
    data_first: String(r.df),
    data_last: String(r.dl),
    range_from: (r.rf as string | null) ?? null,
    range_to: (r.rt as string | null) ?? null,
    fit_from: (r.ff as string | null) ?? null,
    fit_to: (r.ft as string | null) ?? null,
    sessions: Number(r.sessions),
    session_length: Number(r.session_length),
    seed: Number(r.seed),
    config_hash: String(r.config_hash),
    feature_set: (r.feature_set as string | null) ?? null,
    feature_hash: (r.feature_hash as string | null) ?? null,
    env: JSON.parse(String(r.env)) as EnvDocument,
    metrics: JSON.parse(String(r.metrics)) as Metrics,
    trades: Number(r.trades),
    seconds: Number(r.seconds),
  };
}

export interface StoredTrades {
  n: number;
  side: Int32Array;
  entryTs: Float64Array;
  exitTs: Float64Array;
  entryPrice: Float64Array;
  exitPrice: Float64Array;
  grossPips: Float64Array;
  netPips: Float64Array;
  costPips: Float64Array;
  maePips: Float64Array;
  mfePips: Float64Array;
  barsHeld: Int32Array;
}

/** A run's trades in their stored (canonical) order, as columns. */
export async function loadRunTrades(store: Store, runId: string): Promise<StoredTrades> {
  const r = await readColumns(
    store,
    `SELECT CASE WHEN side = 'long' THEN 1 ELSE -1 END AS side, entry_ts, exit_ts, entry_price, exit_price, gross_pips, net_pips,
            cost_pips, mae_pips, mfe_pips, bars_held FROM trades WHERE run_id = $1 ORDER BY idx`,
    [
      { name: 'side', kind: 'i32' },
      { name: 'entryTs', kind: 'ts_ms' },
      { name: 'exitTs', kind: 'ts_ms' },
      { name: 'entryPrice', kind: 'f64' },
      { name: 'exitPrice', kind: 'f64' },
      { name: 'grossPips', kind: 'f64' },
      { name: 'netPips', kind: 'f64' },
      { name: 'costPips', kind: 'f64' },
      { name: 'maePips', kind: 'f64' },
      { name: 'mfePips', kind: 'f64' },
      { name: 'barsHeld', kind: 'i32' },
    ],
    [runId],
  );
  return { n: r.n, ...(r.cols as unknown as Omit<StoredTrades, 'n'>) };
}
