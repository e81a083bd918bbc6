// Feature builds for the application layer, with a progress bar on a terminal (lines otherwise).
import type { Config } from '../config/schema.js';
import { buildFeatures, type BuildReport } from '../features/store.js';
import type { Store } from '../store/db.js';
import { progress } from '../util/progress.js';

export async function runFeatureBuild(store: Store, config: Config, instrument: string, set: string, opts: { threads?: number; quiet?: boolean } = {}): Promise<BuildReport> {
  let bar: ReturnType<typeof progress> | null = null;
  const report = await buildFeatures(store, config, {
    instrument,
    set,
    threads: opts.threads,
    onProgress: (done, total) => {
      bar ??= progress(`features ${set} ${instrument}`, total, { quiet: opts.quiet });
      bar.update(done);
    },
  });
  (bar as ReturnType<typeof progress> | null)?.stop();
  return report;
}
