// The configuration space of a sweep (`swt sweep --space FILE.yaml`): which policy, which data, which
// parameters over which ranges or choices, how points are drawn, and the stages of successive halving.
// Parsed with zod; every error names the file and the field. The parsed space is plain data (stored as
// the sweep's JSON document, snake_case like the file), and its canonical hash identifies the sweep for
// --resume.
//
// Points. Stage 0 of each round draws `trials` configurations: sampler `sobol` (a digitally shifted
// Sobol' sequence, seeded), `random` (a seeded uniform stream) or `grid` (every combination of the
// parameters' `choices`, in file order; then `trials` and `rounds` do not apply). A unit coordinate u
// becomes a value as: a range [min, max] linearly (or, with log: true, geometrically), integers by
// flooring over max - min + 1 equal cells; choices by index floor(u · n). A configuration that breaks a
// policy constraint (mean-reversion's exit_z < entry_z) is skipped and the next point of the sequence
// taken, so a round always has `trials` valid ones; point indices are consecutive per sweep, so a
// round continues the sequence where the last one stopped.
//
// Training sweeps. With a `train:` block the policy is a learner's (muzero, ppo) and the searched
// parameters are dotted config paths under train, ppo, model or mcts (train.optimizer.lr, ppo.entropy):
// each trial trains its own agent on in_sample with those values over the preset, and a stage's
// `episodes` is its training budget (`sessions`, default all, is still the out-of-sample scoring).
// Every path is checked against the config schema here, at its bounds or choices, so a bad one is
// refused before anything trains.
import { readFileSync, existsSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { ConfigError, formatIssues, hashOf, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { parseBound, type TimeRange } from '../../data/range.js';
import { getPolicySpec, resolvePolicyParams, valueError } from '../../agent/policies/registry.js';
import { PolicyError, type ParamValue } from '../../agent/policies/types.js';
import { InputError } from '../../util/errors.js';
import { Prng } from '../../util/prng.js';
import { Sobol, SOBOL_MAX_DIMENSIONS } from './sobol.js';

/** A space file that cannot be used (exit code 2); the message names the file and the field. */
export class SpaceError extends InputError {}

const bound = z.string().min(1, 'expected a date YYYY-MM-DD or an ISO timestamp');
const rangeSchema = z.strictObject({ from: bound.optional(), to: bound.optional() });

const rangeParam = z.strictObject({
  type: z.enum(['int', 'float']),
  min: z.number(),
  max: z.number(),
  log: z.boolean().default(false),
});
const choiceParam = z.strictObject({ choices: z.array(z.union([z.number(), z.string()])).min(1, 'expected at least one choice') });

const stageSchema = z.strictObject({
  /** Out-of-sample sessions scored (a training sweep: default all). */
  sessions: z.union([z.number().int().min(1), z.literal('all')]).optional(),
  /** A training sweep's budget: episodes each trial trains for at this stage. */
  episodes: z.number().int().min(1).optional(),
});

const trainSchema = z.strictObject({
  /** The learner; the policy's own (muzero, ppo) when left out. */
  algo: z.enum(['muzero', 'ppo']).optional(),
  preset: z.string().min(1).default('default'),
  /** Dotted config settings every trial trains with (the searched ones go over them). */
  overrides: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).default({}),
});

/** The config sections a training sweep may search (what shapes the learner and its search). */
export const TRAIN_SECTIONS = ['train', 'ppo', 'model', 'mcts'] as const;

export const spaceSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, _ . -').optional(),
  policy: z.string().min(1),
  instrument: z.string().optional(),
  out_of_sample: rangeSchema,
  in_sample: rangeSchema.optional(),
  /** Present: a training sweep (see the module header). */
  train: trainSchema.optional(),
  /** Data the sweep never scores on, after out_of_sample: where the champion is validated (when given). */
  holdout: rangeSchema.optional(),
  fixed: z.record(z.string(), z.union([z.number(), z.string()])).default({}),
  params: z.record(z.string(), z.union([rangeParam, choiceParam])).refine((p) => Object.keys(p).length > 0, 'expected at least one searched parameter'),
  sampler: z.strictObject({ kind: z.enum(['sobol', 'random', 'grid']), seed: z.number().int().min(0).default(1) }).default({ kind: 'sobol', seed: 1 }),
  trials: z.number().int().min(1).optional(),
  rounds: z.number().int().min(1).default(1),
  stages: z.array(stageSchema).min(1, 'expected at least one stage'),
  keep: z.number().gt(0).lt(1).default(0.25),
  seed: z.number().int().min(0).optional(),
  scoring: z
    .strictObject({
      scenarios: z.string().default('none'),
      curves: z.number().int().min(10).optional(),
      repeats: z.number().int().min(1).optional(),
    })
    .default({ scenarios: 'none' }),
  /** Parallel evaluations; 0 = auto (one for rule policies, up to one per core for policies that observe). */
  workers: z.number().int().min(0).default(0),
});

