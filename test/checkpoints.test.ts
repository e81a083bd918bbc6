// Checkpoints: a save loads back to the same bits (weights, optimizer, RNG, ONNX), every unusable
// checkpoint is refused with its reason, a SIGKILL during a save leaves the previous one usable,
// retention keeps exactly the configured set, and the `swt checkpoints` commands do what they say.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync, cpSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import { initTfjs } from '../src/agent/network/backend.js';
import { GRAPH_NAMES, architectureId, initWeights, networkSpec, parameters, type NetworkSpec } from '../src/agent/network/spec.js';
import { TfjsNetwork, optimizerState, restoreOptimizer } from '../src/agent/network/tfjs.js';
import { OnnxModel, TfjsModel } from '../src/agent/network/model.js';
import { CheckpointError, loadCheckpoint, muzeroNetwork, ppoNetwork, nextVersion, saveCheckpoint, removeStaleTemps, type CheckpointMeta, type SaveInput } from '../src/agent/checkpoints/checkpoint.js';
import { featureSetObservation, listCheckpoints, openCheckpoint, pruneCheckpoints, recordCheckpoint, resolveCheckpoint } from '../src/agent/checkpoints/registry.js';
import { Store } from '../src/store/db.js';
import { loadConfig } from '../src/config/load.js';
import { Prng } from '../src/util/prng.js';
import { ROOT, swt, tempDir } from './helpers/paths.js';
import { randomFeeds } from './helpers/network.js';
import { initPpoWeights, ppoSpec } from '../src/agent/network/ppo-spec.js';
import { resolvePolicy } from '../src/agent/policies/registry.js';

const SIZES = { obsDim: 12, hidden: 16, blocks: 1, latent: 8, codes: 4, support: { lo: -10, hi: 10, bins: 21 } };
const spec = networkSpec(SIZES);
const { dir: tmp, cleanup } = tempDir('swt-ckpt-');
afterAll(cleanup);

function baseInput(over: Partial<SaveInput> = {}): SaveInput {
  return {
    spec,
    weights: initWeights(spec, 1),
    featureSet: { name: 'default', hash: 'feat0' },
    configHash: 'cfg0',
    hyperparametersHash: 'hyp0',
    gitCommit: 'abc',
    episodes: 0,
    trainingSteps: 0,
    backend: 'none',
    ...over,
  };
}

async function expectRefused(p: Promise<unknown>, reason: string, message: RegExp): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, `expected a refusal (${reason})`).toBeInstanceOf(CheckpointError);
  expect((e as CheckpointError).reason).toBe(reason);
  expect((e as Error).message).toMatch(message);
}

beforeAll(async () => {
  await initTfjs();
});

