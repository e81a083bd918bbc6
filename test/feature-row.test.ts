import { describe, it, expect, afterAll } from 'vitest';
import { WstPlan } from '../bindings/wst.js';
import { loadConfig } from '../src/config/load.js';
import { weekCalendar } from '../src/data/calendar.js';
import { FeatureRowBuilder, rowBuilderFor, STATUS, type BarColumns } from '../src/features/row.js';
import { featureSpecSchema, specFromConfig, type FeatureSpec } from '../src/features/spec.js';

const config = loadConfig({ env: {} });
const builders: FeatureRowBuilder[] = [];
function builder(spec: FeatureSpec = specFromConfig(config, 'default')): FeatureRowBuilder {
  const b = FeatureRowBuilder.create(spec, { calendar: weekCalendar(config), pipSize: 0.01 });
  builders.push(b);
  return b;
}
afterAll(() => builders.forEach((b) => b.free()));

/** Seeded random walk on a dyadic grid (multiples of 1/512 around `mid`): sums and mirror images are exact. */
function dyadicWalk(n: number, seed: number, mid = 150): Float64Array {
  let a = seed >>> 0;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    k += ((a >>> 16) % 7) - 3 + (i % 40 < 20 ? 1 : -1); // swings up and down, never flat
    out[i] = mid + k / 512;
  }
  return out;
}

/** Bars one minute apart from Tuesday 2021-06-08 00:00 UTC, `skip(i)` leaving minutes out. */
function series(close: Float64Array, skip: (i: number) => boolean = () => false): BarColumns {
  const ts = new Float64Array(close.length);
  let m = Date.parse('2021-06-08T00:00:00Z');
  for (let i = 0; i < close.length; i++) {
    while (skip(Math.round((m - Date.parse('2021-06-08T00:00:00Z')) / 60_000))) m += 60_000;
    ts[i] = m;
    m += 60_000;
  }
  return { ts, close, high: close.map((c) => c + 1 / 256), low: close.map((c) => c - 1 / 256) };
}

/** The mirror image of a series about `mid`: every move reversed, exactly (dyadic prices). */
function mirror(s: BarColumns, mid = 150): BarColumns {
  return { ts: s.ts, close: s.close.map((c) => 2 * mid - c), high: s.low.map((c) => 2 * mid - c), low: s.high.map((c) => 2 * mid - c) };
}

const bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0];

describe('directional features', () => {
  it('orders 1 and 2 of the scattering transform cannot tell a window from its negative; order 0 flips sign', () => {
    const plan = WstPlan.create({ J: 6, Q: [4, 1], maxOrder: 2 });
    try {
      const x = dyadicWalk(256 + 40, 3);
      const neg = x.map((v) => -v);
      const a = plan.featuresBatch(x);
      const b = plan.featuresBatch(neg);
      const C = plan.dims.channels;
      for (let w = 0; w < a.length / C; w++) {
        for (let c = 1; c < C; c++) expect(Object.is(a[w * C + c], b[w * C + c]), `window ${w} path ${c}`).toBe(true);
        expect(b[w * C]).toBe(-a[w * C]);
      }
    } finally {
      plan.free();
    }
  });

  it("the default set's rows of a series and of its mirror image: equal in orders 1-2, opposite in the directional columns", () => {
    const b = builder();
    const up = series(dyadicWalk(600, 11));
    const down = mirror(up);
    const col = (name: string) => b.columns.indexOf(name);
    const order12 = b.columns.filter((c) => /^wst_\d+$/.test(c) && c !== 'wst_0');
    const exactlyNegated = ['wst_0', 'wst_0_t0', 'wst_0_t1', 'wst_0_t2', 'wst_0_t3', 'close_z'];
    const returns = ['ret_1_z', 'ret_5_z', 'ret_15_z', 'ret_60_z', 'ret_240_z'];
    expect(order12).toHaveLength(66);
    const [ru, rd] = [new Float32Array(b.width), new Float32Array(b.width)];
    let flipped = 0;
    for (const i of [255, 300, 420, 599]) {
      expect(b.rowAt(up, i, ru)).toBe(STATUS.OK);
      expect(b.rowAt(down, i, rd)).toBe(STATUS.OK);
      for (const c of order12) expect(bits(rd[col(c)]), `${c} at bar ${i}`).toBe(bits(ru[col(c)]));
      for (const c of exactlyNegated) {
        expect(rd[col(c)], `${c} at bar ${i}`).toBe(-ru[col(c)]);
        if (ru[col(c)] !== 0) flipped++;
      }
      for (const c of returns) {
        const [u, d] = [ru[col(c)], rd[col(c)]];
        if (u === 0) continue;
        expect(Math.sign(d), `${c} at bar ${i}`).toBe(-Math.sign(u));
        expect(Math.abs(u + d), `${c} at bar ${i}`).toBeLessThan(0.01 * Math.abs(u) + 1e-6); // ln is not exactly odd about a level
        flipped++;
      }
      for (const c of ['week_hour_sin', 'week_hour_cos', 'day_hour_sin', 'day_hour_cos']) expect(rd[col(c)]).toBe(ru[col(c)]);
    }
    expect(flipped).toBeGreaterThan(40); // the directional columns really differ between the two rows
  });

  it('the scaled returns are ln(c_t / c_t-h) over sigma sqrt(h), sigma the RMS of the last vol_bars one-bar log returns', () => {
    const b = builder();
    const s = series(dyadicWalk(400, 5));
    const row = new Float32Array(b.width);
    const t = 399;
    expect(b.rowAt(s, t, row)).toBe(STATUS.OK);
    let sum = 0;
    for (let j = t - 239; j <= t; j++) sum += Math.log(s.close[j] / s.close[j - 1]) ** 2;
    const sigma = Math.sqrt(sum / 240);
    for (const h of [1, 5, 15, 60, 240]) {
      const want = Math.log(s.close[t] / s.close[t - h]) / (sigma * Math.sqrt(h));
      expect(row[b.columns.indexOf(`ret_${h}_z`)]).toBeCloseTo(want, 5);
    }
    // and close_z is the z-score of the last close in the 256-bar window
    const w = s.close.subarray(t - 255, t + 1);
    const mean = w.reduce((x, y) => x + y, 0) / 256;
    const sd = Math.sqrt(w.reduce((x, y) => x + (y - mean) ** 2, 0) / 256);
    expect(row[b.columns.indexOf('close_z')]).toBeCloseTo((s.close[t] - mean) / sd, 5);
  });
});

