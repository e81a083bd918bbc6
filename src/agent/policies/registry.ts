// Policy registry: every policy declares its tunable parameters (type, default, bounds, search grid).
// Unknown policies and unknown or out-of-range parameters are refused with a message that lists what
// exists; walk-forward reads the declared grids.
import { BuyAndHoldPolicy, HoldPolicy, MaCrossoverPolicy, MeanReversionPolicy, RandomPolicy } from './baselines.js';
import { PolicyError, type ParamSpec, type Policy, type PolicySpec } from './types.js';

const registry = new Map<string, PolicySpec>();

export function registerPolicy(spec: PolicySpec): void {
  if (registry.has(spec.name)) throw new Error(`policy '${spec.name}' is already registered`);
  for (const p of spec.params) {
    if (!(p.min <= p.default && p.default <= p.max)) throw new Error(`policy '${spec.name}': default of '${p.name}' outside [${p.min}, ${p.max}]`);
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

function describeParams(spec: PolicySpec): string {
  return spec.params.length === 0 ? 'it takes no parameters' : `its parameters: ${spec.params.map((p) => `${p.name} (${p.type}, ${p.min}..${p.max})`).join(', ')}`;
}

function parseValue(spec: PolicySpec, p: ParamSpec, raw: string | number): number {
  let v: number;
  if (typeof raw === 'number') v = raw;
  else {
    const s = raw.trim();
    v = s === '' ? NaN : Number(s);
  }
  if (!Number.isFinite(v)) throw new PolicyError(`policy '${spec.name}': parameter ${p.name}=${String(raw)} is not a number (expected ${p.type})`);
  if (p.type === 'int' && !Number.isInteger(v)) throw new PolicyError(`policy '${spec.name}': parameter ${p.name}=${String(raw)} must be an integer`);
  if (v < p.min || v > p.max) throw new PolicyError(`policy '${spec.name}': parameter ${p.name}=${v} is outside [${p.min}, ${p.max}]`);
  return v;
}

/** Declared defaults overlaid with `given`; refuses unknown names, bad values and violated constraints. */
export function resolvePolicyParams(name: string, given: Readonly<Record<string, string | number>> = {}): Record<string, number> {
  const spec = getPolicySpec(name);
  const out: Record<string, number> = {};
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

/** Creates a policy by name with checked parameters. `seed` feeds the stochastic ones. */
export function createPolicy(name: string, params: Readonly<Record<string, string | number>> = {}, opts: { seed?: number } = {}): Policy {
  const spec = getPolicySpec(name);
  const resolved = resolvePolicyParams(name, params);
  return spec.create(Object.freeze(resolved), { seed: opts.seed ?? 0 });
}

registerPolicy({
  name: 'hold',
  description: 'always HOLD (never trades)',
  params: [],
  create: () => new HoldPolicy(),
});

registerPolicy({
  name: 'random',
  description: 'seeded random: opens with p_open (long/short 50/50), closes with p_close',
  params: [
    { name: 'p_open', type: 'float', default: 2 / 3, min: 0, max: 1, grid: [0.01, 0.1, 2 / 3], description: 'probability of opening when flat' },
    { name: 'p_close', type: 'float', default: 0.5, min: 0, max: 1, grid: [0.01, 0.1, 0.5], description: 'probability of closing when in a position' },
  ],
  create: (p, { seed }) => new RandomPolicy({ p_open: p.p_open, p_close: p.p_close }, seed),
});

registerPolicy({
  name: 'buy-and-hold',
  description: 'buys at the first decision of each episode, held to the forced close',
  params: [],
  create: () => new BuyAndHoldPolicy(),
});

registerPolicy({
  name: 'ma-crossover',
  description: 'long while SMA(fast) > SMA(slow) of closes, short while below',
  params: [
    { name: 'fast', type: 'int', default: 10, min: 1, max: 1000, grid: [5, 10, 20, 30], description: 'fast SMA window (bars)' },
    { name: 'slow', type: 'int', default: 50, min: 2, max: 5000, grid: [30, 50, 100, 200], description: 'slow SMA window (bars)' },
  ],
  check: (p) => (p.fast < p.slow ? null : `fast (${p.fast}) must be smaller than slow (${p.slow})`),
  create: (p) => new MaCrossoverPolicy({ fast: p.fast, slow: p.slow }),
});

registerPolicy({
  name: 'mean-reversion',
  description: 'fades |z| > entry_z of the close over a window, exits when |z| falls to exit_z',
  params: [
    { name: 'window', type: 'int', default: 60, min: 2, max: 5000, grid: [30, 60, 120, 240], description: 'z-score window (bars)' },
    { name: 'entry_z', type: 'float', default: 2, min: 0, max: 20, grid: [1.5, 2, 2.5, 3], description: 'enter when |z| exceeds this' },
    { name: 'exit_z', type: 'float', default: 0.5, min: 0, max: 20, grid: [0, 0.5, 1], description: 'exit when z is back within this of the mean' },
  ],
  check: (p) => (p.exit_z < p.entry_z ? null : `exit_z (${p.exit_z}) must be smaller than entry_z (${p.entry_z})`),
  create: (p) => new MeanReversionPolicy({ window: p.window, entry_z: p.entry_z, exit_z: p.exit_z }),
});
