// In-memory bar series for env/backtest tests.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import type { BarSeries, FeatureMatrix } from '../../src/env/types.js';
import { Prng } from '../../src/util/prng.js';

export const T0 = Date.UTC(2024, 0, 2, 0, 0);
export const MIN = 60_000;

/** Bars from [open, high, low, close] rows, one minute apart from T0. */
export function barsFrom(rows: ReadonlyArray<readonly [number, number, number, number]>, t0 = T0): BarSeries {
  const n = rows.length;
  const b = { ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n) };
  rows.forEach(([o, h, l, c], i) => {
    b.ts[i] = t0 + i * MIN;
    b.open[i] = o;
    b.high[i] = h;
    b.low[i] = l;
    b.close[i] = c;
  });
  return b;
}

/** Flat bars at `price` (open = high = low = close), handy when only a few bars matter. */
export function flatRows(n: number, price: number): Array<[number, number, number, number]> {
  return Array.from({ length: n }, () => [price, price, price, price]);
}

/** A seeded random walk with consistent OHLC (open = previous close). */
export function randomWalk(n: number, seed: number, opts: { t0?: number; sigma?: number; start?: number } = {}): BarSeries {
  const rng = new Prng(seed);
  const sigma = opts.sigma ?? 0.03;
  const t0 = opts.t0 ?? T0;
  const b = { ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n) };
  let p = opts.start ?? 150;
  for (let i = 0; i < n; i++) {
    b.ts[i] = t0 + i * MIN;
    b.open[i] = p;
    p += sigma * rng.normal();
    b.close[i] = p;
    b.high[i] = Math.max(b.open[i], p) + 0.01 * Math.abs(rng.normal());
    b.low[i] = Math.min(b.open[i], p) - 0.01 * Math.abs(rng.normal());
  }
  return b;
}

/** A causal feature matrix: row t depends on closes <= t only (returns over 1, 5, 20 bars). */
export function causalFeatures(bars: BarSeries): FeatureMatrix {
  const n = bars.close.length;
  const F = 3;
  const data = new Float32Array(n * F);
  const lags = [1, 5, 20];
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < F; j++) {
      const k = t - lags[j];
      data[t * F + j] = k >= 0 ? (bars.close[t] - bars.close[k]) * 10 : 0;
    }
  }
  return { data, nFeatures: F };
}

export function copyBars(b: BarSeries): BarSeries {
  return { ts: b.ts.slice(), open: b.open.slice(), high: b.high.slice(), low: b.low.slice(), close: b.close.slice() };
}

/** The shared real GBP/JPY M1 bars (../shared/data), parsed without the store. */
export function loadSharedGbpJpy(shared: string): BarSeries {
  const text = gunzipSync(readFileSync(path.join(shared, 'data', 'GBPJPY_M1_20160422_20160624.csv.gz'))).toString('utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const n = lines.length - 1;
  const b = { ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const f = lines[i + 1].split(',');
    b.ts[i] = Date.parse(f[0]);
    b.open[i] = Number(f[1]);
    b.high[i] = Number(f[2]);
    b.low[i] = Number(f[3]);
    b.close[i] = Number(f[4]);
  }
  return b;
}

/**
 * The synthetic generator's closes over a few days as a bar series (open = high = low = close), with
 * seeded random feature rows of `nFeatures` columns (`scale`·N(0,1) + `shift`): an in-memory market
 * for self-play and rollout tests, where only the env's mechanics matter.
 */
export async function synthMarket(nFeatures: number, opts: { scale?: number; shift?: number } = {}): Promise<{ bars: BarSeries; features: FeatureMatrix }> {
  const { loadConfig } = await import('../../src/config/load.js');
  const { weekCalendar } = await import('../../src/data/calendar.js');
  const { generateBars } = await import('../../src/data/synth.js');
  const ts: number[] = [];
  const close: number[] = [];
  generateBars({ from: '2022-01-03', to: '2022-01-05', seed: 1, startPrice: 150, pipSize: 0.01, calendar: weekCalendar(loadConfig()) }, (ms, _o, _h, _l, c) => {
    ts.push(ms);
    close.push(c);
  });
  const bars = { ts: Float64Array.from(ts), open: Float64Array.from(close), high: Float64Array.from(close), low: Float64Array.from(close), close: Float64Array.from(close) };
  const rng = new Prng(3);
  const features = { data: Float32Array.from({ length: ts.length * nFeatures }, () => rng.normal() * (opts.scale ?? 1) + (opts.shift ?? 0)), nFeatures };
  return { bars, features };
}
