import type { Migration } from './index.js';

// The live runner's journal (src/live/journal.ts): what it decided, sent, got filled, held and found at
// reconciliation, and every event. An order row is written before the order leaves (status
// 'submitted'), so a runner killed mid-order finds the intent at restart and settles it from the broker.
// Event payloads are JSON text in a VARCHAR: DuckDB (1.5) cannot replay a WAL that holds a JSON-typed
// column's DDL after a kill -9 ("GetDefaultDatabase with no default database set").
export const m008LiveJournal: Migration = {
  version: 8,
  name: 'live journal: decisions, orders, fills, positions, reconciliations, events',
  up: [
    `CREATE TABLE IF NOT EXISTS decisions (run_id VARCHAR NOT NULL, strategy VARCHAR NOT NULL, instrument VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
       bar_index INTEGER NOT NULL, action VARCHAR NOT NULL, reason VARCHAR NOT NULL, position_units DOUBLE NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS orders (client_id VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL, strategy VARCHAR NOT NULL, instrument VARCHAR NOT NULL,
       units DOUBLE NOT NULL, target_units DOUBLE NOT NULL, intent VARCHAR NOT NULL, status VARCHAR NOT NULL, reason VARCHAR,
       since_transaction_id VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS fills (run_id VARCHAR NOT NULL, transaction_id VARCHAR NOT NULL, client_id VARCHAR, instrument VARCHAR NOT NULL,
       units DOUBLE NOT NULL, price DOUBLE NOT NULL, mid DOUBLE, ts TIMESTAMP NOT NULL, PRIMARY KEY (run_id, transaction_id))`,
    `CREATE TABLE IF NOT EXISTS positions (run_id VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, instrument VARCHAR NOT NULL, units DOUBLE NOT NULL, source VARCHAR NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS reconciliations (run_id VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, trigger VARCHAR NOT NULL, ok BOOLEAN NOT NULL,
       broker_units DOUBLE, local_units DOUBLE NOT NULL, discrepancy VARCHAR, action VARCHAR NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS events (run_id VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, name VARCHAR NOT NULL, payload VARCHAR NOT NULL)`,
  ],
};
