// Names the test that stalls this worker's event loop. vitest's worker asks the main process
// "onTaskUpdate" and gives up after 60 s; a test that blocks the loop that long (a spawnSync, a long
// synchronous native call) fails the whole run with an unhandled error that names no test. This
// says which one did, long before the limit.
import { expect } from 'vitest';

const TICK_MS = 1_000;
const WARN_MS = 20_000;
let last = Date.now();
setInterval(() => {
  const now = Date.now();
  const stalled = now - last - TICK_MS;
  last = now;
  if (stalled > WARN_MS) {
    const s = expect.getState();
    console.warn(`[swt tests] the event loop was blocked for ${(stalled / 1000).toFixed(1)} s in ${s.currentTestName ?? s.testPath ?? 'a hook'}: use the async swt() helper, or yield`);
  }
}, TICK_MS).unref();
