import type { Migration } from './index.js';

// Sweeps (swt sweep): one row per sweep, with its space document and where it stands, and one row per
// evaluation of a configuration at a stage (sweep_trials). A trial's id and its parameters are fixed
// before it runs, so a killed sweep resumes by evaluating only the (trial, stage) pairs that have no
// row yet. No column DEFAULT calls a function (DuckDB 1.5 cannot replay such a CREATE from its WAL);
// the code writes every timestamp.
export const m014Sweeps: Migration = {
  version: 14,
  name: 'sweeps and sweep trials',
  up: [
    `CREATE TABLE IF NOT EXISTS sweeps (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, space_file VARCHAR NOT NULL,
       space_hash VARCHAR NOT NULL, space JSON NOT NULL, policy VARCHAR NOT NULL, instrument VARCHAR NOT NULL,
       status VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL,
       champion_trial INTEGER, champion_stage INTEGER, champion_score DOUBLE, champion_validation_id INTEGER,
       report_dir VARCHAR)`,
    `CREATE TABLE IF NOT EXISTS sweep_trials (sweep_id INTEGER NOT NULL, trial INTEGER NOT NULL, round INTEGER NOT NULL,
       point INTEGER NOT NULL, stage INTEGER NOT NULL, sessions INTEGER NOT NULL, params JSON NOT NULL,
       score DOUBLE NOT NULL, grade VARCHAR NOT NULL, recommendation VARCHAR NOT NULL, trades INTEGER NOT NULL,
       net_pips DOUBLE NOT NULL, expectancy DOUBLE, car25 DOUBLE NOT NULL, safe_f DOUBLE NOT NULL, dd95 DOUBLE NOT NULL,
       seconds DOUBLE NOT NULL, finished_at TIMESTAMP NOT NULL, PRIMARY KEY (sweep_id, trial, stage))`,
  ],
};
