// `swt sweep`: autonomous exploration of a configuration space (src/validation/sweep/space.ts) by
// successive halving. Each round draws its configurations (trial ids and parameters fixed before any
// runs); stage 0 scores all of them on the fewest sessions, and each later stage re-scores the best
// fraction `keep` of the one before on more sessions. A score is the validation composite score
// (src/validation/grade.ts) of a backtest on out-of-sample sessions only: the space's out_of_sample
// range (a fitting policy fits on in_sample, which must not overlap it). A stage's sessions are a seeded
// sample of that range's sessions, nested (stage k's sessions are among stage k + 1's) and the same for
// every trial, so trials are compared on the same market and a score does not depend on the worker
// that computed it.
//
// Evaluations run on the validation pool (src/validation/parallel.ts) in chunks; each chunk's results
// are written to sweep_trials in one transaction, so a killed sweep loses at most one chunk, and
// --resume evaluates only the (trial, stage) pairs without a row. The sweep stops when every round is
// done, at the time limit, or when a full-budget (last-stage) score reaches the target, whichever is
// first; then the champion (championOf) is validated for real (on the holdout when the space has one),
// with the config's full validation settings, and the HTML report is written.
//
// A training sweep (a train: block, src/validation/sweep/space.ts) trains each trial before scoring it:
// with trainFromStore, in this process and one trial after another (training needs the store, which
// workers do not have), on in_sample, for the stage's episode budget, over the preset with the trial's
// config overrides, seeded from the sweep seed and the trial id. Its best checkpoint (the last when no
// evaluation ranked one) is then scored like any policy, on the pool. A survivor at the next stage
// retrains from scratch with the larger budget rather than resuming its previous checkpoint: the same
// seed replays the same first episodes, and a stage's score is a function of (trial, budget) alone,
// whichever stages, kills and resumes came before. Training retention is off (every scored checkpoint
// stays, the champion's included); the trial rows name their checkpoint and training run.
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { configHash } from '../config/load.js';
import { weekCalendar } from '../data/calendar.js';
import { envConfigFromConfig, envDocument } from '../env/config.js';
import { sessionEpisodes } from '../env/episodes.js';
import { sampleStarts } from '../env/market.js';
import { getPolicySpec, resolvePolicy } from '../agent/policies/registry.js';
import { trainFromStore } from './train.js';
import type { ParamValue } from '../agent/policies/types.js';
import { openMinutesPerWeek } from '../validation/gains.js';
import { defaultWorkers, shareMarket, ValidationPool, type JobOutcome, type PolicyJob, type SharedMarket } from '../validation/parallel.js';
import { saveValidation } from '../validation/persist.js';
import { checkReportDir, type ReportFiles } from '../validation/report/index.js';
import { parseScenarios, validationSettings, type ValidationResult } from '../validation/validate.js';
import { championOf, ordered, stageBudgets, survivors, type Evaluation } from '../validation/sweep/halving.js';
import { configLoader, drawRound, loadSpace, roundsOf, SpaceError, trialOverrides, type Draw, type Learner, type Space, type TrainConfigLoader } from '../validation/sweep/space.js';
import { writeSweepReport } from '../validation/sweep/report.js';
import { sweepStageStats, templates } from '../validation/sweep/templates.js';
import type { SweepStatus, SweepSummary } from '../validation/sweep/summary.js';

export type { SweepStatus, SweepSummary };
import type { Store } from '../store/db.js';
import { UsageError } from '../util/errors.js';
import { log } from '../util/log.js';
import { featureSetFor, isoOrNull, loadFitMarket, loadStoreMarket, pickInstrument } from './market.js';


export interface SweepRequest {
  spaceFile: string;
  maxMinutes: number | null;
  targetScore: number | null;
  resume: boolean;
  /** Worker threads (overrides the space's workers). */
  workers?: number;
  /** Report directory (default reports/sweep-<id>); null: no report and no champion validation files. */
  reportDir?: string | null;
  /** Write the report into an existing directory (a new sweep refuses one otherwise). */
  force?: boolean;
  /** A training sweep's trial config (default: the default config file with the preset and overrides). */
  trainConfig?: TrainConfigLoader;
  onProgress?: (p: SweepProgress) => void;
}

