// Piscina worker: backtest + validate + report for one policy (src/validation/parallel.ts). Errors come
// back as data so that their kind (bad input vs failure) survives the thread boundary.
import { runPolicyJob, type WorkerReply, type WorkerTask } from '../src/validation/parallel.js';
import { errorData } from '../src/util/errors.js';

export default async function validateTask(task: WorkerTask): Promise<WorkerReply> {
  try {
    return { ok: true, outcome: await runPolicyJob(task.job, task.market, task.fit) };
  } catch (e) {
    return { ok: false, error: errorData(e) };
  }
}
