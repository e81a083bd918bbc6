// Validation jobs for the application layer (CLI, and later the training watcher and the server): load
// the markets, build one job per policy or stored run, run them on the validation pool, check that a
// stored run is reproduced, save the results. Nothing here prints.
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { configHash } from '../config/load.js';
import type { TimeRange } from '../data/range.js';
import { weekCalendar } from '../data/calendar.js';
import { envConfigFromConfig, envDocument, type EnvConfig } from '../env/config.js';
import type { Market } from '../env/market.js';
import { getPolicySpec, resolvePolicy, resolvePolicyParams } from '../agent/policies/registry.js';
import type { ParamValue } from '../agent/policies/types.js';
import { openMinutesPerWeek } from '../validation/gains.js';
import { checkReportDir } from '../validation/report/index.js';
import { defaultWorkers, shareMarket, ValidationPool, type JobOutcome, type PolicyJob, type SharedMarket } from '../validation/parallel.js';
import { saveValidation } from '../validation/persist.js';
import { validationSettings, type ValidationResult, type ValidationSettings } from '../validation/validate.js';
import { walkForward, type WalkForwardMode, type WalkForwardObjective, type WalkForwardResult } from '../validation/walkforward.js';
import { getRun, type RunRecord } from '../validation/runs.js';
import type { Store } from '../store/db.js';
import { UsageError } from '../util/errors.js';
import type { EpisodeSet } from '../env/types.js';
import { trainFromStore } from './train.js';
import { featureSetFor, isoOrNull, loadFitMarket, loadStoreMarket, pickInstrument, type FitMarket, type MarketRequest } from './market.js';

export interface PolicyChoice {
  name: string;
  params: Record<string, ParamValue>;
}

export interface MarketChoice {
  instrument?: string;
  range: TimeRange;
  sessions?: number | 'all';
  seed?: number;
  /** In-sample range of fitting policies (null: everything before range.from). */
  fitRange?: TimeRange | null;
}

export interface ValidateRequest extends MarketChoice {
  /** Policies to validate, or stored runs (then every market choice comes from each run). */
  policies?: PolicyChoice[];
  runs?: string[];
  scenarios?: ValidationSettings['scenarios'];
  gains?: ValidationSettings['gains'];
  walkForward?: boolean;
  /** Report directory (several jobs: one sub-directory each); null: no report files. */
  reportDir: string | null;
  force?: boolean;
  /** Worker threads; 0 or undefined = auto (validation.workers). */
  workers?: number;
  onJobDone?: (done: number, total: number) => void;
}

export interface SavedValidation {
  id: number;
  outcome: JobOutcome;
}

/** A policy's market and its provenance inside one validation. */
interface LoadedMarket {
  market: Market;
  fit: FitMarket | null;
  range: TimeRange;
  env: EnvConfig;
  seed: number;
  instrument: string;
}

async function loadFor(store: Store, config: Config, choice: MarketChoice, policies: string[], featureSet: string | null): Promise<LoadedMarket> {
  const instrument = await pickInstrument(store, choice.instrument);
  const seed = choice.seed ?? config.montecarlo.seed;
  const env = envConfigFromConfig(config, instrument);
  const req: MarketRequest = { instrument, range: choice.range, sessions: choice.sessions ?? 'all', seed, featureSet: featureSetFor(config, policies, featureSet) };
  const market = await loadStoreMarket(store, config, req);
  const fitting = policies.find((p) => getPolicySpec(p).fits);
  const fit = fitting ? await loadFitMarket(store, config, fitting, req, choice.fitRange ?? null) : null;
  return { market, fit, range: choice.range, env, seed, instrument };
}

function jobKeys(choices: PolicyChoice[]): string[] {
  const seen = new Map<string, number>();
  return choices.map((c) => {
    const n = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, n);
    const dup = choices.filter((x) => x.name === c.name).length > 1;
    return dup ? `${c.name}-${n}` : c.name;
  });
}