export interface SweepProgress {
  sweep_id: number;
  evaluations_run: number;
  evaluations_reused: number;
  seconds: number;
  trials_per_second: number;
  /** Evaluations per stage so far. */
  stage_counts: number[];
  champion: { trial: number; stage: number; score: number; params: Record<string, ParamValue> } | null;
}


/** The latest sweep of this space that has not evaluated every round (null if none). */
async function unfinishedSweep(store: Store, hash: string): Promise<{ id: number; report_dir: string | null } | null> {
  const row = await store.one<{ id: number; report_dir: string | null }>(`SELECT id, report_dir FROM sweeps WHERE space_hash = $1 AND status <> 'done' ORDER BY id DESC LIMIT 1`, [hash]);
  return row ? { id: Number(row.id), report_dir: row.report_dir } : null;
}

async function loadEvaluations(store: Store, sweepId: number): Promise<Evaluation[]> {
  const rows = await store.all<Record<string, unknown>>(
    `SELECT trial, round, point, stage, sessions, CAST(params AS VARCHAR) AS params, score, grade, recommendation, trades, net_pips, expectancy, car25, safe_f, dd95, seconds,
            checkpoint_id, train_run_id, episodes
       FROM sweep_trials WHERE sweep_id = $1 ORDER BY trial, stage`,
    [sweepId],
  );
  return rows.map((r) => ({
    trial: Number(r.trial),
    round: Number(r.round),
    point: Number(r.point),
    stage: Number(r.stage),
    sessions: Number(r.sessions),
    params: JSON.parse(String(r.params)) as Record<string, ParamValue>,
    score: Number(r.score),
    grade: String(r.grade),
    recommendation: String(r.recommendation),
    trades: Number(r.trades),
    net_pips: Number(r.net_pips),
    expectancy: r.expectancy === null ? null : Number(r.expectancy),
    car25: Number(r.car25),
    safe_f: Number(r.safe_f),
    dd95: Number(r.dd95),
    seconds: Number(r.seconds),
    checkpoint_id: r.checkpoint_id === null ? null : String(r.checkpoint_id),
    train_run_id: r.train_run_id === null ? null : String(r.train_run_id),
    episodes: r.episodes === null ? null : Number(r.episodes),
  }));
}

/**
 * A double as SQL text: the client binds every integer-valued JS number as BIGINT, and a CAR25 at a
 * leveraged safe-f can be an integer-valued double far beyond the int64 range.
 */
const f64 = (x: number | null): string | null => (x === null ? null : String(x));

async function insertEvaluations(store: Store, sweepId: number, evals: Evaluation[]): Promise<void> {
  const now = new Date().toISOString();
  await store.transaction(async () => {
    for (const e of evals) {
      await store.run(
        `INSERT INTO sweep_trials (sweep_id, trial, round, point, stage, sessions, params, score, grade, recommendation, trades, net_pips, expectancy, car25, safe_f, dd95, seconds, finished_at, checkpoint_id, train_run_id, episodes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CAST($8 AS DOUBLE), $9, $10, $11, CAST($12 AS DOUBLE), CAST($13 AS DOUBLE), CAST($14 AS DOUBLE), CAST($15 AS DOUBLE), CAST($16 AS DOUBLE), CAST($17 AS DOUBLE), CAST($18 AS TIMESTAMP), $19, $20, $21)`,
        [sweepId, e.trial, e.round, e.point, e.stage, e.sessions, JSON.stringify(e.params), f64(e.score), e.grade, e.recommendation, e.trades, f64(e.net_pips), f64(e.expectancy), f64(e.car25), f64(e.safe_f), f64(e.dd95), f64(e.seconds), now, e.checkpoint_id ?? null, e.train_run_id ?? null, e.episodes ?? null],
      );
    }
    await store.run('UPDATE sweeps SET updated_at = CAST($2 AS TIMESTAMP) WHERE id = $1', [sweepId, now]);
  });
}

