// The main job (`swt main`, `npm start`): the whole path on two embedded synthetic series, the edge-free
// default and the planted-edge one (`--edge`), each its own instrument in one store:
//   1. synthesise both (reusing the files when they exist), import them (idempotent), check their
//      quality, index their sessions, build the default feature set (incremental);
//   2. train the `main.train_preset` MuZero preset on the first `main.train_share` of the planted-edge
//      series, for at most `main.train_minutes`;
//   3. validate the agent (its best checkpoint by evaluation SQN, or its last) beside the baselines on
//      the last part of both series, out of sample, after costs;
//   4. summarise the grades and where the reports are.
// Stages report through `onStage`; nothing here prints.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { configHash } from '../config/load.js';
import { writeSynthCsv, type SynthSummary } from '../data/synth.js';
import { importFiles, type FileImportResult } from '../data/import.js';
import { qualityReport, type QualityReport } from '../data/quality.js';
import { indexSessions, type SessionIndexReport } from '../data/sessions.js';
import type { BuildReport } from '../features/store.js';
import type { Store } from '../store/db.js';
import { runFeatureBuild } from './features.js';
import { synthOptions } from './synth.js';
import { trainFromStore, type TrainSummary } from './train.js';
import { runValidations, type PolicyChoice, type SavedValidation } from './validate.js';

export interface StageEvents {
  /** A stage starts (n of total); the returned function is called when it is done. */
  onStage?: (n: number, total: number, what: string) => () => void;
  /** A remark inside a stage (e.g. a reused file). */
  onNote?: (text: string) => void;
  quiet?: boolean;
}

export interface SeriesSummary {
  instrument: string;
  edge: boolean;
  file: string;
  synth: SynthSummary | null;
  imports: FileImportResult[];
  quality: QualityReport;
  sessions: SessionIndexReport;
  features: BuildReport;
}

export interface GradeLine {
  series: 'edge_free' | 'planted_edge';
  instrument: string;
  policy: string;
  params: Record<string, unknown>;
  recommendation: string;
  letter: string;
  score: number;
  trades: number;
  net_pips: number;
  expectancy: number | null;
  sqn: number | null;
  validation_id: number;
  report: string | null;
}

export interface MainJobSummary {
  config_hash: string;
  db: string;
  series: SeriesSummary[];
  train_to: string;
  training: TrainSummary;
  checkpoint: string;
  grades: GradeLine[];
  reports_dir: string;
}

/** The time `share` of the way from the series' first to its last bar, rounded down to a day (UTC). */
function splitDate(first: string, last: string, share: number): string {
  const a = Date.parse(first);
  const b = Date.parse(last);
  const t = a + share * (b - a);
  return new Date(Math.floor(t / 86_400_000) * 86_400_000).toISOString().slice(0, 10);
}

export interface MainJobOptions {
  /** The config with the training preset applied (presets change the network and the search). */
  trainConfig: Config;
  /** Where the validation reports go. */
  reportsDir: string;
}

export async function runMainJob(openStore: () => Promise<Store>, config: Config, opts: MainJobOptions, ev: StageEvents = {}): Promise<MainJobSummary> {
  const mj = config.main;
  const TOTAL = 5;
  const stage = (n: number, what: string) => ev.onStage?.(n, TOTAL, what) ?? (() => undefined);
  const choices = [
    { instrument: config.synth.instrument, edge: false },
    { instrument: mj.edge_instrument, edge: true },
  ];
  let done = stage(1, `synthetic series ${choices.map((c) => `${c.instrument}${c.edge ? ' (planted edge)' : ' (no edge)'}`).join(' and ')}`);
  const files = choices.map((c) => {
    const so = synthOptions(config, { instrument: c.instrument, edge: c.edge });
    const reuse = existsSync(so.file);
    if (reuse) ev.onNote?.(`reusing ${so.file}`);
    return { ...c, so, synth: reuse ? null : writeSynthCsv(so.file, so.gen) };
  });
  done();
  const store = await openStore();
  done = stage(2, 'import, quality check, sessions and features of both series');
  const series: SeriesSummary[] = [];
  for (const f of files) {
    const imports = await importFiles(store, [f.so.file], { instrument: f.instrument, format: 'csv' });
    const quality = await qualityReport(store, config, f.instrument, { from: null, to: null });
    const sessions = await indexSessions(store, config, f.instrument, config.data.session_length, config.data.max_gap_minutes);
    const features = await runFeatureBuild(store, config, f.instrument, config.features.default_set, { quiet: ev.quiet });
    series.push({ instrument: f.instrument, edge: f.edge, file: f.so.file, synth: f.synth, imports, quality, sessions, features });
  }
  done();
  const edge = series[1];
  if (!edge.quality.first || !edge.quality.last) throw new Error(`the planted-edge series ${edge.instrument} holds no bars`);
  const trainTo = splitDate(edge.quality.first, edge.quality.last, mj.train_share);
  const testFrom = new Date(`${trainTo}T00:00:00Z`);
  done = stage(3, `train MuZero (preset ${mj.train_preset}) on ${edge.instrument} before ${trainTo}, at most ${mj.train_minutes} min`);
  const training = await trainFromStore(store, opts.trainConfig, {
    preset: mj.train_preset,
    instrument: edge.instrument,
    range: { from: null, to: testFrom },
    resume: false,
    maxEpisodes: null,
    maxMinutes: mj.train_minutes,
    seed: config.synth.seed,
  });
  done();
  const checkpoint = training.best_checkpoint ?? training.last_checkpoint;
  const grades: GradeLine[] = [];
  const policies: PolicyChoice[] = [
    { name: 'muzero', params: { checkpoint } },
    { name: 'linear', params: {} },
    { name: 'mean-reversion', params: {} },
    { name: 'ma-crossover', params: {} },
  ];
  done = stage(4, `validate ${policies.map((p) => p.name).join(', ')} from ${trainTo} on both series (${mj.validation_sessions} sessions each, walk-forward for the rule policies)`);
  for (const s of series) {
    const key = s.edge ? 'planted_edge' : 'edge_free';
    const common = { instrument: s.instrument, range: { from: testFrom, to: null }, sessions: mj.validation_sessions, seed: config.synth.seed, force: true };
    // The agent at its trained checkpoint; the rule policies also walk forward (a learned agent at a
    // fixed checkpoint has nothing to re-select per fold, and its search makes that the costly part).
    const saved: SavedValidation[] = [
      ...(await runValidations(store, config, { ...common, policies: policies.slice(0, 1), reportDir: path.join(opts.reportsDir, key, 'muzero') })),
      ...(await runValidations(store, config, { ...common, policies: policies.slice(1), walkForward: true, reportDir: path.join(opts.reportsDir, key, 'baselines') })),
    ];
    for (const { id, outcome } of saved) {
      const r = outcome.result;
      grades.push({
        series: key,
        instrument: s.instrument,
        policy: r.policy.name,
        params: r.policy.params,
        recommendation: r.grade.recommendation,
        letter: r.grade.letter,
        score: r.grade.score,
        trades: r.metrics.trades,
        net_pips: r.metrics.net_pips,
        expectancy: r.metrics.expectancy,
        sqn: r.metrics.sqn,
        validation_id: id,
        report: outcome.report?.html ?? null,
      });
    }
  }
  done();
  done = stage(5, 'summary');
  done();
  return { config_hash: configHash(config), db: config.store.db, series, train_to: trainTo, training, checkpoint, grades, reports_dir: opts.reportsDir };
}
