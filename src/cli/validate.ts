// `swt validate` (backtest + metrics + Monte Carlo + scenarios + grade + report, several policies in
// parallel) and `swt walkforward` (parameter selection in sample, test out of sample).
import type { Command } from 'commander';
import path from 'node:path';
import { action, collect, common, makeContext, parseInteger, parseNumber, printJson, sessionsArg, UsageError, type CommonOpts, type Ctx } from './context.js';
import { parseRange, type TimeRange } from '../data/range.js';
import { getPolicySpec, parseParamArgs, parsePolicyArg, policyNames, resolvePolicyParams } from '../agent/policies/registry.js';
import { parseScenarios, type ValidationResult } from '../validation/validate.js';
import type { JobOutcome } from '../validation/parallel.js';
import { parseGridArgs, type WalkForwardMode, type WalkForwardObjective, type WalkForwardResult } from '../validation/walkforward.js';
import { runValidations, runWalkForward, watchValidations, type PolicyChoice } from '../app/validate.js';
import { progress } from '../util/progress.js';
import { loadConfig } from '../config/load.js';

interface MarketOpts extends CommonOpts {
  instrument?: string;
  from?: string;
  to?: string;
  fitFrom?: string;
  fitTo?: string;
  sessions?: number | 'all';
  seed?: number;
}

/** --fit-from/--fit-to (null when neither is given). */
export function fitRangeArg(o: { fitFrom?: string; fitTo?: string }): TimeRange | null {
  if (o.fitFrom === undefined && o.fitTo === undefined) return null;
  const r = parseRange(o.fitFrom, o.fitTo);
  return r;
}

function marketOptions(cmd: Command): Command {
  return cmd
    .option('--instrument <name>', 'instrument (default: the only one in the store)')
    .option('--from <date>', 'start (YYYY-MM-DD or ISO timestamp, UTC)')
    .option('--to <date>', 'end (inclusive date or ISO timestamp, UTC)')
    .option('--sessions <n|all>', "sessions to run: 'all' (every non-overlapping session, default) or a seeded sample of N", sessionsArg)
    .option('--seed <n>', 'seed of the session sample, stochastic policies and the Monte Carlo (default montecarlo.seed)', parseInteger('--seed', 0))
    .option('--fit-from <date>', 'start of the in-sample range of policies fitted before they trade (linear; default: the start of the data)')
    .option('--fit-to <date>', 'end (inclusive) of the in-sample range of fitted policies (default: just before --from)');
}

// ------------------------------------------------------------------------------------------ validate

interface ValidateOpts extends MarketOpts {
  watch?: boolean;
  interval?: number;
  maxValidations?: number;
  run?: string[];
  policy?: string[];
  param?: string[];
  scenarios?: string;
  gains?: string;
  walkForward?: boolean;
  out?: string;
  report?: boolean;
  force?: boolean;
  workers?: number;
}

