import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Store } from '../src/store/db.js';
import { loadConfig } from '../src/config/load.js';
import { loadFeatures, registerFeatureSet } from '../src/features/store.js';
import { rowBuilderFor, STATUS, type BarColumns } from '../src/features/row.js';
import { specFromConfig } from '../src/features/spec.js';
import { loadBars } from '../src/env/market.js';
import { ROOT, swt, tempDir } from './helpers/paths.js';
import { csvLines, makeBars, writeLines } from './helpers/bars.js';

const t = tempDir();
afterAll(t.cleanup);
const SYN = path.join(t.dir, 'syn.csv');
const CHUNK = { SWT_FEATURES__BUILD__CHUNK_ROWS: '2048' };

async function synthInto(db: string): Promise<void> {
  const r = await swt(['data', 'synth', '--from', '2023-05-01', '--to', '2023-05-19', '--seed', '5', '--out', SYN, '--db', db]);
  expect(r.status, r.stderr).toBe(0);
}

/** Every row of the set as text, for exact comparison between two stores. */
async function dump(db: string): Promise<string[]> {
  const s = await Store.open(db);
  try {
    const rows = await s.all<{ r: string }>(`SELECT concat_ws('|', COLUMNS(*)) AS r FROM features_default ORDER BY ts`);
    return rows.map((x) => x.r);
  } finally {
    s.close();
  }
}

/**
 * Replays the bars into a growing series, as live trading receives them (spare capacity after the
 * newest bar holds NaN, which a row must never read), computes each new bar's row with the feature
 * row builder and compares it, status and bytes, with the stored row. Returns the status counts.
 */
function liveParity(instrument: string, bars: BarColumns, stored: { data: Float32Array; nFeatures: number; status: Int32Array }): { ok: number; warmup: number; gap: number } {
  const builder = rowBuilderFor(loadConfig({ env: {} }), 'default', instrument);
  const n = bars.ts.length;
  const grow = () => new Float64Array(n + 64).fill(NaN);
  const live = { ts: grow(), high: grow(), low: grow(), close: grow() };
  const F = stored.nFeatures;
  expect(builder.width).toBe(F);
  const row = new Float32Array(F);
  const counts = { ok: 0, warmup: 0, gap: 0 };
  try {
    for (let i = 0; i < n; i++) {
      for (const k of ['ts', 'high', 'low', 'close'] as const) live[k][i] = bars[k][i];
      const st = builder.rowAt(live, i, row);
      expect(st, `status of bar ${i}`).toBe(stored.status[i]);
      const same = Buffer.from(row.buffer).equals(Buffer.from(stored.data.buffer, stored.data.byteOffset + i * F * 4, F * 4));
      if (!same) expect(Array.from(row), `row of bar ${i}`).toEqual(Array.from(stored.data.subarray(i * F, (i + 1) * F)));
      counts[st === STATUS.OK ? 'ok' : st === STATUS.WARMUP ? 'warmup' : 'gap']++;
    }
  } finally {
    builder.free();
  }
  return counts;
}

function buildUntilKilled(db: string, afterChunks: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'swt.js'), 'features', 'build', '--instrument', 'SYN_GBPJPY', '--db', db], {
      env: { ...process.env, ...CHUNK, SWT_LOG__LEVEL: 'info', SWT_LOG__DIR: path.join(t.dir, 'logs') },
    });
    let seen = 0;
    child.stderr.on('data', (d: Buffer) => {
      seen += (d.toString().match(/chunk committed/g) ?? []).length;
      if (seen >= afterChunks) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(signal === 'SIGKILL' ? -9 : (code ?? -1)));
  });
}

