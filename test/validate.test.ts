import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers/paths.js';
import { pdfPageCount, pdfTextRuns } from './helpers/pdf.js';
import { NO_TRADE_REPORT_CHARTS, REPORT_CHARTS, writeReport } from '../src/validation/report/index.js';
import { makePolicy } from './helpers/policy.js';
import { createPolicy } from '../src/agent/policies/registry.js';
import { loadConfig } from '../src/config/load.js';
import { generateBars } from '../src/data/synth.js';
import { weekCalendar } from '../src/data/calendar.js';
import { envConfig, envDocument } from '../src/env/config.js';
import { sessionEpisodes } from '../src/env/episodes.js';
import type { BarSeries, EpisodeSet } from '../src/env/types.js';
import { runBacktest, type BacktestResult } from '../src/validation/backtest.js';
import { bootstrap, MonteCarloInputError } from '../src/validation/montecarlo.js';
import { NO_TRADES_NOTE, parseScenarios, validateBacktest, validationSettings, type Provenance, type ValidateInput, type ValidationResult } from '../src/validation/validate.js';
import { walkForward } from '../src/validation/walkforward.js';

const config = loadConfig();
const env = envConfig({});
let bars: BarSeries;
let episodes: EpisodeSet;

/** Two months of synthetic bars with the planted edge, in memory, cut into gap-free 360-bar sessions. */
function synth(): void {
  const c: number[][] = [[], [], [], [], []];
  generateBars({ from: '2024-01-01', to: '2024-02-29', seed: 11, startPrice: 150, pipSize: 0.01, calendar: weekCalendar(config), edge: true }, (ms, o, h, l, cl) => {
    c[0].push(ms);
    c[1].push(o);
    c[2].push(h);
    c[3].push(l);
    c[4].push(cl);
  });
  const [ts, open, high, low, close] = c.map((x) => Float64Array.from(x));
  bars = { ts, open, high, low, close };
  const starts: number[] = [];
  for (let s = 0; s + 360 <= ts.length; s += 360) if (ts[s + 359] - ts[s] <= 369 * 60_000) starts.push(s);
  episodes = sessionEpisodes(starts, 360, ts.length);
}

const provenance = (): Provenance => ({
  instrument: 'SYN_GBPJPY',
  run_id: null,
  config_hash: 'test',
  feature_set: null,
  data_first: null,
  data_last: null,
  range_from: null,
  range_to: null,
  sessions_requested: 'all',
  sessions_run: episodes.start.length,
  sessions_available: episodes.start.length,
  session_length: 360,
  seed: 1,
  env: envDocument(env),
});

async function backtest(policy: string, params: Record<string, number> = {}): Promise<BacktestResult> {
  return await runBacktest({ bars, episodes, policy: (await makePolicy(policy, params, 1)), env });
}

function input(bt: BacktestResult, over: Partial<ValidateInput> = {}): ValidateInput {
  return { backtest: bt, bars, episodes, env, provenance: provenance(), settings: validationSettings(config), ...over };
}

let edgeRun: BacktestResult;
let edgeResult: ValidationResult;

beforeAll(async () => {
  synth();
  edgeRun = await backtest('mean-reversion', { window: 240, entry_z: 1.5, exit_z: 0 });
  edgeResult = await validateBacktest(input(edgeRun));
}, 60_000);

