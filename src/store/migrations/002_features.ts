import type { Migration } from './index.js';

// Feature sets are registered here; each set's rows live in their own wide table (`features_<name>`:
// instrument, ts, status, then one FLOAT column per feature), created when the set is first built.
// Wide FLOAT columns write and read several times faster than one FLOAT[] list column.
export const m002Features: Migration = {
  version: 2,
  name: 'features: feature_sets, feature_builds',
  up: [
    `CREATE SEQUENCE IF NOT EXISTS feature_sets_id_seq START 1`,
    `CREATE TABLE feature_sets (
       id INTEGER PRIMARY KEY DEFAULT nextval('feature_sets_id_seq'),
       name VARCHAR NOT NULL UNIQUE,
       hash VARCHAR NOT NULL,
       spec VARCHAR NOT NULL,
       columns VARCHAR NOT NULL,
       width INTEGER NOT NULL,
       table_name VARCHAR NOT NULL,
       created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
     )`,
    `CREATE TABLE feature_builds (
       feature_set INTEGER NOT NULL,
       instrument VARCHAR NOT NULL,
       started_at TIMESTAMP NOT NULL,
       finished_at TIMESTAMP,
       rows_added BIGINT,
       seconds DOUBLE
     )`,
  ],
};