export type SpaceDocument = z.output<typeof spaceSchema>;
export type ParamDef = SpaceDocument['params'][string];

export interface Space {
  file: string;
  doc: SpaceDocument;
  /** Canonical hash of the document (what --resume matches). */
  hash: string;
  name: string;
  /** Searched parameter names, in file order (the sampler's dimensions). */
  keys: string[];
  outOfSample: TimeRange;
  inSample: TimeRange | null;
  holdout: TimeRange | null;
}

function range(file: string, field: string, r: { from?: string; to?: string } | undefined): TimeRange | null {
  if (!r) return null;
  const out = { from: parseBound(r.from, `${file}: ${field}.from`, false), to: parseBound(r.to, `${file}: ${field}.to`, true) };
  if (out.from && out.to && out.from >= out.to) throw new SpaceError(`${file}: ${field}: from ${r.from} is not before to ${r.to}`);
  return out;
}

export type Learner = 'muzero' | 'ppo';

/** Builds a trial's config from its preset and dotted overrides (the CLI's loader honours --config and --db). */
export type TrainConfigLoader = (o: { preset: string; algo: Learner; overrides: Record<string, unknown> }) => Config;

/** Trial configs from a config file (default config/default.yaml) and the command's own overrides (--db). */
export function configLoader(opts: { file?: string; overrides?: Record<string, unknown>; env?: NodeJS.ProcessEnv } = {}): TrainConfigLoader {
  return (o) => loadConfig({ file: opts.file, env: opts.env, preset: o.preset, algo: o.algo, overrides: { ...opts.overrides, ...o.overrides } });
}

/** The schema check of a space's paths: the default file, the SWT_* variables ignored. */
const schemaConfig = configLoader({ env: {} });

/** The config overrides of one trial of a training sweep: the block's settings, then the drawn values. */
export function trialOverrides(doc: SpaceDocument, params: Record<string, ParamValue>): Record<string, unknown> {
  return { ...doc.train!.overrides, ...params };
}

type At = (field: string, msg: string) => SpaceError;

