import type { Migration } from './index.js';

// One row per validation (swt validate): the grade and recommendation as columns for queries, the full
// ValidationResult as JSON. run_id links to the backtest's `runs` row when it came from one (issue 4).
export const m004Validations: Migration = {
  version: 4,
  name: 'validations',
  up: [
    `CREATE SEQUENCE IF NOT EXISTS validations_id_seq START 1`,
    `CREATE TABLE validations (
       id INTEGER PRIMARY KEY DEFAULT nextval('validations_id_seq'),
       created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
       run_id VARCHAR,
       policy VARCHAR NOT NULL,
       params JSON NOT NULL,
       instrument VARCHAR NOT NULL,
       range VARCHAR NOT NULL,
       config_hash VARCHAR NOT NULL,
       seed BIGINT NOT NULL,
       grade VARCHAR NOT NULL,
       score DOUBLE NOT NULL,
       recommendation VARCHAR NOT NULL,
       result JSON NOT NULL,
       report_dir VARCHAR
     )`,
  ],
};