/** The stored runs to validate, refused with the latest ids when one is unknown. */
async function loadRuns(store: Store, ids: string[]): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for (const id of ids) {
    const run = await getRun(store, id);
    if (!run) {
      const recent = await store.all<{ run_id: string }>('SELECT run_id FROM runs ORDER BY created_at DESC LIMIT 3');
      throw new UsageError(`no stored run "${id}"${recent.length ? ` (latest: ${recent.map((r) => r.run_id).join(', ')})` : ' (run `swt backtest` first)'}`);
    }
    if (runs.some((r) => r.run_id === run.run_id)) throw new UsageError(`--run ${id} given twice`);
    runs.push(run);
  }
  return runs;
}

const dateOrNull = (s: string | null) => (s ? new Date(s) : null);

/** The market choice that reproduces a stored run (its sessions, seed, range and fit range). */
function runChoice(run: RunRecord): MarketChoice {
  return {
    instrument: run.instrument,
    range: { from: dateOrNull(run.range_from), to: dateOrNull(run.range_to) },
    sessions: run.sessions,
    seed: run.seed,
    fitRange: run.fit_from || run.fit_to ? { from: dateOrNull(run.fit_from), to: dateOrNull(run.fit_to) } : null,
  };
}

/** A run is validated by re-running it: refuse when that no longer gives its stored trades. */
export function checkReproduced(run: RunRecord, r: ValidationResult): void {
  const same = r.metrics.trades === run.metrics.trades && r.metrics.net_pips === run.metrics.net_pips;
  if (!same) {
    throw new UsageError(
      `run ${run.run_id} is not reproduced by the current data and config (stored: ${run.metrics.trades} trades, ${run.metrics.net_pips.toFixed(2)} net pips; ` +
        `now: ${r.metrics.trades} trades, ${r.metrics.net_pips.toFixed(2)} net pips; config hash then ${run.config_hash}): re-run the backtest and validate the new run`,
    );
  }
}

/**
 * Validates the requested policies (sharing one market) or stored runs (each on its own), in parallel
 * on the validation pool, and saves every result in one transaction. Results come back in request order.
 */
