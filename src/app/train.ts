// `swt train`: the training loop over the store's data, shared by both learners (MuZero here, PPO in
// ./train-ppo.ts): one run loop owns runs, counters, the collapse guard, evaluations, checkpoints, the
// best checkpoint, training_metrics and stopping; a TrainDriver does one learner's collect and updates.
// MuZero:
//
// One iteration = one collect (a session on each of train.envs lanes, searched with the actors'
// weights) then train.updates_per_iteration updates of the learner, alternating in one thread: the
// default mode is deterministic (same seed and config, same actions and losses). The actors get the
// learner's weights every train.refresh_every updates (at an iteration boundary); every
// train.eval_every updates the network plays held-out sessions at temperature 0 and is checkpointed
// with its evaluation (best = highest SQN, kept by the retention rules). A checkpoint carries the whole
// training state (optimizer, RNG streams, replay, actors' weights, guard, counters) as of an iteration
// boundary, so --resume continues exactly. A stop request (SIGINT/SIGTERM) abandons a collect in
// progress (it is redone on resume), lets an update phase finish, checkpoints and returns.
import type { Store } from '../store/db.js';
import type { Config } from '../config/schema.js';
import { configHash } from '../config/load.js';
import type { TimeRange } from '../data/range.js';
import { envConfigFromConfig, type EnvConfig } from '../env/config.js';
import { sampleEpisodes } from '../env/episodes.js';
import type { EpisodeSet } from '../env/types.js';
import type { Market } from '../env/market.js';
import { observationSize } from '../env/observation.js';
import { initTfjs } from '../agent/network/backend.js';
import { buildOnnxGraphs } from '../agent/network/onnx.js';
import { OnnxModel } from '../agent/network/model.js';
import { initWeights, networkSpecFromConfig, parameters, paramSize, type NetworkSpec, type Weights } from '../agent/network/spec.js';
import { MuZeroActor } from '../agent/muzero/actor.js';
import { muzeroDefaultSimulations, MuZeroPolicy } from '../agent/policies/muzero.js';
import { readCheckpointFile, type Checkpoint, type CheckpointMeta, type CheckpointSearch } from '../agent/checkpoints/checkpoint.js';
import { specArchitectureId, type AnySpec } from '../agent/network/family.js';
import type { NamedArray } from '../agent/network/tfjs.js';
import type { Policy } from '../agent/policies/types.js';
import type { HindsightOptions } from '../agent/selfplay/hindsight.js';
import { collect, type DecisionCounts } from '../agent/selfplay/selfplay.js';
import { ppoDriver } from './train-ppo.js';
import { hyperparametersHash, openCheckpoint, saveAndRecord } from '../agent/checkpoints/registry.js';
import { ReplayBuffer } from '../agent/train/replay.js';
import { Learner, makeBatch, type Losses } from '../agent/train/learner.js';
import { CollapseGuard, type ActionMix, type GuardState } from '../agent/train/guard.js';
import { runBacktest } from '../validation/backtest.js';
import { gitCommit } from '../util/git.js';
import { log } from '../util/log.js';
import { Prng } from '../util/prng.js';
import { UsageError } from '../util/errors.js';
import { isoOrNull, loadStoreMarket } from './market.js';

export type Algo = 'muzero' | 'ppo';

export interface TrainRequest {
  /** The learner (default muzero). */
  algo?: Algo;
  preset: string;
  instrument: string;
  range: TimeRange;
  resume: boolean;
  /** Stop once this many episodes have been played in total (at an iteration boundary). */
  maxEpisodes: number | null;
  maxMinutes: number | null;
  /** Seed of the run (default train.seed); a resumed run keeps its own. */
  seed?: number;
  /** Apply checkpoint retention after each save (default true); a sweep keeps every trial's checkpoint. */
  prune?: boolean;
  /** Polled often: true asks the loop to checkpoint and return. */
  shouldStop?: () => boolean;
  onProgress?: (p: TrainProgress) => void;
  onWarning?: (message: string) => void;
}

export interface Evaluation {
  sqn?: number;
  expectancy?: number;
  trades: number;
  net_pips: number;
  win_rate?: number;
  sessions: number;
}