/** What a training sweep's trial trained: its checkpoint and run, and the policy that plays it. */
interface Trained {
  checkpoint_id: string;
  train_run_id: string;
  episodes: number;
  config: Config;
  params: Record<string, ParamValue>;
  artifacts: Record<string, string>;
}

/** The evaluation a validation result gives (the composite score and the figures behind it). */
function evaluationOf(draw: Draw, trial: number, round: number, stage: number, sessions: number, o: JobOutcome, trained: Trained | null): Evaluation {
  const r = o.result;
  return {
    trial,
    round,
    point: draw.point,
    stage,
    sessions,
    // What ran (a checkpoint reference resolved to its id), as the validation recorded it; a training
    // sweep's trial is its hyper-parameters (its checkpoint has its own column).
    params: trained ? { ...draw.params } : { ...r.policy.params },
    ...(trained ? { checkpoint_id: trained.checkpoint_id, train_run_id: trained.train_run_id, episodes: trained.episodes } : {}),
    score: r.grade.score,
    grade: r.grade.letter,
    recommendation: r.grade.recommendation,
    trades: r.metrics.trades,
    net_pips: r.metrics.net_pips,
    expectancy: r.metrics.expectancy,
    car25: r.montecarlo.car25_mean,
    safe_f: r.montecarlo.safe_f_mean,
    dd95: r.dd95_worst.value,
    seconds: o.seconds.backtest + o.seconds.validate,
  };
}

/** A copy of the market restricted to the given episodes (the bars stay shared). */
function withEpisodes(m: SharedMarket, starts: Int32Array): SharedMarket {
  return { ...m, episodes: sessionEpisodes(starts, m.sessionLength, m.bars.ts.length) };
}