export async function runValidations(store: Store, config: Config, req: ValidateRequest): Promise<SavedValidation[]> {
  const runs = req.runs && req.runs.length > 0 ? await loadRuns(store, req.runs) : null;
  const choices: PolicyChoice[] = runs ? runs.map((r) => ({ name: r.policy, params: r.params })) : (req.policies ?? []);
  if (choices.length === 0) throw new UsageError('nothing to validate: give a policy or a stored run');
  for (const c of choices) resolvePolicyParams(c.name, c.params); // fail before any work
  // Checkpoint references resolve here, in the process that holds the store.
  const resolved = await Promise.all(choices.map((c) => resolvePolicy(c.name, c.params, { store, config })));
  const keys = runs ? runs.map((r) => r.run_id) : jobKeys(choices);
  const base = req.reportDir;
  const dirs = keys.map((k) => (base ? (choices.length === 1 ? base : path.join(base, k)) : null));
  // Refuse an existing report directory before any work is done.
  if (base && choices.length > 1) checkReportDir(base, Boolean(req.force));
  for (const d of dirs) if (d) checkReportDir(d, Boolean(req.force));

  // Workers start loading their modules while the markets load.
  const wanted = req.workers ?? config.validation.workers;
  const heavy = Boolean(req.walkForward) || choices.some((c) => getPolicySpec(c.name).observes);
  const pool = await ValidationPool.open(wanted === 0 ? defaultWorkers(choices.length, heavy) : Math.min(wanted, choices.length));
  try {
    const names = choices.map((c) => c.name);
    // Policies share one market; stored runs each bring their own (instrument, range, sessions, seed, fit).
    const markets: LoadedMarket[] = runs
      ? await Promise.all(runs.map((r, i) => loadFor(store, config, runChoice(r), [names[i]], r.feature_set)))
      : [await loadFor(store, config, req, names, null)];
    const shared = markets.map((m) => ({ market: shareMarket(m.market), fit: m.fit ? shareMarket(m.fit.market) : null }));
    // The jobs need no store: give the file back to other processes until the results are saved.
    await store.release();
    const wfc = config.validation.walkforward;
    const openMinutes = openMinutesPerWeek(weekCalendar(config));
    const generatedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const pick = (i: number) => (runs ? i : 0);
    const jobs: PolicyJob[] = choices.map((c, i) => {
      const lm = markets[pick(i)];
      return {
        key: keys[i],
        policy: c.name,
        params: resolved[i].params,
        artifacts: resolved[i].artifacts,
        config,
        seed: lm.seed,
        env: lm.env,
        batch: config.env.batch,
        settings: validationSettings(config, { scenarios: req.scenarios, gains: req.gains, seed: lm.seed }),
        provenance: {
          run_id: runs?.[i].run_id ?? null,
          config_hash: configHash(config),
          range_from: isoOrNull(lm.range.from),
          range_to: isoOrNull(lm.range.to),
          sessions_requested: runs ? runs[i].sessions : (req.sessions ?? 'all'),
          seed: lm.seed,
          env: envDocument(lm.env),
        },
        walkForward: req.walkForward
          ? { folds: wfc.folds, mode: wfc.mode, isRatio: wfc.is_ratio, objective: wfc.objective, minTrades: wfc.min_trades, seed: lm.seed, fixed: getPolicySpec(c.name).resolve ? resolved[i].params : c.params, batch: config.env.batch, openMinutesPerWeek: openMinutes }
          : null,
        openMinutesPerWeek: openMinutes,
        reportDir: dirs[i],
        force: Boolean(req.force),
        generatedAt,
      };
    });
    const fits = choices.map((c, i) => (getPolicySpec(c.name).fits ? shared[pick(i)].fit : null));
    const outcomes = await pool.run(
      jobs,
      jobs.map((_j, i) => shared[pick(i)].market),
      fits,
      (_x, done) => req.onJobDone?.(done, jobs.length),
    );
    runs?.forEach((r, i) => checkReproduced(r, outcomes[i].result));
    const ids: number[] = [];
    await store.transaction(async () => {
      for (const oc of outcomes) ids.push(await saveValidation(store, oc.result, oc.report?.dir ?? null));
    });
    return outcomes.map((outcome, i) => ({ id: ids[i], outcome }));
  } finally {
    await pool.close();
  }
}

export interface WalkForwardRequest extends MarketChoice {
  policy: string;
  grid: Record<string, number[]>;
  fixed: Record<string, ParamValue>;
  folds?: number;
  mode?: WalkForwardMode;
  isRatio?: number;
  objective?: WalkForwardObjective;
  minTrades?: number;
  onFold?: (done: number, total: number) => void;
  /** Retrain a learned policy (muzero, ppo: its spec's learner) on each fold's in-sample range with this preset's config (loaded for that learner). */
  train?: { preset: string; config: Config; maxMinutes: number | null; maxEpisodes: number | null };
}

export interface WalkForwardJob {
  instrument: string;
  market: Market;
  result: WalkForwardResult;
}