describe('save and load', () => {
  it('round-trips weights, Adam state and RNG states; training continues exactly as without the save', async () => {
    const net = new TfjsNetwork(spec, initWeights(spec, 3));
    const rng = new Prng(9);
    const obs = tf.tensor2d(Float32Array.from({ length: 8 * 12 }, () => rng.normal()), [8, 12]);
    const loss = (n: TfjsNetwork) => () => tf.tidy(() => tf.sum(tf.square(n.call('prediction', [n.call('representation', [obs]).state]).value)) as tf.Scalar);
    const opt = tf.train.adam(1e-2);
    const step = (n: TfjsNetwork, o: tf.Optimizer) => {
      const { value, grads } = tf.variableGrads(loss(n), n.trainable());
      o.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step(net, opt);
    step(net, opt);
    const sampler = new Prng(5);
    sampler.u32();
    const { meta, dir } = await saveCheckpoint(path.join(tmp, 'roundtrip'), baseInput({ weights: net.getWeights(), optimizer: await optimizerState(net, opt), rng: { replay: sampler.state() }, trainingSteps: 2, backend: 'wasm' }));
    expect(meta.files['optimizer.bin'].bytes).toBeGreaterThan(0);

    const ck = await loadCheckpoint(dir, { architectureId: architectureId(spec), featureHash: 'feat0' });
    for (const p of parameters(spec)) expect(ck.weights.get(p.name)).toEqual(net.getWeights().get(p.name));
    expect(Prng.fromState(ck.rng.replay).u32()).toBe(sampler.u32());

    // continue: the original one more step, and a restored copy one more step
    const restored = new TfjsNetwork(muzeroNetwork(ck).spec, ck.weights);
    const opt2 = tf.train.adam(1e-2);
    await restoreOptimizer(opt2, ck.optimizer!);
    step(net, opt);
    step(restored, opt2);
    for (const [name, w] of net.getWeights()) expect(restored.getWeights().get(name), name).toEqual(w);
    net.dispose();
    restored.dispose();
  });

  it('the stored ONNX graphs and the stored weights give bit-identical outputs to the saved model', async () => {
    const weights = initWeights(spec, 4);
    const before = await OnnxModel.create(spec, (await import('../src/agent/network/onnx.js')).buildOnnxGraphs(spec, weights));
    const beforeTf = TfjsModel.fromWeights(spec, weights);
    const { dir } = await saveCheckpoint(path.join(tmp, 'outputs'), baseInput({ weights }));
    const ck = await loadCheckpoint(dir);
    const after = await OnnxModel.create(muzeroNetwork(ck).spec, muzeroNetwork(ck).onnx);
    const afterTf = TfjsModel.fromWeights(muzeroNetwork(ck).spec, ck.weights);
    for (const g of GRAPH_NAMES) {
      const feeds = randomFeeds(spec, g, 16, 2);
      const [a, b, c, d] = await Promise.all([before.runner.run(g, feeds, 16), after.runner.run(g, feeds, 16), beforeTf.runner.run(g, feeds, 16), afterTf.runner.run(g, feeds, 16)]);
      for (const k of Object.keys(a)) {
        expect(Buffer.from(b[k].buffer, b[k].byteOffset, b[k].byteLength).equals(Buffer.from(a[k].buffer, a[k].byteOffset, a[k].byteLength))).toBe(true);
        expect(d[k]).toEqual(c[k]);
      }
    }
    await Promise.all([before.dispose(), after.dispose(), beforeTf.dispose(), afterTf.dispose()]);
  });

  it('versions: a new line is MAJOR.0.0, a continuation bumps the patch, new hyper-parameters the minor', () => {
    const arch = architectureId(spec);
    const parent = { architecture_id: arch, hyperparameters_hash: 'h1', version: '1.2.3' } as CheckpointMeta;
    expect(nextVersion(null, arch, 'h1')).toBe('1.0.0');
    expect(nextVersion(parent, arch, 'h1')).toBe('1.2.4');
    expect(nextVersion(parent, arch, 'h2')).toBe('1.3.0');
    expect(nextVersion(parent, 'another', 'h1')).toBe('1.0.0');
  });
});

describe('refusals, each naming its reason', () => {
  let good: string;
  const root = path.join(tmp, 'refusals');
  beforeAll(async () => {
    good = (await saveCheckpoint(root, baseInput({ optimizer: [{ name: 'iter', shape: [], data: Float32Array.of(3) }] }))).dir;
  });
  const copy = (name: string) => {
    const d = path.join(root, name);
    cpSync(good, d, { recursive: true });
    return d;
  };
  const editMeta = (d: string, edit: (m: Record<string, unknown>) => void) => {
    const file = path.join(d, 'checkpoint.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    edit(m);
    writeFileSync(file, JSON.stringify(m));
  };

  it('loads when nothing is wrong', async () => {
    const ck = await loadCheckpoint(good, { architectureId: architectureId(spec), featureHash: 'feat0' });
    expect(ck.meta.version).toBe('1.0.0');
  });

  it('another architecture', async () => {
    const other = networkSpec({ ...SIZES, hidden: 24 });
    await expectRefused(loadCheckpoint(good, { architectureId: architectureId(other) }), 'architecture', new RegExp(`has architecture ${architectureId(spec)}, expected ${architectureId(other)}`));
  });

  it('another feature set', async () => {
    await expectRefused(loadCheckpoint(good, { featureHash: 'feat1' }), 'feature_set', /trained on feature set "default" \(hash feat0\), not on these features \(hash feat1\)/);
  });

  it('a newer network major than the code knows', async () => {
    const d = copy('newer');
    editMeta(d, (m) => (m.version = '2.0.0'));
    await expectRefused(loadCheckpoint(d), 'version', /version 2\.0\.0: its network major 2 is newer than this code knows \(1\)/);
  });

  it('a file whose sha256 does not match', async () => {
    const d = copy('sha');
    const f = path.join(d, 'weights.bin');
    const bytes = readFileSync(f);
    bytes[100] ^= 0xff;
    writeFileSync(f, bytes);
    await expectRefused(loadCheckpoint(d), 'sha256', /file weights\.bin has sha256 [0-9a-f]{64}, [0-9a-f]{64} was recorded/);
  });

  it('a missing file', async () => {
    const d = copy('missing');
    unlinkSync(path.join(d, 'decision.onnx'));
    await expectRefused(loadCheckpoint(d), 'missing', /file decision\.onnx is missing/);
  });

  it('a truncated file', async () => {
    const d = copy('truncated');
    truncateSync(path.join(d, 'chance.onnx'), 1000);
    await expectRefused(loadCheckpoint(d), 'truncated', /file chance\.onnx has 1000 bytes, \d+ were written \(truncated\)/);
  });

  it('a truncated or missing checkpoint.json, and a directory that is not there', async () => {
    const d = copy('meta');
    const f = path.join(d, 'checkpoint.json');
    writeFileSync(f, readFileSync(f, 'utf8').slice(0, 200));
    await expectRefused(loadCheckpoint(d), 'truncated', /checkpoint\.json is truncated or not JSON/);
    unlinkSync(f);
    await expectRefused(loadCheckpoint(d), 'missing', /checkpoint\.json is missing/);
    await expectRefused(loadCheckpoint(path.join(root, 'nowhere')), 'missing', /does not exist/);
  });

  it('metadata that does not fit its schema names the field', async () => {
    const d = copy('schema');
    editMeta(d, (m) => (m.training_steps = -1));
    await expectRefused(loadCheckpoint(d), 'metadata', /field training_steps: /);
  });
});

describe('a SIGKILL during a save', () => {
  it('leaves the previous checkpoint loadable and latest pointing at it; the next save clears the debris', async () => {
    const root = path.join(tmp, 'kill');
    const db = path.join(tmp, 'kill.duckdb');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test', 'helpers', 'checkpoint-saver.ts'), root, db], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killed = await new Promise<NodeJS.Signals | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('wrote weights.bin')) child.kill('SIGKILL');
      });
      child.on('exit', (_code, signal) => resolve(signal));
    });
    expect(killed, `child output:\n${out}\n${err}`).toBe('SIGKILL');
    const firstId = /saved (\S+)/.exec(out)![1];
    // the interrupted save: a temporary directory with only its first file, no checkpoint.json
    const temps = readdirSync(root).filter((n) => n.startsWith('.tmp-'));
    expect(temps).toHaveLength(1);
    expect(readdirSync(path.join(root, temps[0]))).toEqual(['weights.bin']);
    expect(readdirSync(root).filter((n) => !n.startsWith('.tmp-'))).toEqual([firstId]);

    const store = await Store.open(db);
    try {
      expect((await listCheckpoints(store)).map((r) => r.id)).toEqual([firstId]);
      expect((await resolveCheckpoint(store, 'latest')).id).toBe(firstId);
      const ck = await openCheckpoint(store, 'latest');
      expect(ck.meta.id).toBe(firstId);
      // a later save (another process) removes the dead process's temporary directory
      const { meta, dir } = await saveCheckpoint(root, baseInput({ spec: ck.spec, weights: ck.weights, parent: ck.meta }));
      await recordCheckpoint(store, meta, dir);
      expect(readdirSync(root).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
      expect((await resolveCheckpoint(store, 'latest')).id).toBe(meta.id);
      expect(removeStaleTemps(root)).toEqual([]);
    } finally {
      store.close();
    }
  });
});

