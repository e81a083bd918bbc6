// bench:sweep — `swt sweep` against a full grid search on the planted-edge synthetic series (issue 14,
// acceptance 5). The grid is mean-reversion's declared grid (48 points), each scored on every
// out-of-sample session; the sweep draws 32 Sobol' points over the same parameters' ranges and halves
// them over 10 → 40 → all sessions. Both score with the validation composite score (no stress
// scenarios, 300 curves, 1 repeat, as the acceptance test does) and end with one real validation of
// their champion. Prints name=value lines:
//   trials_per_minute (sweep evaluations, trial × stage, per minute of wall time), grid_trials_per_minute,
//   sweep_/grid_ evaluations, full_budget_equivalents (Σ sessions / sessions of the full budget),
//   seconds and champion scores, champion_score_ratio (sweep / grid), evaluation_ratio (the sweep's
//   full-budget equivalents / the grid's evaluations) and seconds_ratio, and the core count.
// Run: npm run bench:sweep [-- --workers 2 --from 2024-01-01 --to 2024-02-29].
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { Store } from '../src/store/db.js';
import { runSweep, type SweepSummary } from '../src/app/sweep.js';
import { SYN, synthStore } from '../test/helpers/synth-store.js';
import { tempDir } from '../test/helpers/paths.js';
import { report, reportCores } from './util.js';

const arg = (name: string, d: string) => {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : d;
};
const WORKERS = Number(arg('workers', '1'));
const FROM = arg('from', '2024-01-01');
const TO = arg('to', '2024-02-29');
const OOS_FROM = arg('oos-from', '2024-01-15');

const tmp = tempDir('swt-bench-sweep-');
const common = `policy: mean-reversion
instrument: ${SYN}
out_of_sample: { from: "${OOS_FROM}", to: "${TO}" }
scoring: { scenarios: none, curves: 300, repeats: 1 }
workers: ${WORKERS}
`;
const files = {
  grid: `${common}params:\n  window: { choices: [30, 60, 120, 240] }\n  entry_z: { choices: [1.5, 2, 2.5, 3] }\n  exit_z: { choices: [0, 0.5, 1] }\nsampler: { kind: grid }\nstages: [ { sessions: all } ]\n`,
  sweep: `${common}params:\n  window: { type: int, min: 20, max: 300, log: true }\n  entry_z: { type: float, min: 1.0, max: 3.5 }\n  exit_z: { type: float, min: 0.0, max: 1.2 }\nsampler: { kind: sobol, seed: 1 }\ntrials: 32\nstages: [ { sessions: 10 }, { sessions: 40 }, { sessions: all } ]\nkeep: 0.25\n`,
};

try {
  const db = await synthStore(tmp.dir, 'edge', { from: FROM, to: TO, seed: 5, edge: true });
  const store = await Store.open(db);
  const config = loadConfig();
  const run = async (name: keyof typeof files): Promise<SweepSummary> => {
    const file = path.join(tmp.dir, `${name}.yaml`);
    writeFileSync(file, files[name]);
    return runSweep(store, config, { spaceFile: file, maxMinutes: null, targetScore: null, resume: false, reportDir: null });
  };
  const grid = await run('grid');
  const sweep = await run('sweep');
  store.close();
  reportCores();
  report('workers', WORKERS, 0);
  report('sessions', sweep.sessions_available, 0);
  report('trials_per_minute', sweep.trials_per_minute, 1);
  report('grid_trials_per_minute', grid.trials_per_minute, 1);
  report('sweep_trials', sweep.trials, 0);
  report('sweep_evaluations', sweep.evaluations, 0);
  report('sweep_full_budget_equivalents', sweep.full_budget_equivalents, 2);
  report('grid_evaluations', grid.evaluations, 0);
  report('sweep_seconds', sweep.seconds, 2);
  report('grid_seconds', grid.seconds, 2);
  report('sweep_champion_score', sweep.champion!.score, 2);
  report('grid_champion_score', grid.champion!.score, 2);
  report('sweep_champion', Object.entries(sweep.champion!.params).map(([k, v]) => `${k}:${v}`).join(';'));
  report('grid_champion', Object.entries(grid.champion!.params).map(([k, v]) => `${k}:${v}`).join(';'));
  report('champion_score_ratio', sweep.champion!.score / grid.champion!.score, 3);
  report('evaluation_ratio', sweep.full_budget_equivalents / grid.evaluations, 3);
  report('seconds_ratio', sweep.seconds / grid.seconds, 3);
} finally {
  tmp.cleanup();
}
