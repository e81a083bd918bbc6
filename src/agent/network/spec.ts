// The Stochastic MuZero networks, described once as plain data. The same description builds the tfjs
// model that trains (./tfjs.ts) and the ONNX graphs that run inference (./onnx.ts); a parity test holds
// the two together. Its hash is the architecture_id that checkpoints carry.
//
// Six functions, each a residual MLP with LayerNorm over its concatenated inputs, then linear heads:
//   representation        h(obs)         -> state
//   prediction            f(state)       -> policy logits over HOLD/BUY/SELL/CLOSE, value (support logits)
//   afterstate_dynamics   phi(state, a)  -> afterstate
//   afterstate_prediction psi(afterstate)-> chance-code logits sigma, Q (support logits)
//   dynamics              g(afterstate, c) -> state', reward (support logits)
//   chance_encoder        e(obs, next_obs) -> chance-code logits (training only: a straight-through one-hot)
// Latents are min-max scaled to [0, 1] per row (MuZero appendix G). Value, reward and Q are
// categorical over the h-transformed support (bindings/mcts.ts), decoded by the shared helpers.
import type { SupportSpec } from '../../../bindings/mcts.js';
import { hashOf } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { N_ACTIONS } from '../../env/types.js';
import { Prng } from '../../util/prng.js';

/** Generation of the network family this code builds: checkpoints with a newer major are refused. */
export const NETWORK_MAJOR = 1;

export type Layer =
  | { op: 'dense'; name: string; inputs: number; units: number }
  | { op: 'layer_norm'; name: string; size: number }
  | { op: 'relu' }
  /** out = x + body(x) */
  | { op: 'residual'; body: Layer[] }
  /** Per row: (x - min) / max(max - min, minmax_epsilon). */
  | { op: 'minmax' };

/** A function input: a float vector, or an integer index fed as a one-hot vector of `size`. */
export interface FunctionInput {
  name: string;
  kind: 'vector' | 'index';
  size: number;
}

/**
 * What a head's numbers are: a latent (already scaled), logits (policy, chance codes), or logits
 * over the value support, which inference turns into probabilities (softmax) for the decoder.
 */
export type HeadKind = 'latent' | 'logits' | 'support';

export interface HeadSpec {
  name: string;
  kind: HeadKind;
  layers: Layer[];
}

export interface FunctionSpec {
  /** Concatenated in this order before the trunk. */
  inputs: FunctionInput[];
  trunk: Layer[];
  heads: HeadSpec[];
}

