// The batched MCTS of the Rust core (native/src/mcts) and the value/reward support helpers.
// `MctsBatch` owns one native batch of trees; the full search loop over a model lives in
// src/agent/search.ts. Arrays cross the ABI as typed arrays with their lengths, which the library
// checks: a wrong length, a NaN prior or a call out of order comes back as a NativeError.
import { check, declare } from './native.js';

export type SearchMode = 'puct' | 'gumbel';
/** How a chance node picks a code: draw from sigma, or argmax sigma(c) / (N(c) + 1) (the paper's rule). */
export type ChanceSelection = 'sample' | 'deterministic';
/** Value of an unvisited child in PUCT: the parent's mean value, or a constant. */
export type ValueFill = 'parent_mean' | 'constant';

/**
 * A complete batch configuration. The keys are the native field names (native/src/mcts/mod.rs
 * CONFIG_FIELDS) and cross the ABI verbatim as `name=value` text, so the library checks every field
 * by name: an unknown, missing or out-of-range field is a NativeError naming it. Nothing here has a
 * default: build it from the `mcts` config section with `mctsConfigFromConfig` (src/agent/search.ts).
 */
export interface MctsConfig {
  /** Largest batch one search may use. */
  max_trees: number;
  num_actions: number;
  /** Number of chance codes C. */
  num_codes: number;
  /** Largest simulation budget of one search (sizes the preallocated trees). */
  max_simulations: number;
  mode: SearchMode;
  chance: ChanceSelection;
  /** Discount of the transitions whose model step returns no discount of its own. */
  discount: number;
  pb_c_init: number;
  pb_c_base: number;
  dirichlet_alpha: number;
  /** Share of Dirichlet noise in the root priors (PUCT); 0 disables it. */
  exploration_fraction: number;
  value_fill: ValueFill;
  fill_value: number;
  /** Min-max normalise the PUCT value term over the tree. */
  normalize: boolean;
  gumbel_max_considered: number;
  /** Scale of the root Gumbel noise (0 = deterministic, for evaluation). */
  gumbel_scale: number;
  gumbel_c_visit: number;
  gumbel_c_scale: number;
  /** Least range (value units) the completed Qs are rescaled over (0: their own min-max, mctx). */
  gumbel_min_q_range: number;
  /** Threads over trees (0 = all cores). Results do not depend on it. */
  threads: number;
}

/** The configuration as the text `swt_mcts_new` parses. Absent (undefined) fields are left out, so
 * the library reports them missing; any other key goes through, so it reports unknown ones. */
function configText(config: MctsConfig): Buffer {
  const entries: string[] = [];
  for (const [name, value] of Object.entries(config) as Array<[string, unknown]>) {
    if (value === undefined) continue;
    if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string') {
      throw new TypeError(`MctsBatch: config.${name} must be a number, boolean or string, got ${typeof value}`);
    }
    const text = String(value); // numbers print shortest round-trip, so the library reads them exactly
    if (/[;=]/.test(name) || /[;=]/.test(text)) {
      throw new TypeError(`MctsBatch: config.${name} = ${JSON.stringify(text)}: names and values may not contain ';' or '='`);
    }
    entries.push(`${name}=${text}`);
  }
  return Buffer.from(entries.join(';'), 'utf8');
}

type Ptr = unknown;
interface Fns {
  create: (cfg: Buffer, len: number, out: Ptr[]) => number;
  free: (h: Ptr) => number;
  prepare: (
    h: Ptr,
    n: number,
    simulations: number,
    priors: Float64Array,
    priorsLen: number,
    logits: number,
    rootValues: Float64Array,
    rootValuesLen: number,
    legal: Uint8Array,
    legalLen: number,
    seed: number,
    treeIds: Float64Array,
    treeIdsLen: number,
  ) => number;
  traverse: (h: Ptr, p: Int32Array, pl: number, e: Int32Array, el: number, c: Uint8Array, cl: number) => number;
  backpropagate: (
    h: Ptr,
    v: Float64Array,
    vl: number,
    r: Float64Array,
    rl: number,
    d: Float64Array,
    dl: number,
    ap: Float64Array,
    apl: number,
    cp: Float64Array,
    cpl: number,
    logits: number,
  ) => number;
  rootVisits: (h: Ptr, out: Int32Array, len: number) => number;
  rootValues: (h: Ptr, out: Float64Array, len: number) => number;
  rootQ: (h: Ptr, out: Float64Array, len: number) => number;
  rootChanceVisits: (h: Ptr, action: number, out: Int32Array, len: number) => number;
  improvedPolicy: (h: Ptr, t: number, out: Float64Array, len: number) => number;
  selectAction: (h: Ptr, t: number, out: Int32Array, len: number) => number;
  info: (h: Ptr, out: Int32Array, len: number) => number;
  transform: (x: Float64Array, n: number, inverse: number, out: Float64Array) => number;
  encode: (x: Float64Array, n: number, lo: number, hi: number, bins: number, applyH: number, out: Float64Array, outLen: number) => number;
  decode: (p: Float64Array, pLen: number, lo: number, hi: number, bins: number, applyH: number, out: Float64Array, n: number) => number;
}