/** A walk-forward of one policy on the requested market (fitting policies refit on each fold). */
export async function runWalkForward(store: Store, config: Config, req: WalkForwardRequest): Promise<WalkForwardJob> {
  getPolicySpec(req.policy);
  const wfc = config.validation.walkforward;
  const lm = await loadFor(store, config, { ...req, fitRange: null }, [], featureSetFor(config, [req.policy], null));
  const spec = getPolicySpec(req.policy);
  if (req.train && !spec.learner) throw new UsageError(`--train-preset retrains a learned policy (muzero, ppo) on each fold; '${req.policy}' is not one`);
  // A learned policy is walked forward at a fixed checkpoint (resolved once, here), or retrained per fold.
  const fixed = spec.resolve && !req.train ? await resolvePolicy(req.policy, req.fixed, { store, config }) : { params: req.fixed, artifacts: {} };
  await store.release();
  const train = req.train;
  const retrain = train
    ? async (fold: number, inSample: EpisodeSet) => {
        const bars = lm.market.bars;
        const range = { from: new Date(bars.ts[inSample.start[0]]), to: new Date(bars.ts[inSample.end[inSample.end.length - 1] - 1] + lm.env.barMs) };
        const t = await trainFromStore(store, train.config, {
          preset: train.preset,
          algo: spec.learner,
          instrument: lm.instrument,
          range,
          resume: false,
          maxEpisodes: train.maxEpisodes,
          maxMinutes: train.maxMinutes,
          seed: lm.seed + fold,
        });
        const r = await resolvePolicy(req.policy, { ...req.fixed, checkpoint: t.best_checkpoint ?? t.last_checkpoint }, { store, config });
        await store.release();
        return { params: r.params, context: { config, artifacts: r.artifacts, featureHash: lm.market.featureHash } };
      }
    : undefined;
  const result = await walkForward(lm.market, lm.env, {
    policy: req.policy,
    grid: req.grid,
    fixed: spec.resolve && !train ? fixed.params : req.fixed,
    context: { config, artifacts: fixed.artifacts, featureHash: lm.market.featureHash },
    retrain,
    folds: req.folds ?? wfc.folds,
    mode: req.mode ?? wfc.mode,
    isRatio: req.isRatio ?? wfc.is_ratio,
    objective: req.objective ?? wfc.objective,
    minTrades: req.minTrades ?? wfc.min_trades,
    seed: lm.seed,
    batch: config.env.batch,
    openMinutesPerWeek: openMinutesPerWeek(weekCalendar(config)),
    onFold: req.onFold,
  });
  return { instrument: lm.instrument, market: lm.market, result };
}

export type { SharedMarket };

export interface WatchRequest extends Omit<ValidateRequest, 'policies' | 'runs'> {
  /** The learned policy to validate at each new best checkpoint, with its other parameters. */
  policy: PolicyChoice;
  /** Seconds between looks at the checkpoints table. */
  intervalSeconds: number;
  /** Stop after this many validations (null: until stopped). */
  maxValidations: number | null;
  /** Resolves when the watcher should stop (SIGINT, a test). */
  stop: Promise<void>;
  onValidated?: (v: SavedValidation, checkpoint: string) => void;
  onIdle?: (best: string | null) => void;
}

/** The id of the best checkpoint by evaluation SQN (the later one on a tie), or null. */
async function bestCheckpoint(store: Store): Promise<string | null> {
  const row = await store.one<{ id: string }>('SELECT id FROM checkpoints WHERE eval_sqn IS NOT NULL ORDER BY eval_sqn DESC, seq DESC LIMIT 1');
  return row?.id ?? null;
}

/**
 * The validation watcher: each time a new best checkpoint appears (training keeps the best by
 * evaluation SQN), validate it on the requested market and save the result, with its report. The
 * store is read only briefly at each look, so training keeps writing beside it.
 */
export async function watchValidations(store: Store, config: Config, req: WatchRequest): Promise<SavedValidation[]> {
  if (!getPolicySpec(req.policy.name).resolve) throw new UsageError(`--watch validates new checkpoints: give a learned policy (e.g. --policy muzero), not '${req.policy.name}'`);
  const done: SavedValidation[] = [];
  let last: string | null = null;
  let stopped = false;
  void req.stop.then(() => (stopped = true));
  while (!stopped && (req.maxValidations === null || done.length < req.maxValidations)) {
    const best = await bestCheckpoint(store);
    await store.release();
    if (best && best !== last) {
      last = best;
      const reportDir = req.reportDir ? path.join(req.reportDir, best) : null;
      const [v] = await runValidations(store, config, { ...req, policies: [{ name: req.policy.name, params: { ...req.policy.params, checkpoint: best } }], reportDir });
      await store.release();
      done.push(v);
      req.onValidated?.(v, best);
      continue;
    }
    req.onIdle?.(best);
    await Promise.race([new Promise((r) => setTimeout(r, req.intervalSeconds * 1000)), req.stop]);
  }
  return done;
}
