import { describe, it, expect } from 'vitest';
import { MctsBatch, type MctsConfig, valueTransform, valueTransformInverse, twoHotEncode, twoHotDecode } from '../bindings/mcts.js';
import { NativeError, STATUS } from '../bindings/native.js';
import { configSchema } from '../src/config/schema.js';
import { Searcher, mctsConfigFromConfig, type SearchOptions, type SearchResult } from '../src/agent/search.js';
import { tabularModel, randomMdp, type TabularMdp } from './helpers/tabular.js';
import { batchConfig, defaultMcts, mctsSection, type MctsOverrides } from './helpers/mcts.js';

const T = 9999; // absorbing terminal state: every action gives reward 0 and leads back to T

/**
 * Deterministic chain (one chance code with probability 1). From the root (state 0):
 *   action 0: +1 now, then nothing                       -> return 1   (greedy)
 *   action 1: 0, then action 1: 0, then action 1: +3       -> return 3   (needs 3 steps of look-ahead)
 *   action 2: 0, then anything: +0.5                       -> return 0.5
 * Leaf values are 0, so only look-ahead reveals the +3.
 */
const chain: TabularMdp = {
  numActions: 3,
  numCodes: 1,
  afterstate: (s, a) => s * 3 + a,
  sigma: () => [1],
  outcome: (x) => {
    const s = Math.floor(x / 3);
    const a = x % 3;
    if (s === 0) return a === 0 ? { next: T, reward: 1 } : a === 1 ? { next: 1, reward: 0 } : { next: 3, reward: 0 };
    if (s === 1) return a === 1 ? { next: 2, reward: 0 } : { next: T, reward: 0 };
    if (s === 2) return a === 1 ? { next: T, reward: 3 } : { next: T, reward: 0 };
    if (s === 3) return { next: T, reward: 0.5 };
    return { next: T, reward: 0 };
  },
};
const misleading: TabularMdp = { ...chain, prior: (s) => (s === 0 ? [0.8, 0.1, 0.1] : [1 / 3, 1 / 3, 1 / 3]) };

/**
 * Two chance steps. Root action 0 reaches an afterstate with codes of probability [0.5, 0.3, 0.2]
 * and rewards [10, 4, -2] into states 10 + c; there, either action reaches an afterstate with codes
 * [0.25, 0.5, 0.25] and rewards [c + 1, 0, -c], then the terminal. Root action 1: codes [0.6, 0.4, 0]
 * with rewards [3, 5, 0] into the terminal. With discount 0.9:
 *   Q(root, 0) = 0.5*10 + 0.3*4 + 0.2*(-2) + 0.9 * 0.25 = 6.025,   Q(root, 1) = 3.8.
 */
const SIGMA_ROOT = [0.5, 0.3, 0.2];
const stochastic: TabularMdp = {
  numActions: 2,
  numCodes: 3,
  afterstate: (s, a) => s * 2 + a,
  sigma: (x) => {
    const s = Math.floor(x / 2);
    if (s === 0) return x % 2 === 0 ? SIGMA_ROOT : [0.6, 0.4, 0];
    if (s >= 10 && s < 13) return [0.25, 0.5, 0.25];
    return [1, 0, 0];
  },
  outcome: (x, c) => {
    const s = Math.floor(x / 2);
    if (s === 0 && x % 2 === 0) return { next: 10 + c, reward: [10, 4, -2][c] };
    if (s === 0) return { next: T, reward: [3, 5, 0][c] };
    if (s >= 10 && s < 13) return { next: T, reward: [s - 10 + 1, 0, -(s - 10)][c] };
    return { next: T, reward: 0 };
  },
};
const Q_STOCHASTIC = [6.025, 3.8];