let fns: Fns | null = null;
function native(): Fns {
  if (fns) return fns;
  fns = {
    create: declare('int swt_mcts_new(const uint8_t *config, size_t config_len, _Out_ void **out)'),
    free: declare('int swt_mcts_free(void *h)'),
    prepare: declare(
      'int swt_mcts_prepare(void *h, size_t n_trees, size_t simulations, const double *priors, size_t priors_len, int priors_are_logits, ' +
        'const double *root_values, size_t root_values_len, const uint8_t *legal, size_t legal_len, double seed, ' +
        'const double *tree_ids, size_t tree_ids_len)',
    ),
    traverse: declare(
      'int swt_mcts_traverse(void *h, int32_t *parent_index, size_t parent_len, int32_t *edge, size_t edge_len, ' +
        'uint8_t *is_chance, size_t is_chance_len)',
    ),
    backpropagate: declare(
      'int swt_mcts_backpropagate(void *h, const double *values, size_t values_len, const double *rewards, size_t rewards_len, ' +
        'const double *discounts, size_t discounts_len, ' +
        'const double *action_priors, size_t action_priors_len, const double *code_priors, size_t code_priors_len, int priors_are_logits)',
    ),
    rootVisits: declare('int swt_mcts_root_visits(void *h, int32_t *out, size_t len)'),
    rootValues: declare('int swt_mcts_root_values(void *h, double *out, size_t len)'),
    rootQ: declare('int swt_mcts_root_q(void *h, double *out, size_t len)'),
    rootChanceVisits: declare('int swt_mcts_root_chance_visits(void *h, int action, int32_t *out, size_t len)'),
    improvedPolicy: declare('int swt_mcts_improved_policy(void *h, double temperature, double *out, size_t len)'),
    selectAction: declare('int swt_mcts_select_action(void *h, double temperature, int32_t *out, size_t len)'),
    info: declare('int swt_mcts_info(void *h, int32_t *out, size_t len)'),
    transform: declare('int swt_value_transform(const double *x, size_t n, int inverse, double *out)'),
    encode: declare(
      'int swt_twohot_encode(const double *x, size_t n, double lo, double hi, size_t bins, int apply_h, double *out, size_t out_len)',
    ),
    decode: declare(
      'int swt_twohot_decode(const double *probs, size_t probs_len, double lo, double hi, size_t bins, int apply_h, double *out, size_t n)',
    ),
  };
  return fns;
}

function f64(x: ArrayLike<number>): Float64Array {
  return x instanceof Float64Array ? x : Float64Array.from(x);
}

function u8(x: ArrayLike<number | boolean>): Uint8Array {
  if (x instanceof Uint8Array) return x;
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] ? 1 : 0;
  return out;
}

export interface PrepareInput {
  /** [n, A] root priors: logits (default) or probabilities. */
  priors: ArrayLike<number>;
  priorsAreLogits?: boolean;
  /** [n] the network's value of each root; n = its length. */
  rootValues: ArrayLike<number>;
  /** [n, A] nonzero = legal. Default: every action legal. */
  legal?: ArrayLike<number | boolean>;
  /** Integer in [0, 2^53). */
  seed: number;
  /** Simulations this search will run (default max_simulations); Gumbel's halving plans over it. */
  simulations?: number;
  /** [n] integer ids; tree i draws its random numbers from (seed, treeIds[i]). Default 0..n-1. */
  treeIds?: ArrayLike<number>;
}

export interface TraverseResult {
  /** [n] node index of the leaf's parent = index of its latent in the search's latent store. */
  parentIndex: Int32Array;
  /** [n] the action (leaf is an afterstate) or chance code (leaf is a decision node) leading to the leaf. */
  edge: Int32Array;
  /** [n] 1 when the leaf is a chance node (afterstate): evaluate with recurrentDecision. */
  isChance: Uint8Array;
}