export interface TrainProgress {
  algo: Algo;
  iterations: number;
  episodes: number;
  updates: number;
  env_steps: number;
  seconds: number;
  episodes_per_s: number;
  env_steps_per_s: number;
  /** The last update's losses (the learner's own names). */
  losses: Record<string, number> | null;
  action_mix: ActionMix;
  /** Mean net pips per trade of the last collect (null without trades). */
  expectancy: number | null;
  best_sqn: number | null;
  evaluation: Evaluation | null;
}

export interface TrainSummary extends TrainProgress {
  run_id: string;
  preset: string;
  status: 'stopped' | 'finished';
  backend: string;
  last_checkpoint: string;
  best_checkpoint: string | null;
  collapses: string[];
  selfplay_seconds: number;
  train_seconds: number;
  eval_seconds: number;
}

/**
 * Everything a checkpoint must carry for --resume to continue exactly (the JSON part): the loop's
 * counters and guard, and the driver's own state (MuZero: last_refresh, rng; PPO: normalizer).
 */
interface TrainState {
  format: 'swt-train-state';
  /** Absent for MuZero (states saved before PPO existed). */
  algo?: Algo;
  run_id: string;
  preset: string;
  seed: number;
  iterations: number;
  updates: number;
  episodes: number;
  env_steps: number;
  last_eval: number;
  best_sqn: number | null;
  best_checkpoint: string | null;
  guard: GuardState;
  [driverState: string]: unknown;
}

const STATE_FILE = 'train_state.json';
const REPLAY_FILE = 'replay.bin';
const ACTOR_FILE = 'actor_weights.bin';
/** The learner's own weights when the checkpoint's are their moving average (train.ema_decay > 0). */
const LEARNER_FILE = 'learner_weights.bin';

function packWeights(spec: NetworkSpec, w: Weights): Uint8Array {
  const ps = parameters(spec);
  const out = new Float32Array(ps.reduce((a, p) => a + paramSize(p), 0));
  let o = 0;
  for (const p of ps) {
    out.set(w.get(p.name)!, o);
    o += paramSize(p);
  }
  return new Uint8Array(out.buffer);
}

function unpackWeights(spec: NetworkSpec, bytes: Uint8Array): Weights {
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const w: Weights = new Map();
  let o = 0;
  for (const p of parameters(spec)) {
    w.set(p.name, all.slice(o, o + paramSize(p)));
    o += paramSize(p);
  }
  return w;
}

/** The mcts section self-play searches with: the configured one plus train.exploration, at the given PUCT temperature. */
function selfPlayMcts(config: Config): Config['mcts'] {
  const x = config.train.exploration;
  return { ...config.mcts, dirichlet_alpha: x.dirichlet_alpha, exploration_fraction: x.exploration_fraction, gumbel: { ...config.mcts.gumbel, scale: x.gumbel_scale } };
}

/** The hindsight branches self-play computes when their loss has a weight (else none). */
export function hindsightOf(config: Config): HindsightOptions | undefined {
  return config.train.loss.hindsight > 0 ? { horizon: config.train.hindsight.horizon, gamma: config.mcts.discount, steps: config.train.unroll } : undefined;
}

/** PUCT visit temperature after `episodes` self-play episodes (linear schedule). */
/** Share of self-play decisions executed as a random legal action after this many episodes. */
export function randomActionShareAt(config: Config, episodes: number): number {
  const x = config.train.exploration;
  const f = Math.min(1, episodes / x.random_action_episodes);
  return x.random_action_start + (x.random_action_end - x.random_action_start) * f;
}

export function temperatureAt(config: Config, episodes: number): number {
  const x = config.train.exploration;
  const f = Math.min(1, episodes / x.temperature_episodes);
  return x.temperature_start + (x.temperature_end - x.temperature_start) * f;
}

async function actorFor(spec: NetworkSpec, weights: Weights, config: Config, mcts: Config['mcts'], seed: number, temperature: number, maxBatch: number, search?: CheckpointSearch): Promise<MuZeroActor> {
  const model = await OnnxModel.create(spec, buildOnnxGraphs(spec, weights));
  return MuZeroActor.fromModel(model, { config: { ...config, mcts }, seed, temperature, maxBatch, search });
}

