// `swt main` (`npm start`): the main job on the embedded default data, end to end: synthesise the
// default series (reusing the file when it exists), import it (idempotent), check its quality, index
// its sessions, build the default feature set (incremental), run a baseline backtest, and summarise.
// Later stages (training, validation) extend it.
import type { Command } from 'commander';
import { action, common, makeContext, printJson, type CommonOpts } from './context.js';
import { printImport, printQuality, printSessions } from './data.js';
import { throughputLine } from './features.js';
import { printBacktest } from './backtest.js';
import { runMainJob } from '../app/main-job.js';

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
        const r = await runMainJob(() => ctx.openStore(), ctx.config, {
          quiet,
          onStage: (n, total, what) => step(n, total, what, quiet),
          onNote: (text) => {
            if (!quiet) process.stderr.write(`      ${text}\n`);
          },
        });
        const { backtest, ...rest } = r;
        if (o.json) {
          printJson({ ...rest, backtest: backtest.run });
        } else {
          process.stdout.write(`\n== swt main job (config ${r.config_hash}, store ${r.db}) ==\n`);
          printImport(r.imports);
          printQuality(r.quality);
          printSessions(r.sessions);
          process.stdout.write(`${throughputLine(r.features)}\n`);
          printBacktest(backtest);
        }
        const quality = r.quality;
        if (quality.verdict === 'FAIL') process.exitCode = 1;
      }),
    );
}
