// Checkpoints in the store: a row per complete checkpoint directory, `latest` / `best` resolution,
// retention (the last K and the best N by evaluation SQN), and the randomly initialised checkpoint
// that lets everything downstream of training work before any training.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Store } from '../../store/db.js';
import type { Config } from '../../config/schema.js';
import { configHash, hashOf } from '../../config/load.js';
import { specFromConfig as featureSpecFromConfig, specHash } from '../../features/spec.js';
import { featureColumnsOf } from '../../features/row.js';
import { observationSize } from '../../env/observation.js';
import { gitCommit } from '../../util/git.js';
import { initWeights, networkSpecFromConfig } from '../network/spec.js';
import { initPpoWeights, ppoSpecFromConfig } from '../network/ppo-spec.js';
import { algoOf } from '../network/family.js';
import { CheckpointError, checkpointMetaSchema, loadCheckpoint, saveCheckpoint, type Checkpoint, type CheckpointMeta, type LoadExpectations, type SaveInput } from './checkpoint.js';

export interface CheckpointRow {
  id: string;
  seq: number;
  created_at: string;
  version: string;
  parent_id: string | null;
  architecture_id: string;
  feature_set: string;
  feature_hash: string;
  config_hash: string;
  hyperparameters_hash: string;
  git_commit: string | null;
  episodes: number;
  training_steps: number;
  eval_sqn: number | null;
  backend: string;
  path: string;
}

const COLUMNS =
  'id, seq, created_at, version, parent_id, architecture_id, feature_set, feature_hash, config_hash, hyperparameters_hash, git_commit, episodes, training_steps, eval_sqn, backend, path';

function toRow(r: Record<string, unknown>): CheckpointRow {
  return {
    ...(r as unknown as CheckpointRow),
    created_at: r.created_at instanceof Date ? r.created_at.toISOString() : String(r.created_at),
    seq: Number(r.seq),
    episodes: Number(r.episodes),
    training_steps: Number(r.training_steps),
    eval_sqn: r.eval_sqn === null || r.eval_sqn === undefined ? null : Number(r.eval_sqn),
  };
}

/** Records a saved checkpoint (its directory must be complete). */
export async function recordCheckpoint(store: Store, meta: CheckpointMeta, dir: string): Promise<void> {
  const sqn = meta.evaluation?.sqn;
  await store.run(
    `INSERT INTO checkpoints (id, created_at, version, parent_id, architecture_id, feature_set, feature_hash, config_hash, hyperparameters_hash,
       git_commit, episodes, training_steps, eval_sqn, evaluation, backend, path, meta)
     VALUES ($1, $2::TIMESTAMP, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
    [
      meta.id,
      meta.created_at.replace('Z', ''),
      meta.version,
      meta.parent_id,
      meta.architecture_id,
      meta.feature_set,
      meta.feature_hash,
      meta.config_hash,
      meta.hyperparameters_hash,
      meta.git_commit,
      meta.episodes,
      meta.training_steps,
      typeof sqn === 'number' && Number.isFinite(sqn) ? sqn : null,
      meta.evaluation ? JSON.stringify(meta.evaluation) : null,
      meta.backend,
      path.resolve(dir),
      JSON.stringify(meta),
    ],
  );
}

/** Saves a checkpoint under the configured directory and records it; then applies retention when asked. */
export async function saveAndRecord(
  store: Store,
  config: Config,
  input: SaveInput,
  opts: { prune?: boolean } = {},
): Promise<{ meta: CheckpointMeta; dir: string; pruned: string[] }> {
  const { meta, dir } = await saveCheckpoint(config.checkpoints.dir, input);
  await recordCheckpoint(store, meta, dir);
  const pruned = opts.prune ? (await pruneCheckpoints(store, { keepLast: config.checkpoints.keep_last, keepBest: config.checkpoints.keep_best })).removed : [];
  return { meta, dir, pruned };
}

/** Every recorded checkpoint, oldest first. */
export async function listCheckpoints(store: Store): Promise<CheckpointRow[]> {
  return (await store.all(`SELECT ${COLUMNS} FROM checkpoints ORDER BY seq`)).map(toRow);
}

export type CheckpointFamily = 'muzero' | 'ppo';

/** The learner whose network a recorded checkpoint holds (from the spec in its metadata). */
function familyOfMeta(meta: string): CheckpointFamily {
  const architecture = (JSON.parse(meta) as { architecture?: { format?: unknown } }).architecture;
  return algoOf({ format: String(architecture?.format ?? '') });
}

/**
 * The checkpoint a reference names: `latest` (the last saved), `best` (highest evaluation SQN, the
 * later one on a tie), an id, or a checkpoint directory. With a family, `latest` and `best` look only
 * among that learner's checkpoints: a store that trained MuZero and PPO answers each policy with its own.
 */
export async function resolveCheckpoint(store: Store | null, ref: string, family?: CheckpointFamily): Promise<{ id: string | null; dir: string }> {
  if (ref === 'latest' || ref === 'best') {
    if (!store) throw new CheckpointError('missing', `checkpoint "${ref}" needs the store`);
    const rows = (
      ref === 'latest'
        ? await store.all<{ id: string; path: string; meta: string }>('SELECT id, path, meta FROM checkpoints ORDER BY seq DESC')
        : await store.all<{ id: string; path: string; meta: string }>('SELECT id, path, meta FROM checkpoints WHERE eval_sqn IS NOT NULL ORDER BY eval_sqn DESC, seq DESC')
    ).filter((r) => family === undefined || familyOfMeta(r.meta) === family);
    const row = rows[0];
    if (!row) {
      const of = family ? ` of the ${family} learner` : '';
      throw new CheckpointError(
        'missing',
        ref === 'latest'
          ? `no checkpoint${of} in the store: train one, or create one with \`swt checkpoints init --seed S${family === 'ppo' ? ' --algo ppo' : ''}\``
          : `no checkpoint${of} has an evaluation SQN yet (best = highest evaluation SQN): use latest or an id`,
      );
    }
    return { id: row.id, dir: row.path };
  }
  if (store) {
    const row = await store.one<{ id: string; path: string }>('SELECT id, path FROM checkpoints WHERE id = $1', [ref]);
    if (row) return { id: row.id, dir: row.path };
  }
  if (existsSync(path.join(ref, 'checkpoint.json'))) return { id: null, dir: ref };
  throw new CheckpointError('missing', `no checkpoint "${ref}": not an id in the store, not a checkpoint directory (use latest, best, an id from \`swt checkpoints list\`, or a path)`);
}

