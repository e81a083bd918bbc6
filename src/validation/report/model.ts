// The report's content, once: a list of blocks built from a ValidationResult. html.ts and pdf.ts render
// the same blocks, so the two documents say the same thing.
import type { FanChart, Histogram, ValidationResult } from '../validate.js';
import { barChart, boxPlotChart, COLORS, emptyChart, histogramChart, lineChart, type BoxStats, type Chart } from './chart.js';

export type Block =
  | { t: 'title'; text: string; sub: string[] }
  | { t: 'grade'; letter: string; score: number; recommendation: string; rationale: string; failed: string[] }
  | { t: 'h2'; text: string }
  | { t: 'p'; text: string }
  | { t: 'table'; id: string; columns: string[]; rows: string[][]; widths: number[]; align: Array<'l' | 'r'>; rowClass?: Array<'pass' | 'fail' | null> }
  | { t: 'charts'; charts: Chart[] }
  | { t: 'pagebreak' };

/** Chart ids every report of a run that traded carries (tests check them in both documents). */
export const REPORT_CHARTS = ['equity', 'fan', 'dd-histogram', 'car-histogram', 'scenario-car', 'scenario-dd', 'actions'] as const;

export const FULL_WIDTH = 515;
export const HALF_WIDTH = 255;

const dash = '—';

