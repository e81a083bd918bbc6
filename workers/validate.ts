// Piscina worker: backtest + validate + report for one policy (src/validation/parallel.ts). Errors come
// back as data so that their kind (bad input vs failure) survives the thread boundary.
import { runPolicyJob, type JobOutcome, type WorkerTask } from '../src/validation/parallel.js';

export type WorkerReply = { ok: true; outcome: JobOutcome } | { ok: false; error: { name: string; message: string; stack?: string } };

export default async function validateTask(task: WorkerTask): Promise<WorkerReply> {
  try {
    return { ok: true, outcome: await runPolicyJob(task.job, task.market, task.fit) };
  } catch (e) {
    const err = e as Error;
    return { ok: false, error: { name: err.name ?? 'Error', message: err.message ?? String(e), stack: err.stack } };
  }
}