describe('validateBacktest', () => {
  it('solves safe-f on the run\'s gains over a 2-year horizon and grades it', () => {
    const r = edgeResult;
    expect(r.schema).toBe('swt.validation/3');
    expect(r.metrics.trades).toBe(edgeRun.trades.count);
    expect(r.metrics.expectancy!).toBeGreaterThan(0);
    // Horizon: 2 years of the run's own draws (trades or days per market year).
    expect(r.gains.forecast).toBe(Math.round(2 * r.gains.periods_per_year!));
    expect(r.gains.years_basis).toBe('episodes');
    expect(r.montecarlo.safe_f_mean).toBeGreaterThan(0);
    expect(r.montecarlo.car25_mean).toBeGreaterThan(0);
    expect(['DEPLOY', 'TEST', 'IMPROVE']).toContain(r.grade.recommendation);
    expect(r.grade.gates.map((g) => g.name)).toEqual(['min_car25', 'max_dd95', 'min_profit_factor', 'min_win_rate', 'min_trades']);
  });

  it('runs every scenario beside the original, at the original safe-f, and gates on the worst tail drawdown', async () => {
    const r = edgeResult;
    expect(r.scenarios.map((s) => s.name)).toEqual(['original', 'drop_random', 'drop_best_winners', 'longer_forecast', 'adverse', 'early_stop']);
    for (const s of r.scenarios) expect(s.at_f!.f).toBe(r.montecarlo.safe_f_mean);
    const worst = Math.max(...r.scenarios.map((s) => s.at_f!.dd_percentiles.p95));
    expect(r.dd95_worst.value).toBe(worst);
    expect(r.grade.gates.find((g) => g.name === 'max_dd95')!.value).toBe(worst);
    // The adverse scenario costs 1 pip per trade, in gain units of a draw.
    expect(r.gains.adverse_pips).toBe(1);
    expect(r.gains.adverse_gain).toBeCloseTo((0.01 * r.gains.trades_per_draw!) / (edgeRun.trades.entryPrice.slice(0, edgeRun.trades.count).reduce((a, b) => a + b, 0) / edgeRun.trades.count), 15);
    // Stress lowers what the system earns at the same size.
    const car = (n: string) => r.scenarios.find((s) => s.name === n)!.at_f!.car_percentiles.p25;
    expect(car('adverse')).toBeLessThan(car('original'));
    expect(car('drop_best_winners')).toBeLessThan(car('original'));
  });

  it('draws the charts from one batch of curves at safe-f: fan, drawdown and CAR histograms with their percentiles', async () => {
    const r = edgeResult;
    const fan = r.charts.fan!;
    expect(fan.f).toBe(r.montecarlo.safe_f_mean);
    expect(fan.fallback).toBe(false);
    expect(fan.x[0]).toBe(0);
    expect(fan.x[fan.x.length - 1]).toBe(r.gains.forecast);
    expect(fan.p5[0]).toBe(1);
    for (let i = 0; i < fan.x.length; i++) {
      expect(fan.p5[i]).toBeLessThanOrEqual(fan.p50[i]);
      expect(fan.p50[i]).toBeLessThanOrEqual(fan.p95[i]);
      expect(fan.worst[i]).toBeGreaterThan(0);
    }
    expect(fan.best[fan.best.length - 1]).toBeGreaterThanOrEqual(fan.p95[fan.p95.length - 1]);
    expect(fan.worst[fan.worst.length - 1]).toBeLessThanOrEqual(fan.p5[fan.p5.length - 1]);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(r.charts.dd_hist!.counts)).toBe(r.montecarlo.curves);
    expect(sum(r.charts.car_hist!.counts)).toBe(r.montecarlo.curves);
    // The fan's curves are the original scenario's curves at safe-f (same seed): same percentiles.
    expect(r.charts.dd_hist!.marker.value).toBe(r.scenarios[0].at_f!.dd_percentiles.p95);
    expect(r.charts.car_hist!.marker.value).toBe(r.scenarios[0].at_f!.car_percentiles.p25);
    // At safe-f the 95th-percentile drawdown sits at the tolerance, up to sampling error.
    expect(Math.abs(r.charts.dd_hist!.marker.value - 0.1)).toBeLessThan(0.02);
  });

  it('is reproducible: the same run and seed give the same result', async () => {
    const again = await validateBacktest(input(edgeRun));
    expect({ ...again, timings: null }).toEqual({ ...edgeResult, timings: null });
  });

  it('scenarios can be limited, and gains forced per trade', async () => {
    const r = await validateBacktest(input(edgeRun, { settings: validationSettings(config, { scenarios: parseScenarios('adverse,early_stop'), gains: 'trade' }) }));
    expect(r.scenarios.map((s) => s.name)).toEqual(['original', 'adverse', 'early_stop']);
    expect(r.gains.mode).toBe('trade');
    expect(r.gains.count).toBe(edgeRun.trades.count);
    expect(r.gains.trades_per_draw).toBe(1);
    expect(parseScenarios('none')).toEqual([]);
    expect(() => parseScenarios('adverse,typo')).toThrow(/unknown scenario "typo"/);
  });

  it('a system that loses on every day has safe-f 0: REJECT, its curves drawn at f = 1 and labelled so', async () => {
    const bt = await backtest('random', { p_open: 0.5, p_close: 0.5 });
    const r = await validateBacktest(input(bt, { settings: validationSettings(config, { gains: 'daily' }) }));
    expect(r.montecarlo.safe_f_mean).toBe(0);
    expect(r.montecarlo.status).toBe('no_positive_gains');
    expect(r.charts.fan!.fallback).toBe(true);
    expect(r.charts.fan!.f).toBe(1);
    expect(r.grade.recommendation).toBe('REJECT');
    expect(r.grade.failed_gates.find((g) => g.name === 'min_car25')!.reason).toMatch(/safe-f is 0/);
  });
});

