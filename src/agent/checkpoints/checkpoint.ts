// A checkpoint is one directory: the weights, the optimizer state, the RNG states and the three ONNX
// graphs, each file with its sha256 in checkpoint.json (the metadata, written last). It is written
// in a temporary directory and renamed into place, so a kill during a save leaves nothing half
// written under a checkpoint's name. A load refuses, with the reason, anything that does not fit
// the code or the caller: another architecture or feature set, a newer network major, a file that
// is missing, truncated or not what was written.
//
// Versions are semver: major = the network generation (NETWORK_MAJOR, what the builders can read),
// minor = hyper-parameters (bumped when they differ from the parent's), patch = training
// continuation with the same hyper-parameters. A parent of another architecture starts a new line.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { InputError } from '../../util/errors.js';
import { NETWORK_MAJOR, paramSize, type GraphName, type NetworkSpec, type Weights } from '../network/spec.js';
import type { OnnxGraphs } from '../network/onnx.js';
import { algoOf, buildSpecGraphs, checkSpecWeights, specArchitectureId, specGraphNames, specParameters, type AnySpec } from '../network/family.js';
import { PPO_GRAPH, type PpoSpec } from '../network/ppo-spec.js';
import type { NamedArray } from '../network/tfjs.js';

export const CHECKPOINT_FORMAT = 'swt-checkpoint';
export const META_FILE = 'checkpoint.json';
export const WEIGHTS_FILE = 'weights.bin';
export const OPTIMIZER_FILE = 'optimizer.bin';
export const onnxFile = (g: GraphName | string): string => `${g}.onnx`;

export type RefusalReason = 'metadata' | 'missing' | 'truncated' | 'sha256' | 'version' | 'architecture' | 'feature_set';

/** A checkpoint that cannot be used, and why (an input error: the CLI exits 2). */
export class CheckpointError extends InputError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

const fileEntry = z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() });
const semver = z.string().regex(/^\d+\.\d+\.\d+$/, 'expected a version MAJOR.MINOR.PATCH');

export const checkpointMetaSchema = z.strictObject({
  format: z.literal(CHECKPOINT_FORMAT),
  id: z.string().min(1),
  version: semver,
  parent_id: z.string().nullable(),
  architecture_id: z.string().min(1),
  architecture: z.record(z.string(), z.unknown()),
  feature_set: z.string().min(1),
  feature_hash: z.string().min(1),
  obs_dim: z.number().int().positive(),
  config_hash: z.string().min(1),
  hyperparameters_hash: z.string().min(1),
  git_commit: z.string().nullable(),
  episodes: z.number().int().nonnegative(),
  training_steps: z.number().int().nonnegative(),
  evaluation: z.record(z.string(), z.number()).nullable(),
  // The search the evaluation played (absent before it was recorded, and for PPO): `swt validate
  // --policy muzero` serves a checkpoint with it, so `best` is chosen by the search that is validated.
  search: z.strictObject({ simulations: z.number().int().min(1), c_scale: z.number().nonnegative(), min_q_range: z.number().nonnegative() }).optional(),
  backend: z.string().min(1),
  created_at: z.string().min(1),
  files: z.record(z.string(), fileEntry),
  optimizer: z.array(z.strictObject({ name: z.string(), shape: z.array(z.number().int().nonnegative()) })).nullable(),
  rng: z.record(z.string(), z.array(z.number().int().nonnegative())),
});

export type CheckpointMeta = z.infer<typeof checkpointMetaSchema>;
export type CheckpointSearch = NonNullable<CheckpointMeta['search']>;

/**
 * The simulations a checkpoint is served with: the ones asked for (0 or absent: none), else the ones its
 * evaluation played (meta.search), else `fallback`. The one rule the policy resolver (which records the
 * number in the run) and the actor (which plays it) both follow.
 */
export function servedSimulations(asked: number | undefined, meta: Pick<CheckpointMeta, 'search'>, fallback: number): number;
export function servedSimulations(asked: number | undefined, meta: Pick<CheckpointMeta, 'search'>, fallback?: number): number | undefined;
export function servedSimulations(asked: number | undefined, meta: Pick<CheckpointMeta, 'search'>, fallback?: number): number | undefined {
  return asked || meta.search?.simulations || fallback;
}

