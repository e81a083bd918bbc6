// Validations of several policies in parallel. The main process loads each market once and shares its
// arrays with the workers through SharedArrayBuffers (no copy per task); each piscina worker backtests,
// validates and writes its report files, and returns the ValidationResult; only the main process writes
// to DuckDB (one writer). Every job is deterministic (seeded), so the results do not depend on the
// number of workers, nor on which worker ran which job.
//
// Workers run compiled JavaScript: dist/workers/validate.js (built by `npx tsc -p tsconfig.build.json`),
// found from this module whether it runs from src/ (tsx, vitest) or from dist/.
import { existsSync, statSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createPolicy } from '../agent/policies/registry.js';
import type { EnvConfig } from '../env/config.js';
import type { Market } from '../env/market.js';
import type { BarSeries, EpisodeSet, FeatureMatrix } from '../env/types.js';
import { PolicyError, type FitSample, type ParamValue } from '../agent/policies/types.js';
import type { Config } from '../config/schema.js';
import { runBacktest, type BacktestResult } from './backtest.js';
import { writeReport, type ReportFiles } from './report/index.js';
import { validateBacktest, type Provenance, type ValidationResult, type ValidationSettings } from './validate.js';
import { walkForward, type WalkForwardOptions } from './walkforward.js';
import { errorFromData, type ErrorData } from '../util/errors.js';

/** A market whose arrays live in SharedArrayBuffers (structured-clone shares them, never copies). */
export interface SharedMarket {
  instrument: string;
  bars: BarSeries;
  episodes: EpisodeSet;
  /** Feature rows aligned with the bars (policies that observe read them), or null. */
  features: FeatureMatrix | null;
  featureSet: string | null;
  featureHash: string | null;
  sessionsAvailable: number;
  sessionLength: number;
  first: string;
  last: string;
}

