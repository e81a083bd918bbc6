import type { Migration } from './index.js';

// Bars are keyed by (instrument, ts) in practice; uniqueness is enforced by the importer's anti-join
// rather than an ART index, which would slow bulk imports of millions of rows several-fold.
export const m001Data: Migration = {
  version: 1,
  name: 'data: bars, bars_rejected, imports, sessions',
  up: [
    `CREATE SEQUENCE IF NOT EXISTS imports_id_seq START 1`,
    `CREATE TABLE imports (
       id INTEGER PRIMARY KEY DEFAULT nextval('imports_id_seq'),
       instrument VARCHAR NOT NULL,
       file VARCHAR NOT NULL,
       sha256 VARCHAR NOT NULL,
       format VARCHAR NOT NULL,
       source_tz VARCHAR NOT NULL,
       rows_read BIGINT NOT NULL,
       rows_accepted BIGINT NOT NULL,
       rows_rejected BIGINT NOT NULL,
       rows_already_present BIGINT NOT NULL,
       first_ts TIMESTAMP,
       last_ts TIMESTAMP,
       imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp
     )`,
    `CREATE TABLE bars (
       instrument VARCHAR NOT NULL,
       ts TIMESTAMP NOT NULL,
       open DOUBLE NOT NULL,
       high DOUBLE NOT NULL,
       low DOUBLE NOT NULL,
       close DOUBLE NOT NULL,
       volume DOUBLE NOT NULL,
       import_id INTEGER NOT NULL
     )`,
    `CREATE TABLE bars_rejected (
       import_id INTEGER NOT NULL,
       instrument VARCHAR NOT NULL,
       file VARCHAR NOT NULL,
       line BIGINT NOT NULL,
       raw VARCHAR,
       ts TIMESTAMP,
       reason VARCHAR NOT NULL
     )`,
    `CREATE TABLE sessions (
       instrument VARCHAR NOT NULL,
       length INTEGER NOT NULL,
       max_gap INTEGER NOT NULL,
       idx BIGINT NOT NULL,
       start_ts TIMESTAMP NOT NULL,
       end_ts TIMESTAMP NOT NULL
     )`,
    `CREATE TABLE session_index_runs (
       instrument VARCHAR NOT NULL,
       length INTEGER NOT NULL,
       max_gap INTEGER NOT NULL,
       sessions BIGINT NOT NULL,
       bars BIGINT NOT NULL,
       bars_covered BIGINT NOT NULL,
       created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
       PRIMARY KEY (instrument, length, max_gap)
     )`,
  ],
};