describe('retention', () => {
  it('keeps exactly the last K and the best N by evaluation SQN', async () => {
    const root = path.join(tmp, 'retention');
    const store = await Store.open(path.join(tmp, 'retention.duckdb'));
    try {
      // eight checkpoints; SQN of each (null = not evaluated)
      const sqns = [1.5, null, 3.2, 0.4, 2.8, null, -1, 0.9];
      const ids: string[] = [];
      for (const sqn of sqns) {
        const { meta, dir } = await saveCheckpoint(root, baseInput({ evaluation: sqn === null ? null : { sqn, trades: 40 } }));
        await recordCheckpoint(store, meta, dir);
        ids.push(meta.id);
      }
      const dry = await pruneCheckpoints(store, { keepLast: 3, keepBest: 2, dryRun: true });
      // last 3: indexes 5, 6, 7; best 2 by SQN: indexes 2 (3.2) and 4 (2.8)
      const expected = [2, 4, 5, 6, 7].map((i) => ids[i]);
      expect(dry.kept).toEqual(expected);
      expect(dry.removed).toEqual([0, 1, 3].map((i) => ids[i]));
      expect((await listCheckpoints(store)).length).toBe(8);
      const r = await pruneCheckpoints(store, { keepLast: 3, keepBest: 2 });
      expect(r).toEqual(dry);
      expect((await listCheckpoints(store)).map((x) => x.id)).toEqual(expected);
      expect(readdirSync(root).sort()).toEqual([...expected].sort());
      expect((await resolveCheckpoint(store, 'best')).id).toBe(ids[2]);
      // idempotent
      expect((await pruneCheckpoints(store, { keepLast: 3, keepBest: 2 })).removed).toEqual([]);
    } finally {
      store.close();
    }
  });
});