export interface CheckpointContent {
  /** A MuZero or a PPO network (see ../network/family.ts). */
  spec: AnySpec;
  weights: Weights;
  /** Optimizer state (e.g. optimizerState() of ../network/tfjs.ts), or null when there is none yet. */
  optimizer?: NamedArray[] | null;
  /** Named RNG states (e.g. Prng.state()). */
  rng?: Record<string, number[]>;
}

export interface SaveInput extends CheckpointContent {
  featureSet: { name: string; hash: string };
  configHash: string;
  hyperparametersHash: string;
  gitCommit: string | null;
  /** The checkpoint this one continues (sets the version), or null for a new line. */
  parent?: CheckpointMeta | null;
  episodes: number;
  trainingSteps: number;
  evaluation?: Record<string, number> | null;
  /** The search its evaluation played (MuZero), recorded so that serving plays the same. */
  search?: CheckpointSearch;
  /** The tfjs backend that trained it ('none' when it was only initialised). */
  backend: string;
  /** The graphs when already built from these weights (else they are built here). */
  onnx?: Record<string, Uint8Array>;
  /** Further files of the owner (e.g. the training state: replay, actor weights), checked like the others. */
  extraFiles?: Record<string, Uint8Array>;
  /** Called after each file is durably written (progress). */
  onFileWritten?: (file: string) => void;
}

export interface Checkpoint extends Required<CheckpointContent> {
  dir: string;
  meta: CheckpointMeta;
  /** The ONNX graphs by name (specGraphNames of the spec). */
  onnx: Record<string, Uint8Array>;
}

function wrongFamily(ck: Checkpoint, want: 'muzero' | 'ppo'): CheckpointError {
  return new CheckpointError('architecture', `checkpoint ${ck.meta.id} holds a ${algoOf(ck.spec)} network, not a ${want} one (train it with swt train --algo ${want})`);
}

/** The MuZero network of a checkpoint, or the refusal of another family. */
export function muzeroNetwork(ck: Checkpoint): { spec: NetworkSpec; onnx: OnnxGraphs } {
  if (algoOf(ck.spec) !== 'muzero') throw wrongFamily(ck, 'muzero');
  return { spec: ck.spec as NetworkSpec, onnx: ck.onnx as OnnxGraphs };
}

/** The PPO network of a checkpoint, or the refusal of another family. */
export function ppoNetwork(ck: Checkpoint): { spec: PpoSpec; graph: Uint8Array } {
  if (algoOf(ck.spec) !== 'ppo') throw wrongFamily(ck, 'ppo');
  return { spec: ck.spec as PpoSpec, graph: ck.onnx[PPO_GRAPH] };
}

export function newCheckpointId(): string {
  return `ck-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}-${randomUUID().slice(0, 8)}`;
}

function parseVersion(v: string): [number, number, number] {
  const [a, b, c] = v.split('.').map(Number);
  return [a, b, c];
}

