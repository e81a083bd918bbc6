// Validation figures for bench/montecarlo.ts:
//   validate_seconds               validateBacktest on a ~20,000-trade run (synthetic bars with the planted
//                                  edge, mean-reversion), every scenario, default gains (auto); target <= 5 s
//   validate_trade_gains_seconds   the same with per-trade gains forced (a 2-year horizon of trades: much
//                                  longer curves; shown for reference)
//   validate_report_seconds        writing its HTML + PDF report
//   validate_4_policies_workers{1,2}_seconds  `swt validate --walk-forward` of 4 policies on a year of
//                                  synthetic bars (declared grids, 5 folds; a fresh process each, as a user
//                                  runs it; needs dist/, built by `npx tsc -p tsconfig.build.json`) with
//                                  --workers 1 and 2; results must be identical. JavaScript-heavy, as
//                                  network policies' backtests will be
//   validate_4_policies_plain_workers{1,2}_seconds  the same without walk-forward: the native Monte Carlo
//                                  already uses every core with one worker, so only the JavaScript parts
//                                  (backtest, report) can gain
//   parallel_effective_cores_{before,after}  cores this process really gets (other jobs lower it)
// Medians of SWT_BENCH_RUNS runs (the parallel figures: of max(3, runs / 3) runs).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPolicy } from '../src/agent/policies/registry.js';
import { loadConfig } from '../src/config/load.js';
import { generateBars } from '../src/data/synth.js';
import { envConfig, envDocument, DEFAULT_ENV_CONFIG } from '../src/env/config.js';
import { sessionEpisodes } from '../src/env/episodes.js';
import type { Market } from '../src/env/market.js';
import { runBacktest } from '../src/validation/backtest.js';
import { importFiles } from '../src/data/import.js';
import { indexSessions } from '../src/data/sessions.js';
import { writeSynthCsv } from '../src/data/synth.js';
import { Store } from '../src/store/db.js';
import { writeReport } from '../src/validation/report/index.js';
import { validateBacktest, validationSettings, type Provenance } from '../src/validation/validate.js';
import { median, report } from './util.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CAL = { closeMinute: 5 * 1440 + 21 * 60, openMinute: 21 * 60 };
const SESSION = 360;

/** Synthetic bars (the planted edge) cut into gap-free 360-bar sessions, in memory. */
function synthMarket(from: string, to: string, seed: number): Market {
  const cols: number[][] = [[], [], [], [], []];
  generateBars({ from, to, seed, startPrice: 150, pipSize: 0.01, calendar: CAL, edge: true }, (ms, o, h, l, c) => {
    cols[0].push(ms);
    cols[1].push(o);
    cols[2].push(h);
    cols[3].push(l);
    cols[4].push(c);
  });
  const [ts, open, high, low, close] = cols.map((c) => Float64Array.from(c));
  const starts: number[] = [];
  // A session may not span a weekend or a long gap: at most 10 missing minutes in total.
  for (let s = 0; s + SESSION <= ts.length; s += SESSION) if (ts[s + SESSION - 1] - ts[s] <= (SESSION - 1 + 10) * 60_000) starts.push(s);
  return {
    instrument: 'SYN_GBPJPY',
    bars: { ts, open, high, low, close },
    features: null,
    featureSet: null,
    featureHash: null,
    episodes: sessionEpisodes(starts, SESSION, ts.length),
    sessionsAvailable: starts.length,
    sessionsWithoutFeatures: 0,
    sessionLength: SESSION,
    first: new Date(ts[0]).toISOString(),
    last: new Date(ts[ts.length - 1]).toISOString(),
  };
}

/** A store with a year of synthetic bars (planted edge) and its session index, as `swt data synth` makes it. */
async function syntheticStore(dir: string, from: string, to: string, seed: number): Promise<string> {
  const config = loadConfig();
  const csv = path.join(dir, 'synth.csv');
  writeSynthCsv(csv, { from, to, seed, startPrice: 150, pipSize: 0.01, calendar: CAL, edge: true });
  const db = path.join(dir, 'synth.duckdb');
  const store = await Store.open(db);
  try {
    await importFiles(store, [csv], { instrument: 'SYN_GBPJPY', format: 'csv' });
    await indexSessions(store, config, 'SYN_GBPJPY', config.data.session_length, config.data.max_gap_minutes);
  } finally {
    store.close();
  }
  return db;
}

function provenance(m: Market): Provenance {
  return {
    instrument: m.instrument,
    run_id: null,
    config_hash: 'bench',
    feature_set: null,
    data_first: m.first,
    data_last: m.last,
    range_from: null,
    range_to: null,
    sessions_requested: 'all',
    sessions_run: m.episodes.start.length,
    sessions_available: m.sessionsAvailable,
    session_length: SESSION,
    seed: 1,
    env: envDocument(DEFAULT_ENV_CONFIG),
  };
}

/**
 * CPU cores this process really gets right now: the same busy loop once alone and twice in parallel
 * threads (2 × alone / parallel; 2.0 on an idle 2-core machine). Other jobs on the machine lower it,
 * and with it any parallel speed-up.
 */
