// Evidence for promoter tests, in a real store: closed trades in strategy_trades as a live run writes
// them, and validations through the real persist code with a real Monte Carlo (safe-f, drawdown
// percentiles) and the real grade of the same kind of trades.
import type { Store } from '../../src/store/db.js';
import { Prng } from '../../src/util/prng.js';
import { safeF } from '../../src/validation/montecarlo.js';
import { grade } from '../../src/validation/grade.js';
import { saveValidation } from '../../src/validation/persist.js';
import { profitableDayShare, type ValidationResult } from '../../src/validation/validate.js';
import { parsePolicyArg, resolvePolicyParams } from '../../src/agent/policies/registry.js';

export const INSTRUMENT = 'GBP_JPY';
export const PIP = 0.01;
export const PRICE = 150;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** n net-pip gains drawn from N(mean, sd), seeded. */
export function gaussianPips(n: number, mean: number, sd: number, seed: number): number[] {
  const r = new Prng(seed);
  return Array.from({ length: n }, () => mean + sd * r.normal());
}

export const avg = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;

/**
 * Closed trades of one strategy, one every `spacingMs` from `t0` (each held half the spacing), at a
 * GBP_JPY-like price, `units` per position (net pips for one position of env.units, as the market core books them, whatever the size).
 */
export async function writeTrades(store: Store, o: { strategy: string; shadow: boolean; pips: number[]; t0: number; spacingMs: number; units?: number; runId?: string }): Promise<void> {
  if (o.pips.length === 0) return;
  const units = o.units ?? 1;
  const iso = (ms: number) => `'${new Date(ms).toISOString()}'::TIMESTAMP`;
  const values = o.pips.map((p, i) => {
    const entry = o.t0 + i * o.spacingMs;
    const exit = entry + o.spacingMs / 2;
    const gross = p + 2;
    return `('${o.runId ?? 'run-1'}', '${o.strategy}', ${o.shadow}, '${INSTRUMENT}', 'long', ${units}, ${iso(entry)}, ${iso(exit)}, ${PRICE}, ${PRICE + gross * PIP}, ${gross}, 2, ${p}, NULL, false)`;
  });
  await store.run(`INSERT INTO strategy_trades VALUES ${values.join(', ')}`);
}

/**
 * A validation of `spec` whose backtest closed trades like `pips` (one every 4 h): safe-f and the
 * drawdown percentiles from the real Monte Carlo, the grade from the real grader, saved by
 * saveValidation. Only the parts of a ValidationResult that are persisted or read back are filled.
 */
export async function saveValidationOf(store: Store, spec: string, pips: number[], seed = 7): Promise<{ id: number; result: ValidationResult }> {
  const { name, params } = parsePolicyArg(spec);
  const gains = pips.map((p) => (p * PIP) / PRICE);
  const sf = safeF(gains, { forecast: pips.length, curves: 1000, repeats: 2, seed, tolerance: 0.1, tail: 5 });
  const wins = pips.filter((p) => p > 0);
  const losses = pips.filter((p) => p < 0);
  const exitTs = pips.map((_, i) => Date.UTC(2023, 0, 2) + i * 4 * HOUR);
  const dayShare = profitableDayShare({ count: pips.length, netPips: pips, exitTs });
  const g = grade({
    trades: pips.length,
    winRate: wins.length / pips.length,
    profitFactor: losses.length ? wins.reduce((a, b) => a + b, 0) / -losses.reduce((a, b) => a + b, 0) : null,
    expectancyPips: avg(pips),
    avgLossPips: losses.length ? avg(losses) : null,
    car25: sf.car25_mean,
    safeF: sf.safe_f_mean,
    dd95: sf.dd_percentiles.p95,
    ddTolerance: 0.1,
    profitableDayShare: dayShare,
  });
  const result = {
    schema: 'swt.validation/3',
    policy: { name, params: resolvePolicyParams(name, params) },
    provenance: { instrument: INSTRUMENT, run_id: null, config_hash: 'test', data_first: '2023-01-02', data_last: '2023-03-01', seed },
    montecarlo: { safe_f_mean: sf.safe_f_mean, safe_f_sd: sf.safe_f_sd, car25_mean: sf.car25_mean, car25_sd: sf.car25_sd, status: sf.status, note: sf.note, tolerance: 0.1, tail: 5, curves: 1000, repeats: 2, seed, twr_percentiles: sf.twr_percentiles, dd_percentiles: sf.dd_percentiles, car_percentiles: sf.car_percentiles },
    dd95_worst: { value: sf.dd_percentiles.p95, scenario: 'original', percentile: 95 },
    grade: g,
  } as unknown as ValidationResult;
  return { id: await saveValidation(store, result, null), result };
}