/** Resolves and loads a checkpoint, with the caller's compatibility expectations. */
export async function openCheckpoint(store: Store | null, ref: string, expect: LoadExpectations = {}): Promise<Checkpoint> {
  const { dir } = await resolveCheckpoint(store, ref);
  return loadCheckpoint(dir, expect);
}

export interface PruneResult {
  kept: string[];
  removed: string[];
}

/**
 * Keeps, of each architecture, the last `keepLast` and the best `keepBest` (by evaluation SQN); deletes
 * the others (row, then directory). Per architecture: training one network never prunes another's
 * checkpoints (a PPO run beside a MuZero run in one store, a `demo` beside a `test` network).
 */
export async function pruneCheckpoints(store: Store, opts: { keepLast: number; keepBest: number; dryRun?: boolean }): Promise<PruneResult> {
  const rows = await listCheckpoints(store);
  const keep = new Set<string>();
  for (const arch of new Set(rows.map((r) => r.architecture_id))) {
    const own = rows.filter((r) => r.architecture_id === arch);
    for (const r of own.slice(Math.max(0, own.length - opts.keepLast))) keep.add(r.id);
    const ranked = own.filter((r) => r.eval_sqn !== null).sort((a, b) => b.eval_sqn! - a.eval_sqn! || b.seq - a.seq);
    for (const r of ranked.slice(0, opts.keepBest)) keep.add(r.id);
  }
  const removed = rows.filter((r) => !keep.has(r.id));
  if (!opts.dryRun) {
    for (const r of removed) {
      // The row goes first: a kill in between leaves an unreferenced directory, never a row without files.
      await store.run('DELETE FROM checkpoints WHERE id = $1', [r.id]);
      rmSync(r.path, { recursive: true, force: true });
    }
  }
  return { kept: rows.filter((r) => keep.has(r.id)).map((r) => r.id), removed: removed.map((r) => r.id) };
}

/** The stored metadata of a recorded checkpoint (without reading its files). */
export async function storedMeta(store: Store, id: string): Promise<CheckpointMeta | null> {
  const row = await store.one<{ meta: string }>('SELECT meta FROM checkpoints WHERE id = $1', [id]);
  return row ? checkpointMetaSchema.parse(JSON.parse(row.meta)) : null;
}

/** Observation length for a feature set: env.stack rows of its features plus the position features. */
export function featureSetObservation(config: Config, setName: string): { name: string; hash: string; nFeatures: number; obsDim: number } {
  const spec = featureSpecFromConfig(config, setName);
  const nFeatures = featureColumnsOf(spec).length;
  return { name: setName, hash: specHash(spec), nFeatures, obsDim: observationSize(config.env.stack, nFeatures) };
}

/** The hyper-parameters a checkpoint's minor version follows (everything that shapes training, not the architecture). */
export function hyperparametersHash(config: Config): string {
  return hashOf({ mcts: config.mcts, env: config.env, train: config.train });
}

/** A randomly initialised checkpoint of the configured architecture for a feature set, saved and recorded. */
export async function initCheckpoint(store: Store, config: Config, opts: { seed: number; featureSet?: string; algo?: 'muzero' | 'ppo' }): Promise<{ meta: CheckpointMeta; dir: string }> {
  const fs = featureSetObservation(config, opts.featureSet ?? config.features.default_set);
  // the weights a training run of that learner starts from (PPO: its initial CLOSE bias)
  const init =
    opts.algo === 'ppo'
      ? (() => {
          const spec = ppoSpecFromConfig(config, fs.obsDim);
          return { spec, weights: initPpoWeights(spec, opts.seed, config.ppo.initial_close_logit) };
        })()
      : (() => {
          const spec = networkSpecFromConfig(config, fs.obsDim);
          return { spec, weights: initWeights(spec, opts.seed) };
        })();
  return saveAndRecord(store, config, {
    ...init,
    optimizer: null,
    rng: {},
    featureSet: { name: fs.name, hash: fs.hash },
    configHash: configHash(config),
    hyperparametersHash: hyperparametersHash(config),
    gitCommit: gitCommit(),
    parent: null,
    episodes: 0,
    trainingSteps: 0,
    evaluation: null,
    backend: 'none',
  });
}