/** The version of a checkpoint saved from `parent` (or from nothing). */
export function nextVersion(parent: CheckpointMeta | null | undefined, archId: string, hyperHash: string): string {
  if (!parent || parent.architecture_id !== archId) return `${NETWORK_MAJOR}.0.0`;
  const [major, minor, patch] = parseVersion(parent.version);
  return parent.hyperparameters_hash === hyperHash ? `${major}.${minor}.${patch + 1}` : `${major}.${minor + 1}.0`;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function pack(arrays: Float32Array[]): Uint8Array {
  const out = new Uint8Array(arrays.reduce((s, a) => s + a.byteLength, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(bytesOf(a), o);
    o += a.byteLength;
  }
  return out;
}

async function writeDurable(file: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(file, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const TMP_PREFIX = '.tmp-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temporary directories of saves whose process is gone (killed mid-save). */
export function removeStaleTemps(root: string): string[] {
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    const m = /^\.tmp-.*-(\d+)$/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(path.join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Writes a checkpoint directory under `root` atomically; returns its metadata and directory. */
export async function saveCheckpoint(root: string, input: SaveInput): Promise<{ meta: CheckpointMeta; dir: string }> {
  const { spec, weights } = input;
  checkSpecWeights(spec, weights);
  const archId = specArchitectureId(spec);
  const id = newCheckpointId();
  await mkdir(root, { recursive: true });
  removeStaleTemps(root);
  const tmp = path.join(root, `${TMP_PREFIX}${id}-${process.pid}`);
  const final = path.join(root, id);
  await mkdir(tmp);
  const files: CheckpointMeta['files'] = {};
  const put = async (name: string, data: Uint8Array) => {
    await writeDurable(path.join(tmp, name), data);
    files[name] = { sha256: sha256(data), bytes: data.byteLength };
    input.onFileWritten?.(name);
  };
  try {
    await put(WEIGHTS_FILE, pack(specParameters(spec).map((p) => weights.get(p.name)!)));
    const optimizer = input.optimizer ?? null;
    if (optimizer) await put(OPTIMIZER_FILE, pack(optimizer.map((o) => o.data)));
    const graphs = input.onnx ?? buildSpecGraphs(spec, weights);
    for (const g of specGraphNames(spec)) await put(onnxFile(g), graphs[g]);
    for (const [name, data] of Object.entries(input.extraFiles ?? {})) await put(name, data);
    const meta: CheckpointMeta = {
      format: CHECKPOINT_FORMAT,
      id,
      version: nextVersion(input.parent, archId, input.hyperparametersHash),
      parent_id: input.parent?.id ?? null,
      architecture_id: archId,
      architecture: spec as unknown as Record<string, unknown>,
      feature_set: input.featureSet.name,
      feature_hash: input.featureSet.hash,
      obs_dim: spec.obs_dim,
      config_hash: input.configHash,
      hyperparameters_hash: input.hyperparametersHash,
      git_commit: input.gitCommit,
      episodes: input.episodes,
      training_steps: input.trainingSteps,
      evaluation: input.evaluation ?? null,
      ...(input.search ? { search: input.search } : {}),
      backend: input.backend,
      created_at: new Date().toISOString(),
      files,
      optimizer: optimizer ? optimizer.map((o) => ({ name: o.name, shape: o.shape })) : null,
      rng: input.rng ?? {},
    };
    checkpointMetaSchema.parse(meta);
    await writeDurable(path.join(tmp, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    input.onFileWritten?.(META_FILE);
    await syncDir(tmp);
    await rename(tmp, final);
    await syncDir(root);
    return { meta, dir: final };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

export interface LoadExpectations {
  /** Refuse a checkpoint of another architecture (the caller's spec). */
  architectureId?: string;
  /** Refuse a checkpoint trained on another feature set (the hash of the features it will see). */
  featureHash?: string;
}

/** Reads and checks checkpoint.json of a checkpoint directory (no other file is read). */
export async function readCheckpointMeta(dir: string): Promise<CheckpointMeta> {
  const file = path.join(dir, META_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CheckpointError('missing', `checkpoint ${dir}: ${META_FILE} is missing (not a checkpoint directory, or an unfinished save)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError('truncated', `checkpoint ${dir}: ${META_FILE} is truncated or not JSON (${(e as Error).message})`);
  }
  const parsed = checkpointMetaSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new CheckpointError('metadata', `checkpoint ${dir}: ${META_FILE} field ${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  }
  return parsed.data;
}

/** The refusal (if any) of a checkpoint's metadata against the code and the caller's expectations. */
export function compatibility(meta: CheckpointMeta, expect: LoadExpectations = {}): CheckpointError | null {
  const [major] = parseVersion(meta.version);
  if (major > NETWORK_MAJOR) {
    return new CheckpointError('version', `checkpoint ${meta.id} has version ${meta.version}: its network major ${major} is newer than this code knows (${NETWORK_MAJOR}); upgrade swt to load it`);
  }
  const spec = meta.architecture as unknown as AnySpec;
  if (spec.major !== major || specArchitectureId(spec) !== meta.architecture_id) {
    return new CheckpointError('metadata', `checkpoint ${meta.id}: its architecture does not hash to its architecture_id ${meta.architecture_id} (edited metadata?)`);
  }
  if (expect.architectureId !== undefined && meta.architecture_id !== expect.architectureId) {
    return new CheckpointError(
      'architecture',
      `checkpoint ${meta.id} has architecture ${meta.architecture_id}, expected ${expect.architectureId} (the model config or the observation size differs)`,
    );
  }
  if (expect.featureHash !== undefined && meta.feature_hash !== expect.featureHash) {
    return new CheckpointError(
      'feature_set',
      `checkpoint ${meta.id} was trained on feature set "${meta.feature_set}" (hash ${meta.feature_hash}), not on these features (hash ${expect.featureHash})`,
    );
  }
  return null;
}

async function readVerified(dir: string, meta: CheckpointMeta, name: string): Promise<Uint8Array> {
  const entry = meta.files[name];
  if (!entry) throw new CheckpointError('metadata', `checkpoint ${meta.id}: ${META_FILE} lists no ${name}`);
  const file = path.join(dir, name);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new CheckpointError('missing', `checkpoint ${meta.id}: file ${name} is missing`);
  }
  if (size !== entry.bytes) {
    throw new CheckpointError('truncated', `checkpoint ${meta.id}: file ${name} has ${size} bytes, ${entry.bytes} were written (${size < entry.bytes ? 'truncated' : 'overwritten'})`);
  }
  const data = new Uint8Array(await readFile(file));
  const got = sha256(data);
  if (got !== entry.sha256) throw new CheckpointError('sha256', `checkpoint ${meta.id}: file ${name} has sha256 ${got}, ${entry.sha256} was recorded`);
  return data;
}

/** A further file of a loaded checkpoint (SaveInput.extraFiles), verified against its sha256; null when it has none of that name. */
export async function readCheckpointFile(ck: { dir: string; meta: CheckpointMeta }, name: string): Promise<Uint8Array | null> {
  return ck.meta.files[name] ? readVerified(ck.dir, ck.meta, name) : null;
}

function floats(data: Uint8Array, offset: number, n: number): Float32Array {
  // copy: the file buffer may not be 4-byte aligned
  return new Float32Array(data.buffer.slice(data.byteOffset + offset, data.byteOffset + offset + n * 4));
}

/** Loads a checkpoint directory, verifying every file, or refuses it with the reason. */
export async function loadCheckpoint(dir: string, expect: LoadExpectations = {}): Promise<Checkpoint> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CheckpointError('missing', `checkpoint directory ${dir} does not exist`);
  const meta = await readCheckpointMeta(dir);
  const refusal = compatibility(meta, expect);
  if (refusal) throw refusal;
  const spec = meta.architecture as unknown as AnySpec;
  const params = specParameters(spec);
  const wbytes = await readVerified(dir, meta, WEIGHTS_FILE);
  const need = params.reduce((s, p) => s + paramSize(p), 0) * 4;
  if (wbytes.byteLength !== need) throw new CheckpointError('truncated', `checkpoint ${meta.id}: ${WEIGHTS_FILE} holds ${wbytes.byteLength} bytes, the architecture needs ${need}`);
  const weights: Weights = new Map();
  let o = 0;
  for (const p of params) {
    weights.set(p.name, floats(wbytes, o, paramSize(p)));
    o += paramSize(p) * 4;
  }
  let optimizer: NamedArray[] | null = null;
  if (meta.optimizer) {
    const obytes = await readVerified(dir, meta, OPTIMIZER_FILE);
    optimizer = [];
    let k = 0;
    for (const e of meta.optimizer) {
      const n = e.shape.reduce((a, b) => a * b, 1);
      if (k + n * 4 > obytes.byteLength) throw new CheckpointError('truncated', `checkpoint ${meta.id}: ${OPTIMIZER_FILE} ends before ${e.name}`);
      optimizer.push({ name: e.name, shape: e.shape, data: floats(obytes, k, n) });
      k += n * 4;
    }
  }
  const onnx: Record<string, Uint8Array> = {};
  for (const g of specGraphNames(spec)) onnx[g] = await readVerified(dir, meta, onnxFile(g));
  return { dir, meta, spec, weights, optimizer, rng: meta.rng, onnx };
}
