import type { Migration } from './index.js';

// Training sweeps (swt sweep with a train: block): each evaluation trains its own agent, so its row
// records the checkpoint it trained and was scored with, the training run, and the episode budget. NULL
// for policy sweeps.
export const m015SweepTraining: Migration = {
  version: 15,
  name: 'sweep trials: checkpoint, training run and budget of training sweeps',
  up: [
    'ALTER TABLE sweep_trials ADD COLUMN IF NOT EXISTS checkpoint_id VARCHAR',
    'ALTER TABLE sweep_trials ADD COLUMN IF NOT EXISTS train_run_id VARCHAR',
    'ALTER TABLE sweep_trials ADD COLUMN IF NOT EXISTS episodes INTEGER',
  ],
};
