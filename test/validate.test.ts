import { describe, it, expect, beforeAll } from 'vitest';
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
import { parseScenarios, validateBacktest, validationSettings, type Provenance, type ValidateInput, type ValidationResult } from '../src/validation/validate.js';

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
    expect(r.schema).toBe('swt.validation/2');
    expect(r.metrics.trades).toBe(edgeRun.trades.count);
    expect(r.metrics.expectancy!).toBeGreaterThan(0);
    // Horizon: 2 years of the run's own draws (trades or days per market year).
    expect(r.gains.forecast).toBe(Math.round(2 * r.gains.periods_per_year));
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
    expect(r.gains.adverse_gain).toBeCloseTo((0.01 * r.gains.trades_per_draw) / (edgeRun.trades.entryPrice.slice(0, edgeRun.trades.count).reduce((a, b) => a + b, 0) / edgeRun.trades.count), 15);
    // Stress lowers what the system earns at the same size.
    const car = (n: string) => r.scenarios.find((s) => s.name === n)!.at_f!.car_percentiles.p25;
    expect(car('adverse')).toBeLessThan(car('original'));
    expect(car('drop_best_winners')).toBeLessThan(car('original'));
  });

  it('draws the charts from one batch of curves at safe-f: fan, drawdown and CAR histograms with their percentiles', async () => {
    const r = edgeResult;
    const fan = r.charts.fan;
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
    expect(sum(r.charts.dd_hist.counts)).toBe(r.montecarlo.curves);
    expect(sum(r.charts.car_hist.counts)).toBe(r.montecarlo.curves);
    // The fan's curves are the original scenario's curves at safe-f (same seed): same percentiles.
    expect(r.charts.dd_hist.marker.value).toBe(r.scenarios[0].at_f!.dd_percentiles.p95);
    expect(r.charts.car_hist.marker.value).toBe(r.scenarios[0].at_f!.car_percentiles.p25);
    // At safe-f the 95th-percentile drawdown sits at the tolerance, up to sampling error.
    expect(Math.abs(r.charts.dd_hist.marker.value - 0.1)).toBeLessThan(0.02);
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
    expect(r.charts.fan.fallback).toBe(true);
    expect(r.charts.fan.f).toBe(1);
    expect(r.grade.recommendation).toBe('REJECT');
    expect(r.grade.failed_gates.find((g) => g.name === 'min_car25')!.reason).toMatch(/safe-f is 0/);
  });
});

describe('bad validation inputs', () => {
  it('an empty trade list (a policy that never trades)', async () => {
    await expect(validateBacktest(input(await backtest('hold')))).rejects.toThrow(/empty trade list: policy 'hold' closed no trade over \d+ episodes/);
  });

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