export interface BackpropagateInput {
  /** [n] value of each leaf (afterstate value for chance leaves). */
  values: Float64Array;
  /** [n] reward into each decision leaf (ignored for chance leaves). */
  rewards: Float64Array;
  /** [n] discount of the transition into each decision leaf: gamma normally, 0 when it ends the
   * episode (ignored for chance leaves). Absent: the configured discount for every transition. */
  discounts?: Float64Array;
  /** [n, A] action priors of decision leaves (rows of chance leaves are ignored). */
  actionPriors: Float64Array;
  /** [n, C] code priors sigma of chance leaves (rows of decision leaves are ignored). */
  codePriors: Float64Array;
  priorsAreLogits?: boolean;
}

export interface MctsInfo {
  activeTrees: number;
  simulations: number;
  state: 'empty' | 'ready' | 'pending';
  maxTrees: number;
  numActions: number;
  numCodes: number;
  maxSimulations: number;
}

/** Length 0: the library then applies the configured discount to every transition. */
const NO_DISCOUNTS = new Float64Array(0);

const registry = new FinalizationRegistry<{ handle: Ptr }>((held) => {
  // Safety net only: a batch dropped without free() is released when collected.
  if (held.handle !== null) native().free(held.handle);
});

/** A batch of native search trees. Call `free()` when done (a finalizer frees forgotten ones). */
export class MctsBatch {
  readonly config: Readonly<MctsConfig>;
  private readonly held: { handle: Ptr };
  private active = 0;
  private readonly parentBuf: Int32Array;
  private readonly edgeBuf: Int32Array;
  private readonly chanceBuf: Uint8Array;
  private views: TraverseResult;

  constructor(config: MctsConfig) {
    this.config = Object.freeze({ ...config });
    const text = configText(this.config);
    const out: Ptr[] = [null];
    check(native().create(text, text.length, out), 'swt_mcts_new');
    this.held = { handle: out[0] };
    registry.register(this, this.held, this);
    // The library has checked the shape fields by now.
    const m = this.config.max_trees;
    this.parentBuf = new Int32Array(m);
    this.edgeBuf = new Int32Array(m);
    this.chanceBuf = new Uint8Array(m);
    this.views = { parentIndex: this.parentBuf.subarray(0, 0), edge: this.edgeBuf.subarray(0, 0), isChance: this.chanceBuf.subarray(0, 0) };
  }

  private get h(): Ptr {
    if (this.held.handle === null) throw new Error('MctsBatch: used after free()');
    return this.held.handle;
  }

  /** Number of trees of the current search. */
  get size(): number {
    return this.active;
  }

  /** Releases the native trees; the batch is unusable afterwards. Safe to call twice. */
  free(): void {
    if (this.held.handle === null) return;
    const h = this.held.handle;
    this.held.handle = null;
    registry.unregister(this);
    native().free(h);
  }

  /** Starts a search: one root per entry of `rootValues`. */
  prepare(input: PrepareInput): void {
    const n = input.rootValues.length;
    const a = this.config.num_actions;
    const legal = input.legal ? u8(input.legal) : new Uint8Array(n * a).fill(1);
    const ids = input.treeIds ? f64(input.treeIds) : Float64Array.from({ length: n }, (_, i) => i);
    const priors = f64(input.priors);
    const roots = f64(input.rootValues);
    const sims = input.simulations ?? this.config.max_simulations;
    if (!(Number.isInteger(sims) && sims >= 0)) throw new Error(`MctsBatch.prepare: simulations must be an integer >= 0, got ${sims}`);
    check(
      native().prepare(this.h, n, sims, priors, priors.length, input.priorsAreLogits === false ? 0 : 1, roots, roots.length, legal, legal.length, input.seed, ids, ids.length),
      'swt_mcts_prepare',
    );
    this.active = n;
  }

  /** One selection step in every tree. The returned arrays are views reused by the next call. */
  traverse(): TraverseResult {
    const n = this.active;
    if (this.views.parentIndex.length !== n) {
      this.views = { parentIndex: this.parentBuf.subarray(0, n), edge: this.edgeBuf.subarray(0, n), isChance: this.chanceBuf.subarray(0, n) };
    }
    const { parentIndex, edge, isChance } = this.views;
    check(native().traverse(this.h, parentIndex, n, edge, n, isChance, n), 'swt_mcts_traverse');
    return this.views;
  }