describe('the feature-row builder', () => {
  it('status follows the longest lookback of any column, not only the WST window', () => {
    const spec = featureSpecSchema.parse({ ...specFromConfig(config, 'default'), directional: { order0_samples: true, close_zscore: true, return_horizons: [3, 400], vol_bars: 60 } });
    const b = builder(spec);
    expect(b.lookback).toBe(400);
    // 1,000 bars, then a 20-minute hole, then 800 bars
    const s = series(dyadicWalk(1800, 9), (m) => m >= 1000 && m < 1020);
    const st = Array.from({ length: 1800 }, (_, i) => b.rowAt(s, i, new Float32Array(b.width)));
    expect(st.slice(0, 400).every((x) => x === STATUS.WARMUP)).toBe(true);
    expect(st.slice(400, 1000).every((x) => x === STATUS.OK)).toBe(true);
    expect(st.slice(1000, 1400).every((x) => x === STATUS.GAP)).toBe(true); // the hole is in their 400-bar lookback
    expect(st.slice(1400).every((x) => x === STATUS.OK)).toBe(true);
  });

  it('rows built in blocks equal rows built one at a time, bit for bit, wherever the blocks start', async () => {
    const b = builder();
    const s = series(dyadicWalk(1500, 21), (m) => m >= 700 && m < 715);
    const n = s.close.length;
    const one = new Float32Array(b.width);
    for (const size of [97, 256, 1500]) {
      const block = b.block(size);
      for (let a = 0; a < n; a += size) {
        await b.rowsInto(s, a, Math.min(n, a + size), block);
        for (let k = 0; k < block.rows; k++) {
          const st = b.rowAt(s, a + k, one);
          expect(block.status[k]).toBe(st);
          expect(block.ok[k]).toBe(st === STATUS.OK ? 1 : 0);
          for (let c = 0; c < b.width; c++) {
            if (bits(block.data[c * size + k]) !== bits(one[c])) expect(block.data[c * size + k], `block ${size}, bar ${a + k}, ${b.columns[c]}`).toBe(one[c]);
          }
        }
      }
    }
  });

  it('rows that are not ok have NaN in every column that needs history, and time features', () => {
    const b = builder();
    const s = series(dyadicWalk(300, 2));
    const row = new Float32Array(b.width);
    expect(b.rowAt(s, 10, row)).toBe(STATUS.WARMUP);
    expect(b.lookbackColumns).toBe(67 + 4 + 1 + 5);
    for (let c = 0; c < b.lookbackColumns; c++) expect(Number.isNaN(row[c]), b.columns[c]).toBe(true);
    for (let c = b.lookbackColumns; c < b.width; c++) expect(Number.isFinite(row[c]), b.columns[c]).toBe(true);
  });

  it('refuses rows outside the series and outputs too small for a row', () => {
    const b = builder();
    const s = series(dyadicWalk(300, 2));
    expect(() => b.rowAt(s, 300, new Float32Array(b.width))).toThrow(/rows \[300, 301\) are not inside a series of 300 bars/);
    expect(() => b.rowAt(s, 3, new Float32Array(5))).toThrow(/out holds 5 values, a row has 81/);
  });

  it('a bad directional spec names the field', () => {
    const bad = loadConfig({ env: {}, overrides: { 'features.sets.default.directional.return_horizons': [5, 5] } });
    expect(() => specFromConfig(bad, 'default')).toThrow(/features\.sets\.default\.directional\.return_horizons: return_horizons must not repeat a horizon/);
    const live = rowBuilderFor(loadConfig({ env: {} }), 'default', 'GBP_JPY');
    builders.push(live);
    expect(live.columns.slice(67, 77)).toEqual(['wst_0_t0', 'wst_0_t1', 'wst_0_t2', 'wst_0_t3', 'close_z', 'ret_1_z', 'ret_5_z', 'ret_15_z', 'ret_60_z', 'ret_240_z']);
  });
});
