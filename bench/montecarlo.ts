// Monte Carlo benchmark: safe-f + CAR25 on Bandy's trades (1,000 curves x 500 draws per distribution,
// the full solve and the CAR25 batch), milliseconds per repeat. Prints name=value lines.
// Target on the 2-core machine: safe_f_ms_per_repeat <= 10 (Bandy's Python: about 1,250 ms).
// Then the whole validation (bench/validate-figures below): validate_seconds for a ~20,000-trade run with
// every scenario (target <= 5 s), and 4 policies validated with 1 vs 2 workers.
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readGainsFile, safeF } from '../src/validation/montecarlo.js';
import { benchValidate } from './validate-figures.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.SWT_SHARED ?? path.resolve(root, '..', 'shared');
const file = path.join(shared, 'fixtures', 'bandy', 'trades.csv');
const threads = Number(process.env.SWT_THREADS ?? 0);
const runs = Number(process.env.SWT_BENCH_RUNS ?? 9);
if (existsSync(file)) benchSafeF();
else console.error(`bench/montecarlo: ${file} not found (set SWT_SHARED): skipping safe_f_ms_per_repeat`);
if (process.env.SWT_BENCH_VALIDATE !== '0') await benchValidate(runs);
console.log(`threads=${threads === 0 ? os.availableParallelism() : threads}`);
console.log(`cores=${os.availableParallelism()}`);

function benchSafeF(): void {
const gains = readGainsFile(file);
const repeats = 20;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

safeF(gains, { repeats: 2, seed: 999, threads }); // warm-up: library load, page faults
const perRepeat: number[] = [];
let last = safeF(gains, { repeats: 1, threads });
for (let i = 0; i < runs; i++) {
  last = safeF(gains, { repeats, seed: i + 1, threads });
  perRepeat.push(last.seconds_per_repeat * 1000);
}
console.log(`safe_f_ms_per_repeat=${median(perRepeat).toFixed(3)}`);
console.log(`safe_f_ms_per_repeat_min=${Math.min(...perRepeat).toFixed(3)}`);
console.log(`safe_f_mean=${last.safe_f_mean.toFixed(4)}`);
console.log(`car25_mean=${last.car25_mean.toFixed(2)}`);
console.log(`evaluations_per_repeat=${(last.repeats.reduce((a, r) => a + r.evaluations, 0) / last.repeats.length).toFixed(2)}`);
}