  /** Expands the leaves of the last traverse with their evaluations (same tree order) and backs up. */
  backpropagate(input: BackpropagateInput): void {
    const { values, rewards, actionPriors, codePriors } = input;
    const discounts = input.discounts ?? NO_DISCOUNTS;
    check(
      native().backpropagate(
        this.h,
        values,
        values.length,
        rewards,
        rewards.length,
        discounts,
        discounts.length,
        actionPriors,
        actionPriors.length,
        codePriors,
        codePriors.length,
        input.priorsAreLogits === false ? 0 : 1,
      ),
      'swt_mcts_backpropagate',
    );
  }

  /** [n, A] visit counts of the root actions. */
  rootVisits(): Int32Array {
    const out = new Int32Array(this.active * this.config.num_actions);
    check(native().rootVisits(this.h, out, out.length), 'swt_mcts_root_visits');
    return out;
  }

  /** [n] mean value of each root (its own network value counts as one visit). */
  rootValues(): Float64Array {
    const out = new Float64Array(this.active);
    check(native().rootValues(this.h, out, out.length), 'swt_mcts_root_values');
    return out;
  }

  /** [n, A] Q(root, a); NaN for actions never expanded. */
  rootQ(): Float64Array {
    const out = new Float64Array(this.active * this.config.num_actions);
    check(native().rootQ(this.h, out, out.length), 'swt_mcts_root_q');
    return out;
  }

  /** [n, C] visits of each chance code below the root's afterstate for `action`. */
  rootChanceVisits(action: number): Int32Array {
    const out = new Int32Array(this.active * this.config.num_codes);
    check(native().rootChanceVisits(this.h, action, out, out.length), 'swt_mcts_root_chance_visits');
    return out;
  }

  /** [n, A] policy target: visits^(1/T) (PUCT; T = 0 one-hot) or the Gumbel completed-Q target. */
  improvedPolicy(temperature = 1): Float64Array {
    const out = new Float64Array(this.active * this.config.num_actions);
    check(native().improvedPolicy(this.h, temperature, out, out.length), 'swt_mcts_improved_policy');
    return out;
  }

  /** [n] action per tree: PUCT samples visits^(1/T) with the tree's seeded stream (T = 0: most
   * visited); Gumbel returns the sequential-halving winner. */
  selectAction(temperature = 1): Int32Array {
    const out = new Int32Array(this.active);
    check(native().selectAction(this.h, temperature, out, out.length), 'swt_mcts_select_action');
    return out;
  }

  info(): MctsInfo {
    const out = new Int32Array(7);
    check(native().info(this.h, out, out.length), 'swt_mcts_info');
    return {
      activeTrees: out[0],
      simulations: out[1],
      state: (['empty', 'ready', 'pending'] as const)[out[2]],
      maxTrees: out[3],
      numActions: out[4],
      numCodes: out[5],
      maxSimulations: out[6],
    };
  }
}

// ---- value / reward support (MuZero appendix F), shared by training and search -------------------

/** `bins` points from `lo` to `hi` on the h-transformed scale: the `mcts.support` config section
 * (config/default.yaml holds MuZero's 601 points from -300 to 300). */
export interface SupportSpec {
  lo: number;
  hi: number;
  bins: number;
}

/** h(x) = sign(x)(sqrt(|x|+1)-1) + 0.001x, element-wise. */
export function valueTransform(x: ArrayLike<number>): Float64Array {
  const xs = f64(x);
  const out = new Float64Array(xs.length);
  check(native().transform(xs, xs.length, 0, out), 'swt_value_transform');
  return out;
}

/** The inverse of h, element-wise. */
export function valueTransformInverse(y: ArrayLike<number>): Float64Array {
  const ys = f64(y);
  const out = new Float64Array(ys.length);
  check(native().transform(ys, ys.length, 1, out), 'swt_value_transform');
  return out;
}

/** [n, bins] two-hot targets of n scalars; with `applyH` (default true) the scalars are h-transformed first. */
export function twoHotEncode(x: ArrayLike<number>, support: SupportSpec, applyH = true): Float64Array {
  const xs = f64(x);
  const out = new Float64Array(xs.length * support.bins);
  check(native().encode(xs, xs.length, support.lo, support.hi, support.bins, applyH ? 1 : 0, out, out.length), 'swt_twohot_encode');
  return out;
}

/** Scalars from [n, bins] probabilities: the expectation over the support, then h^-1 with `applyH`. */
export function twoHotDecode(probs: ArrayLike<number>, support: SupportSpec, applyH = true): Float64Array {
  const ps = f64(probs);
  const n = Math.floor(ps.length / support.bins);
  const out = new Float64Array(n);
  check(native().decode(ps, ps.length, support.lo, support.hi, support.bins, applyH ? 1 : 0, out, n), 'swt_twohot_decode');
  return out;
}