/** Runs (or resumes) a sweep and returns its summary (see the module header). */
export async function runSweep(store: Store, config: Config, req: SweepRequest): Promise<SweepSummary> {
  const t0 = performance.now();
  const space: Space = loadSpace(req.spaceFile);
  const doc = space.doc;
  const spec = getPolicySpec(doc.policy);
  const learner: Learner | null = doc.train ? spec.learner! : null;
  const loadTrainConfig = req.trainConfig ?? configLoader();
  if (spec.fits && !space.inSample) throw new SpaceError(`${space.file}: in_sample: '${doc.policy}' fits on in-sample data: give the in_sample range (before out_of_sample)`);
  const instrument = await pickInstrument(store, doc.instrument);
  const seed = doc.seed ?? config.montecarlo.seed;
  const env = envConfigFromConfig(config, instrument);

  let sweepId: number;
  let reportDir: string | null;
  const found = await unfinishedSweep(store, space.hash);
  if (req.resume) {
    if (!found) {
      const last = await store.one<{ id: number; status: string }>('SELECT id, status FROM sweeps WHERE space_hash = $1 ORDER BY id DESC LIMIT 1', [space.hash]);
      throw new UsageError(`--resume: no unfinished sweep of ${space.file} in the store${last ? ` (sweep #${last.id} is ${last.status})` : ''}: run it without --resume`);
    }
    sweepId = found.id;
    reportDir = req.reportDir === undefined ? found.report_dir : req.reportDir;
  } else {
    const row = await store.one<{ id: number | null }>('SELECT max(id) AS id FROM sweeps');
    sweepId = Number(row?.id ?? 0) + 1;
    reportDir = req.reportDir === undefined ? path.join('reports', `sweep-${sweepId}`) : req.reportDir;
    // A new sweep does not write over another report (a resumed one rewrites its own).
    if (reportDir) checkReportDir(reportDir, Boolean(req.force));
    const now = new Date().toISOString();
    await store.run(
      `INSERT INTO sweeps (id, name, space_file, space_hash, space, policy, instrument, status, created_at, updated_at, report_dir)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', CAST($8 AS TIMESTAMP), CAST($8 AS TIMESTAMP), $9)`,
      [sweepId, space.name, space.file, space.hash, JSON.stringify(doc), doc.policy, instrument, now, reportDir],
    );
  }
  const done = await loadEvaluations(store, sweepId);
  const have = new Set(done.map((e) => `${e.trial}:${e.stage}`));
  const reused = done.length;

  const featureSet = featureSetFor(config, [doc.policy], null);
  const marketReq = { instrument, range: space.outOfSample, sessions: 'all' as const, seed, featureSet };
  const market = await loadStoreMarket(store, config, marketReq);
  const fit = spec.fits ? await loadFitMarket(store, config, doc.policy, marketReq, space.inSample) : null;
  const holdout = space.holdout ? shareMarket(await loadStoreMarket(store, config, { ...marketReq, range: space.holdout })) : null;
  // References (muzero's checkpoint: latest) resolve once, when the sweep starts; a resumed sweep keeps
  // what its first evaluations ran, even if `latest` names another checkpoint now.
  const pinned = spec.resolve && !learner && done.length > 0 ? Object.fromEntries(Object.entries(done[0].params).filter(([k]) => !space.keys.includes(k))) : {};
  const resolved = spec.resolve && !learner ? await resolvePolicy(doc.policy, { ...doc.fixed, ...pinned }, { store, config }) : null;
  /** What a trial runs and records: the drawn values over the resolved fixed parameters. */
  const paramsOf = (d: Draw): Record<string, ParamValue> => (resolved ? { ...resolved.params, ...Object.fromEntries(space.keys.map((k) => [k, d.params[k]])) } : d.params);
  // Workers need no store: give the file back to other processes between writes.
  await store.release();

  const full = shareMarket(market);
  const fitShared = fit ? shareMarket(fit.market) : null;
  const available = full.episodes.start.length;
  const budgets = stageBudgets(doc.stages, available);
  const stageMarkets = budgets.map((b) => withEpisodes(full, sampleStarts(full.episodes.start, b, seed)));
  const settings = validationSettings(config, { scenarios: parseScenarios(doc.scoring.scenarios), seed });
  if (doc.scoring.curves !== undefined) settings.mc.curves = doc.scoring.curves;
  if (doc.scoring.repeats !== undefined) settings.mc.repeats = doc.scoring.repeats;
  const openMinutes = openMinutesPerWeek(weekCalendar(config));
  const hash = configHash(config);
  const generatedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const jobFor = (trial: number, stage: number, d: Draw, trained: Trained | null): PolicyJob => ({
    key: `trial-${trial}-stage-${stage}`,
    policy: doc.policy,
    params: trained ? trained.params : paramsOf(d),
    artifacts: trained ? trained.artifacts : (resolved?.artifacts ?? {}),
    // A trained trial plays with its own config (its mcts settings, say); validation settings stay the sweep's.
    config: trained ? trained.config : config,
    seed,
    env,
    batch: config.env.batch,
    settings,
    provenance: {
      run_id: null,
      config_hash: hash,
      range_from: isoOrNull(space.outOfSample.from),
      range_to: isoOrNull(space.outOfSample.to),
      sessions_requested: budgets[stage],
      seed,
      env: envDocument(env),
    },
    walkForward: null,
    openMinutesPerWeek: openMinutes,
    reportDir: null,
    force: false,
    generatedAt,
  });

  // 0 = auto, as for validations: one worker for rule policies (the native Monte Carlo already uses
  // every core; measured by bench:sweep on 2 cores: 648 evaluations a minute with 1 worker, 377 with
  // 2), up to one per core for the JavaScript-heavy ones that observe features.
  const wanted = req.workers ?? doc.workers;
  const workers = wanted === 0 ? defaultWorkers(doc.trials ?? 1e9, spec.observes) : wanted;
  const deadline = req.maxMinutes === null ? Infinity : t0 + req.maxMinutes * 60_000;
  const last = doc.stages.length - 1;
  const evaluations = [...done];
  let run = 0;
  let stop: SweepSummary['stop_reason'] | null = null;
  const targetHit = () => req.targetScore !== null && evaluations.some((e) => e.stage === last && e.score >= req.targetScore!);
  if (targetHit()) stop = 'target_score';
  const progress = () => {
    const seconds = (performance.now() - t0) / 1000;
    const c = championOf(evaluations);
    req.onProgress?.({
      sweep_id: sweepId,
      evaluations_run: run,
      evaluations_reused: reused,
      seconds,
      trials_per_second: seconds > 0 ? run / seconds : 0,
      stage_counts: budgets.map((_b, s) => evaluations.filter((e) => e.stage === s).length),
      champion: c && { trial: c.trial, stage: c.stage, score: c.score, params: c.params },
    });
  };

  /** The policy that plays a trained checkpoint, with the trial's config. */
  const playing = async (ck: { checkpoint_id: string; train_run_id: string; episodes: number }, trialConfig: Config): Promise<Trained> => {
    const r = await resolvePolicy(doc.policy, { ...doc.fixed, checkpoint: ck.checkpoint_id }, { store, config: trialConfig });
    await store.release();
    return { ...ck, config: trialConfig, params: r.params, artifacts: r.artifacts };
  };
  const trialConfig = (d: Draw): Config => {
    try {
      return loadTrainConfig({ preset: doc.train!.preset, algo: learner!, overrides: trialOverrides(doc, d.params) });
    } catch (e) {
      throw new SpaceError(`${space.file}: params: ${(e as Error).message}`);
    }
  };
  /** Trains trial `trial` from scratch for stage `stage`'s budget (see the module header). */
  const train = async (trial: number, stage: number, d: Draw): Promise<Trained> => {
    const c = trialConfig(d);
    const episodes = doc.stages[stage].episodes!;
    const t = await trainFromStore(store, c, {
      preset: doc.train!.preset,
      algo: learner!,
      instrument,
      range: space.inSample!,
      resume: false,
      maxEpisodes: episodes,
      maxMinutes: null,
      seed: seed + trial,
      prune: false,
    });
    log().info({ sweep: sweepId, trial, stage, episodes, run_id: t.run_id, checkpoint: t.best_checkpoint ?? t.last_checkpoint }, `sweep ${sweepId}: trial ${trial} trained for stage ${stage}`);
    return playing({ checkpoint_id: t.best_checkpoint ?? t.last_checkpoint, train_run_id: t.run_id, episodes }, c);
  };

  const pool = await ValidationPool.open(workers);
  try {
    const rounds = roundsOf(space);
    for (let round = 0; round < rounds && stop === null; round++) {
      const draws = drawRound(space, round);
      const base = round * draws.length;
      const byTrial = new Map(draws.map((d, i) => [base + i, d]));
      let candidates = [...byTrial.keys()];
      for (let stage = 0; stage <= last && stop === null && candidates.length > 0; stage++) {
        const todo = candidates.filter((t) => !have.has(`${t}:${stage}`));
        // Chunks of two jobs per worker: long enough to keep every worker busy, short enough that the
        // time limit and a kill cost little.
        const chunk = 2 * workers;
        for (let i = 0; i < todo.length; i += chunk) {
          if (performance.now() >= deadline) {
            stop = 'max_minutes';
            break;
          }
          const ids = todo.slice(i, i + chunk);
          const trained: Array<Trained | null> = [];
          for (const t of ids) trained.push(learner ? await train(t, stage, byTrial.get(t)!) : null);
          const outcomes = await pool.run(
            ids.map((t, k) => jobFor(t, stage, byTrial.get(t)!, trained[k])),
            ids.map(() => stageMarkets[stage]),
            ids.map(() => fitShared),
          );
          const evals = ids.map((t, k) => evaluationOf(byTrial.get(t)!, t, round, stage, budgets[stage], outcomes[k], trained[k]));
          await insertEvaluations(store, sweepId, evals);
          await store.release();
          for (const e of evals) have.add(`${e.trial}:${e.stage}`);
          evaluations.push(...evals);
          run += evals.length;
          log().info({ sweep: sweepId, round, stage, evaluated: evals.map((e) => e.trial), run }, `sweep ${sweepId}: round ${round} stage ${stage}: ${run} evaluations run`);
          progress();
          if (targetHit()) {
            stop = 'target_score';
            break;
          }
        }
        if (stop !== null) break;
        const here = evaluations.filter((e) => e.round === round && e.stage === stage && byTrial.has(e.trial));
        candidates = stage < last ? survivors(here, doc.keep) : [];
      }
    }
  } finally {
    await pool.close();
  }
  const status: SweepStatus = stop === 'max_minutes' ? 'stopped' : stop === 'target_score' ? 'target' : 'done';
  const champ = championOf(evaluations);

  // The champion, validated for real with the config's full validation settings: on every session of
  // the holdout when the space has one (data the sweep never chose on), else of the out-of-sample range.
  let validation: { id: number; result: ValidationResult; report: ReportFiles | null } | null = null;
  const validatedOn = holdout ? 'holdout' : 'out_of_sample';
  if (champ) {
    const draw = { point: champ.point, params: champ.params };
    const trained = learner ? await playing({ checkpoint_id: champ.checkpoint_id!, train_run_id: champ.train_run_id!, episodes: champ.episodes! }, trialConfig(draw)) : null;
    const base = jobFor(champ.trial, last, draw, trained);
    const range = space.holdout ?? space.outOfSample;
    const job: PolicyJob = {
      ...base,
      key: `champion-trial-${champ.trial}`,
      settings: validationSettings(config, { seed }),
      provenance: { ...base.provenance, range_from: isoOrNull(range.from), range_to: isoOrNull(range.to), sessions_requested: 'all' },
      reportDir: reportDir ? path.join(reportDir, 'champion') : null,
      force: true,
    };
    const one = await ValidationPool.open(1);
    try {
      const [oc] = await one.run([job], [holdout ?? full], [fitShared]);
      const id = await saveValidation(store, oc.result, oc.report?.dir ?? null);
      validation = { id, result: oc.result, report: oc.report };
    } finally {
      await one.close();
    }
  }
  const all = ordered(evaluations);
  const stages = sweepStageStats(all, budgets);
  const tmpl = templates(all, space);
  const fbe = all.reduce((s, e) => s + e.sessions, 0) / budgets[last];
  await store.run(
    `UPDATE sweeps SET status = $2, updated_at = CAST($3 AS TIMESTAMP), champion_trial = $4, champion_stage = $5, champion_score = CAST($6 AS DOUBLE), champion_validation_id = $7 WHERE id = $1`,
    [sweepId, status, new Date().toISOString(), champ?.trial ?? null, champ?.stage ?? null, f64(champ?.score ?? null), validation?.id ?? null],
  );
  await store.release();
  const seconds = (performance.now() - t0) / 1000;
  const summary: SweepSummary = {
    sweep_id: sweepId,
    name: space.name,
    space_file: space.file,
    space_hash: space.hash,
    policy: doc.policy,
    instrument,
    status,
    stop_reason: stop ?? 'complete',
    resumed: req.resume,
    workers,
    sessions_available: available,
    stage_sessions: budgets,
    stage_episodes: learner ? doc.stages.map((s) => s.episodes!) : null,
    trials: new Set(all.map((e) => e.trial)).size,
    evaluations: all.length,
    evaluations_run: run,
    evaluations_reused: reused,
    full_budget_equivalents: fbe,
    seconds,
    trials_per_minute: seconds > 0 ? (60 * run) / seconds : 0,
    stages,
    champion: champ && {
      trial: champ.trial,
      stage: champ.stage,
      sessions: champ.sessions,
      params: champ.params,
      score: champ.score,
      grade: champ.grade,
      checkpoint_id: champ.checkpoint_id ?? null,
      validated_on: validatedOn,
      validation_id: validation?.id ?? null,
      validation_score: validation?.result.grade.score ?? null,
      validation_grade: validation?.result.grade.letter ?? null,
      validation_recommendation: validation?.result.grade.recommendation ?? null,
    },
    templates: tmpl,
    report: null,
  };
  if (reportDir) summary.report = writeSweepReport(reportDir, { summary, evaluations: all, space, validation: validation?.result ?? null, validationReport: validation?.report ?? null });
  return summary;
}
