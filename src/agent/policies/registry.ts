// Policy registry: every policy declares its parameters (type, default, bounds or choices, search grid).
// Unknown policies and unknown or invalid parameters are refused with a message that lists what exists;
// walk-forward reads the declared grids.
import { BuyAndHoldPolicy, HoldPolicy, MaCrossoverPolicy, MeanReversionPolicy, RandomPolicy } from './baselines.js';
import { createLinearPolicy, LINEAR_PARAMS } from './linear.js';
import { createMuZeroPolicy, MUZERO_PARAMS, resolveCheckpointParam } from './muzero.js';
import { createPpoPolicy, PPO_PARAMS } from './ppo.js';
import type { Config } from '../../config/schema.js';
import type { Store } from '../../store/db.js';
import { num, PolicyError, type ParamSpec, type ParamValue, type Policy, type PolicyContext, type PolicyParams, type PolicySpec, type ResolvedPolicy } from './types.js';

const registry = new Map<string, PolicySpec>();

export function registerPolicy(spec: PolicySpec): void {
  if (registry.has(spec.name)) throw new Error(`policy '${spec.name}' is already registered`);
  for (const p of spec.params) {
    const err = valueError(p, p.default);
    if (err) throw new Error(`policy '${spec.name}': default of '${p.name}' ${err}`);
  }
  registry.set(spec.name, spec);
}

export function policyNames(): string[] {
  return [...registry.keys()];
}

export function getPolicySpec(name: string): PolicySpec {
  const spec = registry.get(name);
  if (!spec) throw new PolicyError(`unknown policy '${name}' (known: ${policyNames().join(', ')})`);
  return spec;
}

function describeParam(p: ParamSpec): string {
  if (p.type === 'string') return `${p.name} (string${p.choices ? `: ${p.choices.join('|')}` : ''})`;
  return `${p.name} (${p.type}, ${p.min}..${p.max})`;
}

function describeParams(spec: PolicySpec): string {
  return spec.params.length === 0 ? 'it takes no parameters' : `its parameters: ${spec.params.map(describeParam).join(', ')}`;
}

/** Why `v` is not a valid value of `p` (null when it is). */
function valueError(p: ParamSpec, v: ParamValue): string | null {
  if (p.type === 'string') {
    if (typeof v !== 'string') return `must be a string, got ${String(v)}`;
    if (p.choices && !p.choices.includes(v)) return `must be one of ${p.choices.join(', ')}, got '${v}'`;
    if (p.pattern && !p.pattern.test(v)) return `'${v}' does not match ${String(p.pattern)}`;
    return null;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) return `is not a number (expected ${p.type})`;
  if (p.type === 'int' && !Number.isInteger(v)) return `must be an integer`;
  if (v < (p.min ?? -Infinity) || v > (p.max ?? Infinity)) return `is outside [${p.min}, ${p.max}]`;
  return null;
}

function parseValue(spec: PolicySpec, p: ParamSpec, raw: ParamValue): ParamValue {
  let v: ParamValue = raw;
  if (p.type !== 'string' && typeof raw === 'string') {
    const s = raw.trim();
    v = s === '' ? NaN : Number(s);
  }
  if (p.type === 'string' && typeof raw === 'number') v = String(raw);
  const err = valueError(p, v);
  if (err) throw new PolicyError(`policy '${spec.name}': parameter ${p.name}=${String(raw)} ${err}`);
  return v;
}

/** Declared defaults overlaid with `given`; refuses unknown names, bad values and violated constraints. */
export function resolvePolicyParams(name: string, given: Readonly<Record<string, ParamValue>> = {}): Record<string, ParamValue> {
  const spec = getPolicySpec(name);
  const out: Record<string, ParamValue> = {};
  for (const p of spec.params) out[p.name] = p.default;
  for (const [k, raw] of Object.entries(given)) {
    const p = spec.params.find((q) => q.name === k);
    if (!p) throw new PolicyError(`policy '${name}' has no parameter '${k}' (${describeParams(spec)})`);
    out[k] = parseValue(spec, p, raw);
  }
  const msg = spec.check?.(out) ?? null;
  if (msg) throw new PolicyError(`policy '${name}': ${msg}`);
  return out;
}

/** Parses CLI `--param k=v` strings into a map (values stay strings; resolvePolicyParams types them). */
export function parseParamArgs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new PolicyError(`--param '${a}' is not of the form name=value`);
    const k = a.slice(0, eq).trim();
    if (Object.hasOwn(out, k)) throw new PolicyError(`--param ${k} given twice`);
    out[k] = a.slice(eq + 1);
  }
  return out;
}

/** `NAME` or `NAME:k=v,k=v` (the inline form of --policy). */
export function parsePolicyArg(arg: string): { name: string; params: Record<string, string> } {
  const colon = arg.indexOf(':');
  const name = colon < 0 ? arg : arg.slice(0, colon);
  const inline = colon < 0 ? [] : arg.slice(colon + 1).split(',').filter((s) => s.trim() !== '');
  return { name, params: parseParamArgs(inline) };
}

