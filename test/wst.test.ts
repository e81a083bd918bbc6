import { describe, it, expect, afterAll } from 'vitest';
import { WstPlan } from '../bindings/wst.js';
import { NativeError, STATUS } from '../bindings/native.js';
import { HAS_SHARED } from './helpers/paths.js';
import { loadWstFixtures, firstMismatch, fixtureQ, type WstFixture } from './helpers/wst-fixtures.js';

/** Seeded Gaussian random walk (mulberry32 + Box-Muller), price-like. */
function randomWalk(n: number, seed: number, start = 150): Float64Array {
  let a = seed >>> 0;
  const uni = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(n);
  let p = start;
  for (let i = 0; i < n; i++) {
    p += 0.02 * Math.sqrt(-2 * Math.log(1 - uni())) * Math.cos(2 * Math.PI * uni());
    out[i] = p;
  }
  return out;
}

function sameBytes(a: Float64Array, b: Float64Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const plans: WstPlan[] = [];
function plan(opts: ConstructorParameters<typeof WstPlan>[0]): WstPlan {
  const p = WstPlan.create(opts);
  plans.push(p);
  return p;
}
afterAll(() => plans.forEach((p) => p.free()));

const fixtures: WstFixture[] = HAS_SHARED ? loadWstFixtures() : [];

describe.skipIf(!HAS_SHARED)('WstPlan reproduces Kymatio Scattering1D (shared fixtures)', () => {
  it('covers the four reference configurations', () => {
    expect(fixtures.map((f) => f.config_name)).toEqual(['a_J6_Q4_order2', 'b_J2_Q6_order2', 'c_J4_Q8_order1', 'x_J6_Q4x2_order2']);
  });

  for (const f of fixtures) {
    describe(f.config_name, () => {
      const make = () => plan({ J: f.call_kwargs.J, Q: fixtureQ(f), maxOrder: f.call_kwargs.max_order, length: f.call_kwargs.shape });

      it('has the output dimensions of the reference', () => {
        const p = make();
        expect([p.dims.channels, p.dims.tOut]).toEqual(f.output_shape_single);
        expect(p.dims.perOrder.slice(0, f.n_coeffs_per_order.length)).toEqual(f.n_coeffs_per_order);
        expect(p.config).toMatchObject({ J: f.call_kwargs.J, Q: fixtureQ(f), maxOrder: f.call_kwargs.max_order, length: 256, T: 2 ** f.call_kwargs.J });
      });

      it('has the per-path meta data (order, n, j, xi) of the reference, row by row', () => {
        const meta = make().meta;
        expect(meta.map((m) => m.order)).toEqual(f.meta.order);
        // Order-0 rows have no filter: null everywhere (Kymatio's NaN).
        expect(meta[0]).toEqual({ order: 0, n: Array(f.call_kwargs.max_order).fill(null), j: Array(f.call_kwargs.max_order).fill(null), xi: Array(f.call_kwargs.max_order).fill(null), sigma: Array(f.call_kwargs.max_order).fill(null) });
        expect(meta.map((m) => m.j)).toEqual(f.meta.j);
        expect(meta.map((m) => m.xi)).toEqual(f.meta.xi);
        expect(meta.map((m) => m.n)).toEqual(f.meta.n);
        expect(meta.map((m) => m.sigma)).toEqual(f.meta.sigma);
      });

      it('S and S_time_mean of every signal match within 1e-10 + 1e-8 |ref|', () => {
        const p = make();
        const { channels: C, tOut: T } = p.dims;
        const res = p.transform(f.signals.map((s) => s.x));
        expect(res.count).toBe(f.signals.length);
        f.signals.forEach((s, i) => {
          const S = res.S.subarray(i * C * T, (i + 1) * C * T);
          expect(firstMismatch(S, s.S.flat()), `${s.name} S`).toBeNull();
          expect(firstMismatch(res.features.subarray(i * C, (i + 1) * C), s.S_time_mean), `${s.name} S_time_mean`).toBeNull();
        });
      });

      it('z-scoring the raw random-walk windows natively gives the reference features', () => {
        const p = make();
        const raw = f.signals.filter((s) => s.x_raw && s.normalisation === 'zscore_window_ddof0');
        expect(raw.length).toBe(8);
        for (const s of raw) {
          const feat = p.featuresSingle(s.x_raw as number[]);
          expect(firstMismatch(feat, s.S_time_mean), s.name).toBeNull();
        }
      });
    });
  }
});

describe('WstPlan determinism: batch, single window and thread count', () => {
  const series = randomWalk(1200, 7);

  it('gives the same bytes with 1, 2, 3 and 8 threads', () => {
    const p = plan({ J: 6, Q: 4 });
    const base = p.featuresBatch(series, { threads: 1 });
    expect(base.length).toBe(p.windowCount(series.length) * 67);
    for (const threads of [2, 3, 8]) expect(sameBytes(p.featuresBatch(series, { threads }), base), `threads=${threads}`).toBe(true);
  });

  it('batch rows equal single-window calls bit for bit, at any stride', () => {
    const p = plan({ J: 6, Q: [4, 2] });
    const C = p.dims.channels;
    for (const stride of [1, 7]) {
      const batch = p.featuresBatch(series, { stride, threads: 2 });
      const n = p.windowCount(series.length, stride);
      for (const w of [0, 1, 2, 3, 4, Math.floor(n / 2), n - 2, n - 1]) {
        const single = p.featuresSingle(series.subarray(w * stride, w * stride + 256));
        expect(sameBytes(single, batch.subarray(w * C, (w + 1) * C)), `stride ${stride} window ${w}`).toBe(true);
      }
    }
  });

  it('the async batch equals the sync batch, and float32 output is the rounded float64', async () => {
    const p = plan({ J: 4, Q: 8, maxOrder: 1 });
    const sync = p.featuresBatch(series, { stride: 3 });
    const asyncOut = await p.featuresBatchAsync(series, { stride: 3 });
    expect(sameBytes(asyncOut, sync)).toBe(true);
    expect(p.featuresBatchF32(series, { stride: 3 })).toEqual(Float32Array.from(sync));
    expect(await p.featuresBatchF32Async(series, { stride: 3 })).toEqual(Float32Array.from(sync));
  });

  it('columns: the float32 batch column-major, then the order-0 samples (S row 0) and the last z-scored sample', async () => {
    const p = plan({ J: 6, Q: [4, 1] });
    const { channels: C, tOut: T } = p.dims;
    const opts = { order0Samples: true, lastSample: true };
    expect(p.columnCount(opts)).toBe(C + T + 1);
    const n = p.windowCount(series.length);
    const rows = n + 3;
    // written into a view that starts 2 rows into a larger table: the view's offset is honoured
    const table = new Float32Array((C + T + 1) * rows + 2).fill(-1);
    const view = table.subarray(2);
    p.columnsF32(series, view, { ...opts, colStride: rows, threads: 1 });
    const batch = p.featuresBatchF32(series);
    const S = p.transform(series.subarray(0, 256 * 4), { zscore: true }).S; // windows 0, 256, 512, 768
    expect(table[0]).toBe(-1);
    expect(table[1]).toBe(-1);
    for (const w of [0, 256, 512, 768]) {
      for (let c = 0; c < C; c++) expect(view[c * rows + w]).toBe(batch[w * C + c]);
      for (let k = 0; k < T; k++) expect(view[(C + k) * rows + w]).toBe(Math.fround(S[(w / 256) * C * T + k]));
      const win = series.subarray(w, w + 256);
      const mean = win.reduce((a, b) => a + b, 0) / 256;
      const sd = Math.sqrt(win.reduce((a, b) => a + (b - mean) ** 2, 0) / 256);
      expect(view[(C + T) * rows + w]).toBeCloseTo((win[255] - mean) / sd, 5);
    }
    expect(view[(C + T) * rows + n]).toBe(-1); // rows past the windows are untouched
    const other = new Float32Array(view.length).fill(-1);
    await p.columnsF32Async(series, other, { ...opts, colStride: rows, threads: 3 });
    expect(Buffer.from(other.buffer).equals(Buffer.from(view.buffer, view.byteOffset, view.byteLength))).toBe(true);
    expect(() => p.columnsF32(series, view, { ...opts, colStride: n - 1 })).toThrow(/colStride must be an integer >= the 945 windows/);
    expect(() => p.columnsF32(series, new Float32Array(10), { ...opts, colStride: n })).toThrow(/out holds 10 values, needs/);
  });

  it('free() during an async batch waits for it to finish', async () => {
    const p = WstPlan.create({ J: 6, Q: 4 });
    const pending = p.featuresBatchAsync(series);
    p.free();
    expect(() => p.featuresSingle(series.subarray(0, 256))).toThrow(/used after free/);
    const out = await pending;
    expect(out.length).toBe(p.windowCount(series.length) * 67);
    expect(out.every(Number.isFinite)).toBe(true);
  });

  it('features are the time average of S, and z-scoring happens only when asked', () => {
    const p = plan({ J: 6, Q: 4 });
    const w = series.subarray(100, 356);
    const { S, features } = p.transform(w, { zscore: true });
    for (let c = 0; c < 67; c++) {
      const mean = (S[c * 4] + S[c * 4 + 1] + S[c * 4 + 2] + S[c * 4 + 3]) / 4;
      expect(Math.abs(features[c] - mean)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(mean)));
    }
    expect(firstMismatch(p.featuresSingle(w), features)).toBeNull();
    // Raw prices (~150) are not unit-variance: S0 is then the price level, not ~0.
    expect(p.transform(w).features[0]).toBeGreaterThan(100);
  });

  it('a flat window gives zeros, not NaN', () => {
    const p = plan({ J: 6, Q: 4 });
    const out = p.featuresSingle(new Float64Array(256).fill(1.1));
    expect(Array.from(out).every((v) => v === 0)).toBe(true);
    const flatSeries = new Float64Array(300).fill(142.5);
    expect(p.featuresBatch(flatSeries).every((v) => v === 0)).toBe(true);
  });
});

