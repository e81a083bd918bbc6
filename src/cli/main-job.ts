// `swt main` (`npm start`): the main job on the embedded default data, end to end: synthesise the
// default series (reusing the file when it exists), import it (idempotent), check its quality, index
// its sessions, build the default feature set (incremental), run a baseline backtest, and summarise.
// Later stages (training, validation) extend it.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { action, common, makeContext, printJson, type CommonOpts } from './context.js';
import { synthOptions, printImport, printQuality, printSessions } from './data.js';
import { writeSynthCsv } from '../data/synth.js';
import { importFiles } from '../data/import.js';
import { qualityReport } from '../data/quality.js';
import { indexSessions } from '../data/sessions.js';
import { configHash } from '../config/load.js';
import { runFeatureBuild, throughputLine } from './features.js';
import { backtestFromStore } from '../validation/backtest-run.js';
import { printBacktest } from './backtest.js';

function step(n: number, total: number, what: string, quiet: boolean): () => void {
  const t0 = performance.now();
  if (!quiet) process.stderr.write(`[${n}/${total}] ${what} …\n`);
  return () => {
    if (!quiet) process.stderr.write(`[${n}/${total}] ${what}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  };
}

export function registerMain(program: Command): void {
  common(program.command('main'))
    .description('run the main job on the embedded default data: synthesise, import, check, index sessions, build features, baseline backtest')
    .option('--json', 'print the summary as JSON (stages: synth, imports, quality, sessions, features, backtest)')
    .option('--quiet', 'no progress lines on stderr')
    .action(
      action(async (o: CommonOpts & { quiet?: boolean }) => {
        const ctx = makeContext(o);
        const quiet = Boolean(o.quiet || o.json);
        const TOTAL = 6;
        const so = synthOptions(ctx.config, {});
        let done = step(1, TOTAL, `synthetic default data ${so.instrument} ${so.gen.from}..${so.gen.to} (seed ${so.gen.seed})`, quiet);
        const reuse = existsSync(so.file);
        const synth = reuse ? null : writeSynthCsv(so.file, so.gen);
        if (reuse && !quiet) process.stderr.write(`      reusing ${so.file}\n`);
        done();
        const store = await ctx.openStore();
        done = step(2, TOTAL, `import into ${ctx.config.store.db}`, quiet);
        const imports = await importFiles(store, [so.file], { instrument: so.instrument, format: 'csv' });
        done();
        done = step(3, TOTAL, 'data-quality check', quiet);
        const quality = await qualityReport(store, ctx.config, so.instrument, { from: null, to: null });
        done();
        done = step(4, TOTAL, 'session index', quiet);
        const sessions = await indexSessions(store, ctx.config, so.instrument, ctx.config.data.session_length, ctx.config.data.max_gap_minutes);
        done();
        done = step(5, TOTAL, `feature set ${ctx.config.features.default_set} (wavelet scattering + time features)`, quiet);
        const features = await runFeatureBuild(store, ctx.config, so.instrument, ctx.config.features.default_set, { quiet });
        done();
        done = step(6, TOTAL, 'baseline backtest: ma-crossover over every session', quiet);
        const backtest = await backtestFromStore(store, ctx.config, {
          policy: 'ma-crossover',
          params: {},
          instrument: so.instrument,
          range: { from: null, to: null },
          sessions: 'all',
          seed: ctx.config.synth.seed,
          featureSet: null, // a rule-based baseline observes prices only
        });
        done();
        const summary = { config_hash: configHash(ctx.config), db: ctx.config.store.db, file: so.file, synth, imports, quality, sessions, features, backtest: backtest.run };
        if (o.json) {
          printJson(summary);
        } else {
          process.stdout.write(`\n== swt main job (config ${summary.config_hash}, store ${summary.db}) ==\n`);
          printImport(imports);
          printQuality(quality);
          printSessions(sessions);
          process.stdout.write(`${throughputLine(features)}\n`);
          printBacktest(backtest);
        }
        if (quality.verdict === 'FAIL') process.exitCode = 1;
      }),
    );
}