/**
 * What a policy's references name now (PolicySpec.resolve), in the process that holds the store; the
 * parameters as given for a policy without references.
 */
export async function resolvePolicy(name: string, params: Readonly<Record<string, ParamValue>>, ctx: { store: Store; config: Config }): Promise<ResolvedPolicy> {
  const spec = getPolicySpec(name);
  const resolved = resolvePolicyParams(name, params);
  return spec.resolve ? spec.resolve(resolved, ctx) : { params: resolved, artifacts: {} };
}

/**
 * Creates a policy by name with checked parameters. A policy that fits (linear) needs `ctx.fit`, its
 * in-sample data; one that is refused without it says so.
 */
export async function createPolicy(name: string, params: Readonly<Record<string, ParamValue>>, ctx: PolicyContext): Promise<Policy> {
  const spec = getPolicySpec(name);
  const resolved = Object.freeze(resolvePolicyParams(name, params));
  if (spec.fits && !ctx.fit) {
    throw new PolicyError(
      `policy '${name}' is fitted on in-sample data before it trades: give a fit range (--fit-from/--fit-to, or a --from with data before it), or run it in walk-forward`,
    );
  }
  return spec.create(resolved, ctx);
}

registerPolicy({
  name: 'hold',
  description: 'always HOLD (never trades)',
  params: [],
  observes: false,
  create: async () => new HoldPolicy(),
});

registerPolicy({
  name: 'random',
  description: 'seeded random: opens with p_open (long/short 50/50), closes with p_close',
  params: [
    { name: 'p_open', type: 'float', default: 2 / 3, min: 0, max: 1, grid: [0.01, 0.1, 2 / 3], description: 'probability of opening when flat' },
    { name: 'p_close', type: 'float', default: 0.5, min: 0, max: 1, grid: [0.01, 0.1, 0.5], description: 'probability of closing when in a position' },
  ],
  observes: false,
  create: async (p, { seed }) => new RandomPolicy({ p_open: num(p, 'p_open'), p_close: num(p, 'p_close') }, seed),
});

registerPolicy({
  name: 'buy-and-hold',
  description: 'buys at the first decision of each episode, held to the forced close',
  params: [],
  observes: false,
  create: async () => new BuyAndHoldPolicy(),
});

registerPolicy({
  name: 'ma-crossover',
  description: 'long while SMA(fast) > SMA(slow) of closes, short while below',
  params: [
    { name: 'fast', type: 'int', default: 10, min: 1, max: 1000, grid: [5, 10, 20, 30], description: 'fast SMA window (bars)' },
    { name: 'slow', type: 'int', default: 50, min: 2, max: 5000, grid: [30, 50, 100, 200], description: 'slow SMA window (bars)' },
  ],
  observes: false,
  check: (p) => (num(p, 'fast') < num(p, 'slow') ? null : `fast (${p.fast}) must be smaller than slow (${p.slow})`),
  create: async (p) => new MaCrossoverPolicy({ fast: num(p, 'fast'), slow: num(p, 'slow') }),
});

registerPolicy({
  name: 'mean-reversion',
  description: 'fades |z| > entry_z of the close over a window, exits when |z| falls to exit_z',
  params: [
    { name: 'window', type: 'int', default: 60, min: 2, max: 5000, grid: [30, 60, 120, 240], description: 'z-score window (bars)' },
    { name: 'entry_z', type: 'float', default: 2, min: 0, max: 20, grid: [1.5, 2, 2.5, 3], description: 'enter when |z| exceeds this' },
    { name: 'exit_z', type: 'float', default: 0.5, min: 0, max: 20, grid: [0, 0.5, 1], description: 'exit when z is back within this of the mean' },
  ],
  observes: false,
  check: (p) => (num(p, 'exit_z') < num(p, 'entry_z') ? null : `exit_z (${p.exit_z}) must be smaller than entry_z (${p.entry_z})`),
  create: async (p) => new MeanReversionPolicy({ window: num(p, 'window'), entry_z: num(p, 'entry_z'), exit_z: num(p, 'exit_z') }),
});

registerPolicy({
  name: 'linear',
  description: 'ridge regression of the next-horizon move on the observed features (fitted in sample); trades when the predicted move beats the round trip by margin',
  params: LINEAR_PARAMS,
  observes: true,
  fits: true,
  create: createLinearPolicy,
});

registerPolicy({
  name: 'muzero',
  description: 'a Stochastic MuZero checkpoint (ONNX Runtime) searched by the native batched MCTS',
  params: MUZERO_PARAMS,
  observes: true,
  resolve: resolveCheckpointParam,
  learner: 'muzero',
  create: createMuZeroPolicy,
});

registerPolicy({
  name: 'ppo',
  description: 'a PPO actor-critic checkpoint (ONNX Runtime) over the last H observations, greedy over the legal actions',
  params: PPO_PARAMS,
  observes: true,
  resolve: resolveCheckpointParam,
  learner: 'ppo',
  create: createPpoPolicy,
});
