// Child process for the kill-during-save test: saves and records one checkpoint, then starts a second
// save and stalls it after its first file (so the parent's SIGKILL lands mid-save, deterministically).
// Usage: node --import tsx checkpoint-saver.ts ROOT DB
import { Store } from '../../src/store/db.js';
import { loadConfig } from '../../src/config/load.js';
import { saveCheckpoint } from '../../src/agent/checkpoints/checkpoint.js';
import { recordCheckpoint } from '../../src/agent/checkpoints/registry.js';
import { initWeights, networkSpec } from '../../src/agent/network/spec.js';

const [root, db] = process.argv.slice(2);
const config = loadConfig();
const spec = networkSpec({ obsDim: 12, hidden: 16, blocks: 1, latent: 8, codes: 4, support: config.mcts.support });
const store = await Store.open(db);
const base = {
  spec,
  featureSet: { name: 'default', hash: 'f0' },
  configHash: 'c0',
  hyperparametersHash: 'h0',
  gitCommit: null,
  episodes: 0,
  trainingSteps: 0,
  backend: 'none',
};
const first = await saveCheckpoint(root, { ...base, weights: initWeights(spec, 1) });
await recordCheckpoint(store, first.meta, first.dir);
process.stdout.write(`saved ${first.meta.id}\n`);
await saveCheckpoint(root, {
  ...base,
  weights: initWeights(spec, 2),
  parent: first.meta,
  trainingSteps: 10,
  onFileWritten: (file) => {
    process.stdout.write(`wrote ${file}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000); // stall until killed
  },
});
process.stdout.write('second save finished (the parent should have killed this process)\n');
