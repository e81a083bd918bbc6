// `swt validate` (backtest + metrics + Monte Carlo + scenarios + grade + report, several policies in
// parallel) and `swt walkforward` (parameter selection in sample, test out of sample).
import type { Command } from 'commander';
import path from 'node:path';
import { action, collect, common, makeContext, parseInteger, printJson, sessionsArg, UsageError, type CommonOpts, type Ctx } from './context.js';
import { configHash } from '../config/load.js';
import { parseRange, type TimeRange } from '../data/range.js';
import { weekCalendar } from '../data/calendar.js';
import { envConfigFromConfig, envDocument, type EnvConfig } from '../env/config.js';
import { loadMarket, type Market } from '../env/market.js';
import { getPolicySpec, parseParamArgs, policyNames, resolvePolicyParams } from '../agent/policies/registry.js';
import { openMinutesPerWeek } from '../validation/gains.js';
import { checkReportDir } from '../validation/report/index.js';
import { defaultWorkers, shareMarket, ValidationPool, type JobOutcome, type PolicyJob } from '../validation/parallel.js';
import { saveValidation } from '../validation/persist.js';
import { parseScenarios, validationSettings, type ValidationResult } from '../validation/validate.js';
import { parseGridArgs, walkForward, type WalkForwardMode, type WalkForwardObjective, type WalkForwardResult } from '../validation/walkforward.js';
import type { Store } from '../store/db.js';
import { loadFeatures } from '../features/store.js';
import { getRun, type RunRecord } from '../validation/runs.js';
import { progress } from '../util/progress.js';

interface MarketOpts extends CommonOpts {
  instrument?: string;
  from?: string;
  to?: string;
  sessions?: number | 'all';
  seed?: number;
}

/** Market options that reproduce a stored run's sessions (the run's feature set filters them as it did). */
interface RunMarket {
  range: TimeRange;
  featureSet: string | null;
}

async function pickInstrument(store: Store, given: string | undefined): Promise<string> {
  if (given) return given;
  const rows = await store.all<{ instrument: string }>('SELECT DISTINCT instrument FROM bars ORDER BY instrument');
  if (rows.length === 1) return rows[0].instrument;
  if (rows.length === 0) throw new UsageError('the store holds no bars: import or synthesise data first (swt data import | swt data synth)');
  throw new UsageError(`the store holds several instruments (${rows.map((r) => r.instrument).join(', ')}): choose one with --instrument`);
}

interface LoadedMarket {
  market: Market;
  range: TimeRange;
  env: EnvConfig;
  seed: number;
  instrument: string;
}

async function loadFor(ctx: Ctx, o: MarketOpts, fromRun?: RunMarket): Promise<LoadedMarket> {
  const store = await ctx.openStore();
  const instrument = await pickInstrument(store, o.instrument);
  const range = fromRun?.range ?? parseRange(o.from, o.to);
  const featureSet = fromRun?.featureSet ?? null;
  const seed = o.seed ?? ctx.config.montecarlo.seed;
  const env = envConfigFromConfig(ctx.config, instrument);
  const market = await loadMarket(store, {
    instrument,
    range,
    sessionLength: ctx.config.data.session_length,
    maxGap: ctx.config.data.max_gap_minutes,
    sessions: o.sessions ?? 'all',
    seed,
    stack: ctx.config.env.stack,
  }, featureSet
    ? async (bars) => {
        const f = await loadFeatures(store, featureSet, instrument, bars.ts);
        return { set: f.set.name, hash: f.set.hash, matrix: { data: f.data, nFeatures: f.nFeatures }, ok: (t: number) => f.status[t] === 0 };
      }
    : undefined);
  // The rule-based policies validated here read prices only: the feature matrix only chose the sessions.
  return { market: { ...market, features: null }, range, env, seed, instrument };
}

const isoOrNull = (d: Date | null) => (d ? d.toISOString().replace('.000Z', 'Z') : null);

function marketOptions(cmd: Command): Command {
  return cmd
    .option('--instrument <name>', 'instrument (default: the only one in the store)')
    .option('--from <date>', 'start (YYYY-MM-DD or ISO timestamp, UTC)')
    .option('--to <date>', 'end (inclusive date or ISO timestamp, UTC)')
    .option('--sessions <n|all>', "sessions to run: 'all' (every non-overlapping session, default) or a seeded sample of N", sessionsArg)
    .option('--seed <n>', 'seed of the session sample, stochastic policies and the Monte Carlo (default montecarlo.seed)', parseInteger('--seed', 0));
}

// ------------------------------------------------------------------------------------------ validate

