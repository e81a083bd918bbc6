import type { Migration } from './index.js';

// Policies fitted in sample (linear, learned agents) record the range they learned from, so that a
// stored run can be re-run (swt validate --run) on exactly the same fit.
export const m007RunFitRange: Migration = {
  version: 7,
  name: 'runs: fit range of fitted policies',
  up: ['ALTER TABLE runs ADD COLUMN IF NOT EXISTS fit_from TIMESTAMP', 'ALTER TABLE runs ADD COLUMN IF NOT EXISTS fit_to TIMESTAMP'],
};