async function runSearch(
  mdp: TabularMdp,
  roots: number[],
  config: MctsOverrides & { simulations: number },
  options: SearchOptions,
): Promise<SearchResult & { searcher: Searcher<ArrayLike<number>> }> {
  const searcher = new Searcher(tabularModel(mdp), mctsSection(config), roots.length);
  const result = await searcher.search(roots, roots.length, options);
  return { ...result, searcher };
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

describe('MCTS on a deterministic MDP whose best first action needs three steps of look-ahead', () => {
  // With zero leaf values and uniform priors inside the tree, the +3 is seen only once the subtree of
  // action 1 holds about 20 visits (three levels of three actions), so PUCT needs thousands of
  // simulations to find it: the test MDP is hard on purpose, it cannot be solved greedily.
  it('PUCT finds the delayed +3 over the greedy +1 with enough simulations', async () => {
    const few = await runSearch(chain, [0], { mode: 'puct', simulations: 500, discount: 1, exploration_fraction: 0 }, { seed: 1, temperature: 0 });
    expect(few.actions[0]).toBe(0);
    few.searcher.free();
    const r = await runSearch(chain, [0], { mode: 'puct', simulations: 8000, discount: 1, exploration_fraction: 0 }, { seed: 1, temperature: 0 });
    expect(argmax(r.visits)).toBe(1);
    expect(r.actions[0]).toBe(1);
    // Q(root, 1) approaches the true 3 (early visits backed up zeros before the +3 was found).
    expect(r.rootQ[1]).toBeGreaterThan(2.5);
    expect(r.rootQ[0]).toBeCloseTo(1, 2);
    r.searcher.free();
  });

  it('with a misleading prior (0.8 on the greedy action), visit counts move to the best action', async () => {
    for (const seed of [1, 2, 3]) {
      const early = await runSearch(misleading, [0], { mode: 'puct', simulations: 1000, discount: 1 }, { seed, temperature: 0 });
      expect(argmax(early.visits)).toBe(0);
      expect(early.visits[1] / 1000).toBeLessThan(0.05);
      early.searcher.free();
      const late = await runSearch(misleading, [0], { mode: 'puct', simulations: 64000, discount: 1 }, { seed, temperature: 0 });
      expect(argmax(late.visits)).toBe(1);
      expect(late.visits[1] / 64000).toBeGreaterThan(0.3);
      expect(late.actions[0]).toBe(1);
      late.searcher.free();
    }
  });

  it('Gumbel mode finds it with the misleading prior at 200 simulations, whatever the Gumbel draw', async () => {
    const roots = new Array<number>(16).fill(0);
    const r = await runSearch(misleading, roots, { simulations: 200, discount: 1, mode: 'gumbel' }, { seed: 5 });
    for (let i = 0; i < 16; i++) {
      expect(r.actions[i]).toBe(1);
      expect(argmax(r.policy.subarray(i * 3, i * 3 + 3))).toBe(1);
    }
    r.searcher.free();
  });
});

describe('MCTS on a stochastic MDP with chance codes of known probabilities', () => {
  it('the root value converges to the true expectation within 1% (deterministic chance selection)', async () => {
    const r = await runSearch(
      stochastic,
      [0],
      { mode: 'puct', simulations: 2000, discount: 0.9, chance: 'deterministic' },
      { seed: 1, legal: [1, 0] },
    );
    expect(Math.abs(r.rootValues[0] - Q_STOCHASTIC[0]) / Q_STOCHASTIC[0]).toBeLessThan(0.01);
    // Chance-node visits follow sigma to within one visit.
    const v = r.searcher.batch.rootChanceVisits(0);
    const total = v[0] + v[1] + v[2];
    for (let c = 0; c < 3; c++) expect(Math.abs(v[c] / total - SIGMA_ROOT[c])).toBeLessThanOrEqual(1 / total + 1e-12);
    r.searcher.free();
  });

  it('Q of each root action converges to its expectation with both actions legal', async () => {
    const r = await runSearch(stochastic, [0], { mode: 'puct', simulations: 3000, discount: 0.9 }, { seed: 2, temperature: 0 });
    expect(Math.abs(r.rootQ[0] - Q_STOCHASTIC[0]) / Q_STOCHASTIC[0]).toBeLessThan(0.01);
    expect(Math.abs(r.rootQ[1] - Q_STOCHASTIC[1]) / Q_STOCHASTIC[1]).toBeLessThan(0.02);
    expect(r.actions[0]).toBe(0);
    r.searcher.free();
  });

  it('with sampled chance codes, visit shares follow sigma and the root value converges within 1%', async () => {
    const n = 16;
    const sims = 3000;
    const r = await runSearch(
      stochastic,
      new Array(n).fill(0),
      { mode: 'puct', simulations: sims, discount: 0.9, chance: 'sample' },
      { seed: 11, legal: new Array(n).fill([1, 0]).flat() },
    );
    const mean = r.rootValues.reduce((p, q) => p + q, 0) / n;
    expect(Math.abs(mean - Q_STOCHASTIC[0]) / Q_STOCHASTIC[0]).toBeLessThan(0.01);
    const v = r.searcher.batch.rootChanceVisits(0);
    let total = 0;
    const counts = [0, 0, 0];
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) (counts[c] += v[i * 3 + c]), (total += v[i * 3 + c]);
    for (let c = 0; c < 3; c++) {
      const se = Math.sqrt((SIGMA_ROOT[c] * (1 - SIGMA_ROOT[c])) / total);
      expect(Math.abs(counts[c] / total - SIGMA_ROOT[c])).toBeLessThan(4 * se);
    }
    // Sampling really happened: the trees did not all visit the codes identically.
    const firstRow = Array.from(v.subarray(0, 3)).join();
    expect(Array.from({ length: n }, (_, i) => Array.from(v.subarray(i * 3, i * 3 + 3)).join()).some((s) => s !== firstRow)).toBe(true);
    r.searcher.free();
  });
});

