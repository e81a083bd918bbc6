// The main job (`swt main`, `npm start`) on the embedded default data, end to end: synthesise the
// default series (reusing the file when it exists), import it (idempotent), check its quality, index
// its sessions, build the default feature set (incremental), run a baseline backtest. Stages report
// through `onStage`; nothing here prints.
import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { configHash } from '../config/load.js';
import { writeSynthCsv, type SynthSummary } from '../data/synth.js';
import { importFiles, type FileImportResult } from '../data/import.js';
import { qualityReport, type QualityReport } from '../data/quality.js';
import { indexSessions, type SessionIndexReport } from '../data/sessions.js';
import type { BuildReport } from '../features/store.js';
import type { Store } from '../store/db.js';
import { backtestFromStore, type StoredBacktest } from './backtest.js';
import { runFeatureBuild } from './features.js';
import { synthOptions } from './synth.js';

export interface StageEvents {
  /** A stage starts (n of total); the returned function is called when it is done. */
  onStage?: (n: number, total: number, what: string) => () => void;
  /** A remark inside a stage (e.g. a reused file). */
  onNote?: (text: string) => void;
  quiet?: boolean;
}

export interface MainJobSummary {
  config_hash: string;
  db: string;
  file: string;
  synth: SynthSummary | null;
  imports: FileImportResult[];
  quality: QualityReport;
  sessions: SessionIndexReport;
  features: BuildReport;
  backtest: StoredBacktest;
}

export async function runMainJob(openStore: () => Promise<Store>, config: Config, ev: StageEvents = {}): Promise<MainJobSummary> {
  const TOTAL = 6;
  const stage = (n: number, what: string) => ev.onStage?.(n, TOTAL, what) ?? (() => undefined);
  const so = synthOptions(config, {});
  let done = stage(1, `synthetic default data ${so.instrument} ${so.gen.from}..${so.gen.to} (seed ${so.gen.seed})`);
  const reuse = existsSync(so.file);
  const synth = reuse ? null : writeSynthCsv(so.file, so.gen);
  if (reuse) ev.onNote?.(`reusing ${so.file}`);
  done();
  const store = await openStore();
  done = stage(2, `import into ${config.store.db}`);
  const imports = await importFiles(store, [so.file], { instrument: so.instrument, format: 'csv' });
  done();
  done = stage(3, 'data-quality check');
  const quality = await qualityReport(store, config, so.instrument, { from: null, to: null });
  done();
  done = stage(4, 'session index');
  const sessions = await indexSessions(store, config, so.instrument, config.data.session_length, config.data.max_gap_minutes);
  done();
  done = stage(5, `feature set ${config.features.default_set} (wavelet scattering, directional and time features)`);
  const features = await runFeatureBuild(store, config, so.instrument, config.features.default_set, { quiet: ev.quiet });
  done();
  done = stage(6, 'baseline backtest: ma-crossover over every session');
  const backtest = await backtestFromStore(store, config, {
    policy: 'ma-crossover',
    params: {},
    instrument: so.instrument,
    range: { from: null, to: null },
    sessions: 'all',
    seed: config.synth.seed,
    featureSet: null, // a rule-based baseline observes prices only
  });
  done();
  return { config_hash: configHash(config), db: config.store.db, file: so.file, synth, imports, quality, sessions, features, backtest };
}