describe('a run that closed no trade is graded REJECT, not refused', () => {
  const tmp = tempDir('swt-validate-notrade-');
  afterAll(() => tmp.cleanup());
  let holdRun: BacktestResult;
  let r: ValidationResult;

  beforeAll(async () => {
    holdRun = await backtest('hold');
    r = await validateBacktest(input(holdRun));
  });

  it('keeps the metrics as computed: 0 trades, every decision a HOLD', () => {
    expect(r.metrics.trades).toBe(0);
    expect(r.metrics.net_pips).toBe(0);
    expect(r.metrics.win_rate).toBeNull();
    expect(r.metrics.actions.decisions).toBeGreaterThan(0);
    expect(r.actions.names).toEqual(['HOLD', 'BUY', 'SELL', 'CLOSE']);
    expect(r.actions.share).toEqual([1, 0, 0, 0]);
    expect(r.profitable_day_share).toBeNull();
  });

  it('REJECT, the lowest letter, score 0, saying plainly that no trade closed', () => {
    expect(r.grade.recommendation).toBe('REJECT');
    expect(r.grade.letter).toBe('F');
    expect(r.grade.score).toBe(0);
    expect(r.grade.rationale).toBe(`no trade closed over ${episodes.start.length} sessions: nothing to size, nothing to deploy`);
    expect(r.grade.failed_gates.find((g) => g.name === 'min_trades')!.reason).toBe('no trade closed: no sample at all');
  });

  it('a Monte Carlo of what a flat account does, exactly: safe-f 0, CAR 0, drawdown 0, TWR 1; no scenario', () => {
    const mc = r.montecarlo;
    expect(r.schema).toBe('swt.validation/3');
    expect(mc.status).toBe('no_trades');
    expect(mc.note).toBe(NO_TRADES_NOTE);
    expect([mc.safe_f_mean, mc.safe_f_sd, mc.car25_mean, mc.car25_sd]).toEqual([0, 0, 0, 0]);
    const keys = ['p5', 'p10', 'p25', 'p50', 'p75', 'p90', 'p95'];
    expect(Object.keys(mc.twr_percentiles)).toEqual(keys);
    for (const k of keys) {
      expect(mc.twr_percentiles[k]).toBe(1);
      expect(mc.dd_percentiles[k]).toBe(0);
      expect(mc.car_percentiles[k]).toBe(0);
    }
    expect(r.scenarios).toEqual([]);
    expect(r.dd95_worst).toEqual({ value: 0, scenario: null, percentile: 95 });
    // What would describe trades that do not exist is null, not invented.
    expect(r.gains).toMatchObject({ count: 0, mean: null, sd: null, periods_per_year: null, forecast: 0, trades_per_year: 0, trades_per_draw: null, adverse_gain: null });
    expect(r.gains.years_basis).toBe('episodes');
    expect(r.gains.years).toBeGreaterThan(0);
    expect(r.charts).toEqual({ equity: { x: [0], y: [0] }, fan: null, dd_hist: null, car_hist: null });
  });

  it('is reproducible, and does not depend on the scenarios asked for', async () => {
    const again = await validateBacktest(input(holdRun, { settings: validationSettings(config, { scenarios: [] }) }));
    expect({ ...again, timings: null }).toEqual({ ...r, timings: null });
  });

  it('still refuses bad Monte Carlo settings: they are bad input whether the run traded or not', async () => {
    const s = validationSettings(config);
    await expect(validateBacktest(input(holdRun, { settings: { ...s, mc: { ...s.mc, accuracy: 0.5 } } }))).rejects.toThrow(/accuracy must be in \(0, 0.1\), got 0.5/);
    await expect(validateBacktest(input(holdRun, { settings: { ...s, forecastYears: 0 } }))).rejects.toThrow(/forecast years must be a number > 0, got 0/);
  });

  it('keeps a walk-forward it is given', async () => {
    const wf = await walkForward({ bars, episodes, features: null }, env, { policy: 'hold', grid: {}, folds: 2, mode: 'rolling', isRatio: 2, objective: 'net_pips', minTrades: 1, seed: 1 });
    const withWf = await validateBacktest(input(holdRun, { walkforward: wf }));
    expect(withWf.walkforward).toBe(wf);
    expect(withWf.walkforward!.oos_trades).toBe(0);
    expect(withWf.grade.recommendation).toBe('REJECT');
  });

  it('renders a report that says so: a "No trade closed" page with the decisions, no empty Monte Carlo charts', async () => {
    const dir = path.join(tmp.dir, 'report');
    const files = await writeReport(r, dir, { generatedAt: '2026-01-01T00:00:00Z' });
    for (const f of [files.html, files.pdf, files.json]) expect(existsSync(f)).toBe(true);
    // Grade and gates, the no-trade page, provenance.
    expect(files.pages).toBe(3);
    expect(pdfPageCount(files.pdf)).toBe(3);
    const text = pdfTextRuns(files.pdf).join('\n');
    for (const t of ['REJECT', 'no trade closed over', 'No trade closed', 'Decisions by action', 'Backtest metrics', 'Provenance', 'not run: no trade closed']) expect(text, t).toContain(t);
    for (const t of ['Equity fan', 'Max drawdown per curve', 'CAR by scenario', 'Stress scenarios']) expect(text, t).not.toContain(t);
    const html = readFileSync(files.html, 'utf8');
    const charts = [...html.matchAll(/data-chart="([^"]+)"/g)].map((m) => m[1]);
    expect(charts).toEqual([...NO_TRADE_REPORT_CHARTS]);
    for (const id of REPORT_CHARTS.filter((c) => c !== 'actions')) expect(charts).not.toContain(id);
    expect(html).toContain('class="rec rec-REJECT"');
    expect(html).toContain('<h2>No trade closed</h2>');
    expect(JSON.parse(readFileSync(files.json, 'utf8')).montecarlo.status).toBe('no_trades');
  });
});