describe('legal actions at the root', () => {
  const mdp = randomMdp(6, 4);
  const n = 48;
  const roots = Array.from({ length: n }, (_, i) => (i * 37) % 500);
  // Random masks with 1 to 6 legal actions; tree i has at least action (i % 6) legal.
  const legal = Array.from({ length: n * 6 }, (_, k) => (k % 6 === Math.floor(k / 6) % 6 || (k * 2654435761) % 7 < 3 ? 1 : 0));

  for (const mode of ['puct', 'gumbel'] as const) {
    it(`${mode}: illegal actions get no visits, no policy mass and are never chosen, even under strong noise`, async () => {
      for (const seed of [1, 2, 3]) {
        const r = await runSearch(
          mdp,
          roots,
          { simulations: 60, mode, chance: 'sample', dirichlet_alpha: 0.3, exploration_fraction: 0.9, gumbel: { scale: 3 } },
          { seed, legal, temperature: 1 },
        );
        for (let k = 0; k < n * 6; k++) {
          if (legal[k]) continue;
          expect(r.visits[k]).toBe(0);
          expect(r.policy[k]).toBe(0);
        }
        for (let i = 0; i < n; i++) {
          expect(legal[i * 6 + r.actions[i]]).toBe(1);
          const row = Array.from(r.visits.subarray(i * 6, i * 6 + 6));
          expect(row.reduce((p, q) => p + q, 0)).toBe(60);
          expect(Array.from(r.policy.subarray(i * 6, i * 6 + 6)).reduce((p, q) => p + q, 0)).toBeCloseTo(1, 12);
        }
        r.searcher.free();
      }
    });

    it(`${mode}: a single legal action is always returned and gets every visit`, async () => {
      const only = roots.map((_, i) => (i * 5) % 6);
      const mask = Array.from({ length: n * 6 }, (_, k) => (k % 6 === only[Math.floor(k / 6)] ? 1 : 0));
      for (const temperature of [0, 1, 5]) {
        const r = await runSearch(mdp, roots, { simulations: 20, mode, chance: 'sample', exploration_fraction: 0.5 }, { seed: 4, legal: mask, temperature });
        for (let i = 0; i < n; i++) {
          expect(r.actions[i]).toBe(only[i]);
          expect(r.visits[i * 6 + only[i]]).toBe(20);
          expect(r.policy[i * 6 + only[i]]).toBe(1);
        }
        r.searcher.free();
      }
    });
  }
});