describe('two learners in one store', () => {
  // What happened in experiment:learners: PPO trained after MuZero in the same store; PPO's later
  // and better-scored checkpoints filled every slot, the prune deleted MuZero's best, and `best` for a
  // muzero policy named a PPO checkpoint.
  it('each architecture keeps its own last K and best N, and best/latest answer within a learner', async () => {
    const root = path.join(tmp, 'families');
    const store = await Store.open(path.join(tmp, 'families.duckdb'));
    try {
      const ppo = ppoSpec({ obsDim: 12, history: 2, encoder: 4, actorHidden: 4, criticHidden: 4, layerNormEpsilon: 1e-5 });
      const save = async (family: 'muzero' | 'ppo', sqn: number) => {
        const input = family === 'ppo' ? baseInput({ spec: ppo, weights: initPpoWeights(ppo, 1), evaluation: { sqn, trades: 40 } }) : baseInput({ evaluation: { sqn, trades: 40 } });
        const { meta, dir } = await saveCheckpoint(root, input);
        await recordCheckpoint(store, meta, dir);
        return meta.id;
      };
      const mz = [await save('muzero', 1.0), await save('muzero', 0.5)];
      const pp = [await save('ppo', 3.0), await save('ppo', 4.0), await save('ppo', 2.0)];
      const r = await pruneCheckpoints(store, { keepLast: 1, keepBest: 1 });
      // per architecture: MuZero keeps its last (0.5) and its best (1.0); PPO its last (2.0) and best (4.0)
      expect(r.removed).toEqual([pp[0]]);
      expect((await resolveCheckpoint(store, 'best', 'muzero')).id).toBe(mz[0]);
      expect((await resolveCheckpoint(store, 'best', 'ppo')).id).toBe(pp[1]);
      expect((await resolveCheckpoint(store, 'latest', 'muzero')).id).toBe(mz[1]);
      expect((await resolveCheckpoint(store, 'best')).id).toBe(pp[1]);
      await expect(resolvePolicy('muzero', { checkpoint: 'best' }, { store, config: loadConfig() })).resolves.toMatchObject({ params: { checkpoint: mz[0] } });
    } finally {
      store.close();
    }
  });

  it('a learner without checkpoints is told so, by name', async () => {
    const store = await Store.open(path.join(tmp, 'only-muzero.duckdb'));
    try {
      const { meta, dir } = await saveCheckpoint(path.join(tmp, 'only-muzero'), baseInput({ evaluation: { sqn: 1, trades: 40 } }));
      await recordCheckpoint(store, meta, dir);
      await expectRefused(resolveCheckpoint(store, 'latest', 'ppo'), 'missing', /no checkpoint of the ppo learner in the store.*--algo ppo/);
    } finally {
      store.close();
    }
  });
});

