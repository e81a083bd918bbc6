// The network on real observations: the 2016 GBP/JPY data imported, indexed and featurised with the
// CLI, observed through the env. ONNX Runtime and tfjs agree on every output, and the search over
// either chooses the same action on (almost) every decision of a sample of sessions.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import path from 'node:path';
import { initTfjs } from '../src/agent/network/backend.js';
import { GRAPH_NAMES, initWeights, networkSpec, type NetworkSpec } from '../src/agent/network/spec.js';
import { buildOnnxGraphs } from '../src/agent/network/onnx.js';
import { OnnxModel, TfjsModel, type Feeds } from '../src/agent/network/model.js';
import { MuZeroActor, decisionId } from '../src/agent/muzero/actor.js';
import { CheckpointError, muzeroNetwork } from '../src/agent/checkpoints/checkpoint.js';
import { openCheckpoint } from '../src/agent/checkpoints/registry.js';
import { loadMarket, type Market } from '../src/env/market.js';
import { envConfigFromConfig } from '../src/env/config.js';
import { TradingEnv } from '../src/env/env.js';
import { loadFeatures } from '../src/features/store.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { Store } from '../src/store/db.js';
import { HAS_SHARED, SHARED, swt, tempDir } from './helpers/paths.js';

const SESSIONS = 16; // sampled sessions of the 2016 data (359 decisions each)
const TFJS_EVERY = 4; // the tfjs search runs on every 4th step of them