interface ValidateOpts extends MarketOpts {
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

interface PolicyChoice {
  name: string;
  params: Record<string, string | number>;
}

/** `NAME` or `NAME:k=v,k=v`; --param only with a single policy. */
export function parsePolicyArgs(policies: string[], params: string[]): PolicyChoice[] {
  if (policies.length === 0) throw new UsageError(`give --policy NAME (known: ${policyNames().join(', ')})`);
  if (params.length > 0 && policies.length > 1) {
    throw new UsageError('--param applies to a single --policy; with several, give parameters inline: --policy NAME:k=v,k=v');
  }
  return policies.map((p) => {
    const colon = p.indexOf(':');
    const name = colon < 0 ? p : p.slice(0, colon);
    const inline = colon < 0 ? [] : p.slice(colon + 1).split(',').filter((s) => s.trim() !== '');
    const given = parseParamArgs([...inline, ...params]);
    getPolicySpec(name);
    resolvePolicyParams(name, given); // fail before any work
    return { name, params: given };
  });
}

function jobKeys(choices: PolicyChoice[]): string[] {
  const seen = new Map<string, number>();
  return choices.map((c) => {
    const n = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, n);
    const dup = choices.filter((x) => x.name === c.name).length > 1;
    return dup ? `${c.name}-${n}` : c.name;
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
      `profit factor ${r.metrics.profit_factor?.toFixed(2) ?? '-'}; safe-f ${r.montecarlo.safe_f_mean.toFixed(3)}, CAR25 ${r.montecarlo.car25_mean.toFixed(1)}%, ` +
      `worst DD p${r.dd95_worst.percentile} ${(100 * r.dd95_worst.value).toFixed(1)}% (${r.dd95_worst.scenario ?? '-'})`,
    ...g.failed_gates.map((x) => `  failed: ${x.label}: ${x.reason}`),
  ];
  if (o.report) lines.push(`  report: ${o.report.html}  ${o.report.pdf}  (${o.report.pages} pages)`);
  lines.push(`  saved as validation #${id} (${r.timings.total.toFixed(2)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `--run` (repeatable): the stored runs to validate; market options come from each run. */
async function loadRunsToValidate(ctx: Ctx, o: ValidateOpts): Promise<RunRecord[]> {
  if ((o.policy ?? []).length > 0 || (o.param ?? []).length > 0 || o.from || o.to || o.sessions !== undefined || o.seed !== undefined || o.instrument) {
    throw new UsageError('--run takes its policy, parameters, instrument, range, sessions and seed from the stored run: give none of --policy/--param/--instrument/--from/--to/--sessions/--seed');
  }
  const store = await ctx.openStore();
  const runs: RunRecord[] = [];
  for (const id of o.run ?? []) {
    const run = await getRun(store, id);
    if (!run) {
      const recent = await store.all<{ run_id: string }>('SELECT run_id FROM runs ORDER BY created_at DESC LIMIT 3');
      throw new UsageError(`no stored run "${id}"${recent.length ? ` (latest: ${recent.map((r) => r.run_id).join(', ')})` : ' (run `swt backtest` first)'}`);
    }
    if (runs.some((r) => r.run_id === run.run_id)) throw new UsageError(`--run ${id} given twice`);
    runs.push(run);
  }
  return runs;
}

function runMarket(run: RunRecord): RunMarket {
  return { range: { from: run.range_from ? new Date(run.range_from) : null, to: run.range_to ? new Date(run.range_to) : null }, featureSet: run.feature_set };
}

/** A run is validated by re-running it; refuse when that no longer gives its stored trades. */
function checkReproduced(run: RunRecord, r: ValidationResult): void {
  const same = r.metrics.trades === run.metrics.trades && r.metrics.net_pips === run.metrics.net_pips;
  if (!same) {
    throw new UsageError(
      `run ${run.run_id} is not reproduced by the current data and config (stored: ${run.metrics.trades} trades, ${run.metrics.net_pips.toFixed(2)} net pips; ` +
        `now: ${r.metrics.trades} trades, ${r.metrics.net_pips.toFixed(2)} net pips; config hash then ${run.config_hash}): re-run the backtest and validate the new run`,
    );
  }
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
    .option('--workers <n>', 'parallel validations (piscina threads); 0 = auto: min(cores, policies) with --walk-forward, else 1, since the native Monte Carlo already uses every core (default validation.workers)', parseInteger('--workers', 0))
    .option('--json', 'print JSON: {"validations": [{id, key, report, result (without chart data)}]}')
    .action(
      action(async (o: ValidateOpts) => {
        const ctx = makeContext(o);
        const cfg = ctx.config;
        const runs = (o.run ?? []).length > 0 ? await loadRunsToValidate(ctx, o) : null;
        const choices = runs ? runs.map((r) => ({ name: r.policy, params: r.params })) : parsePolicyArgs(o.policy ?? [], o.param ?? []);
        const scenarios = o.scenarios !== undefined ? parseScenarios(o.scenarios) : undefined;
        if (o.gains !== undefined && !['trade', 'daily', 'auto'].includes(o.gains)) throw new UsageError(`--gains must be trade, daily or auto, got "${o.gains}"`);
        const keys = runs ? runs.map((r) => r.run_id) : jobKeys(choices);
        const reportOn = o.report !== false;
        const base = o.out ?? path.join('reports', `validate-${stamp()}`);
        const dirs = keys.map((k) => (reportOn ? (choices.length === 1 ? base : path.join(base, k)) : null));
        // Refuse an existing report directory before any work is done.
        if (reportOn && choices.length > 1) checkReportDir(base, Boolean(o.force));
        for (const d of dirs) if (d) checkReportDir(d, Boolean(o.force));
        // Workers start loading their modules while the market loads.
        const wanted = o.workers ?? cfg.validation.workers;
        const pool = await ValidationPool.open(wanted === 0 ? defaultWorkers(choices.length, Boolean(o.walkForward)) : Math.min(wanted, choices.length));
        try {
          // Policies share one market; stored runs each bring their own (instrument, range, sessions, seed).
          const markets: LoadedMarket[] = runs
            ? await Promise.all(runs.map((r) => loadFor(ctx, { ...o, instrument: r.instrument, sessions: r.sessions, seed: r.seed }, runMarket(r))))
            : [await loadFor(ctx, o)];
          const sharedMarkets = markets.map((m) => shareMarket(m.market));
          const wfc = cfg.validation.walkforward;
          const generatedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
          const jobs: PolicyJob[] = choices.map((c, i) => {
            const lm = markets[runs ? i : 0];
            return {
              key: keys[i],
              policy: c.name,
              params: c.params,
              seed: lm.seed,
              env: lm.env,
              batch: cfg.env.batch,
              settings: validationSettings(cfg, { scenarios, gains: o.gains as 'trade' | 'daily' | 'auto' | undefined, seed: lm.seed }),
              provenance: {
                run_id: runs?.[i].run_id ?? null,
                config_hash: configHash(cfg),
                range_from: isoOrNull(lm.range.from),
                range_to: isoOrNull(lm.range.to),
                sessions_requested: runs ? runs[i].sessions : (o.sessions ?? 'all'),
                seed: lm.seed,
                env: envDocument(lm.env),
              },
              walkForward: o.walkForward
                ? { folds: wfc.folds, mode: wfc.mode, isRatio: wfc.is_ratio, objective: wfc.objective, minTrades: wfc.min_trades, seed: lm.seed, fixed: c.params, batch: cfg.env.batch, openMinutesPerWeek: openMinutesPerWeek(weekCalendar(cfg)) }
                : null,
              openMinutesPerWeek: openMinutesPerWeek(weekCalendar(cfg)),
              reportDir: dirs[i],
              force: Boolean(o.force),
              generatedAt,
            };
          });
          const bar = progress('validate', jobs.length, { quiet: Boolean(o.json) || jobs.length < 2 });
          const outcomes = await pool.run(jobs, jobs.map((_j, i) => sharedMarkets[runs ? i : 0]), (_x, done) => bar.update(done));
          bar.stop();
          runs?.forEach((r, i) => checkReproduced(r, outcomes[i].result));
          const store = await ctx.openStore();
          const ids: number[] = [];
          await store.transaction(async () => {
            for (const oc of outcomes) ids.push(await saveValidation(store, oc.result, oc.report?.dir ?? null));
          });
          if (o.json) {
            printJson({ validations: outcomes.map((oc, i) => ({ id: ids[i], key: oc.key, report: oc.report, result: resultView(oc.result) })) });
          } else outcomes.forEach((oc, i) => printValidation(ids[i], oc));
        } finally {
          await pool.close();
        }
      }),
    );
}

// ------------------------------------------------------------------------------------------ walkforward

interface WalkForwardOpts extends MarketOpts {
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
        const lm = await loadFor(ctx, o);
        const folds = o.folds ?? wfc.folds;
        const bar = progress('walk-forward', folds, { quiet: Boolean(o.json) });
        const r = walkForward(lm.market, lm.env, {
          policy: o.policy,
          grid,
          fixed,
          folds,
          mode,
          isRatio: o.isRatio ?? wfc.is_ratio,
          objective,
          minTrades: o.minTrades ?? wfc.min_trades,
          seed: lm.seed,
          batch: ctx.config.env.batch,
          openMinutesPerWeek: openMinutesPerWeek(weekCalendar(ctx.config)),
          onFold: (d) => bar.update(d),
        });
        bar.stop();
        if (o.json) printJson({ instrument: lm.instrument, data_first: lm.market.first, data_last: lm.market.last, sessions: lm.market.episodes.start.length, ...r });
        else printWalkForward(r);
      }),
    );
}

export function registerValidate(program: Command): void {
  registerValidateCommand(program);
  registerWalkForwardCommand(program);
}