/** `NAME` or `NAME:k=v,k=v`; --param only with a single policy. */
export function parsePolicyArgs(policies: string[], params: string[]): PolicyChoice[] {
  if (policies.length === 0) throw new UsageError(`give --policy NAME (known: ${policyNames().join(', ')})`);
  if (params.length > 0 && policies.length > 1) {
    throw new UsageError('--param applies to a single --policy; with several, give parameters inline: --policy NAME:k=v,k=v');
  }
  return policies.map((p) => {
    const { name, params: inline } = parsePolicyArg(p);
    const given = { ...inline, ...parseParamArgs(params) };
    if (params.length > 0) for (const k of Object.keys(parseParamArgs(params))) if (Object.hasOwn(inline, k)) throw new UsageError(`parameter ${k} given inline and with --param`);
    getPolicySpec(name);
    resolvePolicyParams(name, given); // fail before any work
    return { name, params: given };
  });
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** The JSON view of a validation on stdout: everything but the chart data (that is in validation.json). */
function resultView(r: ValidationResult): unknown {
  const { charts: _charts, ...rest } = r;
  return rest;
}

function printValidation(id: number, o: JobOutcome): void {
  const r = o.result;
  const g = r.grade;
  const params = Object.entries(r.policy.params).map(([k, v]) => `${k}=${v}`).join(', ');
  const lines = [
    `${o.key}${params ? ` (${params})` : ''}: grade ${g.letter} (score ${g.score.toFixed(1)}) → ${g.recommendation}: ${g.rationale}`,
    `  trades ${r.metrics.trades}, net ${r.metrics.net_pips.toFixed(1)} pips, win rate ${r.metrics.win_rate === null ? '-' : (100 * r.metrics.win_rate).toFixed(1) + '%'}, ` +
      `profit factor ${r.metrics.profit_factor?.toFixed(2) ?? '-'}; ` +
      (r.montecarlo.status === 'no_trades'
        ? 'Monte Carlo not run: no trade closed'
        : `safe-f ${r.montecarlo.safe_f_mean.toFixed(3)}, CAR25 ${r.montecarlo.car25_mean.toFixed(1)}%, ` +
          `worst DD p${r.dd95_worst.percentile} ${(100 * r.dd95_worst.value).toFixed(1)}% (${r.dd95_worst.scenario ?? '-'})`),
    ...g.failed_gates.map((x) => `  failed: ${x.label}: ${x.reason}`),
  ];
  if (o.report) lines.push(`  report: ${o.report.html}  ${o.report.pdf}  (${o.report.pages} pages)`);
  lines.push(`  saved as validation #${id} (${r.timings.total.toFixed(2)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `--watch`: validate every new best checkpoint of a learned policy until stopped. */
async function watch(ctx: Ctx, o: ValidateOpts): Promise<void> {
  if ((o.run ?? []).length > 0) throw new UsageError('--watch validates new checkpoints: it does not take --run');
  const [choice, ...more] = parsePolicyArgs(o.policy ?? [], o.param ?? []);
  if (more.length > 0) throw new UsageError('--watch takes one --policy');
  const store = await ctx.openStore({ hold: 'unit' });
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (stop = r));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (!o.json) process.stderr.write(`watching the checkpoints of ${ctx.config.store.db} for a new best (every ${o.interval} s; Ctrl-C stops)\n`);
  const saved = await watchValidations(store, ctx.config, {
    policy: choice,
    intervalSeconds: o.interval ?? 30,
    maxValidations: o.maxValidations ?? null,
    stop: stopped,
    instrument: o.instrument,
    range: parseRange(o.from, o.to),
    fitRange: fitRangeArg(o),
    sessions: o.sessions,
    seed: o.seed,
    scenarios: o.scenarios !== undefined ? parseScenarios(o.scenarios) : undefined,
    gains: o.gains as 'trade' | 'daily' | 'auto' | undefined,
    walkForward: Boolean(o.walkForward),
    reportDir: o.report !== false ? (o.out ?? path.join('reports', `watch-${stamp()}`)) : null,
    force: Boolean(o.force),
    workers: o.workers,
    onValidated: (v, ck) => {
      if (!o.json) {
        process.stdout.write(`new best checkpoint ${ck}:\n`);
        printValidation(v.id, v.outcome);
      }
    },
  });
  if (o.json) printJson({ validations: saved.map(({ id, outcome: oc }) => ({ id, key: oc.key, checkpoint: oc.result.policy.params.checkpoint, report: oc.report, result: resultView(oc.result) })) });
}

function registerValidateCommand(program: Command): void {
  marketOptions(common(program.command('validate')))
    .description(
      'backtest one or more policies, then metrics, Monte Carlo safe-f/CAR25, stress scenarios, grade and recommendation ' +
        'with an HTML + PDF report each; several --policy values are validated in parallel (--workers); results go to ' +
        'the validations table',
    )
    .option('--run <run_id>', 'validate a stored backtest run (swt backtest; repeatable): its policy, parameters, sessions and seed, re-run and checked against the stored trades', collect, [])
    .option('--policy <name[:k=v,...]>', 'policy to validate (repeatable; parameters inline, e.g. mean-reversion:window=120,entry_z=2.5)', collect, [])
    .option('--param <k=v>', 'policy parameter (repeatable; only with a single --policy)', collect, [])
    .option('--scenarios <list>', "stress scenarios: all, none or a comma list (default validation.scenarios, all)")
    .option('--gains <mode>', 'trade (per-trade gains), daily (daily marked-to-market) or auto (default validation.gains)')
    .option('--walk-forward', 'also run a walk-forward of the policy (config validation.walkforward, declared grid) and add it to the report')
    .option('--out <dir>', 'report directory (several policies: one sub-directory each; default reports/validate-<time>)')
    .option('--no-report', 'skip the HTML/PDF report (the result is still saved in the store)')
    .option('--force', 'overwrite the report files of an existing report directory')
    .option('--watch', 'validate each new best checkpoint (by evaluation SQN) of the learned --policy as training saves it, until stopped (Ctrl-C)')
    .option('--interval <s>', 'with --watch: seconds between looks at the checkpoints table', parseNumber('--interval', 0.1), 30)
    .option('--max-validations <n>', 'with --watch: stop after this many validations', parseInteger('--max-validations', 1))
    .option('--workers <n>', 'parallel validations (piscina threads); 0 = auto: min(cores, policies) with --walk-forward, else 1, since the native Monte Carlo already uses every core (default validation.workers)', parseInteger('--workers', 0))
    .option('--json', 'print JSON: {"validations": [{id, key, report, result (without chart data)}]}')
    .action(
      action(async (o: ValidateOpts) => {
        const ctx = makeContext(o);
        if (o.watch) return watch(ctx, o);
        const byRun = (o.run ?? []).length > 0;
        if (byRun && ((o.policy ?? []).length > 0 || (o.param ?? []).length > 0 || o.from || o.to || o.fitFrom || o.fitTo || o.sessions !== undefined || o.seed !== undefined || o.instrument)) {
          throw new UsageError('--run takes its policy, parameters, instrument, range, fit range, sessions and seed from the stored run: give none of --policy/--param/--instrument/--from/--to/--fit-from/--fit-to/--sessions/--seed');
        }
        const policies = byRun ? undefined : parsePolicyArgs(o.policy ?? [], o.param ?? []);
        const scenarios = o.scenarios !== undefined ? parseScenarios(o.scenarios) : undefined;
        if (o.gains !== undefined && !['trade', 'daily', 'auto'].includes(o.gains)) throw new UsageError(`--gains must be trade, daily or auto, got "${o.gains}"`);
        const store = await ctx.openStore();
        let bar: ReturnType<typeof progress> | null = null;
        const saved = await runValidations(store, ctx.config, {
          runs: o.run,
          policies,
          instrument: o.instrument,
          range: parseRange(o.from, o.to),
          fitRange: fitRangeArg(o),
          sessions: o.sessions,
          seed: o.seed,
          scenarios,
          gains: o.gains as 'trade' | 'daily' | 'auto' | undefined,
          walkForward: Boolean(o.walkForward),
          reportDir: o.report !== false ? (o.out ?? path.join('reports', `validate-${stamp()}`)) : null,
          force: Boolean(o.force),
          workers: o.workers,
          onJobDone: (done, total) => {
            bar ??= progress('validate', total, { quiet: Boolean(o.json) || total < 2 });
            bar.update(done);
          },
        });
        (bar as ReturnType<typeof progress> | null)?.stop();
        if (o.json) {
          printJson({ validations: saved.map(({ id, outcome: oc }) => ({ id, key: oc.key, report: oc.report, result: resultView(oc.result) })) });
        } else saved.forEach(({ id, outcome }) => printValidation(id, outcome));
      }),
    );
}

// ------------------------------------------------------------------------------------------ walkforward

interface WalkForwardOpts extends MarketOpts {
  trainPreset?: string;
  trainMinutes?: number;
  trainEpisodes?: number;
  policy: string;
  param?: string[];
  paramGrid?: string[];
  folds?: number;
  mode?: string;
  isRatio?: number;
  objective?: string;
  minTrades?: number;
}

function printWalkForward(r: WalkForwardResult): void {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `walk-forward: ${r.policy}, ${r.folds} folds ${r.mode}, in-sample ${r.is_ratio}x out-of-sample, objective ${r.objective} (>= ${r.min_trades} IS trades), ${r.grid_points} grid points${r.skipped_points ? ` (${r.skipped_points} skipped by constraints)` : ''}`,
    `${'fold'.padEnd(5)}${'parameters'.padEnd(40)}${'IS trades'.padStart(10)}${'IS pips'.padStart(10)}${'IS ret/yr'.padStart(11)}${'OOS trades'.padStart(11)}${'OOS pips'.padStart(10)}${'OOS ret/yr'.padStart(11)}${'eff'.padStart(8)}`,
  ];
  for (const f of r.fold_results) {
    const params = Object.entries(f.params).map(([k, v]) => `${k}=${v}`).join(',') + (f.eligible ? '' : ' *');
    lines.push(
      `${String(f.fold).padEnd(5)}${params.padEnd(40)}${String(f.in_sample.trades).padStart(10)}${f.in_sample.net_pips.toFixed(0).padStart(10)}${pct(f.in_sample.annual_return).padStart(11)}` +
        `${String(f.out_of_sample.trades).padStart(11)}${f.out_of_sample.net_pips.toFixed(0).padStart(10)}${pct(f.out_of_sample.annual_return).padStart(11)}${(f.efficiency === null ? '-' : f.efficiency.toFixed(2)).padStart(8)}`,
    );
  }
  lines.push(
    `out of sample: ${r.oos_trades} trades, ${r.oos_net_pips.toFixed(1)} net pips, ${pct(r.oos_annual_return)} a year (in sample ${pct(r.is_annual_return)}); ` +
      `efficiency ${r.efficiency === null ? '-' : r.efficiency.toFixed(2)}; ${r.positive_oos_folds}/${r.folds} folds positive`,
  );
  if (r.fold_results.some((f) => !f.eligible)) lines.push(`* no grid point reached ${r.min_trades} in-sample trades: the best one overall was taken`);
  lines.push(r.definition);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function registerWalkForwardCommand(program: Command): void {
  marketOptions(common(program.command('walkforward')))
    .description(
      'walk-forward analysis: on each fold choose the policy parameters in sample (grid search), test them out of ' +
        'sample; per-fold report and walk-forward efficiency (OOS / |IS| annualised return)',
    )
    .requiredOption('--policy <name>', `policy (known: ${policyNames().join(', ')})`)
    .option('--param <k=v>', 'parameter held fixed (repeatable)', collect, [])
    .option('--param-grid <k=a,b,c>', "searched parameter and its values (repeatable; default: the policy's declared grids)", collect, [])
    .option('--folds <n>', 'folds (default validation.walkforward.folds)', parseInteger('--folds', 1))
    .option('--mode <mode>', 'rolling (fixed in-sample window) or anchored (growing from the start)')
    .option('--is-ratio <n>', 'in-sample length in out-of-sample blocks (default validation.walkforward.is_ratio)', parseInteger('--is-ratio', 1))
    .option('--objective <name>', 'net_pips or expectancy (default validation.walkforward.objective)')
    .option('--min-trades <n>', 'in-sample trades a grid point needs to be chosen (default validation.walkforward.min_trades)', parseInteger('--min-trades', 1))
    .option('--train-preset <name>', 'retrain the learned policy (muzero, ppo) on each fold\'s in-sample range with this training preset, then test the checkpoint it trained out of sample')
    .option('--train-minutes <m>', 'with --train-preset: training minutes per fold', parseNumber('--train-minutes', 0.01))
    .option('--train-episodes <n>', 'with --train-preset: training episodes per fold', parseInteger('--train-episodes', 1))
    .option('--json', 'print the walk-forward result as JSON')
    .action(
      action(async (o: WalkForwardOpts) => {
        const ctx = makeContext(o);
        const wfc = ctx.config.validation.walkforward;
        const mode = (o.mode ?? wfc.mode) as WalkForwardMode;
        if (mode !== 'rolling' && mode !== 'anchored') throw new UsageError(`--mode must be rolling or anchored, got "${o.mode}"`);
        const objective = (o.objective ?? wfc.objective) as WalkForwardObjective;
        if (objective !== 'net_pips' && objective !== 'expectancy') throw new UsageError(`--objective must be net_pips or expectancy, got "${o.objective}"`);
        const grid = parseGridArgs(o.paramGrid ?? []);
        const fixed = parseParamArgs(o.param ?? []);
        getPolicySpec(o.policy);
        if (o.fitFrom || o.fitTo) throw new UsageError('walk-forward fits each fold on its own in-sample part: --fit-from/--fit-to do not apply');
        const store = await ctx.openStore();
        const folds = o.folds ?? wfc.folds;
        const bar = progress('walk-forward', folds, { quiet: Boolean(o.json) });
        const { instrument, market, result: r } = await runWalkForward(store, ctx.config, {
          policy: o.policy,
          grid,
          fixed,
          instrument: o.instrument,
          range: parseRange(o.from, o.to),
          sessions: o.sessions,
          seed: o.seed,
          folds,
          mode,
          isRatio: o.isRatio,
          objective,
          minTrades: o.minTrades,
          onFold: (d) => bar.update(d),
          train: o.trainPreset
            ? { preset: o.trainPreset, config: loadConfig({ file: o.config, overrides: o.db ? { 'store.db': o.db } : {}, preset: o.trainPreset, algo: getPolicySpec(o.policy).learner }), maxMinutes: o.trainMinutes ?? null, maxEpisodes: o.trainEpisodes ?? null }
            : undefined,
        });
        bar.stop();
        if (o.json) printJson({ instrument, data_first: market.first, data_last: market.last, sessions: market.episodes.start.length, ...r });
        else printWalkForward(r);
      }),
    );
}

export function registerValidate(program: Command): void {
  registerValidateCommand(program);
  registerWalkForwardCommand(program);
}