describe('reproducibility', () => {
  const mdp = randomMdp(4, 5);
  const n = 150; // more than one parallel chunk of 64 trees
  const roots = Array.from({ length: n }, (_, i) => (i * 13) % 500);
  const ids = Array.from({ length: n }, (_, i) => 1000 + i);

  async function results(mode: 'puct' | 'gumbel', threads: number, pick: number[]) {
    const r = await runSearch(
      mdp,
      pick.map((i) => roots[i]),
      { simulations: 30, mode, chance: 'sample', threads },
      { seed: 77, treeIds: pick.map((i) => ids[i]), temperature: 1 },
    );
    const out = pick.map((_, k) => ({
      visits: Array.from(r.visits.subarray(k * 4, k * 4 + 4)),
      action: r.actions[k],
      value: r.rootValues[k],
    }));
    r.searcher.free();
    return out;
  }

  for (const mode of ['puct', 'gumbel'] as const) {
    it(`${mode}: same seed and tree ids give identical visits and actions for any thread count and batch composition`, async () => {
      const all = Array.from({ length: n }, (_, i) => i);
      const base = await results(mode, 1, all);
      expect(await results(mode, 2, all)).toEqual(base);
      expect(await results(mode, 0, all)).toEqual(base);
      expect(await results(mode, 3, all)).toEqual(base);
      // The same trees inside a different batch, in another order, with threads.
      const pick = [149, 3, 77, 0, 64, 65, 128];
      const sub = await results(mode, 2, pick);
      pick.forEach((i, k) => expect(sub[k]).toEqual(base[i]));
      // Alone.
      expect((await results(mode, 1, [42]))[0]).toEqual(base[42]);
      // The outcome is random: the sampled actions are not all the same.
      expect(new Set(base.map((b) => b.action)).size).toBeGreaterThan(1);
    });
  }

  it('another seed gives different searches', async () => {
    const a = await runSearch(mdp, roots, { mode: 'puct', simulations: 30, chance: 'sample' }, { seed: 1, treeIds: ids });
    const b = await runSearch(mdp, roots, { mode: 'puct', simulations: 30, chance: 'sample' }, { seed: 2, treeIds: ids });
    expect(Array.from(a.visits)).not.toEqual(Array.from(b.visits));
    a.searcher.free();
    b.searcher.free();
  });
});

