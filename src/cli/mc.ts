// `swt mc`: Monte Carlo risk analysis of a trade list (safe-f, CAR25, stress scenarios).
import type { Command } from 'commander';
import { action, common, makeContext, parseInteger, parseNumber, printJson, UsageError, type CommonOpts } from './context.js';
import type { Config } from '../config/schema.js';
import {
  readGainsFile,
  safeFAsync,
  scenariosAsync,
  SCENARIO_NAMES,
  type Distribution,
  type SafeFOptions,
  type SafeFResult,
  type ScenarioName,
  type ScenariosResult,
} from '../validation/montecarlo.js';

interface McOpts extends CommonOpts {
  trades: string;
  forecast?: number;
  curves?: number;
  ddTolerance?: number;
  tail?: number;
  accuracy?: number;
  maxIterations?: number;
  periodsPerYear?: number;
  maxF?: number;
  repeats?: number;
  seed?: number;
  threads?: number;
}

interface ScenarioOpts extends McOpts {
  adverseGain?: number;
  only?: ScenarioName[];
}

function openRange(name: string, lo: number, hi: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !(n > lo && n < hi)) throw new UsageError(`${name} must be a number in (${lo}, ${hi}), got "${v}"`);
    return n;
  };
}

function scenarioList(v: string): ScenarioName[] {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!SCENARIO_NAMES.includes(n as ScenarioName)) {
      throw new UsageError(`--only: unknown scenario "${n}" (expected a comma list of ${SCENARIO_NAMES.filter((s) => s !== 'original').join(', ')})`);
    }
  }
  return names as ScenarioName[];
}

function mcOptions(cmd: Command): Command {
  return common(cmd)
    .requiredOption('--trades <file>', 'trade list: one fractional gain per line (0.01 = +1%), optional header')
    .option('--forecast <draws>', 'draws per equity curve (default: config montecarlo.forecast, 500)', parseInteger('--forecast', 1))
    .option('--curves <n>', 'equity curves per distribution (default 1000)', parseInteger('--curves', 1))
    .option('--dd-tolerance <x>', 'tolerated tail drawdown, fraction of peak equity in (0, 1) (default 0.10)', openRange('--dd-tolerance', 0, 1))
    .option('--tail <pct>', 'tail percentage in (0, 100): tail risk is the (100 - tail)th percentile of max drawdown (default 5)', openRange('--tail', 0, 100))
    .option('--accuracy <x>', 'solve until |tail risk - tolerance| < accuracy (default 0.003)', parseNumber('--accuracy', 0))
    .option('--max-iterations <n>', 'fixed-point steps before the bisection fallback (default 50)', parseInteger('--max-iterations', 1))
    .option('--periods-per-year <n>', 'draws per year for CAR (default 252: a gain per trading day)', parseNumber('--periods-per-year', 0))
    .option('--max-f <x>', 'leverage cap for safe-f (default 100)', parseNumber('--max-f', 0))
    .option('--repeats <n>', 'independent safe-f solves, mean and sd reported (default 5)', parseInteger('--repeats', 1))
    .option('--seed <n>', 'random seed (default 1)', parseInteger('--seed', 0))
    .option('--threads <n>', 'worker threads, 0 = all cores; results do not depend on it', parseInteger('--threads', 0))
    .option('--json', 'print JSON on stdout');
}

function safeFOptions(o: McOpts, cfg: Config['montecarlo']): SafeFOptions {
  return {
    forecast: o.forecast ?? cfg.forecast,
    curves: o.curves ?? cfg.curves,
    tolerance: o.ddTolerance ?? cfg.dd_tolerance,
    tail: o.tail ?? cfg.tail_pct,
    accuracy: o.accuracy ?? cfg.accuracy,
    maxIterations: o.maxIterations ?? cfg.max_iterations,
    periodsPerYear: o.periodsPerYear ?? cfg.periods_per_year,
    maxF: o.maxF ?? cfg.max_f,
    repeats: o.repeats ?? cfg.repeats,
    seed: o.seed ?? cfg.seed,
    threads: o.threads ?? cfg.threads,
  };
}

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

function distributionTable(d: Distribution): string {
  const rows = Object.keys(d.twr_percentiles).map(
    (k) => `  ${k.padEnd(6)} ${fmt(d.twr_percentiles[k], 4).padStart(10)} ${fmt(d.dd_percentiles[k], 4).padStart(10)} ${fmt(d.car_percentiles[k], 1).padStart(10)}`,
  );
  return [`  ${'pct'.padEnd(6)} ${'TWR'.padStart(10)} ${'max DD'.padStart(10)} ${'CAR %'.padStart(10)}`, ...rows].join('\n');
}