/** A training sweep's block and its parameter paths, checked against the config schema. */
function checkTrain(d: SpaceDocument, learner: Learner | undefined, at: At): void {
  const t = d.train!;
  if (!learner) throw at('train', `'${d.policy}' is not a learned policy: a training sweep needs muzero or ppo`);
  if (t.algo && t.algo !== learner) throw at('train.algo', `'${d.policy}' plays ${learner} checkpoints, not ${t.algo}`);
  if (Object.hasOwn(d.fixed, 'checkpoint')) throw at('fixed.checkpoint', 'each trial plays the checkpoint it trained: remove it');
  if (!d.in_sample) throw at('in_sample', 'a training sweep trains every trial on in_sample: give the range (before out_of_sample)');
  const load = (overrides: Record<string, unknown>, field: string): Config => {
    try {
      return schemaConfig({ preset: t.preset, algo: learner, overrides });
    } catch (e) {
      if (e instanceof ConfigError) throw at(field, e.message.replace(/\n\s*/g, ' '));
      throw e;
    }
  };
  // Only what shapes the learner: the scoring (env costs, features, validation) stays the sweep's.
  const trainPath = (k: string) => k.split('.').length >= 2 && (TRAIN_SECTIONS as readonly string[]).includes(k.split('.')[0]);
  for (const k of Object.keys(t.overrides)) if (!trainPath(k)) throw at(`train.overrides.${k}`, `a training sweep sets config paths under ${TRAIN_SECTIONS.join(', ')}: '${k}' is not one`);
  const base = load(t.overrides, 'train');
  for (const [k, p] of Object.entries(d.params)) {
    const field = `params.${k}`;
    const parts = k.split('.');
    if (!trainPath(k)) throw at(field, `a training sweep searches config paths under ${TRAIN_SECTIONS.join(', ')} (e.g. train.optimizer.lr): '${k}' is not one`);
    let node: unknown = base;
    for (const part of parts) node = node !== null && typeof node === 'object' && Object.hasOwn(node, part) ? (node as Record<string, unknown>)[part] : undefined;
    if (node === undefined) throw at(field, `the config has no setting '${k}'`);
    if (node !== null && typeof node === 'object') throw at(field, `'${k}' is a config section, not a setting`);
    if (Object.hasOwn(t.overrides, k)) throw at(field, 'is also in train.overrides: a setting is either searched or fixed');
    if (!('choices' in p)) {
      if (typeof node !== 'number') throw at(field, `'${k}' is a ${typeof node} setting: give choices, not a range`);
      if (p.type === 'int' && (!Number.isInteger(p.min) || !Number.isInteger(p.max))) throw at(field, 'an int range needs integer min and max');
      if (!(p.max > p.min)) throw at(`${field}.max`, `expected max > min, got min ${p.min}, max ${p.max}`);
      if (p.log && !(p.min > 0)) throw at(`${field}.log`, 'a log scale needs min > 0');
    }
    // The schema's own bounds and types, at both ends of the range (or at every choice).
    for (const v of 'choices' in p ? p.choices : [p.min, p.max]) load({ ...t.overrides, [k]: v }, field);
  }
}

