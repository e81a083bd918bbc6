// Model benchmarks (the configured default network, random observations of the default feature set's
// size). Prints name=value lines:
//   onnx_forward_ms_batch64_<graph>: one ONNX Runtime run of each graph on 64 rows, median;
//   search_ms_per_decision_batch64_onnx / _tfjs: a full search (mcts.simulations) of 64 environments
//     through the MuZeroActor over ONNX Runtime / tfjs (wasm), median; and their ratio;
//   decision_ms_p99_single: one environment, one decision, ONNX, 99th percentile;
//   the same search figures for a smaller value support (the heads dominate the cost);
//   *_cpu_ms_*: the process CPU time of the same work (what contention on a shared machine does not inflate);
//   checkpoint_save_ms, checkpoint_load_ms (with sha256 checks), onnx_export_ms (three graphs built
//   from the weights), and the core count.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { initTfjs } from '../src/agent/network/backend.js';
import { GRAPH_NAMES, initWeights, networkSpecFromConfig, type NetworkSpec } from '../src/agent/network/spec.js';
import { buildOnnxGraphs } from '../src/agent/network/onnx.js';
import { OnnxModel, TfjsModel, type NetworkModel } from '../src/agent/network/model.js';
import { MuZeroActor } from '../src/agent/muzero/actor.js';
import { featureSetObservation } from '../src/agent/checkpoints/registry.js';
import { loadCheckpoint, saveCheckpoint } from '../src/agent/checkpoints/checkpoint.js';
import { Prng } from '../src/util/prng.js';
import { median, report, reportCores } from './util.js';

const B = 64;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

function observations(spec: NetworkSpec, n: number, seed: number): Float32Array {
  const rng = new Prng(seed);
  return Float32Array.from({ length: n * spec.obs_dim }, () => rng.normal());
}

async function forwardMs(model: OnnxModel, graph: (typeof GRAPH_NAMES)[number]): Promise<number> {
  const spec = model.spec;
  const rng = new Prng(2);
  const feeds = spec.graphs[graph].inputs.map((inp) =>
    inp.kind === 'index' ? Int32Array.from({ length: B }, () => rng.below(inp.size)) : Float32Array.from({ length: B * inp.size }, () => rng.float()),
  );
  for (let i = 0; i < 30; i++) await model.runner.run(graph, feeds, B);
  const times: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) await model.runner.run(graph, feeds, B);
    times.push((performance.now() - t0) / 50);
  }
  return median(times);
}

/**
 * Median wall ms of one search over n environments, every wall time, and the process CPU ms per
 * search (on a shared machine the wall time includes waiting for a core; the CPU time does not).
 */
async function searchMs(model: NetworkModel, config: Config, n: number, warm: number, runs: number): Promise<{ median: number; all: number[]; cpu: number }> {
  const actor = MuZeroActor.fromModel(model, { config, seed: 1, maxBatch: n });
  const obs = observations(model.spec, n, 3);
  const mask = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) mask.set(i % 2 ? [1, 0, 0, 1] : [1, 1, 1, 0], i * 4);
  const ids = new Float64Array(n);
  let id = 0;
  const once = async () => {
    for (let i = 0; i < n; i++) ids[i] = id++;
    const t0 = performance.now();
    await actor.act(obs, mask, n, ids);
    return performance.now() - t0;
  };
  for (let i = 0; i < warm; i++) await once();
  const all: number[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) all.push(await once());
  const c = process.cpuUsage(c0);
  await actor.close();
  return { median: median(all), all, cpu: (c.user + c.system) / 1000 / runs };
}

async function main(): Promise<void> {
  reportCores();
  report('loadavg_1m', os.loadavg()[0], 2); // other work on the machine inflates the wall times
  const config = loadConfig();
  const obsDim = featureSetObservation(config, config.features.default_set).obsDim;
  const spec = networkSpecFromConfig(config, obsDim);
  const weights = initWeights(spec, 1);
  report('model_obs_dim', obsDim);
  report('model_hidden', spec.hidden);
  report('model_blocks', spec.blocks);
  report('model_latent', spec.latent);
  report('model_support_bins', spec.support.bins);
  report('search_simulations', config.mcts.simulations);

  const exports: number[] = [];
  let graphs = buildOnnxGraphs(spec, weights);
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    graphs = buildOnnxGraphs(spec, weights);
    exports.push(performance.now() - t0);
  }
  report('onnx_export_ms', median(exports));

  const onnx = await OnnxModel.create(spec, graphs);
  for (const g of GRAPH_NAMES) report(`onnx_forward_ms_batch64_${g}`, await forwardMs(onnx, g));
  const onnxSearch = await searchMs(onnx, config, B, 10, 40);
  report('search_ms_per_decision_batch64_onnx', onnxSearch.median);
  report('search_cpu_ms_per_decision_batch64_onnx', onnxSearch.cpu);
  const single = await searchMs(await OnnxModel.create(spec, graphs), config, 1, 50, 1000);
  report('decision_ms_median_single', single.median);
  report('decision_ms_p99_single', percentile(single.all, 99));
  report('decision_cpu_ms_single', single.cpu);

  const choice = await initTfjs();
  report('tfjs_backend', choice.backend);
  const tfjsSearch = await searchMs(TfjsModel.fromWeights(spec, weights), config, B, 2, 5);
  report('search_ms_per_decision_batch64_tfjs', tfjsSearch.median);
  report('search_cpu_ms_per_decision_batch64_tfjs', tfjsSearch.cpu);
  report('search_tfjs_over_onnx', tfjsSearch.median / onnxSearch.median, 1);

  // A smaller support: the value, Q and reward heads are hidden x bins each, run on every leaf.
  for (const bins of [101, 51]) {
    const small = { ...config, mcts: { ...config.mcts, support: { lo: -50, hi: 50, bins } } };
    const s = networkSpecFromConfig(small, obsDim);
    const m = await OnnxModel.create(s, buildOnnxGraphs(s, initWeights(s, 1)));
    const r = await searchMs(m, small, B, 10, 40);
    report(`search_ms_per_decision_batch64_onnx_support${bins}`, r.median);
    report(`search_cpu_ms_per_decision_batch64_onnx_support${bins}`, r.cpu);
    const one = await searchMs(await OnnxModel.create(s, buildOnnxGraphs(s, initWeights(s, 1))), small, 1, 50, 1000);
    report(`decision_ms_p99_single_support${bins}`, percentile(one.all, 99));
  }

  const dir = mkdtempSync(path.join(tmpdir(), 'swt-bench-model-'));
  try {
    const saves: number[] = [];
    const loads: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const { dir: ck } = await saveCheckpoint(dir, {
        spec,
        weights,
        onnx: graphs,
        featureSet: { name: 'default', hash: 'bench' },
        configHash: 'bench',
        hyperparametersHash: 'bench',
        gitCommit: null,
        episodes: 0,
        trainingSteps: 0,
        backend: 'none',
      });
      saves.push(performance.now() - t0);
      const t1 = performance.now();
      await loadCheckpoint(ck);
      loads.push(performance.now() - t1);
    }
    report('checkpoint_save_ms', median(saves));
    report('checkpoint_load_ms', median(loads));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