describe('swt features build', () => {
  const full = path.join(t.dir, 'full.duckdb');
  const killed = path.join(t.dir, 'killed.duckdb');

  beforeAll(async () => {
    await synthInto(full);
    expect((await swt(['data', 'import', SYN, '--instrument', 'SYN_GBPJPY', '--format', 'csv', '--db', killed])).status).toBe(0);
  });

  it('an uninterrupted build computes every bar, with a final throughput line', async () => {
    const r = await swt(['features', 'build', '--instrument', 'SYN_GBPJPY', '--db', full, '--json'], { env: CHUNK });
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.rows_added).toBe(rep.rows_total);
    expect(rep.warmup).toBe(255);
    expect(rep.ok + rep.warmup + rep.gap).toBe(rep.rows_added);
    // 67 scattering paths, 4 order-0 samples, close_z, 5 scaled returns, 4 time features
    expect(rep.columns).toBe(67 + 4 + 1 + 5 + 4);
    expect(Object.keys(rep.phases).sort()).toEqual(['commit_seconds', 'load_seconds', 'release_seconds', 'rows_seconds', 'write_seconds', 'wst_seconds', 'wst_wait_seconds']);
    const human = await swt(['features', 'build', '--instrument', 'SYN_GBPJPY', '--db', full]);
    expect(human.stdout).toMatch(/up to date, \d+ rows, nothing to add/);
  });

  it('killed part-way and run again, it ends with exactly the rows of an uninterrupted build', async () => {
    const code = await buildUntilKilled(killed, 2);
    expect(code).toBe(-9);
    const partial = await dump(killed);
    const whole = await dump(full);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(whole.length);
    expect(partial.length % 2048).toBe(0); // only whole committed chunks survive a kill
    const r = await swt(['features', 'build', '--instrument', 'SYN_GBPJPY', '--db', killed, '--json'], { env: CHUNK });
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.resumed_from).not.toBeNull();
    expect(rep.rows_added).toBe(whole.length - partial.length);
    expect(await dump(killed)).toEqual(whole);
  });

  it('re-running adds nothing', async () => {
    const before = await dump(full);
    const r = await swt(['features', 'build', '--instrument', 'SYN_GBPJPY', '--db', full, '--json']);
    expect(JSON.parse(r.stdout).rows_added).toBe(0);
    expect(await dump(full)).toEqual(before);
  });

  it('live rows, computed bar by bar as the series grows, equal the stored rows bit for bit, status included', async () => {
    const s = await Store.open(full);
    try {
      const bars = await loadBars(s, 'SYN_GBPJPY', { from: null, to: null });
      const stored = await loadFeatures(s, 'default', 'SYN_GBPJPY', bars.ts);
      const n = liveParity('SYN_GBPJPY', bars, stored);
      expect(n.ok).toBe(bars.ts.length - 255);
      expect(n.warmup).toBe(255); // the start of the series
      // warm-up rows: NaN in every column that needs history, time features present
      const F = stored.nFeatures;
      expect(Number.isNaN(stored.data[0])).toBe(true);
      expect(Number.isNaN(stored.data[67 + 4 + 1 + 4])).toBe(true);
      expect(Number.isNaN(stored.data[F - 1])).toBe(false);
    } finally {
      s.close();
    }
  });

  it('windows across a gap over max-gap are marked and not computed; a weekend closure does not break windows', async () => {
    const db = path.join(t.dir, 'gap.duckdb');
    // Tuesday 2021-06-08 00:00: 600 bars, then 20 missing minutes, then 600 bars; then Friday→Sunday
    const a = makeBars('2021-06-08T00:00:00Z', 1220, { skip: (i) => i >= 600 && i < 620 });
    const fri = makeBars('2021-06-11T16:00:00Z', 300);
    const sun = makeBars('2021-06-13T21:00:00Z', 300);
    const file = writeLines(path.join(t.dir, 'gap.csv'), csvLines([...a, ...fri, ...sun]));
    expect((await swt(['data', 'import', file, '--instrument', 'GBP_JPY', '--format', 'csv', '--db', db])).status).toBe(0);
    // chunks of 256 rows: chunk boundaries fall inside the rows whose lookback holds a gap
    const r = await swt(['features', 'build', '--instrument', 'GBP_JPY', '--db', db, '--json'], { env: { SWT_FEATURES__BUILD__CHUNK_ROWS: '256' } });
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    // bars 600..854 (after the gap) have the gap inside their window; the Tuesday→Friday hole breaks too
    expect(rep.gap).toBe(255 + 255);
    const s = await Store.open(db);
    try {
      const rows = await s.all<{ status: number; n: number; nonnull: number }>(
        `SELECT status, count(*) AS n, count(wst_0) AS nonnull FROM features_default WHERE instrument = 'GBP_JPY' GROUP BY status ORDER BY status`,
      );
      expect(rows).toEqual([
        { status: STATUS.OK, n: 1200 + 600 - 255 - 255 - 255, nonnull: 1200 + 600 - 255 - 255 - 255 },
        { status: STATUS.WARMUP, n: 255, nonnull: 0 },
        { status: STATUS.GAP, n: 510, nonnull: 0 },
      ]);
      // the first Sunday bar's window reaches back over the weekend into Friday: computed
      const [sunday] = await s.all<{ status: number }>(`SELECT status FROM features_default WHERE ts = TIMESTAMP '2021-06-13 21:00:00'`);
      expect(sunday.status).toBe(STATUS.OK);
      // live marks the same rows, with the same values, across both holes and the weekend
      const bars = await loadBars(s, 'GBP_JPY', { from: null, to: null });
      expect(liveParity('GBP_JPY', bars, await loadFeatures(s, 'default', 'GBP_JPY', bars.ts))).toEqual({ ok: 1035, warmup: 255, gap: 510 });
    } finally {
      s.close();
    }
  });

  it('a set stored under an older spec is refused with what changed and how to rebuild it', async () => {
    const db = path.join(t.dir, 'old.duckdb');
    expect((await swt(['data', 'import', SYN, '--instrument', 'SYN_GBPJPY', '--format', 'csv', '--db', db])).status).toBe(0);
    const spec = specFromConfig(loadConfig({ env: {} }), 'default');
    const before = { ...spec, directional: { order0_samples: false, close_zscore: false, return_horizons: [], vol_bars: 240 } };
    const s = await Store.open(db);
    try {
      await registerFeatureSet(s, 'default', before, Array.from({ length: 71 }, (_, c) => `c${c}`));
    } finally {
      s.close();
    }
    const r = await swt(['features', 'build', '--instrument', 'SYN_GBPJPY', '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/feature set "default" is stored with a different spec .*changed: directional\), so its 71 stored columns cannot be read as the new 81/);
    expect(r.stderr).toMatch(/swt features drop --set default` and then `swt features build --set default/);
    expect((await swt(['features', 'drop', '--set', 'default', '--db', db])).status).toBe(0);
    expect((await swt(['features', 'build', '--instrument', 'SYN_GBPJPY', '--db', db])).status).toBe(0);
  });

  it('an unknown feature set or instrument is a clear error', async () => {
    const db = path.join(t.dir, 'full.duckdb');
    const r = await swt(['features', 'build', '--instrument', 'SYN_GBPJPY', '--set', 'nope', '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown feature set "nope": the config defines default/);
    const r2 = await swt(['features', 'build', '--instrument', 'EUR_USD', '--db', db]);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/no bars for instrument EUR_USD/);
  });
});