describe('bad inputs give clear errors, never a crash', () => {
  const config: MctsConfig = batchConfig({ max_trees: 2, num_actions: 3, num_codes: 2 }, { mode: 'puct', simulations: 2 });
  const ok = { priors: [0, 0, 0, 0, 0, 0], rootValues: [0, 0], legal: [1, 1, 1, 1, 0, 1], seed: 1 };

  function expectNative(f: () => unknown, status: number, message: RegExp): void {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(NativeError);
      expect((e as NativeError).status).toBe(status);
      expect((e as Error).message).toMatch(message);
      return;
    }
    expect.unreachable('expected a NativeError');
  }

  it('rejects NaN priors, empty legal masks and wrong array lengths, naming the input', () => {
    const b = new MctsBatch(config);
    expectNative(() => b.prepare({ ...ok, priors: [0, 0, 0, 0, NaN, 0] }), STATUS.INVALID, /priors\[1\]\[1\].*NaN/);
    expectNative(() => b.prepare({ ...ok, legal: [1, 1, 1, 0, 0, 0] }), STATUS.INVALID, /tree 1 has an empty legal mask/);
    expectNative(() => b.prepare({ ...ok, priors: [0, 0, 0, 0, 0] }), STATUS.INVALID, /priors: expected 6 values \(n_trees x num_actions\), got 5/);
    expectNative(() => b.prepare({ ...ok, legal: [1, 1, 1] }), STATUS.INVALID, /legal: expected 6 values/);
    expectNative(() => b.prepare({ ...ok, rootValues: [0, 0, 0], priors: new Array(9).fill(0) }), STATUS.INVALID, /n_trees: expected 1..=2/);
    expectNative(() => b.prepare({ ...ok, priorsAreLogits: false, priors: [1, 0, -1, 1, 1, 1] }), STATUS.INVALID, /priors\[0\]\[2\].*>= 0/);
    expectNative(() => b.prepare({ ...ok, seed: -1 }), STATUS.INVALID, /seed: expected an integer/);
    b.prepare(ok);
    b.traverse();
    const z = new Float64Array(2);
    expectNative(
      () => b.backpropagate({ values: new Float64Array([0, NaN]), rewards: z, actionPriors: new Float64Array(6), codePriors: new Float64Array(4) }),
      STATUS.INVALID,
      /values\[1\]/,
    );
    expectNative(
      () => b.backpropagate({ values: z, rewards: z, actionPriors: new Float64Array(6), codePriors: new Float64Array(3) }),
      STATUS.INVALID,
      /code_priors: expected 4 values/,
    );
    expectNative(
      () => b.backpropagate({ values: z, rewards: z, actionPriors: new Float64Array(6), codePriors: new Float64Array([0, NaN, 0, 0]) }),
      STATUS.INVALID,
      /code_priors\[0\]\[1\].*NaN/,
    );
    // The rejected calls changed nothing: the leaves are still pending and a good call goes through.
    expect(b.info()).toMatchObject({ state: 'pending', simulations: 0 });
    b.backpropagate({ values: z, rewards: z, actionPriors: new Float64Array(6), codePriors: new Float64Array(4) });
    expect(b.info()).toMatchObject({ state: 'ready', simulations: 1, activeTrees: 2 });
    b.free();
  });

  it('rejects calls out of order', () => {
    const b = new MctsBatch(config);
    const z = new Float64Array(2);
    const leaves = { values: z, rewards: z, actionPriors: new Float64Array(6), codePriors: new Float64Array(4) };
    expectNative(() => b.traverse(), STATUS.STATE, /no search started \(call prepare first\)/);
    expectNative(() => b.rootVisits(), STATUS.STATE, /call prepare first/);
    b.prepare(ok);
    expectNative(() => b.backpropagate(leaves), STATUS.STATE, /call traverse before backpropagate/);
    b.traverse();
    expectNative(() => b.traverse(), STATUS.STATE, /traverse called twice/);
    b.backpropagate(leaves);
    b.traverse();
    b.backpropagate(leaves);
    expectNative(() => b.traverse(), STATUS.STATE, /simulation budget of 2 .* is spent/);
    expect(Array.from(b.rootVisits()).reduce((p, q) => p + q, 0)).toBe(4);
    b.free();
    b.free(); // freeing twice is harmless
    expect(() => b.traverse()).toThrow(/used after free/);
  });

  it('rejects a bad configuration by field name: out of range, unknown, missing', () => {
    expectNative(() => new MctsBatch({ ...config, num_actions: 0 }), STATUS.INVALID, /config\.num_actions: expected an integer in \[1, 65536\], got 0/);
    expectNative(() => new MctsBatch({ ...config, discount: 2 }), STATUS.INVALID, /config\.discount: expected a finite number in \[0, 1\], got 2/);
    expectNative(() => new MctsBatch({ ...config, discount: NaN }), STATUS.INVALID, /config\.discount/);
    expectNative(() => new MctsBatch({ ...config, max_simulations: 1.5 }), STATUS.INVALID, /config\.max_simulations/);
    expectNative(() => new MctsBatch({ ...config, mode: 'alphazero' as 'puct' }), STATUS.INVALID, /config\.mode: expected one of puct, gumbel, got `alphazero`/);
    // A key of the YAML section that is not a native field (the batch's is max_simulations).
    expectNative(() => new MctsBatch({ ...config, simulations: 2 } as MctsConfig), STATUS.INVALID, /unknown field `simulations`/);
    const { discount: _d, gumbel_c_scale: _g, ...incomplete } = config;
    expectNative(() => new MctsBatch(incomplete as MctsConfig), STATUS.INVALID, /missing field\(s\) discount, gumbel_c_scale \(.*none has a default\)/);
    expectNative(() => new MctsBatch({ ...config, threads: undefined } as unknown as MctsConfig), STATUS.INVALID, /missing field\(s\) threads/);
    expect(() => new MctsBatch({ ...config, mode: 'puct;threads=2' as 'puct' })).toThrow(/config\.mode .* may not contain ';' or '='/);
  });

  it('a model that returns NaN or the wrong shape fails the search with a clear error', async () => {
    const bad = tabularModel({ ...stochastic, afterValue: () => NaN });
    const s = new Searcher(bad, mctsSection({ simulations: 4 }), 1);
    await expect(s.search([0], 1, { seed: 1 })).rejects.toThrow(/values\[0\]: expected a finite number, got NaN/);
    s.free();
    const short = tabularModel(stochastic);
    short.recurrentDecision = (l, a) => ({ afterstates: new Float32Array(l.length), values: new Float64Array(a.length), chancePolicy: [0.5] });
    const s2 = new Searcher(short, mctsSection({ simulations: 4 }), 1);
    await expect(s2.search([0], 1, { seed: 1 })).rejects.toThrow(/recurrentDecision\(\).chancePolicy has 1 values, expected 3/);
    s2.free();
    const discounts = tabularModel(stochastic);
    const chance = discounts.recurrentChance.bind(discounts);
    discounts.recurrentChance = (x, c) => ({ ...chance(x, c), discounts: [0.9, 0.9] });
    const s3 = new Searcher(discounts, mctsSection({ simulations: 4 }), 1);
    await expect(s3.search([0], 1, { seed: 1 })).rejects.toThrow(/recurrentChance\(\).discounts has 2 values, expected 1/);
    s3.free();
    const beyond = tabularModel({ ...stochastic, discount: () => 1.5 });
    const s4 = new Searcher(beyond, mctsSection({ simulations: 4 }), 1);
    await expect(s4.search([0], 1, { seed: 1 })).rejects.toThrow(/discounts\[0\]: expected a number in \[0, 1\]/);
    s4.free();
  });

  it('a Searcher refuses a second search while one is running (they would share trees and latents)', async () => {
    const s = new Searcher(tabularModel(stochastic), mctsSection({ simulations: 50 }), 1);
    const first = s.search([0], 1, { seed: 1 });
    await expect(s.search([0], 1, { seed: 2 })).rejects.toThrow(/already running a search/);
    expect(Array.from((await first).visits).reduce((p, q) => p + q, 0)).toBe(50);
    await expect(s.search([0], 1, { seed: 2, simulations: 51 })).rejects.toThrow(/simulations must be an integer in \[0, 50\]/);
    s.free();
  });
});

