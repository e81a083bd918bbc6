import type { Migration } from './index.js';

// One row per saved checkpoint (src/agent/checkpoints): provenance and evaluation as columns for
// queries (latest, best by evaluation SQN, retention), the full checkpoint.json as `meta`. The
// directory at `path` holds the files; a row is written only after its directory is complete.
export const m005Checkpoints: Migration = {
  version: 5,
  name: 'checkpoints',
  up: [
    `CREATE SEQUENCE IF NOT EXISTS checkpoints_seq START 1`,
    `CREATE TABLE checkpoints (
       id VARCHAR PRIMARY KEY,
       seq INTEGER NOT NULL DEFAULT nextval('checkpoints_seq'),
       created_at TIMESTAMP NOT NULL,
       version VARCHAR NOT NULL,
       parent_id VARCHAR,
       architecture_id VARCHAR NOT NULL,
       feature_set VARCHAR NOT NULL,
       feature_hash VARCHAR NOT NULL,
       config_hash VARCHAR NOT NULL,
       hyperparameters_hash VARCHAR NOT NULL,
       git_commit VARCHAR,
       episodes BIGINT NOT NULL,
       training_steps BIGINT NOT NULL,
       eval_sqn DOUBLE,
       evaluation JSON,
       backend VARCHAR NOT NULL,
       path VARCHAR NOT NULL,
       meta JSON NOT NULL
     )`,
  ],
};