/** Checks what zod cannot: the policy and its parameters, the stages' order, the sampler's needs. */
function checkSemantics(file: string, d: SpaceDocument): void {
  const at: At = (field, msg) => new SpaceError(`${file}: ${field}: ${msg}`);
  let spec;
  try {
    spec = getPolicySpec(d.policy);
  } catch (e) {
    throw at('policy', (e as Error).message);
  }
  if (d.train) checkTrain(d, spec.learner, at);
  for (const [k, p] of d.train ? [] : Object.entries(d.params)) {
    const decl = spec.params.find((q) => q.name === k);
    if (!decl) throw at(`params.${k}`, `policy '${d.policy}' has no parameter '${k}' (its parameters: ${spec.params.map((q) => q.name).join(', ') || 'none'})`);
    if (Object.hasOwn(d.fixed, k)) throw at(`params.${k}`, 'is also in fixed: a parameter is either searched or fixed');
    if ('choices' in p) {
      for (const c of p.choices) {
        const err = valueError(decl, c);
        if (err) throw at(`params.${k}.choices`, `${JSON.stringify(c)} ${err}`);
      }
      continue;
    }
    if (decl.type === 'string') throw at(`params.${k}`, `'${k}' is a string parameter: give choices, not a range`);
    if (decl.type === 'int' && p.type === 'float') throw at(`params.${k}.type`, `'${k}' is an integer parameter: use type int`);
    if (p.type === 'int' && (!Number.isInteger(p.min) || !Number.isInteger(p.max))) throw at(`params.${k}`, 'an int range needs integer min and max');
    if (!(p.max > p.min)) throw at(`params.${k}.max`, `expected max > min, got min ${p.min}, max ${p.max}`);
    if (p.min < (decl.min ?? -Infinity) || p.max > (decl.max ?? Infinity)) throw at(`params.${k}`, `[${p.min}, ${p.max}] is outside the declared bounds of '${k}' [${decl.min}, ${decl.max}]`);
    if (p.log && !(p.min > 0)) throw at(`params.${k}.log`, 'a log scale needs min > 0');
  }
  try {
    resolvePolicyParams(d.policy, d.fixed);
  } catch (e) {
    throw at('fixed', (e as Error).message);
  }
  if (d.sampler.kind === 'grid') {
    for (const [k, p] of Object.entries(d.params)) if (!('choices' in p)) throw at(`params.${k}`, 'the grid sampler needs choices for every parameter (ranges have no grid)');
    if (d.trials !== undefined) throw at('trials', 'the grid sampler evaluates every combination: remove trials');
    if (d.rounds !== 1) throw at('rounds', 'the grid sampler has one round');
  } else {
    if (d.trials === undefined) throw at('trials', `expected the number of configurations drawn per round (sampler ${d.sampler.kind})`);
    if (d.sampler.kind === 'sobol' && Object.keys(d.params).length > SOBOL_MAX_DIMENSIONS) throw at('params', `the Sobol' sampler has ${SOBOL_MAX_DIMENSIONS} dimensions at most`);
  }
  let prev = 0;
  let prevEpisodes = 0;
  d.stages.forEach((s, i) => {
    if (!d.train) {
      if (s.episodes !== undefined) throw at(`stages.${i}.episodes`, 'a training budget needs a train: block (a policy sweep grows sessions)');
      if (s.sessions === undefined) throw at(`stages.${i}.sessions`, 'expected the number of out-of-sample sessions (or all)');
    } else {
      if (s.episodes === undefined) throw at(`stages.${i}.episodes`, 'expected the training budget of the stage (episodes)');
      if (s.episodes <= prevEpisodes) throw at(`stages.${i}.episodes`, 'stages must grow: each stage trains for more episodes than the one before');
      prevEpisodes = s.episodes;
    }
    const n = s.sessions === undefined || s.sessions === 'all' ? Infinity : s.sessions;
    // A training sweep grows its budget in episodes; its sessions may stay the same.
    if (d.train ? n < prev : n <= prev) throw at(`stages.${i}.sessions`, 'stages must grow: each stage evaluates more sessions than the one before');
    if (!d.train && s.sessions === 'all' && i !== d.stages.length - 1) throw at(`stages.${i}.sessions`, "'all' can only be the last stage");
    prev = n;
  });
}

/** Parses a space document (from `file`, for messages). */
export function parseSpace(file: string, raw: unknown): Space {
  const parsed = spaceSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new SpaceError(formatIssues(parsed.error, file).replace('invalid configuration', 'invalid sweep space'));
  const doc = parsed.data;
  checkSemantics(file, doc);
  const outOfSample = range(file, 'out_of_sample', doc.out_of_sample)!;
  const inSample = range(file, 'in_sample', doc.in_sample);
  const holdout = range(file, 'holdout', doc.holdout);
  if (doc.train && !(inSample?.to && outOfSample.from && inSample.to <= outOfSample.from)) {
    throw new SpaceError(`${file}: in_sample.to: a training sweep needs in_sample to end before out_of_sample begins (both given; a to date is inclusive): trials are scored on data they did not train on`);
  }
  if (holdout && !(holdout.from && outOfSample.to && holdout.from >= outOfSample.to)) {
    throw new SpaceError(`${file}: holdout.from: the holdout must start at or after out_of_sample.to (both given): the sweep chooses on out_of_sample, the holdout confirms`);
  }
  const stem = file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, '');
  return { file, doc, hash: hashOf(doc), name: doc.name ?? stem, keys: Object.keys(doc.params), outOfSample, inSample, holdout };
}

