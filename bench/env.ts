// Env throughput: a batched backtest of baseline policies over a 1.3-million-bar seeded random walk
// (features in memory), cut into 360-bar sessions. Prints name=value lines (medians of several runs).
import { availableParallelism } from 'node:os';
import { createPolicy } from '../src/agent/policies/registry.js';
import type { Policy } from '../src/agent/policies/types.js';
import { envConfig } from '../src/env/config.js';
import { sessionEpisodes } from '../src/env/episodes.js';
import type { BarSeries, FeatureMatrix } from '../src/env/types.js';
import { runBacktest } from '../src/validation/backtest.js';
import { Prng } from '../src/util/prng.js';

const N_BARS = Number(process.env.BENCH_ENV_BARS ?? 1_300_000);
const N_FEATURES = Number(process.env.BENCH_ENV_FEATURES ?? 32);
const SESSION = 360;
const RUNS = Number(process.env.BENCH_ENV_RUNS ?? 7);
const BATCH = Number(process.env.BENCH_ENV_BATCH ?? 64);

function synthetic(n: number, seed: number): BarSeries {
  const rng = new Prng(seed);
  const ts = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  let p = 150;
  const t0 = Date.UTC(2022, 0, 3);
  for (let i = 0; i < n; i++) {
    ts[i] = t0 + i * 60_000;
    open[i] = p;
    p += 0.02 * rng.normal();
    close[i] = p;
    high[i] = Math.max(open[i], close[i]) + 0.01 * Math.abs(rng.normal());
    low[i] = Math.min(open[i], close[i]) - 0.01 * Math.abs(rng.normal());
  }
  return { ts, open, high, low, close };
}

function median(x: number[]): number {
  const s = [...x].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const bars = synthetic(N_BARS, 7);
const frng = new Prng(8);
const data = new Float32Array(N_BARS * N_FEATURES);
for (let i = 0; i < data.length; i++) data[i] = frng.float() * 2 - 1;
const features: FeatureMatrix = { data, nFeatures: N_FEATURES };
const starts: number[] = [];
for (let s = 0; s + SESSION <= N_BARS; s += SESSION) starts.push(s);
const episodes = sessionEpisodes(starts, SESSION, N_BARS);
const cfg = envConfig({ pipSize: 0.01, spreadPips: 4 });

async function measure(policyName: string, params: Record<string, number>, observe: boolean): Promise<{ rate: number; trades: number }> {
  const rates: number[] = [];
  let trades = 0;
  for (let r = 0; r < RUNS + 1; r++) {
    const policy = await createPolicy(policyName, params, { seed: 1, env: cfg, fit: null });
    // Asking for observations makes the env build feature rows + position features as a network policy needs.
    const p: Policy = observe
      ? {
          name: policy.name,
          params: policy.params,
          needsObservation: true,
          begin: (v) => policy.begin(v),
          resetLane: (l, e, v) => policy.resetLane(l, e, v),
          act: (o, m, v, out) => policy.act(o, m, v, out),
        }
      : policy;
    const t0 = process.hrtime.bigint();
    const res = await runBacktest({ bars, features, episodes, policy: p, env: cfg, batch: BATCH });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    trades = res.trades.count;
    if (r > 0) rates.push(res.decisions / s); // first run warms the JIT
  }
  return { rate: median(rates), trades };
}

const ma = await measure('ma-crossover', { fast: 10, slow: 50 }, false);
const rnd = await measure('random', {}, false);
const obs = await measure('random', {}, true);
console.log(`bars=${N_BARS}`);
console.log(`sessions=${starts.length}`);
console.log(`batch=${BATCH}`);
console.log(`features=${N_FEATURES}`);
console.log(`env_steps_per_s=${Math.round(ma.rate)}`);
console.log(`env_steps_per_s_random=${Math.round(rnd.rate)}`);
console.log(`env_steps_per_s_with_observations=${Math.round(obs.rate)}`);
console.log(`ma_crossover_trades=${ma.trades}`);
console.log(`cores=${availableParallelism()}`);