function shared<T extends Float64Array | Int32Array | Float32Array>(a: T, make: (buf: SharedArrayBuffer) => T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const out = make(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

export function shareMarket(m: Market): SharedMarket {
  const f64 = (a: Float64Array) => shared(a, (b) => new Float64Array(b));
  const i32 = (a: Int32Array) => shared(a, (b) => new Int32Array(b));
  // One copy into shared memory per market; every job and worker then reads the same bytes.
  const features = m.features ? { data: shared(m.features.data, (b) => new Float32Array(b)), nFeatures: m.features.nFeatures } : null;
  return {
    instrument: m.instrument,
    bars: { ts: f64(m.bars.ts), open: f64(m.bars.open), high: f64(m.bars.high), low: f64(m.bars.low), close: f64(m.bars.close) },
    episodes: { start: i32(m.episodes.start), end: i32(m.episodes.end) },
    features,
    featureSet: m.featureSet,
    featureHash: m.featureHash,
    sessionsAvailable: m.sessionsAvailable,
    sessionLength: m.sessionLength,
    first: m.first,
    last: m.last,
  };
}

/** One policy to backtest and validate on one market. Plain data (it crosses to a worker). */
export interface PolicyJob {
  /** Caller's label (e.g. the policy name with its index), echoed in the outcome. */
  key: string;
  policy: string;
  /** Resolved parameters (a checkpoint reference turned into its id: what the result records). */
  params: Record<string, ParamValue>;
  /** What PolicySpec.resolve found in the main process (e.g. a checkpoint directory). */
  artifacts: Record<string, string>;
  /** The effective config (learned policies read their search settings from it). */
  config: Config;
  seed: number;
  env: EnvConfig;
  batch: number;
  settings: ValidationSettings;
  provenance: Omit<Provenance, 'sessions_run' | 'sessions_available' | 'session_length' | 'data_first' | 'data_last' | 'feature_set' | 'instrument'>;
  /** Walk-forward to attach to the report (null: none). */
  walkForward: Omit<WalkForwardOptions, 'policy' | 'onFold'> | null;
  openMinutesPerWeek: number;
  /** Report directory (null: no report files). */
  reportDir: string | null;
  force: boolean;
  /** The report's "generated" stamp (fixed by the caller so that every job shows the same). */
  generatedAt: string;
}

export interface JobOutcome {
  key: string;
  result: ValidationResult;
  report: ReportFiles | null;
  /** Wall seconds per phase (where the time goes; not part of the result). */
  seconds: { backtest: number; walkforward: number; validate: number; report: number };
}

/** In-sample data of a fitting policy (linear): the fit market's bars, features and sessions. */
function fitSample(fit: SharedMarket | null): FitSample | null {
  if (!fit) return null;
  if (!fit.features) throw new PolicyError('the fit market has no feature rows: a fitting policy reads features');
  return { bars: fit.bars, features: fit.features, episodes: fit.episodes };
}

/** Backtests and validates one policy (what a worker does; also run in-process for one worker). */
export async function runPolicyJob(job: PolicyJob, market: SharedMarket, fit: SharedMarket | null = null): Promise<JobOutcome> {
  const t0 = performance.now();
  const ctx = { config: job.config, artifacts: job.artifacts, featureHash: market.featureHash };
  const policy = await createPolicy(job.policy, job.params, { seed: job.seed, env: job.env, fit: fitSample(fit), ...ctx });
  let backtest: BacktestResult;
  try {
    backtest = await runBacktest({ bars: market.bars, features: market.features, episodes: market.episodes, policy, env: job.env, batch: job.batch });
  } finally {
    await policy.close?.();
  }
  const t1 = performance.now();
  const wf = job.walkForward ? await walkForward(market, job.env, { ...job.walkForward, policy: job.policy, fixed: job.walkForward.fixed, context: ctx }) : null;
  const t2 = performance.now();
  const result = await validateBacktest({
    backtest,
    bars: market.bars,
    episodes: market.episodes,
    env: job.env,
    settings: job.settings,
    openMinutesPerWeek: job.openMinutesPerWeek,
    walkforward: wf,
    provenance: {
      ...job.provenance,
      instrument: market.instrument,
      feature_set: market.featureSet,
      data_first: market.first,
      data_last: market.last,
      sessions_run: market.episodes.start.length,
      sessions_available: market.sessionsAvailable,
      session_length: market.sessionLength,
    },
  });
  const t3 = performance.now();
  const report = job.reportDir ? await writeReport(result, job.reportDir, { force: job.force, generatedAt: job.generatedAt }) : null;
  const t4 = performance.now();
  return { key: job.key, result, report, seconds: { backtest: (t1 - t0) / 1000, walkforward: (t2 - t1) / 1000, validate: (t3 - t2) / 1000, report: (t4 - t3) / 1000 } };
}

export interface WorkerTask {
  job: PolicyJob;
  market: SharedMarket;
  /** The in-sample market of a fitting policy, or null. */
  fit: SharedMarket | null;
}

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'tsconfig.build.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cannot locate the swt package root (package.json beside tsconfig.build.json)');
}