function printSafeF(r: SafeFResult, file: string, trades: number): void {
  const p = r.params;
  const lines = [
    `trades: ${file} (${trades} gains)`,
    `forecast ${p.forecast} draws, ${p.curves} curves, tolerance ${p.tolerance} at the ${100 - p.tail}th percentile, ${p.repeats} repeats, seed ${p.seed}`,
    `safe-f   ${fmt(r.safe_f_mean)} ± ${fmt(r.safe_f_sd)}   (${Object.entries(r.status_counts).map(([k, v]) => `${k} ${v}`).join(', ')})`,
    `CAR25    ${fmt(r.car25_mean, 1)}% ± ${fmt(r.car25_sd, 1)}`,
    `time     ${fmt(r.seconds_per_repeat * 1000, 2)} ms per repeat`,
  ];
  if (r.note) lines.push(`note: ${r.note}`);
  lines.push('at safe-f (pooled over the repeats):', distributionTable(r));
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** JSON view of a scenario run: the figures, without the per-curve arrays. */
export function scenariosJson(r: ScenariosResult): unknown {
  return {
    original_safe_f: r.original_safe_f,
    scenarios: r.scenarios.map((s) => ({
      name: s.name,
      description: s.description,
      trades: s.trades,
      forecast: s.forecast,
      param: s.param,
      safe_f: { ...s.safe_f, curves_data: undefined },
      at_original_f: s.at_original_f && {
        f: s.at_original_f.f,
        twr_percentiles: s.at_original_f.twr_percentiles,
        dd_percentiles: s.at_original_f.dd_percentiles,
        car_percentiles: s.at_original_f.car_percentiles,
      },
    })),
  };
}

function printScenarios(r: ScenariosResult, tolerance: number, tail: number): void {
  const q = `p${100 - tail}`;
  const head = `${'scenario'.padEnd(18)} ${'trades'.padStart(6)} ${'draws'.padStart(6)} ${'safe-f'.padStart(14)} ${'CAR25 %'.padStart(14)} │ ${`DD ${q}`.padStart(8)} ${'CAR p25'.padStart(8)} ${'TWR p50'.padStart(8)}`;
  const lines = [`re-solved under each scenario │ at the original safe-f ${fmt(r.original_safe_f)} (tolerance ${tolerance})`, head];
  for (const s of r.scenarios) {
    const a = s.at_original_f;
    lines.push(
      `${s.name.padEnd(18)} ${String(s.trades).padStart(6)} ${String(s.forecast).padStart(6)} ${`${fmt(s.safe_f.safe_f_mean)}±${fmt(s.safe_f.safe_f_sd)}`.padStart(14)} ${`${fmt(s.safe_f.car25_mean, 1)}±${fmt(s.safe_f.car25_sd, 1)}`.padStart(14)} │ ` +
        (a ? `${fmt(a.dd_percentiles[q] ?? NaN, 4).padStart(8)} ${fmt(a.car_percentiles.p25 ?? NaN, 1).padStart(8)} ${fmt(a.twr_percentiles.p50 ?? NaN, 3).padStart(8)}` : '(original safe-f is 0)'),
    );
  }
  lines.push('', ...r.scenarios.map((s) => `${s.name}: ${s.description}${s.safe_f.note ? ` — ${s.safe_f.note}` : ''}`));
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerMc(program: Command): void {
  const mc = program.command('mc').description('Monte Carlo risk analysis of a trade list: safe-f, CAR25, stress scenarios');

  mcOptions(mc.command('safe-f'))
    .description(
      "solve Bandy's safe-f (the position size whose tail drawdown equals the tolerance) and CAR25 at it;\n" +
        'JSON: safe_f_mean, safe_f_sd, car25_mean, car25_sd, seconds_per_repeat, drawdown/TWR/CAR percentiles',
    )
    .action(
      action(async (opts: McOpts) => {
        const ctx = makeContext(opts);
        const gains = readGainsFile(opts.trades);
        const r = await safeFAsync(gains, safeFOptions(opts, ctx.config.montecarlo));
        if (opts.json) printJson({ trades_file: opts.trades, trades: gains.length, ...r, curves_data: undefined });
        else printSafeF(r, opts.trades, gains.length);
      }),
    );

  mcOptions(mc.command('scenarios'))
    .description(
      'stress scenarios side by side with the original: drop a random 10% of trades, drop the best 20% of\n' +
        'winners, forecast 150% as long, every trade worsened (adverse), early stop (first half of the forecast)',
    )
    .option('--adverse-gain <x>', 'amount subtracted from every gain, in gain units (default: 10% of the mean absolute gain)', parseNumber('--adverse-gain', 0))
    .option('--only <list>', `comma list of scenarios to run besides the original (${SCENARIO_NAMES.slice(1).join(',')})`, scenarioList)
    .action(
      action(async (opts: ScenarioOpts) => {
        const ctx = makeContext(opts);
        const gains = readGainsFile(opts.trades);
        const base = safeFOptions(opts, ctx.config.montecarlo);
        const r = await scenariosAsync(gains, { ...base, adverseGain: opts.adverseGain, only: opts.only });
        if (opts.json) printJson({ trades_file: opts.trades, trades: gains.length, ...(scenariosJson(r) as object) });
        else printScenarios(r, base.tolerance!, base.tail!);
      }),
    );
}