describe('bad validation inputs', () => {
  it('a NaN in the trades', async () => {
    const bt = await backtest('mean-reversion', { window: 240, entry_z: 1.5, exit_z: 0 });
    bt.trades.netPips[3] = NaN;
    await expect(validateBacktest(input(bt))).rejects.toThrow(/trade #4: net pips NaN is not a finite number/);
  });

  it('a forecast of 0 years, a tolerance outside (0, 1), f <= 0', async () => {
    const s = validationSettings(config);
    await expect(validateBacktest(input(edgeRun, { settings: { ...s, forecastYears: 0 } }))).rejects.toThrow(MonteCarloInputError);
    await expect(validateBacktest(input(edgeRun, { settings: { ...s, forecastYears: 0 } }))).rejects.toThrow(/forecast years must be a number > 0, got 0/);
    await expect(validateBacktest(input(edgeRun, { settings: { ...s, mc: { ...s.mc, tolerance: 1.5 } } }))).rejects.toThrow(/drawdown tolerance must be in \(0, 1\), got 1.5/);
    await expect(validateBacktest(input(edgeRun, { settings: { ...s, mc: { ...s.mc, tolerance: 0 } } }))).rejects.toThrow(/drawdown tolerance must be in \(0, 1\), got 0/);
    expect(() => bootstrap([0.01, -0.01], { f: 0 })).toThrow(/f must be a number > 0, got 0/);
    expect(() => bootstrap([0.01, -0.01], { f: -1 })).toThrow(/f must be a number > 0, got -1/);
  });
});
