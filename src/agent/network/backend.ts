// The tfjs backend, chosen once per process: `tensorflow` when @tensorflow/tfjs-node-gpu or
// @tensorflow/tfjs-node is installed and loads (neither is a dependency: their installers download
// libtensorflow), else `wasm` (SIMD; one thread under Node), else `cpu` as the last resort.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { log } from '../../util/log.js';

export type TfjsBackend = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  backend: TfjsBackend;
  /** The package that provided it (tensorflow), or what was tried and why it was passed over. */
  detail: string;
}

/** Optional packages that bring the native `tensorflow` backend, best first. */
export const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

async function tryTensorflow(): Promise<{ pkg: string | null; failures: string[] }> {
  const failures: string[] = [];
  for (const pkg of TENSORFLOW_PACKAGES) {
    try {
      await import(pkg); // a variable specifier: the packages are optional and usually absent
      if (await tf.setBackend('tensorflow')) {
        await tf.ready();
        return { pkg, failures };
      }
      failures.push(`${pkg} loaded but its backend did not start`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      failures.push(code === 'ERR_MODULE_NOT_FOUND' ? `${pkg} not installed` : `${pkg} failed to load: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return { pkg: null, failures };
}

let choice: Promise<BackendChoice> | null = null;

async function choose(): Promise<BackendChoice> {
  // tfjs-core alone has no gradients: the union package registers them (its Node bundle is the only
  // build of them that Node's ES module loader can import).
  await import('@tensorflow/tfjs');
  const tried = await tryTensorflow();
  let result: BackendChoice;
  if (tried.pkg) {
    result = { backend: 'tensorflow', detail: tried.pkg };
  } else {
    let wasmError: string | null = null;
    try {
      if (!(await tf.setBackend('wasm'))) throw new Error('the backend did not start');
      await tf.ready();
    } catch (e) {
      wasmError = (e as Error).message;
    }
    if (wasmError === null) {
      const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
      result = { backend: 'wasm', detail: `${simd}; ${tried.failures.join(', ')}` };
    } else {
      await tf.setBackend('cpu');
      await tf.ready();
      result = { backend: 'cpu', detail: `wasm failed (${wasmError}); ${tried.failures.join(', ')}` };
    }
  }
  log().info({ tfjs_backend: result.backend, detail: result.detail }, `tfjs backend: ${result.backend} (${result.detail})`);
  return result;
}

/** Picks and starts the tfjs backend (once per process; later calls return the same choice). */
export function initTfjs(): Promise<BackendChoice> {
  choice ??= choose();
  return choice;
}