describe('value and reward support helpers (shared by training and search)', () => {
  it('h and its inverse round-trip within 1e-9', () => {
    const xs = [-1e5, -300, -3, -1e-7, 0, 1e-9, 0.5, 3, 299.9, 12345.678];
    const back = valueTransformInverse(valueTransform(xs));
    xs.forEach((x, i) => expect(Math.abs(back[i] - x) / Math.max(1, Math.abs(x))).toBeLessThan(1e-9));
    expect(valueTransform([3])[0]).toBeCloseTo(1.003, 15); // sqrt(4) - 1 + 0.003
  });

  it('two-hot encodes onto the two neighbouring support points and decodes back', () => {
    const support = { lo: -300, hi: 300, bins: 601 }; // MuZero's Atari support: 601 points from -300 to 300
    const p = twoHotEncode([2.3], support, false);
    expect(p.length).toBe(601);
    expect(p[302]).toBeCloseTo(0.7, 12);
    expect(p[303]).toBeCloseTo(0.3, 12);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const xs = [-250, -1.5, 0, 0.01, 42, 1000]; // with h applied, 1000 maps to h(1000) ~ 31.6 on the support
    const dec = twoHotDecode(twoHotEncode(xs, support), support);
    xs.forEach((x, i) => expect(dec[i]).toBeCloseTo(x, 8));
    expect(() => twoHotDecode([0.5, -0.5, 1], { lo: 0, hi: 1, bins: 3 }, false)).toThrow(/probs\[0\]\[1\]/);
    expect(() => twoHotEncode([1], { lo: 1, hi: 1, bins: 3 })).toThrow(/lo < hi/);
  });
});