function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, ext));
    else if (e.name.endsWith(ext)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The compiled worker, dist/workers/validate.js, from src/ or dist/ alike. Refuses a missing build, and
 * (from src/) a build older than the TypeScript sources, which would run stale code in the workers.
 */
export function workerFile(): string {
  const root = packageRoot();
  const file = path.join(root, 'dist', 'workers', 'validate.js');
  if (!existsSync(file)) throw new Error(`the validation worker ${file} is missing: build it with \`npx tsc -p tsconfig.build.json\` (or npm run build:ts)`);
  const fromSrc = !fileURLToPath(import.meta.url).includes(`${path.sep}dist${path.sep}`);
  if (fromSrc) {
    const built = newestMtime(path.join(root, 'dist', 'src'), '.js');
    const source = Math.max(newestMtime(path.join(root, 'src'), '.ts'), newestMtime(path.join(root, 'workers'), '.ts'));
    if (source > built + 1000) throw new Error(`the compiled workers in ${path.join(root, 'dist')} are older than the sources: rebuild with \`npx tsc -p tsconfig.build.json\``);
  }
  return file;
}

/**
 * Workers for `--workers 0` (auto). A plain validation of a rule-based policy spends most of its time in
 * the native Monte Carlo, which already uses every core: extra workers only add start-up (measured on
 * 2 cores: no gain). JavaScript-heavy jobs (walk-forward's many backtests; network policies later)
 * scale with workers (measured: 2 workers, 2.0x on 4 walk-forward validations).
 */
export function defaultWorkers(jobs: number, jsHeavy = true): number {
  return jsHeavy ? Math.max(1, Math.min(os.availableParallelism(), jobs)) : 1;
}

export interface ParallelOptions {
  /** Worker threads; 0 = min(cores, jobs). 1 runs the jobs one after the other in this thread. */
  workers: number;
  /** Called with each finished job (in completion order). */
  onDone?: (o: JobOutcome, done: number, total: number) => void;
}

/** What a worker returns: errors as data, so that their kind (input or not) survives the thread boundary. */
export type WorkerReply = { ok: true; outcome: JobOutcome } | { ok: false; error: ErrorData };

/**
 * A set of validation workers. Opening it starts the worker threads at once (they load their modules
 * while the caller loads markets); with one worker, jobs run in this thread and no pool is started.
 */
export class ValidationPool {
  private pool: import('piscina').Piscina | null = null;
  private constructor(readonly workers: number) {}

  static async open(workers: number): Promise<ValidationPool> {
    const vp = new ValidationPool(Math.max(1, workers));
    if (vp.workers > 1) {
      const { Piscina } = await import('piscina');
      vp.pool = new Piscina({
        filename: pathToFileURL(workerFile()).href,
        minThreads: vp.workers,
        maxThreads: vp.workers,
        idleTimeout: 60_000,
        // The worker is compiled JavaScript: do not inherit a TypeScript loader (tsx, vitest) that would
        // hook and slow down every module the workers import.
        execArgv: [],
      });
    }
    return vp;
  }

  /**
   * Runs the jobs (jobs[i] on markets[i]) and returns their outcomes in job order. A failing job rejects
   * the call with its error once every started job has settled.
   */
  async run(jobs: PolicyJob[], markets: SharedMarket[], fits: Array<SharedMarket | null>, onDone?: ParallelOptions['onDone']): Promise<JobOutcome[]> {
    if (jobs.length !== markets.length || jobs.length !== fits.length) throw new Error('ValidationPool.run: one market (and one fit market or null) per job');
    const out: JobOutcome[] = new Array(jobs.length);
    let done = 0;
    const pool = this.pool;
    if (!pool) {
      for (let i = 0; i < jobs.length; i++) {
        out[i] = await runPolicyJob(jobs[i], markets[i], fits[i]);
        onDone?.(out[i], ++done, jobs.length);
      }
      return out;
    }
    // The native Monte Carlo would otherwise start one thread per core in every worker (same results).
    const perWorker = Math.max(1, Math.floor(os.availableParallelism() / this.workers));
    const settled = await Promise.allSettled(
      jobs.map(async (job, i) => {
        const threads = job.settings.mc.threads === 0 ? perWorker : job.settings.mc.threads;
        const task: WorkerTask = { job: { ...job, settings: { ...job.settings, mc: { ...job.settings.mc, threads } } }, market: markets[i], fit: fits[i] };
        const reply = (await pool.run(task)) as WorkerReply;
        if (!reply.ok) throw errorFromData(reply.error);
        out[i] = reply.outcome;
        onDone?.(reply.outcome, ++done, jobs.length);
      }),
    );
    const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
    return out;
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    if (p) await p.destroy();
  }
}

/** Opens a pool for the jobs, runs them, closes it (see ValidationPool). */
export async function validateMany(jobs: PolicyJob[], markets: SharedMarket[], fits: Array<SharedMarket | null>, opts: ParallelOptions): Promise<JobOutcome[]> {
  const workers = opts.workers === 0 ? defaultWorkers(jobs.length) : Math.min(opts.workers, Math.max(1, jobs.length));
  const pool = await ValidationPool.open(workers);
  try {
    return await pool.run(jobs, markets, fits, opts.onDone);
  } finally {
    await pool.close();
  }
}
