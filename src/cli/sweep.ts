// `swt sweep`: explores a configuration space (a YAML space file) by successive halving, scoring each
// configuration with the validation composite score on out-of-sample sessions; state in the store
// (sweeps, sweep_trials), so a killed sweep continues with --resume. Progress on a terminal, quiet
// otherwise; --json prints the summary.
import type { Command } from 'commander';
import { action, common, makeContext, parseInteger, parseNumber, printJson, type CommonOpts } from './context.js';
import { runSweep, type SweepProgress, type SweepSummary } from '../app/sweep.js';
import { configLoader } from '../validation/sweep/space.js';

interface SweepOpts extends CommonOpts {
  space: string;
  maxMinutes?: number;
  targetScore?: number;
  resume?: boolean;
  workers?: number;
  out?: string;
  report?: boolean;
  force?: boolean;
}

const paramsText = (p: Record<string, number | string>) => Object.entries(p).map(([k, v]) => `${k}=${v}`).join(',');

/** One status line, rewritten in place (a terminal only). */
function progressLine(p: SweepProgress): string {
  const c = p.champion;
  return (
    `sweep #${p.sweep_id}: ${p.evaluations_run} evaluations (${p.trials_per_second.toFixed(2)}/s), stages [${p.stage_counts.join(' ')}]` +
    (c ? `, champion trial ${c.trial} score ${c.score.toFixed(1)} at stage ${c.stage} (${paramsText(c.params)})` : '')
  );
}

function printSummary(s: SweepSummary): void {
  const c = s.champion;
  const lines = [
    `sweep #${s.sweep_id} ${s.name}: ${s.status} (${s.stop_reason}), ${s.trials} trials, ${s.evaluations} evaluations (${s.evaluations_reused} reused), ${s.full_budget_equivalents.toFixed(1)} full-budget equivalents, ${s.trials_per_minute.toFixed(1)} evaluations/min`,
    ...s.stages.map((x) => `  stage ${x.stage}: ${s.stage_episodes ? `${s.stage_episodes[x.stage]} training episodes, ` : ''}${x.sessions} sessions, ${x.evaluations} evaluations, best ${x.best?.toFixed(1) ?? '-'}, median ${x.median?.toFixed(1) ?? '-'}`),
    c
      ? `  champion: trial ${c.trial} (${paramsText(c.params)})${c.checkpoint_id ? ` checkpoint ${c.checkpoint_id}` : ''} score ${c.score.toFixed(1)} ${c.grade} at stage ${c.stage}; validated on the ${c.validated_on === 'holdout' ? 'holdout' : 'out-of-sample range'}: ${c.validation_score?.toFixed(1) ?? '-'} ${c.validation_grade ?? ''} ${c.validation_recommendation ?? ''}${c.validation_id !== null ? ` (validation #${c.validation_id})` : ''}`
      : '  no champion: nothing was evaluated',
  ];
  if (s.report) lines.push(`  report: ${s.report}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerSweep(program: Command): void {
  common(program.command('sweep'))
    .description(
      'explore a configuration space (YAML: policy, out-of-sample range, parameter ranges/choices, sampler, stages; a train: block ' +
          'searches training hyper-parameters, each trial training its own agent for the stage\'s episodes) by random or Sobol ' +
        'sampling and successive halving; scores are the validation composite score on out-of-sample sessions; state in the store ' +
        '(--resume continues a killed sweep); ends with the champion validated and an HTML report',
    )
    .requiredOption('--space <file.yaml>', 'the space file')
    .option('--max-minutes <m>', 'stop after this many minutes (then --resume continues)', parseNumber('--max-minutes', 0))
    .option('--target-score <s>', 'stop as soon as a last-stage score reaches this composite score', parseNumber('--target-score', 0))
    .option('--resume', 'continue the latest unfinished sweep of this space file (finished evaluations are kept)')
    .option('--workers <n>', "parallel evaluations (piscina threads); 0 = auto: 1 for rule policies, up to one per core for policies that observe features (default: the space's workers, 0)", parseInteger('--workers', 0))
    .option('--out <dir>', 'report directory (default reports/sweep-<id>)')
    .option('--force', 'write the report into an existing --out directory (its report files are replaced)')
    .option('--no-report', 'no HTML report and no champion report files (the champion is still validated and saved)')
    .option('--json', 'print the summary as JSON')
    .action(
      action(async (o: SweepOpts) => {
        const ctx = makeContext(o);
        const store = await ctx.openStore({ hold: 'unit' });
        const tty = !o.json && process.stderr.isTTY;
        const summary = await runSweep(store, ctx.config, {
          spaceFile: o.space,
          maxMinutes: o.maxMinutes ?? null,
          targetScore: o.targetScore ?? null,
          resume: Boolean(o.resume),
          workers: o.workers,
          reportDir: o.report === false ? null : o.out,
          force: Boolean(o.force),
          // A training sweep's trials load the same config file and store as the command.
          trainConfig: configLoader({ file: o.config, overrides: { 'store.db': ctx.config.store.db, 'log.level': ctx.config.log.level } }),
          // Cut to the terminal's width: a wrapped line could not be rewritten in place.
          onProgress: tty ? (p) => process.stderr.write(`\r\x1b[2K${progressLine(p).slice(0, Math.max(20, (process.stderr.columns || 200) - 1))}`) : undefined,
        });
        if (tty) process.stderr.write('\n');
        if (o.json) printJson(summary);
        else printSummary(summary);
      }),
    );
}