describe('the mcts config section: config/default.yaml is the one place MCTS defaults live', () => {
  it('the schema has no defaults: an empty mcts section is refused field by field', () => {
    const parsed = configSchema.shape.mcts.safeParse({});
    expect(parsed.success).toBe(false);
    const missing = new Set(parsed.error!.issues.map((i) => String(i.path[0])));
    expect([...missing].sort()).toEqual(Object.keys(defaultMcts()).sort());
  });

  it('the section and a shape make a configuration the library accepts whole (it refuses any missing field)', () => {
    const section = defaultMcts();
    const b = new MctsBatch(mctsConfigFromConfig(section, { max_trees: 4, num_actions: 2, num_codes: 3 }));
    expect(b.info()).toMatchObject({ maxTrees: 4, numActions: 2, numCodes: 3, maxSimulations: section.simulations });
    b.free();
  });

  it('drives a search with the configured defaults (Gumbel, 15 simulations)', async () => {
    const searcher = new Searcher(tabularModel(stochastic), defaultMcts(), 4);
    expect(searcher.batch.config).toMatchObject({ mode: 'gumbel', max_simulations: 15, max_trees: 4 });
    const r = await searcher.search([0, 0, 0, 0], 4, { seed: 1 });
    expect(Array.from(r.visits).reduce((p, q) => p + q, 0)).toBe(4 * 15);
    // 15 simulations already rank the better action (Q 6.025 vs 3.8) first in every tree.
    for (let i = 0; i < 4; i++) expect(r.actions[i]).toBe(0);
    searcher.free();
  });
});

/**
 * An episode that ends inside the tree (one chance code, discount 0.9):
 *   root action 0: reward 1 into the terminal                                  -> Q = 1
 *   root action 1: reward 0 into state 1; there any action: reward 2 into the terminal -> Q = 0.9 * 2 = 1.8
 * The model values every afterstate and state exactly except the terminal and what lies past it,
 * which it values at 100 (a network never learns values past the end of an episode), and gives the
 * discount 0 on the transitions into the terminal. So the search's Qs are exact from the first visit,
 * unless it bootstraps past the end.
 */
const ending: TabularMdp = {
  numActions: 2,
  numCodes: 1,
  afterstate: (s, a) => s * 2 + a,
  sigma: () => [1],
  outcome: (x) => (x === 0 ? { next: T, reward: 1 } : x === 1 ? { next: 1, reward: 0 } : x < 4 ? { next: T, reward: 2 } : { next: T, reward: 0 }),
  discount: (x) => (x === 1 || x >= 4 ? 0.9 : 0),
  value: (s) => (s === 1 ? 2 : s === T ? 100 : 0),
  afterValue: (x) => (x === 0 ? 1 : x === 1 ? 1.8 : x < 4 ? 2 : 100),
};

describe('a model that ends the episode inside the tree (per-transition discounts)', () => {
  for (const mode of ['puct', 'gumbel'] as const) {
    it(`${mode}: the value past a terminal is never bootstrapped: Q and the root value are exact`, async () => {
      const n = 4;
      const sims = 60;
      const r = await runSearch(ending, new Array(n).fill(0), { mode, simulations: sims, discount: 0.9, exploration_fraction: 0 }, { seed: 3, temperature: 0 });
      for (let i = 0; i < n; i++) {
        expect(r.rootQ[2 * i]).toBe(1);
        expect(r.rootQ[2 * i + 1]).toBeCloseTo(1.8, 12);
        const [n0, n1] = [r.visits[2 * i], r.visits[2 * i + 1]];
        expect(n0 + n1).toBe(sims);
        // The root's mean: its own value (0) and every backed-up return, each exact.
        expect(r.rootValues[i]).toBeCloseTo((n0 * 1 + n1 * 1.8) / (1 + n0 + n1), 12);
        expect(r.actions[i]).toBe(1);
      }
      r.searcher.free();
    });
  }

  it('without the model discounts the configured discount applies everywhere, and the terminal value 100 leaks in', async () => {
    const { discount: _, ...noDiscounts } = ending;
    const r = await runSearch(noDiscounts, [0], { mode: 'puct', simulations: 60, discount: 0.9, exploration_fraction: 0 }, { seed: 3, temperature: 0 });
    expect(r.rootQ[0]).toBeGreaterThan(10);
    expect(r.actions[0]).toBe(0);
    r.searcher.free();
  });
});
