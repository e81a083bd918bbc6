import type { Migration } from './index.js';

// Alerts and other notable happenings, one row each (the dashboard's alert engine writes them; the
// live journal may add its own kinds). `details` is the event's JSON document (snake_case).
export const m010Events: Migration = {
  version: 10,
  name: 'events',
  up: [
    `CREATE SEQUENCE IF NOT EXISTS events_id_seq START 1`,
    `CREATE TABLE IF NOT EXISTS events (
       id BIGINT PRIMARY KEY DEFAULT nextval('events_id_seq'),
       ts TIMESTAMP NOT NULL,
       source VARCHAR NOT NULL,
       kind VARCHAR NOT NULL,
       severity VARCHAR NOT NULL,
       code VARCHAR NOT NULL,
       message VARCHAR NOT NULL,
       details JSON
     )`,
  ],
};