/**
 * The search evaluations play, recorded in every checkpoint (meta.search) and served by `swt validate
 * --policy muzero` by default: train.eval_simulations (0: the policy's default) and train.eval_c_scale
 * (0: mcts.gumbel.c_scale) over the config's min_q_range. Self-play keeps the config's own search.
 */
export function evaluationSearch(config: Config): CheckpointSearch {
  return {
    simulations: config.train.eval_simulations || muzeroDefaultSimulations(),
    c_scale: config.train.eval_c_scale || config.mcts.gumbel.c_scale,
    min_q_range: config.mcts.gumbel.min_q_range,
  };
}

/** The network on held-out sessions at temperature 0, as the `muzero` policy plays it (backtest rules: forced close at the end). */
export async function evaluateWeights(spec: NetworkSpec, weights: Weights, market: Market, sessions: EpisodeSet, env: EnvConfig, config: Config, seed: number): Promise<Evaluation> {
  // The search `swt validate --policy muzero` plays, not self-play's: a preset that trains with few
  // simulations (the test preset: 8; validate: 15) would otherwise pick its best checkpoint by a search
  // nobody validates.
  const search = evaluationSearch(config);
  const actor = await actorFor(spec, weights, config, { ...config.mcts, simulations: search.simulations }, seed, 0, 64, search);
  return evaluatePolicy(new MuZeroPolicy({ checkpoint: 'training', simulations: actor.simulations, temperature: 0 }, actor), market, sessions, env, config);
}

/** Training and held-out evaluation sessions: the last holdout_fraction of the range's sessions are never played by self-play. */
export function splitSessions(episodes: EpisodeSet, config: Config, seed: number): { train: EpisodeSet; evaluation: EpisodeSet } {
  const n = episodes.start.length;
  const held = Math.max(1, Math.ceil(n * config.train.holdout_fraction));
  if (n - held < 1) throw new UsageError(`the training range holds ${n} sessions: too few to hold ${held} out for evaluation and train on the rest`);
  const cut = n - held;
  const train = { start: episodes.start.slice(0, cut), end: episodes.end.slice(0, cut) };
  const rest = { start: episodes.start.slice(cut), end: episodes.end.slice(cut) };
  return { train, evaluation: sampleEpisodes(rest, Math.min(config.train.eval_sessions, held), seed) };
}