describe.skipIf(!HAS_SHARED)('the network on the real 2016 GBP/JPY data', () => {
  const t = tempDir('swt-model-real-');
  const db = path.join(t.dir, 'real.duckdb');
  const env = { SWT_CHECKPOINTS__DIR: path.join(t.dir, 'checkpoints') };
  let config: Config;
  let store: Store;
  let market: Market;
  let checkpointId: string;

  beforeAll(async () => {
    const csv = path.join(SHARED, 'data', 'GBPJPY_M1_20160422_20160624.csv.gz');
    for (const args of [
      ['data', 'import', csv, '--instrument', 'GBP_JPY', '--format', 'csv'],
      ['data', 'sessions', '--instrument', 'GBP_JPY'],
      ['features', 'build', '--instrument', 'GBP_JPY'],
      ['checkpoints', 'init', '--seed', '3', '--json'],
    ]) {
      const r = await swt([...args, '--db', db], { env });
      expect(r.status, `swt ${args.join(' ')}: ${r.stderr}`).toBe(0);
      if (args[0] === 'checkpoints') checkpointId = (JSON.parse(r.stdout) as { id: string }).id;
    }
    await initTfjs();
    config = loadConfig();
    store = await Store.open(db);
    market = await loadMarket(
      store,
      { instrument: 'GBP_JPY', range: { from: null, to: null }, sessionLength: config.data.session_length, maxGap: config.data.max_gap_minutes, sessions: SESSIONS, seed: 1, stack: config.env.stack },
      async (bars) => {
        const f = await loadFeatures(store, config.features.default_set, 'GBP_JPY', bars.ts);
        return { set: f.set.name, hash: f.set.hash, matrix: { data: f.data, nFeatures: f.nFeatures }, ok: (i: number) => f.status[i] === 0 };
      },
    );
    expect(market.episodes.start.length).toBe(SESSIONS);
  });
  afterAll(() => {
    store?.close();
    t.cleanup();
  });

  function newEnv(): TradingEnv {
    const e = new TradingEnv(market.bars, market.features, envConfigFromConfig(config, 'GBP_JPY'), { batch: SESSIONS });
    for (let i = 0; i < SESSIONS; i++) e.reset(i, market.episodes.start[i], market.episodes.end[i], i);
    return e;
  }

  /** Observations of real feature rows: the first bar of every sampled session, then 40 bars on. */
  function realObservations(): { obs: Float32Array; n: number; obsDim: number } {
    const e = newEnv();
    const out = new Float32Array(2 * SESSIONS * e.obsDim);
    e.observe(out.subarray(0, SESSIONS * e.obsDim));
    const hold = new Int32Array(SESSIONS);
    for (let s = 0; s < 40; s++) e.step(hold);
    e.observe(out.subarray(SESSIONS * e.obsDim));
    return { obs: out, n: 2 * SESSIONS, obsDim: e.obsDim };
  }

  it.each([
    ['the small network', { hidden: 32, blocks: 2, latent: 16, codes: 8, support: { lo: -20, hi: 20, bins: 41 } }],
    ['the default network', null],
  ])('%s: every output of every graph within 1e-5 on real feature rows', async (_label, sizes) => {
    const { obs, n, obsDim } = realObservations();
    const spec: NetworkSpec = sizes ? networkSpec({ obsDim, ...sizes }) : muzeroNetwork(await openCheckpoint(store, checkpointId)).spec;
    expect(spec.obs_dim).toBe(obsDim);
    const weights = initWeights(spec, 5);
    const onnx = await OnnxModel.create(spec, buildOnnxGraphs(spec, weights));
    const tfjs = TfjsModel.fromWeights(spec, weights);
    // the graphs fed the way the search feeds them: latents of real observations, every action and code
    const init = await onnx.runner.run('initial', [obs], n);
    const actions = Int32Array.from({ length: n }, (_, i) => i % spec.num_actions);
    const after = await onnx.runner.run('decision', [init.latent, actions], n);
    const codes = Int32Array.from({ length: n }, (_, i) => i % spec.num_codes);
    const feeds: Record<string, Feeds> = { initial: [obs], decision: [init.latent, actions], chance: [after.afterstate, codes] };
    for (const g of GRAPH_NAMES) {
      const a = await onnx.runner.run(g, feeds[g], n);
      const b = await tfjs.runner.run(g, feeds[g], n);
      for (const k of Object.keys(a)) {
        let m = 0;
        for (let i = 0; i < a[k].length; i++) m = Math.max(m, Math.abs(a[k][i] - b[k][i]));
        expect(m, `${g}.${k}`).toBeLessThan(1e-5);
      }
    }
    await onnx.dispose();
    await tfjs.dispose();
  });

  it(`ONNX and tfjs searches choose the same action on >= 99% of decisions (${SESSIONS} sessions); the same backend twice gives identical visits`, async () => {
    const ck = await openCheckpoint(store, 'latest', { featureHash: market.featureHash! });
    const opts = { config, seed: 11, maxBatch: SESSIONS };
    const onnx = await MuZeroActor.open({ ...opts, checkpoint: ck });
    const onnxAgain = await MuZeroActor.open({ ...opts, checkpoint: 'latest', store });
    const onnxSplit = await MuZeroActor.open({ ...opts, checkpoint: ck, maxBatch: 5 }); // other batch composition
    const tfjs = MuZeroActor.fromModel(TfjsModel.fromWeights(muzeroNetwork(ck).spec, ck.weights), opts);
    const e = newEnv();
    const obs = new Float32Array(SESSIONS * e.obsDim);
    const ids = new Float64Array(SESSIONS);
    let compared = 0;
    let agreed = 0;
    let steps = 0;
    const counts = new Float64Array(4);
    while (e.activeCount > 0) {
      e.observe(obs);
      for (let i = 0; i < SESSIONS; i++) ids[i] = decisionId(i, e.t[i] - e.start[i]);
      const mask = e.mask.slice();
      const a = await onnx.act(obs, mask, SESSIONS, ids);
      const again = await onnxAgain.act(obs, mask, SESSIONS, ids);
      expect(again.visits).toEqual(a.visits);
      expect(again.actions).toEqual(a.actions);
      const split = await onnxSplit.act(obs, mask, SESSIONS, ids);
      expect(split.visits).toEqual(a.visits);
      if (steps % TFJS_EVERY === 0) {
        const b = await tfjs.act(obs, mask, SESSIONS, ids);
        for (let i = 0; i < SESSIONS; i++) {
          compared++;
          if (a.actions[i] === b.actions[i]) agreed++;
        }
      }
      for (let i = 0; i < SESSIONS; i++) {
        expect(mask[i * 4 + a.actions[i]]).toBe(1);
        counts[a.actions[i]]++;
      }
      e.step(a.actions);
      steps++;
    }
    expect(steps).toBe(config.data.session_length - 1);
    expect(compared).toBe(SESSIONS * Math.ceil(steps / TFJS_EVERY));
    console.log(`[model-real] ONNX vs tfjs search: ${agreed}/${compared} decisions agree (${((100 * agreed) / compared).toFixed(2)}%); actions HOLD/BUY/SELL/CLOSE = ${Array.from(counts).join('/')}`);
    expect(agreed / compared).toBeGreaterThanOrEqual(0.99);
    for (const actor of [onnx, onnxAgain, onnxSplit, tfjs]) await actor.close();
  });

  it('an actor refuses a checkpoint of another feature set, naming it', async () => {
    const e = await MuZeroActor.open({ config, seed: 1, maxBatch: 4, checkpoint: 'latest', store, featureHash: 'not-this-one' }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(CheckpointError);
    expect((e as CheckpointError).reason).toBe('feature_set');
    expect((e as Error).message).toMatch(/trained on feature set "default" \(hash [0-9a-f]+\), not on these features \(hash not-this-one\)/);
  });
});