export function fmtNum(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return dash;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtPct(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return dash;
  return `${fmtNum(100 * v, digits)}%`;
}

/** A CAR in % per year (already a percentage). */
function fmtCar(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return dash;
  return `${fmtNum(v, Math.abs(v) >= 1000 ? 0 : 1)}%`;
}

function paramsText(p: Readonly<Record<string, number | string>>): string {
  const e = Object.entries(p);
  return e.length ? e.map(([k, v]) => `${k}=${v}`).join(', ') : 'no parameters';
}

function box(label: string, t: Record<string, number>, k = 1): BoxStats {
  return { label, p5: t.p5 * k, p25: t.p25 * k, p50: t.p50 * k, p75: t.p75 * k, p95: t.p95 * k };
}

/** A fractional gain in basis points. */
const bp = (x: number | null) => fmtNum(x === null ? null : x * 1e4, 3);

/** Chart ids of the report of a run that closed no trade: only the decisions (what it did instead). */
export const NO_TRADE_REPORT_CHARTS = ['actions'] as const;

type TradedCharts = { fan: FanChart; dd: Histogram; car: Histogram };

export function buildReport(r: ValidationResult, generatedAt: string): Block[] {
  const c = r.charts;
  // The curves exist exactly when a trade closed (validate.ts); without them the report says so once.
  const traded: TradedCharts | null = c.fan && c.dd_hist && c.car_hist ? { fan: c.fan, dd: c.dd_hist, car: c.car_hist } : null;
  return [
    ...gradeBlocks(r, generatedAt),
    ...(traded ? [...metricsBlocks(r), ...monteCarloBlocks(r, traded), ...scenarioBlocks(r, traded.fan)] : noTradeBlocks(r)),
    ...walkForwardBlocks(r),
    ...(traded ? [{ t: 'h2', text: 'Action distribution' } as const, actionsChart(r)] : []),
    ...provenanceBlocks(r),
  ];
}

function gradeBlocks(r: ValidationResult, generatedAt: string): Block[] {
  const m = r.metrics;
  const pv = r.provenance;
  const g = r.grade;
  const blocks: Block[] = [];

  blocks.push({
    t: 'title',
    text: `Validation: ${r.policy.name}`,
    sub: [
      `${paramsText(r.policy.params)} · ${pv.instrument} · ${pv.data_first ?? '?'} .. ${pv.data_last ?? '?'}`,
      `${m.trades} trades in ${pv.sessions_run} sessions · config ${pv.config_hash} · seed ${pv.seed} · generated ${generatedAt}`,
    ],
  });
  blocks.push({
    t: 'grade',
    letter: g.letter,
    score: g.score,
    recommendation: g.recommendation,
    rationale: g.rationale,
    failed: g.failed_gates.map((x) => `${x.label}: ${x.reason}`),
  });
  blocks.push({ t: 'h2', text: 'Gates' });
  blocks.push({
    t: 'table',
    id: 'gates',
    columns: ['Gate', 'Value', 'Required', 'Result', 'Why it failed'],
    widths: [3, 1.3, 1.3, 1, 4],
    align: ['l', 'r', 'r', 'l', 'l'],
    rows: g.gates.map((x) => {
      const v = x.name === 'min_car25' ? fmtCar(x.value) : x.name === 'max_dd95' || x.name === 'min_win_rate' ? fmtPct(x.value) : x.name === 'min_trades' ? String(x.value ?? dash) : fmtNum(x.value);
      const th = x.name === 'min_car25' ? `${x.op} ${x.threshold}%` : x.name === 'max_dd95' || x.name === 'min_win_rate' ? `${x.op} ${fmtPct(x.threshold, 0)}` : `${x.op} ${x.threshold}`;
      return [x.label, v, th, x.passed ? 'pass' : 'FAIL', x.reason ?? ''];
    }),
    rowClass: g.gates.map((x) => (x.passed ? 'pass' : 'fail')),
  });
  blocks.push({ t: 'h2', text: 'Composite score' });
  blocks.push({
    t: 'p',
    text: `Score ${fmtNum(g.score, 1)} / 100 = Σ weight × sub-score. Letter: A+ >= 90, A >= 80, B >= 70, C >= 60, D >= 50, F below. DEPLOY needs every gate and a score of at least ${g.deploy_min_score}.`,
  });
  blocks.push({
    t: 'table',
    id: 'score',
    columns: ['Component', 'Weight', 'Measured', 'Score', 'Definition'],
    widths: [2.2, 1, 1.3, 1, 6],
    align: ['l', 'r', 'r', 'r', 'l'],
    rows: g.components.map((c) => [
      c.label,
      `${Math.round(c.weight * 100)}%`,
      c.name === 'risk_adjusted_return' ? fmtCar(c.input) : c.name === 'expectancy' ? (c.input === null ? dash : `${fmtNum(c.input, 3)} R`) : fmtPct(c.input),
      fmtNum(c.score, 1),
      c.definition,
    ]),
  });
  blocks.push({ t: 'pagebreak' });
  return blocks;
}

function metricsTable(r: ValidationResult): Block {
  const m = r.metrics;
  const pairs: Array<[string, string]> = [
    ['Trades', String(m.trades)],
    ['Net pips', fmtNum(m.net_pips, 1)],
    ['Win rate', fmtPct(m.win_rate)],
    ['Expectancy (pips/trade)', fmtNum(m.expectancy)],
    ['Profit factor', fmtNum(m.profit_factor)],
    ['Payoff ratio', fmtNum(m.payoff_ratio)],
    ['Average win (pips)', fmtNum(m.avg_win)],
    ['Average loss (pips)', fmtNum(m.avg_loss)],
    ['SQN', `${fmtNum(m.sqn)} (${m.sqn_class})`],
    ['Max drawdown (pips)', fmtNum(m.max_drawdown_pips, 1)],
    ['Sharpe (annualised, daily)', fmtNum(m.sharpe)],
    ['Days', String(m.days)],
    ['Trades per day', fmtNum(m.trades_per_day)],
    ['Average bars held', fmtNum(m.avg_bars_held, 1)],
    ['Exposure', fmtPct(m.exposure)],
    ['Forced closes', String(m.forced_closes)],
    ['Long trades / win rate', `${m.long.trades} / ${fmtPct(m.long.win_rate)}`],
    ['Short trades / win rate', `${m.short.trades} / ${fmtPct(m.short.win_rate)}`],
    ['Profitable days', fmtPct(r.profitable_day_share)],
    ['Trades per year', fmtNum(r.gains.trades_per_year, 0)],
  ];
  const half = Math.ceil(pairs.length / 2);
  return {
    t: 'table',
    id: 'metrics',
    columns: ['Metric', 'Value', 'Metric', 'Value'],
    widths: [3, 1.6, 3, 1.6],
    align: ['l', 'r', 'l', 'r'],
    rows: pairs.slice(0, half).map((p, i) => [p[0], p[1], pairs[half + i]?.[0] ?? '', pairs[half + i]?.[1] ?? '']),
  };
}

function metricsBlocks(r: ValidationResult): Block[] {
  const blocks: Block[] = [];
  blocks.push({ t: 'h2', text: 'Backtest metrics' });
  blocks.push(metricsTable(r));
  const eq = r.charts.equity;
  blocks.push({
    t: 'charts',
    charts: [
      lineChart({
        id: 'equity',
        title: 'Backtest equity: cumulative net pips by trade',
        width: FULL_WIDTH,
        height: 230,
        x: eq.x,
        series: [{ label: 'cumulative net pips', y: eq.y, color: COLORS.line }],
        xLabel: 'trade number',
        yLabel: 'net pips',
        ref: 0,
      }),
    ],
  });
  blocks.push({ t: 'pagebreak' });
  return blocks;
}

function monteCarloBlocks(r: ValidationResult, { fan, dd, car }: TradedCharts): Block[] {
  const mc = r.montecarlo;
  const fLabel = fan.fallback ? `f = ${fmtNum(fan.f, 2)} (safe-f is 0: curves drawn at one unit of notional)` : `safe-f = ${fmtNum(fan.f, 3)}`;
  const blocks: Block[] = [];
  blocks.push({ t: 'h2', text: 'Monte Carlo: safe-f and CAR25' });
  blocks.push({
    t: 'p',
    text:
      `Gains: ${r.gains.mode === 'trade' ? 'per trade' : 'daily marked-to-market'} (${r.gains.mode_reason}); ${r.gains.count} gains, mean ${bp(r.gains.mean)} bp, sd ${bp(r.gains.sd)} bp. ` +
      `Horizon ${r.gains.forecast} draws = ${r.gains.forecast_years} years at ${fmtNum(r.gains.periods_per_year, 1)} draws a year (run length ${fmtNum(r.gains.years, 3)} market years, from its ${r.gains.years_basis}). ` +
      `safe-f ${fmtNum(mc.safe_f_mean, 3)} ± ${fmtNum(mc.safe_f_sd, 3)} and CAR25 ${fmtCar(mc.car25_mean)} ± ${fmtNum(mc.car25_sd, 1)}: the fraction of equity per unit of notional whose ${100 - mc.tail}th-percentile drawdown equals ${fmtPct(mc.tolerance, 0)}, ` +
      `${mc.curves} curves, ${mc.repeats} repeats, seed ${mc.seed}; status ${mc.status}.${mc.note ? ` Note: ${mc.note}.` : ''}`,
  });
  const ps = Object.keys(mc.twr_percentiles);
  blocks.push({
    t: 'table',
    id: 'mc-percentiles',
    columns: ['At safe-f', ...ps],
    widths: [2.4, ...ps.map(() => 1)],
    align: ['l', ...ps.map(() => 'r' as const)],
    rows: [
      ['TWR (final equity multiple)', ...ps.map((p) => fmtNum(mc.twr_percentiles[p], 3))],
      ['Max drawdown', ...ps.map((p) => fmtPct(mc.dd_percentiles[p]))],
      ['CAR (% per year)', ...ps.map((p) => fmtCar(mc.car_percentiles[p]))],
    ],
  });
  blocks.push({
    t: 'charts',
    charts: [
      lineChart({
        id: 'fan',
        title: `Equity fan: ${fan.curves} curves of ${fan.forecast} draws at ${fLabel}`,
        width: FULL_WIDTH,
        height: 250,
        x: fan.x,
        band: { lo: fan.p5, hi: fan.p95, label: '5-95% band', color: COLORS.band },
        series: [
          { label: 'median', y: fan.p50, color: COLORS.median, width: 1.8 },
          { label: 'best curve', y: fan.best, color: COLORS.best, width: 1 },
          { label: 'worst curve', y: fan.worst, color: COLORS.worst, width: 1 },
        ],
        xLabel: `draws (${r.gains.mode === 'trade' ? 'trades' : 'days'})`,
        yLabel: 'equity (multiple of start)',
        yLog: 'auto',
        ref: 1,
      }),
    ],
  });
  blocks.push({
    t: 'charts',
    charts: [
      histogramChart({
        id: 'dd-histogram',
        title: 'Max drawdown per curve',
        width: HALF_WIDTH,
        height: 200,
        edges: dd.edges,
        counts: dd.counts,
        marker: { value: dd.marker.value, label: `${dd.marker.name} = ${fmtPct(dd.marker.value)}` },
        xLabel: 'max drawdown (% of peak)',
        xScale: 100,
      }),
      histogramChart({
        id: 'car-histogram',
        title: 'CAR per curve',
        width: HALF_WIDTH,
        height: 200,
        edges: car.edges,
        counts: car.counts,
        marker: { value: car.marker.value, label: `p25 (CAR25) = ${fmtCar(car.marker.value)}` },
        xLabel: 'CAR (% per year)',
      }),
    ],
  });
  blocks.push({ t: 'pagebreak' });
  return blocks;
}

function scenarioBlocks(r: ValidationResult, fan: FanChart): Block[] {
  const g = r.grade;
  const tailKey = `p${r.dd95_worst.percentile}`;
  const blocks: Block[] = [];
  blocks.push({ t: 'h2', text: 'Stress scenarios' });
  const withF = r.scenarios.filter((s) => s.at_f);
  const atF = withF[0]?.at_f?.f;
  blocks.push({
    t: 'p',
    text:
      `Each scenario is drawn at the original ${fan.fallback ? 'fallback f' : 'safe-f'} (${fmtNum(atF ?? NaN, 3)}), the size a trader would be running, and safe-f / CAR25 are also re-solved under it. ` +
      `Worst ${r.dd95_worst.percentile}th-percentile drawdown: ${fmtPct(r.dd95_worst.value)} (${r.dd95_worst.scenario ?? dash}); the drawdown gate is ${fmtPct(g.gates.find((x) => x.name === 'max_dd95')?.threshold ?? NaN, 0)}.`,
  });
  const carBoxes = withF.map((s) => box(s.name, s.at_f!.car_percentiles));
  const ddBoxes = withF.map((s) => box(s.name, s.at_f!.dd_percentiles, 100));
  const ddGate = g.gates.find((x) => x.name === 'max_dd95');
  const carGate = g.gates.find((x) => x.name === 'min_car25');
  blocks.push({
    t: 'charts',
    charts:
      withF.length > 0
        ? [
            boxPlotChart({ id: 'scenario-car', title: 'CAR by scenario', width: HALF_WIDTH, height: 230, boxes: carBoxes, yLabel: 'CAR (% per year)', ref: carGate ? { value: carGate.threshold, label: `gate ${carGate.threshold}%` } : undefined }),
            boxPlotChart({ id: 'scenario-dd', title: 'Max drawdown by scenario', width: HALF_WIDTH, height: 230, boxes: ddBoxes, yLabel: 'max drawdown (% of peak)', ref: ddGate ? { value: ddGate.threshold * 100, label: `gate ${fmtPct(ddGate.threshold, 0)}` } : undefined }),
          ]
        : [
            emptyChart('scenario-car', 'CAR by scenario', HALF_WIDTH, 230, 'no curves drawn'),
            emptyChart('scenario-dd', 'Max drawdown by scenario', HALF_WIDTH, 230, 'no curves drawn'),
          ],
  });
  blocks.push({
    t: 'table',
    id: 'scenarios',
    columns: ['Scenario', 'Trades', 'Draws', 'safe-f (re-solved)', 'CAR25 (re-solved)', `DD p${r.dd95_worst.percentile} at f`, 'CAR p25 at f', 'TWR p50 at f'],
    widths: [2.3, 0.9, 0.9, 1.8, 2.3, 1.4, 1.5, 1.6],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows: r.scenarios.map((s) => [
      s.name,
      String(s.trades),
      String(s.forecast),
      `${fmtNum(s.safe_f_mean, 3)} ± ${fmtNum(s.safe_f_sd, 3)}`,
      `${fmtCar(s.car25_mean)} ± ${fmtNum(s.car25_sd, 1)}`,
      fmtPct(s.at_f?.dd_percentiles[tailKey]),
      fmtCar(s.at_f?.car_percentiles.p25),
      fmtNum(s.at_f?.twr_percentiles.p50, 3),
    ]),
  });
  blocks.push({
    t: 'table',
    id: 'scenario-descriptions',
    columns: ['Scenario', 'What it does'],
    widths: [2.3, 9],
    align: ['l', 'l'],
    rows: r.scenarios.map((s) => [
      s.name,
      s.description + (s.name === 'adverse' ? ` = ${r.gains.adverse_pips} pip${r.gains.adverse_pips === 1 ? '' : 's'} per trade` : '') + (s.note ? ` (${s.note})` : ''),
    ]),
  });
  blocks.push({ t: 'pagebreak' });
  return blocks;
}

/**
 * The page of a run that closed no trade: the verdict's reason in words, what the policy did instead
 * (its decisions), and the metrics as computed, in place of charts that would have nothing to draw.
 */
function noTradeBlocks(r: ValidationResult): Block[] {
  const m = r.metrics;
  const mc = r.montecarlo;
  const did = r.actions.names.map((n, i) => `${n} ${fmtPct(r.actions.share[i])}`).join(', ');
  return [
    { t: 'h2', text: 'No trade closed' },
    {
      t: 'p',
      text:
        `The policy closed no trade over ${r.provenance.sessions_run} sessions (${m.days} days, ${m.actions.decisions} decisions: ${did}). ` +
        'There is nothing to size and nothing to deploy: with no gains to resample, no Monte Carlo curve is drawn and no stress scenario runs. ' +
        `safe-f is ${fmtNum(mc.safe_f_mean, 0)} (do not trade); an account that never trades neither grows nor draws down, so CAR25 is ${fmtCar(mc.car25_mean)} and the tail drawdown ${fmtPct(r.dd95_worst.value)}.`,
    },
    actionsChart(r),
    { t: 'h2', text: 'Backtest metrics' },
    metricsTable(r),
    { t: 'pagebreak' },
  ];
}

function walkForwardBlocks(r: ValidationResult): Block[] {
  const blocks: Block[] = [];
  const wf = r.walkforward;
  if (wf) {
    blocks.push({ t: 'h2', text: 'Walk-forward' });
    blocks.push({
      t: 'p',
      text:
        `${wf.folds} folds, ${wf.mode}, in-sample ${wf.is_ratio}× the out-of-sample block; objective ${wf.objective} among grid points with >= ${wf.min_trades} in-sample trades; ` +
        `${wf.grid_points} grid points (${Object.entries(wf.grid).map(([k, v]) => `${k} ∈ {${v.join(', ')}}`).join('; ') || 'none'})${wf.skipped_points ? `, ${wf.skipped_points} skipped by constraints` : ''}. ` +
        `Out of sample: ${wf.oos_trades} trades, ${fmtNum(wf.oos_net_pips, 1)} net pips, ${fmtPct(wf.oos_annual_return)} a year vs ${fmtPct(wf.is_annual_return)} in sample; efficiency ${fmtNum(wf.efficiency, 2)}; ${wf.positive_oos_folds} of ${wf.folds} folds positive. (${wf.definition}.)`,
    });
    blocks.push({
      t: 'table',
      id: 'walkforward',
      columns: ['Fold', 'Parameters', 'IS period', 'IS trades', 'IS net pips', 'IS return/yr', 'OOS period', 'OOS trades', 'OOS net pips', 'OOS return/yr', 'Eff.'],
      widths: [0.7, 3, 2.4, 1, 1.2, 1.2, 2.4, 1, 1.2, 1.2, 1.1],
      align: ['r', 'l', 'l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r'],
      rows: wf.fold_results.map((f) => [
        String(f.fold),
        paramsText(f.params) + (f.eligible ? '' : ' (below min trades)'),
        `${f.in_sample.from.slice(0, 10)} .. ${f.in_sample.to.slice(0, 10)}`,
        String(f.in_sample.trades),
        fmtNum(f.in_sample.net_pips, 0),
        fmtPct(f.in_sample.annual_return),
        `${f.out_of_sample.from.slice(0, 10)} .. ${f.out_of_sample.to.slice(0, 10)}`,
        String(f.out_of_sample.trades),
        fmtNum(f.out_of_sample.net_pips, 0),
        fmtPct(f.out_of_sample.annual_return),
        fmtNum(f.efficiency, 2),
      ]),
      rowClass: wf.fold_results.map((f) => (f.out_of_sample.net_pips > 0 ? 'pass' : 'fail')),
    });
  }
  return blocks;
}

function actionsChart(r: ValidationResult): Block {
  const shares = r.actions.share.map((s) => s ?? 0);
  return {
    t: 'charts',
    charts: [
      barChart({
        id: 'actions',
        title: `Decisions by action (${r.metrics.actions.decisions} decisions)`,
        width: FULL_WIDTH,
        height: 170,
        labels: r.actions.names,
        values: shares.map((s) => 100 * s),
        valueLabels: shares.map((s, i) => `${fmtPct(s)} (${r.actions.counts[i]})`),
        yLabel: '% of decisions',
      }),
    ],
  };
}

function provenanceBlocks(r: ValidationResult): Block[] {
  const pv = r.provenance;
  const mc = r.montecarlo;
  const blocks: Block[] = [];
  blocks.push({ t: 'h2', text: 'Provenance' });
  const env = pv.env;
  blocks.push({
    t: 'table',
    id: 'provenance',
    columns: ['Item', 'Value'],
    widths: [2.5, 8],
    align: ['l', 'l'],
    rows: [
      ['Policy', `${r.policy.name} (${paramsText(r.policy.params)})`],
      ['Run id', pv.run_id ?? dash],
      ['Instrument', pv.instrument],
      ['Data range', `${pv.data_first ?? '?'} .. ${pv.data_last ?? '?'}`],
      ['Requested range', `${pv.range_from ?? 'start'} .. ${pv.range_to ?? 'end'}`],
      ['Sessions', `${pv.sessions_run} run (requested ${pv.sessions_requested ?? dash}, ${pv.sessions_available ?? dash} available) of ${pv.session_length ?? dash} bars`],
      ['Feature set', pv.feature_set ?? 'none (the policy reads bars only)'],
      ['Config hash', pv.config_hash],
      ['Seed', String(pv.seed)],
      ['Costs', `pip ${env.pip_size}, ${env.spread === 'recorded' ? "each bar's recorded spread" : `spread ${env.spread_pips} pips`} per round trip, ${env.units} units, reward ${env.reward.mode}`],
      [
        'Monte Carlo',
        mc.status === 'no_trades'
          ? `not run: no trade closed (settings: ${mc.curves} curves, tolerance ${fmtPct(mc.tolerance, 0)} at p${100 - mc.tail}, ${mc.repeats} repeats, seed ${mc.seed})`
          : `${mc.curves} curves × ${r.gains.forecast} draws, tolerance ${fmtPct(mc.tolerance, 0)} at p${100 - mc.tail}, ${mc.repeats} repeats, seed ${mc.seed}`,
      ],
      ['Result schema', r.schema],
    ],
  });
  return blocks;
}
