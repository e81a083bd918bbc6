// Throughput of the native scattering transform: J=6, Q=4, max_order=2 (67 features) on every stride-1
// window (256 samples, z-scored) of a 20,000-point seeded random walk; 1 thread, then all cores.
// Prints name=value lines (medians over several runs, after a warm-up).
import os from 'node:os';
import { WstPlan } from '../bindings/wst.js';

const RUNS = Number(process.env.SWT_BENCH_RUNS ?? 5);

function randomWalk(n: number, seed: number): Float64Array {
  let a = seed >>> 0;
  const uni = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(n);
  let p = 150;
  for (let i = 0; i < n; i++) {
    p += 0.02 * Math.sqrt(-2 * Math.log(1 - uni())) * Math.cos(2 * Math.PI * uni());
    out[i] = p;
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const series = randomWalk(20_000, 20240601);
const plan = WstPlan.create({ J: 6, Q: 4, maxOrder: 2 });
const windows = plan.windowCount(series.length, 1);
const cores = os.availableParallelism();

function rate(threads: number): number {
  plan.featuresBatch(series, { threads }); // warm-up (page faults, caches)
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    plan.featuresBatch(series, { threads });
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return windows / median(times);
}

const one = rate(1);
const all = rate(0);
plan.free();
console.log(`wst_windows=${windows}`);
console.log(`wst_windows_per_s_1thread=${Math.round(one)}`);
console.log(`wst_windows_per_s=${Math.round(all)}`);
console.log(`cores=${cores}`);

// features_build_seconds: the full feature build of the 1.37-million-bar synthetic series (default set:
// 67 scattering paths, 4 order-0 samples, close_z, 5 scaled returns, 4 time features), including the
// DuckDB write, and where its time went (features_phase_*_seconds; the WST phase overlaps the writes).
// SWT_BENCH_BUILD_TO=YYYY-MM-DD ends the series earlier (phases on a shorter series);
// SWT_BENCH_SKIP_BUILD=1 skips the build.
if (process.env.SWT_BENCH_SKIP_BUILD !== '1') {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { Store } = await import('../src/store/db.js');
  const { loadConfig } = await import('../src/config/load.js');
  const { writeSynthCsv } = await import('../src/data/synth.js');
  const { weekCalendar } = await import('../src/data/calendar.js');
  const { importFiles } = await import('../src/data/import.js');
  const { buildFeatures } = await import('../src/features/store.js');
  const config = loadConfig();
  const dir = mkdtempSync(path.join(tmpdir(), 'swt-bench-wst-'));
  try {
    const file = path.join(dir, 'syn.csv');
    const to = process.env.SWT_BENCH_BUILD_TO ?? config.synth.to;
    writeSynthCsv(file, { from: config.synth.from, to, seed: 1, startPrice: 150, pipSize: 0.01, calendar: weekCalendar(config) });
    const store = await Store.open(path.join(dir, 'bench.duckdb'));
    await importFiles(store, [file], { instrument: 'SYN_GBPJPY', format: 'csv' });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await buildFeatures(store, config, { instrument: 'SYN_GBPJPY', set: 'default' });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    store.close();
    console.log(`features_build_rows=${r.rows_added}`);
    console.log(`features_build_columns=${r.columns}`);
    console.log(`features_build_seconds=${seconds.toFixed(2)}`);
    console.log(`features_build_cpu_seconds=${((cpu.user + cpu.system) / 1e6).toFixed(2)}`);
    for (const [k, v] of Object.entries(r.phases)) console.log(`features_phase_${k}=${v.toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
