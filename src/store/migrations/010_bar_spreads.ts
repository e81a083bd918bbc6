import type { Migration } from './index.js';

// The recorded spread of a bar (swt data fetch --price BA): ask − bid at the bar's open, in price units
// (pip sizes are config, so pips are computed where the env knows them). NULL when the source recorded
// none: every other format, and mid-only fetches. env.spread 'recorded' charges it (src/env/step.ts).
export const m010BarSpreads: Migration = {
  version: 10,
  name: 'bars: recorded spread',
  up: ['ALTER TABLE bars ADD COLUMN IF NOT EXISTS spread DOUBLE'],
};
