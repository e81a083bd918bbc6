import type { Migration } from './index.js';

// Training runs (swt train): one row per run, its metrics (per episode, per update, per evaluation,
// per iteration; the numbers as a JSON document) and its events (collapse alarms, interruptions).
export const m009Training: Migration = {
  version: 9,
  name: 'training',
  up: [
    `CREATE TABLE IF NOT EXISTS training_runs (
       run_id VARCHAR PRIMARY KEY,
       started_at TIMESTAMP NOT NULL,
       updated_at TIMESTAMP NOT NULL,
       status VARCHAR NOT NULL,
       preset VARCHAR NOT NULL,
       instrument VARCHAR NOT NULL,
       range_from VARCHAR,
       range_to VARCHAR,
       seed BIGINT NOT NULL,
       config_hash VARCHAR NOT NULL,
       episodes BIGINT NOT NULL,
       updates BIGINT NOT NULL,
       env_steps BIGINT NOT NULL,
       last_checkpoint VARCHAR,
       best_checkpoint VARCHAR,
       best_sqn DOUBLE,
       summary JSON
     )`,
    `CREATE TABLE IF NOT EXISTS training_metrics (
       run_id VARCHAR NOT NULL,
       kind VARCHAR NOT NULL,
       step BIGINT NOT NULL,
       episode BIGINT NOT NULL,
       ts TIMESTAMP NOT NULL,
       metrics JSON NOT NULL
     )`,
    `CREATE TABLE IF NOT EXISTS training_events (
       run_id VARCHAR NOT NULL,
       ts TIMESTAMP NOT NULL,
       kind VARCHAR NOT NULL,
       message VARCHAR NOT NULL,
       details JSON
     )`,
  ],
};