describe('swt checkpoints (CLI)', () => {
  const cwd = path.join(tmp, 'cli');
  const db = path.join(cwd, 'swt.duckdb');
  const env = { SWT_CHECKPOINTS__DIR: path.join(cwd, 'ck') };
  const run = (args: string[]) => swt([...args, '--db', db], { env });

  it('init --seed makes a random checkpoint for the default feature set that later steps can run', async () => {
    const r = await run(['checkpoints', 'init', '--seed', '7', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const meta = JSON.parse(r.stdout) as CheckpointMeta & { dir: string };
    const config = loadConfig();
    const fs = featureSetObservation(config, config.features.default_set);
    expect(meta).toMatchObject({ version: '1.0.0', feature_set: 'default', feature_hash: fs.hash, obs_dim: fs.obsDim, training_steps: 0, episodes: 0, backend: 'none', parent_id: null });
    expect(meta.git_commit).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
    expect(Object.keys(meta)).toEqual(expect.arrayContaining(['architecture_id', 'config_hash', 'hyperparameters_hash', 'created_at', 'evaluation']));
    // every key of the JSON is snake_case
    expect(Object.keys(meta).every((k) => /^[a-z0-9_]+$/.test(k))).toBe(true);
    const ck = await loadCheckpoint(meta.dir, { featureHash: fs.hash });
    expect(ck.spec.obs_dim).toBe(fs.obsDim);
    expect(muzeroNetwork(ck).spec.hidden).toBe(config.model.hidden);
    // same seed, same weights
    const again = JSON.parse((await run(['checkpoints', 'init', '--seed', '7', '--json'])).stdout) as { dir: string; files: Record<string, { sha256: string }> };
    expect(again.files['weights.bin'].sha256).toBe(meta.files['weights.bin'].sha256);
  });

  it('init --algo ppo makes a PPO checkpoint (another store here, so the list below stays two)', async () => {
    const r = await swt(['checkpoints', 'init', '--seed', '7', '--algo', 'ppo', '--json', '--db', path.join(cwd, 'ppo.duckdb')], { env });
    expect(r.status, r.stderr).toBe(0);
    const meta = JSON.parse(r.stdout) as CheckpointMeta & { dir: string };
    const ck = await loadCheckpoint(meta.dir, {});
    const config = loadConfig();
    expect(ppoNetwork(ck).spec.history).toBe(config.ppo.model.history);
    expect(() => muzeroNetwork(ck)).toThrow(/holds a ppo network, not a muzero one/);
  });

  it('list and show --json; show names what is wrong with a damaged checkpoint and exits 2', async () => {
    const list = JSON.parse((await run(['checkpoints', 'list', '--json'])).stdout) as { checkpoints: Array<{ id: string; version: string; path: string }> };
    expect(list.checkpoints).toHaveLength(2);
    const show = await run(['checkpoints', 'show', 'latest', '--json']);
    expect(show.status, show.stderr).toBe(0);
    const m = JSON.parse(show.stdout) as { id: string; verified: boolean; architecture: NetworkSpec };
    expect(m.id).toBe(list.checkpoints[1].id);
    expect(m.verified).toBe(true);
    expect(m.architecture.graphs.initial.outputs.map((o) => o.name)).toEqual(['latent', 'policy', 'value']);
    const human = await run(['checkpoints', 'show', list.checkpoints[0].id]);
    expect(human.stdout).toMatch(/every file matches its sha256/);
    unlinkSync(path.join(list.checkpoints[0].path, 'initial.onnx'));
    const bad = await run(['checkpoints', 'show', list.checkpoints[0].id]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/file initial\.onnx is missing/);
    const unknown = await run(['checkpoints', 'show', 'ck-nope']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/no checkpoint "ck-nope"/);
  });

  it('export writes ONNX graphs that ONNX Runtime loads, with a model.json describing them', async () => {
    const out = path.join(cwd, 'export');
    const r = await run(['checkpoints', 'export', 'latest', '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { files: string[] }).files).toEqual(['initial.onnx', 'decision.onnx', 'chance.onnx', 'model.json']);
    const model = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8')) as { graphs: Record<string, { file: string; outputs: Array<{ name: string }> }> };
    for (const g of GRAPH_NAMES) {
      const s = await ort.InferenceSession.create(path.join(out, model.graphs[g].file));
      expect(s.outputNames).toEqual(model.graphs[g].outputs.map((o) => o.name));
      await s.release();
    }
  });

  it('prune keeps the configured set and reports it as JSON', async () => {
    const r = await run(['checkpoints', 'prune', '--keep-last', '1', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout) as { kept: string[]; removed: string[]; dry_run: boolean };
    expect(p.kept).toHaveLength(1);
    expect(p.removed).toHaveLength(1);
    expect(p.dry_run).toBe(false);
    const list = JSON.parse((await run(['checkpoints', 'list', '--json'])).stdout) as { checkpoints: Array<{ id: string }> };
    expect(list.checkpoints.map((c) => c.id)).toEqual(p.kept);
    expect(existsSync(path.join(cwd, 'ck', p.removed[0]))).toBe(false);
  });
});