async function writeMetrics(store: Store, runId: string, rows: Array<{ kind: string; step: number; episode: number; metrics: unknown }>): Promise<void> {
  const now = new Date().toISOString().replace('Z', '');
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    const params: Array<string | number> = [];
    const values = chunk.map((r, j) => {
      params.push(runId, r.kind, r.step, r.episode, now, JSON.stringify(r.metrics));
      const b = j * 6;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}::TIMESTAMP, $${b + 6})`;
    });
    await store.run(`INSERT INTO training_metrics (run_id, kind, step, episode, ts, metrics) VALUES ${values.join(', ')}`, params);
  }
}

async function writeEvent(store: Store, runId: string, kind: string, message: string, details: unknown): Promise<void> {
  await store.run('INSERT INTO training_events (run_id, ts, kind, message, details) VALUES ($1, $2::TIMESTAMP, $3, $4, $5)', [runId, new Date().toISOString().replace('Z', ''), kind, message, JSON.stringify(details)]);
}

const finiteOrNull = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** One row of training_metrics. */
export interface MetricRow {
  kind: string;
  step: number;
  episode: number;
  metrics: unknown;
}

/** What one iteration of a learner did (a collect, then its updates). */
export interface DriverIteration {
  /** Rows of the collect's episodes and of each update (the loop adds the iteration and evaluation rows). */
  rows: MetricRow[];
  counts: DecisionCounts;
  episodes: number;
  envSteps: number;
  /** Trades closed in the collect and their net pips. */
  trades: number;
  netPips: number;
  updates: number;
  losses: Record<string, number> | null;
  collectSeconds: number;
  /** Further fields of the iteration row (replay statistics …). */
  extra: Record<string, unknown>;
}

/**
 * A learner inside the shared run loop of trainFromStore: MuZero (self-play + replay) or PPO
 * (rollouts). The loop owns the run, the counters, the collapse guard, the evaluations, checkpoints,
 * the best checkpoint, the metrics and stopping; a driver owns its network, optimizer and data.
 */
export interface TrainDriver {
  readonly spec: AnySpec;
  /** One collect and its updates; null when a stop request abandoned the collect (a resume redoes it). */
  iterate(run: Readonly<RunCounters>, stop: () => boolean): Promise<DriverIteration | null>;
  weights(): Weights;
  optimizerState(): Promise<NamedArray[]>;
  /** What a checkpoint carries for --resume beyond weights and optimizer: JSON state, RNG states, files. */
  saved(): { state: Record<string, unknown>; rng: Record<string, number[]>; files: Record<string, Uint8Array> };
  /** The given weights on held-out sessions at temperature 0, as their policy plays them. */
  evaluate(weights: Weights, sessions: EpisodeSet): Promise<Evaluation>;
  dispose(): void;
}

/** The run's counters, shared by the loop and the driver. */
export interface RunCounters {
  seed: number;
  iterations: number;
  updates: number;
  episodes: number;
  env_steps: number;
}

/** What a driver factory gets: the run's data and, on --resume, what its last checkpoint holds. */
export interface DriverContext {
  config: Config;
  market: Market;
  /** Values in one env observation. */
  obsDim: number;
  env: EnvConfig;
  trainSessions: EpisodeSet;
  seed: number;
  /** The loaded checkpoint and the parsed train state of a resumed run. */
  resume: { ck: Checkpoint; state: Record<string, unknown> } | null;
}

/** The architecture a learner trains, for observations of `obsDim` values. */
export type DriverFactory = { algo: Algo; spec(config: Config, obsDim: number): AnySpec; create(ctx: DriverContext): Promise<TrainDriver> };

/** The playing policy's metrics on the evaluation sessions (backtest rules: forced close at the end). */
export async function evaluatePolicy(policy: Policy, market: Market, sessions: EpisodeSet, env: EnvConfig, config: Config): Promise<Evaluation> {
  try {
    const r = await runBacktest({ bars: market.bars, features: market.features, episodes: sessions, policy, env, batch: config.env.batch });
    const m = r.metrics;
    const e: Evaluation = { trades: m.trades, net_pips: m.net_pips, sessions: sessions.start.length };
    // SQN on a handful of trades is noise, and the highest of it picks the network that stopped
    // trading (measured: a 3-trade evaluation at SQN 0.99 became best); walk-forward has the same rule.
    if (m.sqn !== null && m.trades >= config.train.eval_min_trades) e.sqn = m.sqn;
    if (m.expectancy !== null) e.expectancy = m.expectancy;
    if (m.win_rate !== null) e.win_rate = m.win_rate;
    return e;
  } finally {
    await policy.close?.();
  }
}

// ---- MuZero ------------------------------------------------------------------------------------

const muzeroDriver: DriverFactory = {
  algo: 'muzero',
  spec: (config, obsDim) => networkSpecFromConfig(config, obsDim),
  async create({ config, market, obsDim: D, env, trainSessions, seed, resume }) {
    const tc = config.train;
    const spec = networkSpecFromConfig(config, D);
    const obsDim = spec.obs_dim;
    let learner: Learner;
    let replay: ReplayBuffer;
    let actorWeights: Weights;
    let lastRefresh = 0;
    let rng: { sessions: number[]; sample: number[] };
    if (resume) {
      const { ck, state } = resume;
      const replayBytes = await readCheckpointFile(ck, REPLAY_FILE);
      const actorBytes = await readCheckpointFile(ck, ACTOR_FILE);
      if (!replayBytes || !actorBytes || !ck.optimizer) throw new UsageError(`--resume: checkpoint ${ck.meta.id} holds no training state (not saved by swt train)`);
      // with a moving average the checkpoint's weights are the average; the learner's own ride beside them
      const learnerBytes = tc.ema_decay > 0 ? await readCheckpointFile(ck, LEARNER_FILE) : null;
      if (tc.ema_decay > 0 && !learnerBytes) throw new UsageError(`--resume: checkpoint ${ck.meta.id} holds no ${LEARNER_FILE} (saved without train.ema_decay)`);
      learner = new Learner(spec, learnerBytes ? unpackWeights(spec, learnerBytes) : ck.weights, tc);
      learner.restoreAverage(ck.weights);
      await learner.restore(ck.optimizer, Number(state.updates));
      replay = ReplayBuffer.deserialize(replayBytes, tc.replay, tc.td_steps, config.mcts.discount);
      actorWeights = unpackWeights(spec, actorBytes);
      lastRefresh = Number(state.last_refresh);
      rng = state.rng as typeof rng;
    } else {
      const weights = initWeights(spec, seed);
      learner = new Learner(spec, weights, tc);
      replay = new ReplayBuffer(tc.replay, obsDim, tc.td_steps, config.mcts.discount);
      actorWeights = weights;
      rng = { sessions: new Prng(seed, 0x73657373).state(), sample: new Prng(seed, 0x73616d70).state() };
    }
    let sessionRng = Prng.fromState(rng.sessions);
    const sampleRng = Prng.fromState(rng.sample);
    const mcts = selfPlayMcts(config);
    return {
      spec,
      async iterate(run, stop) {
        if (run.updates - lastRefresh >= tc.refresh_every) {
          actorWeights = learner.getWeights();
          lastRefresh = run.updates;
        }
        const temperature = config.mcts.mode === 'puct' ? temperatureAt(config, run.episodes) : 1;
        const actor = await actorFor(spec, actorWeights, config, mcts, run.seed, temperature, tc.envs);
        const rngBefore = sessionRng.state();
        let c;
        try {
          c = await collect({ bars: market.bars, features: market.features!, sessions: trainSessions, env, actor, lanes: tc.envs, firstEpisode: run.episodes, rng: sessionRng, stop, randomAction: { share: randomActionShareAt(config, run.episodes), inPosition: config.train.exploration.random_action_in_position, seed: run.seed }, hindsight: hindsightOf(config) });
        } finally {
          await actor.close();
        }
        if (!c) {
          // abandoned: the stream goes back to where this collect started, which a resume redoes
          sessionRng = Prng.fromState(rngBefore);
          return null;
        }
        const rows: MetricRow[] = [];
        let trades = 0;
        let pips = 0;
        for (const t of c.trajectories) {
          replay.add(t);
          trades += t.trades;
          pips += t.netPips;
          let ret = 0;
          for (const r of t.rewards) ret += r;
          const hold = t.actions.reduce((a, x) => a + (x === 0 ? 1 : 0), 0);
          rows.push({ kind: 'episode', step: run.updates, episode: t.episode, metrics: { return: ret, trades: t.trades, net_pips: t.netPips, steps: t.actions.length, hold_share: hold / t.actions.length } });
        }
        const episodes = run.episodes + c.trajectories.length;
        let losses: Losses | null = null;
        let updates = 0;
        if (replay.size >= tc.min_replay_episodes) {
          for (let u = 0; u < tc.updates_per_iteration; u++) {
            const batch = makeBatch(replay.sample(tc.batch_size, sampleRng), tc.unroll, obsDim, spec.support, config.mcts.discount);
            losses = learner.update(batch);
            updates++;
            rows.push({ kind: 'update', step: run.updates + updates, episode: episodes, metrics: losses });
          }
        }
        return {
          rows,
          counts: c.counts,
          episodes: c.trajectories.length,
          envSteps: c.envSteps,
          trades,
          netPips: pips,
          updates,
          losses: losses as Record<string, number> | null,
          collectSeconds: c.seconds,
          extra: { replay: replay.stats(), selfplay_seconds: c.seconds, collect_env_steps: c.envSteps },
        };
      },
      weights: () => learner.servedWeights(),
      optimizerState: () => learner.optimizerState(),
      saved: () => {
        const r = { sessions: sessionRng.state(), sample: sampleRng.state() };
        const own: Record<string, Uint8Array> = learner.averaging ? { [LEARNER_FILE]: packWeights(spec, learner.getWeights()) } : {};
        return { state: { last_refresh: lastRefresh, rng: r }, rng: r, files: { [REPLAY_FILE]: replay.serialize(), [ACTOR_FILE]: packWeights(spec, actorWeights), ...own } };
      },
      evaluate: (weights, sessions) => evaluateWeights(spec, weights, market, sessions, env, config, seed),
      dispose: () => learner.dispose(),
    };
  },
};

// a function, not a table built at load time: ./train-ppo.ts imports this module back
const driverFor = (algo: Algo): DriverFactory => (algo === 'ppo' ? ppoDriver : muzeroDriver);

export async function trainFromStore(store: Store, config: Config, req: TrainRequest): Promise<TrainSummary> {
  const t0 = performance.now();
  const tc = config.train;
  const algo: Algo = req.algo ?? 'muzero';
  const factory = driverFor(algo);
  const backend = (await initTfjs()).backend;
  const envCfg = envConfigFromConfig(config, req.instrument);
  const market = await loadStoreMarket(store, config, { instrument: req.instrument, range: req.range, sessions: 'all', seed: 0, featureSet: config.features.default_set });
  if (!market.features || !market.featureHash || !market.featureSet) throw new UsageError('training needs the feature rows: run `swt features build` first');
  const obsDim = observationSize(config.env.stack, market.features.nFeatures);
  const spec = factory.spec(config, obsDim);
  const archId = specArchitectureId(spec);
  const cHash = configHash(config);

  // ---- a new run, or the state of the latest one ------------------------------------------------
  let state: TrainState;
  let parent: CheckpointMeta | null = null;
  let resume: DriverContext['resume'] = null;
  if (req.resume) {
    const run = await store.one<{ run_id: string; last_checkpoint: string | null; config_hash: string; preset: string }>('SELECT run_id, last_checkpoint, config_hash, preset FROM training_runs ORDER BY started_at DESC, run_id DESC LIMIT 1');
    if (!run || !run.last_checkpoint) throw new UsageError('--resume: no training run with a checkpoint in this store (start one without --resume)');
    if (run.config_hash !== cHash) throw new UsageError(`--resume: run ${run.run_id} was trained with config ${run.config_hash} (preset ${run.preset}); this config is ${cHash}: resume with the same preset, config and overrides`);
    const ck = await openCheckpoint(store, run.last_checkpoint, { architectureId: archId, featureHash: market.featureHash });
    const stateBytes = await readCheckpointFile(ck, STATE_FILE);
    if (!stateBytes || !ck.optimizer) throw new UsageError(`--resume: checkpoint ${ck.meta.id} holds no training state (not saved by swt train)`);
    state = JSON.parse(new TextDecoder().decode(stateBytes)) as TrainState;
    if ((state.algo ?? 'muzero') !== algo) throw new UsageError(`--resume: run ${run.run_id} trains ${state.algo ?? 'muzero'}, not ${algo}: resume it with --algo ${state.algo ?? 'muzero'}`);
    resume = { ck, state: state as unknown as Record<string, unknown> };
    parent = ck.meta;
  } else {
    const seed = req.seed ?? tc.seed;
    const runId = `train-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}-${Math.random().toString(16).slice(2, 8)}`;
    state = {
      format: 'swt-train-state',
      ...(algo === 'muzero' ? {} : { algo }),
      run_id: runId,
      preset: req.preset,
      seed,
      iterations: 0,
      updates: 0,
      episodes: 0,
      env_steps: 0,
      last_eval: 0,
      best_sqn: null,
      best_checkpoint: null,
      guard: { chunks: [], active: [] },
    };
    const now = new Date().toISOString().replace('Z', '');
    await store.run(
      `INSERT INTO training_runs (run_id, started_at, updated_at, status, preset, instrument, range_from, range_to, seed, config_hash, episodes, updates, env_steps)
       VALUES ($1, $2::TIMESTAMP, $2::TIMESTAMP, 'running', $3, $4, $5, $6, $7, $8, 0, 0, 0)`,
      [runId, now, req.preset, req.instrument, isoOrNull(req.range.from), isoOrNull(req.range.to), seed, cHash],
    );
  }
  const runId = state.run_id;
  const { train: trainSessions, evaluation: evalSessions } = splitSessions(market.episodes, config, state.seed);
  const guard = CollapseGuard.fromState(tc.guard, state.guard);
  await store.release();
  const driver = await factory.create({ config, market, obsDim, env: envCfg, trainSessions, seed: state.seed, resume });

  const collapses: string[] = [];
  let lastLosses: Record<string, number> | null = null;
  let lastEval: Evaluation | null = null;
  let lastExpectancy: number | null = null;
  let lastCheckpoint = parent?.id ?? '';
  let selfplaySeconds = 0;
  let trainSeconds = 0;
  let evalSeconds = 0;
  const startEpisodes = state.episodes;
  const startSteps = state.env_steps;
  const deadline = req.maxMinutes !== null ? t0 + req.maxMinutes * 60_000 : Infinity;
  const stopAsked = () => req.shouldStop?.() === true;
  const timeUp = () => performance.now() >= deadline;
  const progress = (): TrainProgress => {
    const s = (performance.now() - t0) / 1000;
    return {
      algo,
      iterations: state.iterations,
      episodes: state.episodes,
      updates: state.updates,
      env_steps: state.env_steps,
      seconds: s,
      episodes_per_s: (state.episodes - startEpisodes) / Math.max(s, 1e-9),
      env_steps_per_s: (state.env_steps - startSteps) / Math.max(s, 1e-9),
      losses: lastLosses,
      action_mix: guard.mix(),
      expectancy: lastExpectancy,
      best_sqn: state.best_sqn,
      evaluation: lastEval,
    };
  };

  const checkpoint = async (evaluation: Evaluation | null): Promise<void> => {
    state.guard = guard.state();
    const saved = driver.saved();
    Object.assign(state, saved.state);
    const weights = driver.weights();
    const done = await store.unit(async () => {
      const r = await saveAndRecord(
        store,
        config,
        {
          spec,
          weights,
          optimizer: await driver.optimizerState(),
          rng: saved.rng,
          featureSet: { name: market.featureSet!, hash: market.featureHash! },
          configHash: cHash,
          hyperparametersHash: hyperparametersHash(config),
          gitCommit: gitCommit(),
          parent,
          episodes: state.episodes,
          trainingSteps: state.updates,
          evaluation: evaluation as Record<string, number> | null,
          search: evaluationSearch(config),
          backend: `tfjs-${backend}`,
          extraFiles: { [STATE_FILE]: new TextEncoder().encode(JSON.stringify(state)), ...saved.files },
        },
        { prune: req.prune ?? true },
      );
      // ties go to the later checkpoint, as `best` resolves them
      if (evaluation?.sqn !== undefined && (state.best_sqn === null || evaluation.sqn >= state.best_sqn)) {
        state.best_sqn = evaluation.sqn;
        state.best_checkpoint = r.meta.id;
      }
      await store.run(
        `UPDATE training_runs SET updated_at = $2::TIMESTAMP, episodes = $3, updates = $4, env_steps = $5, last_checkpoint = $6, best_checkpoint = $7, best_sqn = $8 WHERE run_id = $1`,
        [runId, new Date().toISOString().replace('Z', ''), state.episodes, state.updates, state.env_steps, r.meta.id, state.best_checkpoint, state.best_sqn],
      );
      return r;
    });
    parent = done.meta;
    lastCheckpoint = done.meta.id;
  };

  const evaluateNow = async (): Promise<Evaluation> => {
    const te = performance.now();
    const e = await driver.evaluate(driver.weights(), evalSessions);
    evalSeconds += (performance.now() - te) / 1000;
    state.last_eval = state.updates;
    return e;
  };

  let status: 'stopped' | 'finished' = 'finished';
  let dirty = false;
  try {
    for (;;) {
      if (req.maxEpisodes !== null && state.episodes >= req.maxEpisodes) break;
      if (timeUp()) break;
      if (stopAsked()) {
        status = 'stopped';
        break;
      }
      const tt = performance.now();
      const it = await driver.iterate(state, stopAsked);
      if (!it) {
        status = 'stopped';
        break;
      }
      selfplaySeconds += it.collectSeconds;
      trainSeconds += (performance.now() - tt) / 1000 - it.collectSeconds;
      const rows = it.rows;
      lastExpectancy = it.trades ? it.netPips / it.trades : null;
      state.episodes += it.episodes;
      state.env_steps += it.envSteps;
      state.updates += it.updates;
      if (it.losses) lastLosses = it.losses;
      for (const alarm of guard.observe(it.counts)) {
        collapses.push(alarm.kind);
        req.onWarning?.(alarm.message);
        log().warn({ run_id: runId, ...alarm }, alarm.message);
        await store.unit(() => writeEvent(store, runId, alarm.kind, alarm.message, { share: alarm.share, threshold: alarm.threshold, decisions: alarm.decisions, episodes: state.episodes, updates: state.updates }));
      }
      state.iterations++;
      dirty = true;
      rows.push({ kind: 'iteration', step: state.updates, episode: state.episodes, metrics: { ...progress(), losses: undefined, evaluation: undefined, ...it.extra } });
      // ---- evaluate + checkpoint ----
      if (state.updates - state.last_eval >= evalEvery(config, algo)) {
        lastEval = await evaluateNow();
        rows.push({ kind: 'evaluation', step: state.updates, episode: state.episodes, metrics: lastEval });
        await store.unit(() => writeMetrics(store, runId, rows));
        await checkpoint(lastEval);
        dirty = false;
      } else {
        await store.unit(() => writeMetrics(store, runId, rows));
      }
      req.onProgress?.(progress());
    }
    if (dirty || !lastCheckpoint) {
      if (status === 'finished' && state.updates > state.last_eval) {
        lastEval = await evaluateNow();
        await store.unit(() => writeMetrics(store, runId, [{ kind: 'evaluation', step: state.updates, episode: state.episodes, metrics: lastEval }]));
        await checkpoint(lastEval);
      } else await checkpoint(null);
    }
  } finally {
    driver.dispose();
  }
  const p = progress();
  const summary: TrainSummary = {
    ...p,
    run_id: runId,
    preset: state.preset,
    status,
    backend,
    last_checkpoint: lastCheckpoint,
    best_checkpoint: state.best_checkpoint,
    collapses,
    selfplay_seconds: selfplaySeconds,
    train_seconds: trainSeconds,
    eval_seconds: evalSeconds,
  };
  await store.unit(() =>
    store.run(`UPDATE training_runs SET status = $2, updated_at = $3::TIMESTAMP, summary = $4 WHERE run_id = $1`, [runId, status, new Date().toISOString().replace('Z', ''), JSON.stringify({ ...summary, losses: finiteLosses(summary.losses) })]),
  );
  return summary;
}

/** Evaluate and checkpoint every this many updates (gradient steps). */
function evalEvery(config: Config, algo: Algo): number {
  return algo === 'ppo' ? config.ppo.eval_every : config.train.eval_every;
}

function finiteLosses(l: Record<string, number> | null): Record<string, number | null> | null {
  return l ? Object.fromEntries(Object.entries(l).map(([k, v]) => [k, finiteOrNull(v)])) : null;
}

export interface TrainStatus {
  run: Record<string, unknown> | null;
  last_metrics: Record<string, unknown> | null;
  last_evaluation: Record<string, unknown> | null;
  events: Array<{ ts: string; kind: string; message: string }>;
}

/** The latest training run: its row, its last iteration and evaluation metrics, its events. */
export async function trainStatus(store: Store): Promise<TrainStatus> {
  const run = await store.one<Record<string, unknown>>('SELECT * FROM training_runs ORDER BY started_at DESC, run_id DESC LIMIT 1');
  if (!run) return { run: null, last_metrics: null, last_evaluation: null, events: [] };
  const id = String(run.run_id);
  const lastOf = async (kind: string) => {
    const r = await store.one<{ metrics: string }>(`SELECT metrics FROM training_metrics WHERE run_id = $1 AND kind = $2 ORDER BY step DESC, episode DESC LIMIT 1`, [id, kind]);
    return r ? (JSON.parse(r.metrics) as Record<string, unknown>) : null;
  };
  const events = await store.all<{ ts: unknown; kind: string; message: string }>('SELECT ts, kind, message FROM training_events WHERE run_id = $1 ORDER BY ts', [id]);
  const plain = Object.fromEntries(Object.entries(run).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? Number(v) : k === 'summary' && typeof v === 'string' ? JSON.parse(v) : v]));
  return { run: plain, last_metrics: await lastOf('iteration'), last_evaluation: await lastOf('evaluation'), events: events.map((e) => ({ ts: e.ts instanceof Date ? e.ts.toISOString() : String(e.ts), kind: e.kind, message: e.message })) };
}