async function effectiveCores(): Promise<number> {
  const src = 'let x = 0; const t0 = performance.now(); for (let i = 0; i < 2e8; i++) x += i % 7; require("node:worker_threads").parentPort?.postMessage(performance.now() - t0 + x * 0);';
  const spin = () => new Promise<number>((resolve, reject) => new Worker(src, { eval: true }).once('message', resolve).once('error', reject));
  const t1 = performance.now();
  await spin();
  const one = performance.now() - t1;
  const t2 = performance.now();
  await Promise.all([spin(), spin()]);
  return (2 * one) / (performance.now() - t2);
}

export async function benchValidate(runs: number): Promise<void> {
  const config = loadConfig();
  const env = envConfig({});
  const big = synthMarket('2024-01-01', '2027-08-31', 5);
  const bt = await runBacktest({ bars: big.bars, episodes: big.episodes, policy: await createPolicy('mean-reversion', { window: 120, entry_z: 1.5, exit_z: 0 }, { seed: 0, env, fit: null }), env });
  const input = { backtest: bt, bars: big.bars, episodes: big.episodes, env, provenance: provenance(big), settings: validationSettings(config) };
  await validateBacktest(input); // warm-up
  const secs: number[] = [];
  let last = await validateBacktest(input);
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = await validateBacktest(input);
    secs.push((performance.now() - t0) / 1000);
  }
  report('validate_trades', bt.trades.count, 0);
  report('validate_gains_mode', last.gains.mode);
  report('validate_forecast_draws', last.gains.forecast, 0);
  report('validate_seconds', median(secs));
  const tradeSecs: number[] = [];
  const tradeInput = { ...input, settings: validationSettings(config, { gains: 'trade' }) };
  let lastTrade = last;
  for (let i = 0; i < Math.max(1, Math.floor(runs / 3)); i++) {
    const t0 = performance.now();
    lastTrade = await validateBacktest(tradeInput);
    tradeSecs.push((performance.now() - t0) / 1000);
  }
  report('validate_trade_gains_forecast_draws', lastTrade.gains.forecast, 0);
  report('validate_trade_gains_seconds', median(tradeSecs));

  const tmp = mkdtempSync(path.join(tmpdir(), 'swt-bench-validate-'));
  if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('bench: build the CLI first (npx tsc -p tsconfig.build.json)');
  try {
    const repSecs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await writeReport(last, path.join(tmp, `r${i}`));
      repSecs.push((performance.now() - t0) / 1000);
    }
    report('validate_report_seconds', median(repSecs));

    // 4 policies with `swt validate --workers 1` vs `--workers 2`, each run a fresh process as a user runs it
    // (cold JIT in both cases; the pool starts while the market loads). Interleaved, medians.
    const db = await syntheticStore(tmp, '2024-01-01', '2024-12-31', 7);
    const policies = ['mean-reversion:window=120,entry_z=1.5,exit_z=0', 'mean-reversion:window=240,entry_z=2,exit_z=0.5', 'ma-crossover', 'buy-and-hold'];
    const pRuns = Math.max(3, Math.floor(runs / 3));
    report('parallel_effective_cores_before', await effectiveCores(), 2);
    // The walk-forward searches the declared grid of every parameter not given inline.
    const wfPolicies = ['mean-reversion', 'mean-reversion:exit_z=0', 'ma-crossover', 'buy-and-hold'];
    // Headline: validations with walk-forward (JavaScript-heavy, like network policies' backtests), a
    // year of bars. `_plain`: without walk-forward, where the native Monte Carlo (already on every core)
    // dominates and extra workers cannot gain on 2 cores.
    const variants: Array<[string, string[], string[]]> = [
      ['', wfPolicies, ['--walk-forward']],
      ['_plain', policies, []],
    ];
    for (const [label, pols, extra] of variants) {
      const times: Record<number, number[]> = { 1: [], 2: [] };
      const results: Record<number, string> = {};
      for (let r = 0; r < pRuns; r++) {
        for (const w of [1, 2]) {
          const args = ['validate', '--db', db, ...pols.flatMap((p) => ['--policy', p]), ...extra, '--workers', String(w), '--out', path.join(tmp, `w${w}${label}-${r}`), '--json'];
          const t0 = performance.now();
          const out = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'swt.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, SWT_LOG__DIR: path.join(tmp, 'logs') } });
          times[w].push((performance.now() - t0) / 1000);
          if (out.status !== 0) throw new Error(`swt validate --workers ${w} failed: ${out.stderr}`);
          const v = JSON.parse(out.stdout) as { validations: Array<{ result: Record<string, unknown> }> };
          results[w] = JSON.stringify(v.validations.map((x) => ({ ...x.result, timings: null })));
        }
      }
      report(`validate_4_policies${label}_workers1_seconds`, median(times[1]));
      report(`validate_4_policies${label}_workers2_seconds`, median(times[2]));
      report(`validate_4_policies${label}_speedup`, median(times[1]) / median(times[2]));
      report(`validate_4_policies${label}_identical`, results[1] === results[2] ? 1 : 0, 0);
    }
    report('parallel_effective_cores_after', await effectiveCores(), 2);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
