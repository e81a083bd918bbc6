// The tfjs backend choice: `tensorflow` when @tensorflow/tfjs-node(-gpu) is installed and loads, else
// wasm, logged in one line. Nothing is mocked: which case runs depends on what is installed.
import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initTfjs, TENSORFLOW_PACKAGES } from '../src/agent/network/backend.js';
import { initLogger } from '../src/util/log.js';
import { networkSpec, initWeights, GRAPH_NAMES } from '../src/agent/network/spec.js';
import { buildOnnxGraphs } from '../src/agent/network/onnx.js';
import { OnnxModel, TfjsModel } from '../src/agent/network/model.js';
import { tempDir } from './helpers/paths.js';
import { randomFeeds } from './helpers/network.js';

const require = createRequire(import.meta.url);
const installed = TENSORFLOW_PACKAGES.filter((p) => {
  try {
    require.resolve(p);
    return true;
  } catch {
    return false;
  }
});
if (installed.length === 0) {
  console.warn(`[swt tests] ${TENSORFLOW_PACKAGES.join(' and ')} not installed: the tfjs 'tensorflow' backend test is SKIPPED (wasm is tested instead)`);
}

const { dir, cleanup } = tempDir('swt-backend-');

async function chooseAndReadLog(): Promise<{ backend: string; lines: Array<{ msg: string; tfjs_backend: string }> }> {
  initLogger({ level: 'silent', fileLevel: 'info', dir });
  const choice = await initTfjs();
  expect(await initTfjs()).toBe(choice); // chosen once per process
  const lines = readFileSync(path.join(dir, 'swt.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; tfjs_backend: string })
    .filter((l) => l.msg.startsWith('tfjs backend'));
  cleanup();
  return { backend: choice.backend, lines };
}

describe('tfjs backend selection', () => {
  it.skipIf(installed.length > 0)('without the tensorflow packages: wasm, in one clear log line that says why', async () => {
    const { backend, lines } = await chooseAndReadLog();
    expect(backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(lines).toHaveLength(1);
    expect(lines[0].tfjs_backend).toBe('wasm');
    expect(lines[0].msg).toMatch(/^tfjs backend: wasm \(SIMD; @tensorflow\/tfjs-node-gpu not installed, @tensorflow\/tfjs-node not installed\)$/);
  });

  it.runIf(installed.length > 0)('with a tensorflow package installed: the tensorflow backend, which matches ONNX Runtime', async () => {
    const { backend, lines } = await chooseAndReadLog();
    expect(backend).toBe('tensorflow');
    expect(lines).toHaveLength(1);
    const spec = networkSpec({ obsDim: 20, hidden: 32, blocks: 1, latent: 16, codes: 8, support: { lo: -20, hi: 20, bins: 41 } });
    const w = initWeights(spec, 3);
    const onnx = await OnnxModel.create(spec, buildOnnxGraphs(spec, w));
    const tfm = TfjsModel.fromWeights(spec, w);
    expect(tfm.runner.engine).toBe('tfjs-tensorflow');
    for (const g of GRAPH_NAMES) {
      const feeds = randomFeeds(spec, g, 16, 1);
      const a = await onnx.runner.run(g, feeds, 16);
      const b = await tfm.runner.run(g, feeds, 16);
      for (const k of Object.keys(a)) for (let i = 0; i < a[k].length; i++) expect(Math.abs(a[k][i] - b[k][i])).toBeLessThan(1e-5);
    }
    await onnx.dispose();
    await tfm.dispose();
  });
});
