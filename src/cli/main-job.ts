// `swt main` (`npm start`): the whole path on the two embedded synthetic series (src/app/main-job.ts):
// data, features, MuZero training on the planted-edge series, and out-of-sample validation of the agent
// beside the baselines on both; prints the grades and where the reports are.
import type { Command } from 'commander';
import path from 'node:path';
import { action, common, makeContext, printJson, type CommonOpts } from './context.js';
import { printQuality } from './data.js';
import { throughputLine } from './features.js';
import { runMainJob } from '../app/main-job.js';
import { loadConfig } from '../config/load.js';

function step(n: number, total: number, what: string, quiet: boolean): () => void {
  const t0 = performance.now();
  if (!quiet) process.stderr.write(`[${n}/${total}] ${what} …\n`);
  return () => {
    if (!quiet) process.stderr.write(`[${n}/${total}] ${what}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  };
}

const num = (x: number | null, d = 2) => (x === null ? '-' : x.toFixed(d));

export function registerMain(program: Command): void {
  common(program.command('main'))
    .description(
      'run the main job on the embedded synthetic data: both series (edge-free and planted edge) imported, checked, indexed and featured; ' +
        'MuZero trained on the first part of the planted-edge series; the agent and the baselines validated out of sample on the rest of both',
    )
    .option('--json', 'print the summary as JSON: {config_hash, db, series, train_to, training, checkpoint, grades: [{series, policy, recommendation, …}], reports_dir}')
    .option('--quiet', 'no progress lines on stderr')
    .action(
      action(async (o: CommonOpts & { quiet?: boolean }) => {
        const ctx = makeContext(o);
        const quiet = Boolean(o.quiet || o.json);
        const overrides: Record<string, unknown> = {};
        if (o.db) overrides['store.db'] = o.db;
        if (o.logLevel) overrides['log.level'] = o.logLevel;
        const trainConfig = loadConfig({ file: o.config, overrides, preset: ctx.config.main.train_preset });
        const reportsDir = path.join('reports', 'main');
        const r = await runMainJob(() => ctx.openStore(), ctx.config, { trainConfig, reportsDir }, {
          quiet,
          onStage: (n, total, what) => step(n, total, what, quiet),
          onNote: (text) => {
            if (!quiet) process.stderr.write(`      ${text}\n`);
          },
        });
        if (o.json) {
          printJson(r);
        } else {
          process.stdout.write(`\n== swt main job (config ${r.config_hash}, store ${r.db}) ==\n`);
          for (const s of r.series) {
            process.stdout.write(`-- ${s.instrument} (${s.edge ? 'planted edge' : 'no edge'}): ${s.quality.bars} bars, ${s.sessions.sessions} valid session starts\n`);
            printQuality(s.quality);
            process.stdout.write(`${throughputLine(s.features)}\n`);
          }
          const t = r.training;
          process.stdout.write(
            `\ntraining ${t.run_id} (preset ${t.preset}, tfjs ${t.backend}): ${t.episodes} episodes, ${t.env_steps} env steps, ${t.updates} updates in ${t.seconds.toFixed(0)} s; ` +
              `best evaluation SQN ${num(t.best_sqn)}; validated checkpoint ${r.checkpoint}\n`,
          );
          process.stdout.write(`\nout of sample from ${r.train_to}, after costs:\n`);
          process.stdout.write(`${'series'.padEnd(14)}${'policy'.padEnd(16)}${'grade'.padEnd(14)}${'trades'.padStart(8)}${'net pips'.padStart(11)}${'expectancy'.padStart(12)}${'SQN'.padStart(7)}\n`);
          for (const g of r.grades) {
            process.stdout.write(
              `${g.series.padEnd(14)}${g.policy.padEnd(16)}${`${g.recommendation} (${g.letter})`.padEnd(14)}${String(g.trades).padStart(8)}${g.net_pips.toFixed(1).padStart(11)}${num(g.expectancy).padStart(12)}${num(g.sqn).padStart(7)}\n`,
            );
          }
          process.stdout.write(`\nreports: ${r.reports_dir}/<series>/{muzero,baselines}/…/index.html (and report.pdf)\n`);
        }
        if (r.series.some((s) => s.quality.verdict === 'FAIL')) process.exitCode = 1;
      }),
    );
}