/** Reads and parses a space file. */
export function loadSpace(file: string): Space {
  if (!existsSync(file)) throw new SpaceError(`sweep space file not found: ${file}`);
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new SpaceError(`${file} is not valid YAML: ${(e as Error).message}`);
  }
  return parseSpace(file, raw);
}

/** The value of parameter `def` at unit coordinate u in [0, 1). */
export function valueAt(def: ParamDef, u: number): ParamValue {
  if ('choices' in def) return def.choices[Math.min(def.choices.length - 1, Math.floor(u * def.choices.length))];
  const { min, max } = def;
  if (def.type === 'int') {
    if (def.log) {
      // Geometric cells over [min, max + 1): each integer gets the share of the log axis it covers.
      const v = Math.floor(Math.exp(Math.log(min) + u * (Math.log(max + 1) - Math.log(min))));
      return Math.min(max, Math.max(min, v));
    }
    return Math.min(max, min + Math.floor(u * (max - min + 1)));
  }
  const v = def.log ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))) : min + u * (max - min);
  // Twelve significant digits: the stored parameter prints and parses back to the same number.
  return Math.min(max, Math.max(min, Number(v.toPrecision(12))));
}

/** A drawn configuration: its point index in the sampler's sequence and its resolved parameters. */
export interface Draw {
  point: number;
  params: Record<string, ParamValue>;
}

/** The grid's combinations in file order (last parameter fastest), constraint-breaking ones left out. */
function gridDraws(space: Space): Draw[] {
  const out: Draw[] = [];
  const { keys, doc } = space;
  let point = 0;
  const rec = (i: number, acc: Record<string, ParamValue>) => {
    if (i === keys.length) {
      const params = tryResolve(space, acc);
      if (params) out.push({ point, params });
      point++;
      return;
    }
    const def = doc.params[keys[i]] as { choices: ParamValue[] };
    for (const c of def.choices) rec(i + 1, { ...acc, [keys[i]]: c });
  };
  rec(0, {});
  return out;
}

function tryResolve(space: Space, searched: Record<string, ParamValue>): Record<string, ParamValue> | null {
  // Config settings have no cross-constraints: the schema checked the bounds when the space was parsed.
  if (space.doc.train) return searched;
  try {
    return resolvePolicyParams(space.doc.policy, { ...space.doc.fixed, ...searched });
  } catch (e) {
    if (e instanceof PolicyError) return null;
    throw e;
  }
}

/** Unit point `index` of the space's sampler (random: one seeded stream per point, so any index is direct). */
function unitPoint(space: Space, sobol: Sobol | null, index: number): number[] {
  if (sobol) return sobol.point(index);
  const rng = new Prng(space.doc.sampler.seed, index + 1);
  return space.keys.map(() => rng.float());
}

/**
 * The configurations of round `round` (0-based), given where the previous rounds' points ended.
 * Deterministic: the same space gives the same draws, whatever ran before.
 */
export function drawRound(space: Space, round: number): Draw[] {
  if (space.doc.sampler.kind === 'grid') return round === 0 ? gridDraws(space) : [];
  const n = space.doc.trials!;
  const sobol = space.doc.sampler.kind === 'sobol' ? new Sobol(space.keys.length, space.doc.sampler.seed) : null;
  const out: Draw[] = [];
  let index = 0;
  let skipped = 0;
  // Rounds are consecutive slices of the one sequence of valid points.
  while (out.length < (round + 1) * n) {
    const u = unitPoint(space, sobol, index);
    const searched = Object.fromEntries(space.keys.map((k, d) => [k, valueAt(space.doc.params[k], u[d])]));
    const params = tryResolve(space, searched);
    if (params) out.push({ point: index, params });
    else if (++skipped > 1000 + 100 * (out.length + 1)) throw new SpaceError(`${space.file}: almost every point breaks the constraints of '${space.doc.policy}': narrow the ranges`);
    index++;
  }
  return out.slice(round * n);
}

/** How many rounds the space has. */
export function roundsOf(space: Space): number {
  return space.doc.sampler.kind === 'grid' ? 1 : space.doc.rounds;
}
