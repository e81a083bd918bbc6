import type { Migration } from './index.js';

export const m003Backtests: Migration = {
  version: 3,
  name: 'backtests: runs, trades',
  up: [
    `CREATE TABLE runs (
       run_id VARCHAR PRIMARY KEY,
       created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
       kind VARCHAR NOT NULL,
       policy VARCHAR NOT NULL,
       params VARCHAR NOT NULL,
       instrument VARCHAR NOT NULL,
       data_first TIMESTAMP,
       data_last TIMESTAMP,
       range_from TIMESTAMP,
       range_to TIMESTAMP,
       sessions INTEGER NOT NULL,
       session_length INTEGER NOT NULL,
       seed BIGINT NOT NULL,
       config_hash VARCHAR NOT NULL,
       feature_set VARCHAR,
       feature_hash VARCHAR,
       env VARCHAR NOT NULL,
       metrics VARCHAR NOT NULL,
       trades INTEGER NOT NULL,
       seconds DOUBLE NOT NULL
     )`,
    `CREATE TABLE trades (
       run_id VARCHAR NOT NULL,
       idx INTEGER NOT NULL,
       episode INTEGER NOT NULL,
       side VARCHAR NOT NULL,
       entry_ts TIMESTAMP NOT NULL,
       exit_ts TIMESTAMP NOT NULL,
       entry_price DOUBLE NOT NULL,
       exit_price DOUBLE NOT NULL,
       gross_pips DOUBLE NOT NULL,
       net_pips DOUBLE NOT NULL,
       cost_pips DOUBLE NOT NULL,
       mae_pips DOUBLE NOT NULL,
       mfe_pips DOUBLE NOT NULL,
       bars_held INTEGER NOT NULL,
       forced BOOLEAN NOT NULL,
       reward DOUBLE NOT NULL
     )`,
  ],
};
