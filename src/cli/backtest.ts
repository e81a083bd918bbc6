// `swt backtest`: a policy through the shared environment over stored sessions; trades and the run
// are saved, the metrics printed.
import type { Command } from 'commander';
import { action, collect, common, instrumentArg, makeContext, parseInteger, printJson, sessionsArg, type CommonOpts } from './context.js';
import { parseRange } from '../data/range.js';
import { parseParamArgs, policyNames, getPolicySpec } from '../agent/policies/registry.js';
import { backtestFromStore, type StoredBacktest } from '../app/backtest.js';
import type { Metrics } from '../validation/metrics.js';
import { progress } from '../util/progress.js';
import { fitRangeArg } from './validate.js';

const fmt = (x: number | null, d = 2) => (x === null ? '-' : x.toFixed(d));
const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);

export function metricsLines(m: Metrics): string[] {
  const a = m.actions;
  return [
    `  trades            ${m.trades} (${m.long.trades} long, ${m.short.trades} short, ${m.forced_closes} forced closes)`,
    `  net pips          ${fmt(m.net_pips, 1)}   expectancy ${fmt(m.expectancy)} pips/trade`,
    `  win rate          ${pct(m.win_rate)}   avg win ${fmt(m.avg_win)}  avg loss ${fmt(m.avg_loss)}  payoff ${fmt(m.payoff_ratio)}`,
    `  profit factor     ${fmt(m.profit_factor)}   SQN ${fmt(m.sqn)} (${m.sqn_class})`,
    `  max drawdown      ${fmt(m.max_drawdown_pips, 1)} pips   Sharpe (daily, annualised) ${fmt(m.sharpe)}`,
    `  trades per day    ${fmt(m.trades_per_day)}   avg bars held ${fmt(m.avg_bars_held, 1)}   exposure ${pct(m.exposure)}`,
    `  actions           HOLD ${pct(a.share.HOLD)}  BUY ${pct(a.share.BUY)}  SELL ${pct(a.share.SELL)}  CLOSE ${pct(a.share.CLOSE)} of ${a.decisions} decisions`,
  ];
}

export function printBacktest(b: StoredBacktest): void {
  const r = b.run;
  const params = Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' ');
  process.stdout.write(
    [
      `backtest ${r.run_id}: ${r.policy}${params ? ` (${params})` : ''} on ${r.instrument}`,
      `  data              ${r.data_first} .. ${r.data_last}, ${r.sessions} sessions of ${r.session_length} bars (seed ${r.seed})` +
        (r.sessions_without_features ? `; ${r.sessions_without_features} sessions left out (warm-up or gap rows in feature set ${r.feature_set})` : ''),
      `  costs             ${r.env.spread === 'recorded' ? "each bar's recorded spread" : `spread ${r.env.spread_pips} pips per round trip`} (half at entry, half at exit), ${r.env.units} unit(s)`,
      ...metricsLines(r.metrics),
      `  provenance        config ${r.config_hash}, feature set ${r.feature_set ?? 'none'}, ${r.seconds.toFixed(2)} s`,
    ].join('\n') + '\n',
  );
}



export function registerBacktest(program: Command): void {
  common(program.command('backtest'))
    .description('run a policy through the trading environment over stored sessions; save the trades and print the metrics')
    .requiredOption('--policy <name>', `policy (${policyNames().join(', ')})`)
    .option('--param <k=v>', 'policy parameter (repeatable), e.g. --param fast=10 --param slow=50', collect, [])
    .requiredOption('--instrument <name>', 'instrument', instrumentArg)
    .option('--from <date>', 'start (YYYY-MM-DD or ISO timestamp, UTC)')
    .option('--to <date>', 'end (inclusive date or ISO timestamp, UTC)')
    .option('--sessions <n|all>', 'non-overlapping sessions to run: all, or a seeded sample of N', sessionsArg, 'all' as number | 'all')
    .option('--seed <n>', 'seed for session sampling and stochastic policies', parseInteger('--seed'), 1)
    .option('--set <name>', 'feature set for observations (default: none for rule-based policies, features.default_set otherwise)')
    .option('--fit-from <date>', 'start of the in-sample range of policies fitted before they trade (linear; default: the start of the data)')
    .option('--fit-to <date>', 'end (inclusive) of the in-sample range of fitted policies (default: just before --from)')
    .option('--no-save', 'do not write the run and its trades to the store')
    .option('--json', 'print JSON: {"run": {run_id, policy, params, …, metrics}}')
    .addHelpText('after', `\nPolicies and their parameters:\n${policyNames().map((n) => `  ${n.padEnd(15)} ${getPolicySpec(n).params.map((p) => `${p.name}=${p.default}`).join(' ') || '(none)'}`).join('\n')}\n`)
    .action(
      action(async (o: CommonOpts & { policy: string; param: string[]; instrument: string; from?: string; to?: string; sessions: number | 'all'; seed: number; set?: string; fitFrom?: string; fitTo?: string; save: boolean }) => {
        const ctx = makeContext(o);
        const params = parseParamArgs(o.param);
        getPolicySpec(o.policy);
        const range = parseRange(o.from, o.to);
        const store = await ctx.openStore();
        let bar: ReturnType<typeof progress> | null = null;
        const b = await backtestFromStore(store, ctx.config, {
          policy: o.policy,
          params,
          instrument: o.instrument,
          range,
          sessions: o.sessions,
          seed: o.seed,
          featureSet: o.set ?? null,
          fitRange: fitRangeArg(o),
          save: o.save,
          onEpisode: (done, total) => {
            bar ??= progress('backtest', total, { quiet: Boolean(o.json) });
            bar.update(done);
          },
        });
        (bar as ReturnType<typeof progress> | null)?.stop();
        if (o.json) printJson({ run: b.run });
        else printBacktest(b);
      }),
    );
}