export const FUNCTION_NAMES = ['representation', 'prediction', 'afterstate_dynamics', 'afterstate_prediction', 'dynamics', 'chance_encoder'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** A reference inside a graph: a graph input name, or `function.head`. */
export type Ref = string;

/** An inference graph: calls of functions wired by reference, and the named outputs. */
export interface GraphSpec {
  inputs: FunctionInput[];
  calls: Array<{ fn: FunctionName; args: Ref[] }>;
  outputs: Array<{ name: string; from: Ref }>;
}

export const GRAPH_NAMES = ['initial', 'decision', 'chance'] as const;
export type GraphName = (typeof GRAPH_NAMES)[number];

export interface NetworkSpec {
  format: 'swt-stochastic-muzero-mlp';
  major: number;
  obs_dim: number;
  num_actions: number;
  num_codes: number;
  latent: number;
  hidden: number;
  blocks: number;
  /** Hidden units of the policy, chance and support heads (0: linear heads). */
  head_hidden: number;
  support: SupportSpec;
  /**
   * The discount the value, Q and reward heads were trained for (the n-step targets' gamma): the search
   * that serves them must back up with the same one, so it travels with the network. Absent in specs
   * written before it was recorded (the serving config's mcts.discount applies).
   */
  discount?: number;
  layer_norm_epsilon: number;
  minmax_epsilon: number;
  functions: Record<FunctionName, FunctionSpec>;
  graphs: Record<GraphName, GraphSpec>;
}

export interface NetworkSizes {
  obsDim: number;
  hidden: number;
  blocks: number;
  latent: number;
  codes: number;
  /** Hidden units of the non-latent heads (default 0: linear heads). */
  headHidden?: number;
  support: SupportSpec;
  /** The training discount (recorded in the spec; see NetworkSpec.discount). */
  discount?: number;
  layerNormEpsilon?: number;
}

function trunk(fn: string, inputs: number, hidden: number, blocks: number): Layer[] {
  const layers: Layer[] = [
    { op: 'dense', name: `${fn}/input`, inputs, units: hidden },
    { op: 'layer_norm', name: `${fn}/input_norm`, size: hidden },
    { op: 'relu' },
  ];
  for (let b = 0; b < blocks; b++) {
    layers.push(
      {
        op: 'residual',
        body: [
          { op: 'dense', name: `${fn}/block${b}/dense0`, inputs: hidden, units: hidden },
          { op: 'layer_norm', name: `${fn}/block${b}/norm0`, size: hidden },
          { op: 'relu' },
          { op: 'dense', name: `${fn}/block${b}/dense1`, inputs: hidden, units: hidden },
          { op: 'layer_norm', name: `${fn}/block${b}/norm1`, size: hidden },
        ],
      },
      { op: 'relu' },
    );
  }
  return layers;
}

function fnSpec(name: FunctionName, inputs: FunctionInput[], s: NetworkSizes, heads: Array<[string, HeadKind, number]>): FunctionSpec {
  const width = inputs.reduce((a, i) => a + i.size, 0);
  return {
    inputs,
    trunk: trunk(name, width, s.hidden, s.blocks),
    heads: heads.map(([head, kind, units]): HeadSpec => {
      const hh = s.headHidden ?? 0;
      // Latent heads stay linear (a bottleneck would narrow the state); the others may have a hidden
      // layer, which makes the support heads (hidden x bins, on every leaf) several times cheaper.
      const layers: Layer[] =
        kind === 'latent'
          ? [{ op: 'dense', name: `${name}/${head}`, inputs: s.hidden, units }, { op: 'minmax' }]
          : hh > 0
            ? [{ op: 'dense', name: `${name}/${head}_hidden`, inputs: s.hidden, units: hh }, { op: 'relu' }, { op: 'dense', name: `${name}/${head}`, inputs: hh, units }]
            : [{ op: 'dense', name: `${name}/${head}`, inputs: s.hidden, units }];
      return { name: head, kind, layers };
    }),
  };
}

/** The architecture for the given sizes. */
export function networkSpec(s: NetworkSizes): NetworkSpec {
  for (const [k, v] of [
    ['obsDim', s.obsDim],
    ['hidden', s.hidden],
    ['latent', s.latent],
    ['codes', s.codes],
    ['support.bins', s.support.bins],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`network spec: ${k} must be an integer >= 1, got ${v}`);
  }
  for (const [k, v] of [
    ['blocks', s.blocks],
    ['headHidden', s.headHidden ?? 0],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`network spec: ${k} must be an integer >= 0, got ${v}`);
  }
  const A = N_ACTIONS;
  const L = s.latent;
  const vec = (name: string, size: number): FunctionInput => ({ name, kind: 'vector', size });
  const idx = (name: string, size: number): FunctionInput => ({ name, kind: 'index', size });
  const bins = s.support.bins;
  return {
    format: 'swt-stochastic-muzero-mlp',
    major: NETWORK_MAJOR,
    obs_dim: s.obsDim,
    num_actions: A,
    num_codes: s.codes,
    latent: L,
    hidden: s.hidden,
    blocks: s.blocks,
    head_hidden: s.headHidden ?? 0,
    support: { lo: s.support.lo, hi: s.support.hi, bins },
    ...(s.discount !== undefined ? { discount: s.discount } : {}),
    layer_norm_epsilon: s.layerNormEpsilon ?? 1e-5,
    minmax_epsilon: 1e-5,
    functions: {
      representation: fnSpec('representation', [vec('obs', s.obsDim)], s, [['state', 'latent', L]]),
      prediction: fnSpec('prediction', [vec('state', L)], s, [
        ['policy', 'logits', A],
        ['value', 'support', bins],
      ]),
      afterstate_dynamics: fnSpec('afterstate_dynamics', [vec('state', L), idx('action', A)], s, [['afterstate', 'latent', L]]),
      afterstate_prediction: fnSpec('afterstate_prediction', [vec('afterstate', L)], s, [
        ['chance', 'logits', s.codes],
        ['q', 'support', bins],
      ]),
      dynamics: fnSpec('dynamics', [vec('afterstate', L), idx('code', s.codes)], s, [
        ['state', 'latent', L],
        ['reward', 'support', bins],
      ]),
      chance_encoder: fnSpec('chance_encoder', [vec('obs', s.obsDim), vec('next_obs', s.obsDim)], s, [['code', 'logits', s.codes]]),
    },
    graphs: {
      initial: {
        inputs: [vec('obs', s.obsDim)],
        calls: [
          { fn: 'representation', args: ['obs'] },
          { fn: 'prediction', args: ['representation.state'] },
        ],
        outputs: [
          { name: 'latent', from: 'representation.state' },
          { name: 'policy', from: 'prediction.policy' },
          { name: 'value', from: 'prediction.value' },
        ],
      },
      decision: {
        inputs: [vec('latent', L), idx('action', A)],
        calls: [
          { fn: 'afterstate_dynamics', args: ['latent', 'action'] },
          { fn: 'afterstate_prediction', args: ['afterstate_dynamics.afterstate'] },
        ],
        outputs: [
          { name: 'afterstate', from: 'afterstate_dynamics.afterstate' },
          { name: 'chance', from: 'afterstate_prediction.chance' },
          { name: 'q', from: 'afterstate_prediction.q' },
        ],
      },
      chance: {
        inputs: [vec('afterstate', L), idx('code', s.codes)],
        calls: [
          { fn: 'dynamics', args: ['afterstate', 'code'] },
          { fn: 'prediction', args: ['dynamics.state'] },
        ],
        outputs: [
          { name: 'latent', from: 'dynamics.state' },
          { name: 'reward', from: 'dynamics.reward' },
          { name: 'policy', from: 'prediction.policy' },
          { name: 'value', from: 'prediction.value' },
        ],
      },
    },
  };
}

/** The architecture the config describes, for observations of `obsDim` values. */
export function networkSpecFromConfig(config: Config, obsDim: number): NetworkSpec {
  const m = config.model;
  return networkSpec({
    obsDim,
    hidden: m.hidden,
    blocks: m.blocks,
    latent: m.latent,
    codes: m.chance_codes,
    headHidden: m.head_hidden,
    support: config.mcts.support,
    discount: config.mcts.discount,
    layerNormEpsilon: m.layer_norm_epsilon,
  });
}

export function architectureId(spec: NetworkSpec): string {
  return hashOf(spec);
}

/** Kind and length of every output of a graph (from the head that produces it). */
export function graphOutputs(spec: NetworkSpec, graph: GraphName): Array<{ name: string; kind: HeadKind; size: number }> {
  return spec.graphs[graph].outputs.map((o) => {
    const [fn, head] = o.from.split('.') as [FunctionName, string];
    const h = spec.functions[fn].heads.find((x) => x.name === head);
    if (!h) throw new Error(`network spec: graph ${graph} output ${o.name} refers to unknown head ${o.from}`);
    const last = h.layers.filter((l) => l.op === 'dense').at(-1) as Extract<Layer, { op: 'dense' }>;
    return { name: o.name, kind: h.kind, size: last.units };
  });
}

/**
 * Evaluates a graph with a builder's own values (tensors, ONNX value names): `call` runs one function
 * on its argument values and returns its heads. Returns each graph output's raw value and kind, in order.
 */
export function walkGraph<T>(
  spec: NetworkSpec,
  graph: GraphName,
  inputs: T[],
  call: (fn: FunctionName, args: T[]) => Record<string, T>,
): Array<{ name: string; kind: HeadKind; value: T }> {
  const g = spec.graphs[graph];
  const env = new Map<Ref, T>();
  g.inputs.forEach((inp, i) => env.set(inp.name, inputs[i]));
  for (const c of g.calls) {
    const args = c.args.map((r) => {
      const v = env.get(r);
      if (v === undefined) throw new Error(`network spec: graph ${graph} refers to ${r} before it is computed`);
      return v;
    });
    for (const [head, v] of Object.entries(call(c.fn, args))) env.set(`${c.fn}.${head}`, v);
  }
  return graphOutputs(spec, graph).map((o, i) => ({ name: o.name, kind: o.kind, value: env.get(g.outputs[i].from)! }));
}

export interface ParamSpec {
  name: string;
  shape: number[];
  /** glorot: uniform(+-sqrt(6 / (fan_in + fan_out))); zeros; ones. */
  init: 'glorot' | 'zeros' | 'ones';
  /** false: a statistic carried with the weights (input normalisation), never changed by the optimizer. */
  trainable?: boolean;
}

/** The parameters of a layer list (dense kernels and biases, LayerNorm scales and offsets), in order. */
export function layerParams(layers: Layer[], out: ParamSpec[]): void {
  for (const l of layers) {
    if (l.op === 'dense') {
      out.push({ name: `${l.name}/kernel`, shape: [l.inputs, l.units], init: 'glorot' }, { name: `${l.name}/bias`, shape: [l.units], init: 'zeros' });
    } else if (l.op === 'layer_norm') {
      out.push({ name: `${l.name}/gamma`, shape: [l.size], init: 'ones' }, { name: `${l.name}/beta`, shape: [l.size], init: 'zeros' });
    } else if (l.op === 'residual') {
      layerParams(l.body, out);
    }
  }
}

/** Every parameter of a function, in a fixed order. */
export function functionParameters(fn: FunctionSpec): ParamSpec[] {
  const out: ParamSpec[] = [];
  layerParams(fn.trunk, out);
  for (const h of fn.heads) layerParams(h.layers, out);
  return out;
}

/** Every parameter of the network, in the order weights are stored. */
export function parameters(spec: NetworkSpec): ParamSpec[] {
  return FUNCTION_NAMES.flatMap((f) => functionParameters(spec.functions[f]));
}

export const paramSize = (p: { shape: number[] }): number => p.shape.reduce((a, b) => a * b, 1);

/** Named float32 parameter values, in `parameters(spec)` order. */
export type Weights = Map<string, Float32Array>;

/** Seeded initial weights (Glorot-uniform kernels, zero biases, unit LayerNorm scales). */
export function initWeights(spec: NetworkSpec, seed: number): Weights {
  return initParams(parameters(spec), seed);
}

/** Seeded initial values of a parameter list (any network family). */
export function initParams(params: ParamSpec[], seed: number): Weights {
  const rng = new Prng(seed, 0x6e6574);
  const w: Weights = new Map();
  for (const p of params) {
    const data = new Float32Array(paramSize(p));
    if (p.init === 'ones') data.fill(1);
    else if (p.init === 'glorot') {
      const limit = Math.sqrt(6 / (p.shape[0] + p.shape[1]));
      for (let i = 0; i < data.length; i++) data[i] = (rng.float() * 2 - 1) * limit;
    }
    w.set(p.name, data);
  }
  return w;
}

/** Refuses weights that do not fit the spec (names, sizes), naming the first mismatch. */
export function checkWeights(spec: NetworkSpec, w: Weights): void {
  checkParams(parameters(spec), w);
}

/** Refuses weights that do not fit a parameter list (names, sizes), naming the first mismatch. */
export function checkParams(params: ParamSpec[], w: Weights): void {
  for (const p of params) {
    const d = w.get(p.name);
    if (!d) throw new Error(`weights: parameter ${p.name} is missing`);
    if (d.length !== paramSize(p)) throw new Error(`weights: parameter ${p.name} has ${d.length} values, the spec needs ${paramSize(p)} (${p.shape.join('x')})`);
  }
}
