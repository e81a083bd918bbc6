import type { Migration } from './index.js';

// The auto-promoter (src/live/promoter.ts). `promotions`: every decision with its evidence as numbers
// (one row per candidate evaluated, or per check of a rollout), so a promotion or a rollback can be
// audited from the figures it was made on. `strategy_rollout`: the current state per instrument, which
// strategy is live, which one is rolling out at what stage and scale, since when. JSON text lives in
// VARCHAR columns: DuckDB (1.5) cannot replay a WAL holding a JSON-typed column's DDL after a kill -9
// (see 008), and these tables sit in the live runner's journal file.
export const m013Promotions: Migration = {
  version: 13,
  name: 'promoter: decisions with their evidence, rollout state per instrument',
  up: [
    `CREATE SEQUENCE IF NOT EXISTS promotions_id_seq START 1`,
    `CREATE TABLE IF NOT EXISTS promotions (id INTEGER PRIMARY KEY DEFAULT nextval('promotions_id_seq'), ts TIMESTAMP NOT NULL,
       instrument VARCHAR NOT NULL, kind VARCHAR NOT NULL, live_strategy VARCHAR NOT NULL, candidate VARCHAR, stage INTEGER, scale DOUBLE NOT NULL,
       failed_rules VARCHAR NOT NULL, candidate_trades INTEGER, live_trades INTEGER, candidate_expectancy DOUBLE, live_expectancy DOUBLE,
       p_better DOUBLE, drawdown DOUBLE, dd_p95 DOUBLE, safe_f DOUBLE, grade VARCHAR, validation_id INTEGER,
       last_n_trades INTEGER, last_n_expectancy DOUBLE, p_negative DOUBLE, confidence DOUBLE NOT NULL, resamples INTEGER NOT NULL, seed BIGINT NOT NULL,
       message VARCHAR NOT NULL, evidence VARCHAR NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS strategy_rollout (instrument VARCHAR PRIMARY KEY, live_strategy VARCHAR NOT NULL, candidate VARCHAR,
       stage INTEGER, scale DOUBLE NOT NULL, driver VARCHAR NOT NULL, stage_since TIMESTAMP, promoted_at TIMESTAMP, updated_at TIMESTAMP NOT NULL,
       decision_id INTEGER)`,
  ],
};