describe('WstPlan rejects bad input with clear errors', () => {
  const expectNative = (fn: () => unknown, pattern: RegExp) => {
    try {
      fn();
      expect.unreachable('expected a NativeError');
    } catch (e) {
      expect(e).toBeInstanceOf(NativeError);
      expect((e as NativeError).status).toBe(STATUS.INVALID);
      expect((e as Error).message).toMatch(pattern);
    }
  };

  it('unsupported configurations', () => {
    expectNative(() => WstPlan.create({ J: 0, Q: 4 }), /J must be an integer in \[1, 8\].*got 0/);
    expectNative(() => WstPlan.create({ J: 9, Q: 4 }), /2\^J may not exceed the length.*got 9/);
    expectNative(() => WstPlan.create({ J: 6, Q: 0 }), /Q1 must be an integer in \[1, 32\], got 0/);
    expectNative(() => WstPlan.create({ J: 6, Q: [4, 0] }), /Q2 must be an integer/);
    expectNative(() => WstPlan.create({ J: 6, Q: 4, maxOrder: 3 }), /max_order must be 1 or 2/);
    expectNative(() => WstPlan.create({ J: 6, Q: 4, length: 300 }), /length must be a power of two/);
    expect(() => WstPlan.create({ J: 6.5, Q: 4 })).toThrow(/J must be an integer/);
  });

  it('NaN, inf and wrong lengths', () => {
    const p = plan({ J: 6, Q: 4 });
    const w = randomWalk(256, 3);
    w[40] = Number.NaN;
    expectNative(() => p.featuresSingle(w), /window\[40\] is NaN/);
    w[40] = Number.POSITIVE_INFINITY;
    expectNative(() => p.featuresSingle(w), /window\[40\] is inf/);
    expectNative(() => p.featuresSingle(randomWalk(255, 3)), /window has 255 samples, expected 256/);
    const s = randomWalk(400, 4);
    s[399] = Number.NEGATIVE_INFINITY;
    expectNative(() => p.featuresBatch(s), /series\[399\] is -inf/);
    expectNative(() => p.featuresBatch(randomWalk(100, 4)), /fewer than one window of 256/);
    expectNative(() => p.transform(randomWalk(300, 4)), /positive multiple of the length 256/);
    expect(() => p.transform([Array(255).fill(0)])).toThrow(/signal 0 has 255 samples, expected 256/);
    expect(() => p.featuresBatch(s, { stride: 0 })).toThrow(/stride must be an integer >= 1/);
  });

  it('async errors reject with the native message', async () => {
    const p = plan({ J: 6, Q: 4 });
    const s = randomWalk(400, 5);
    s[10] = Number.NaN;
    await expect(p.featuresBatchAsync(s)).rejects.toThrow(/series\[10\] is NaN/);
  });

  it('a freed plan refuses further calls; free is idempotent', () => {
    const p = WstPlan.create({ J: 2, Q: 1 });
    p.free();
    p.free();
    expect(() => p.featuresSingle(new Float64Array(256))).toThrow(/used after free/);
  });
});
