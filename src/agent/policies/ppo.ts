// `ppo`: a PPO checkpoint's actor served by ONNX Runtime, greedy (the most probable legal action), as a
// policy like any other: backtest, validation (each worker opens its own session), walk-forward, live
// and shadow. The network reads the last H observations of a lane: the policy keeps that window per
// lane (src/agent/ppo/window.ts, the one the trainer uses), fed with the observation of each decision,
// so it needs no history beyond what the runner hands it bar by bar.
import type { EnvView } from '../../env/env.js';
import { N_ACTIONS } from '../../env/types.js';
import { loadCheckpoint, ppoNetwork } from '../checkpoints/checkpoint.js';
import type { PpoSpec } from '../network/ppo-spec.js';
import { PpoOnnxRunner, greedy, type PpoRunner } from '../ppo/model.js';
import { ObsWindow } from '../ppo/window.js';
import { CHECKPOINT_PARAM } from './muzero.js';
import { PolicyError, type ParamSpec, type Policy, type PolicyContext, type PolicyParams } from './types.js';

export const PPO_PARAMS: readonly ParamSpec[] = [CHECKPOINT_PARAM];

export class PpoPolicy implements Policy {
  readonly name = 'ppo';
  readonly needsObservation = true;
  readonly spec: PpoSpec;
  private window: ObsWindow | null = null;
  private windows = new Float32Array(0);
  private masks = new Float32Array(0);
  private lanes = new Int32Array(0);

  constructor(
    readonly params: PolicyParams,
    readonly runner: PpoRunner,
  ) {
    this.spec = runner.spec;
  }

  begin(view: EnvView): void {
    const s = this.spec;
    if (view.obsDim !== s.obs_dim) {
      throw new PolicyError(`ppo: checkpoint ${this.params.checkpoint} observes ${s.obs_dim} values, the env gives ${view.obsDim} (another feature set or env.stack)`);
    }
    const B = view.batch;
    this.window = new ObsWindow(B, s.history, s.obs_dim);
    this.windows = new Float32Array(B * s.history * s.obs_dim);
    this.masks = new Float32Array(B * N_ACTIONS);
    this.lanes = new Int32Array(B);
  }

  resetLane(lane: number): void {
    this.window?.reset(lane);
  }

  async act(obs: Float32Array | null, mask: Uint8Array, view: EnvView, out: Uint8Array): Promise<void> {
    if (!obs) throw new PolicyError('ppo reads the observation: run it with a feature set');
    const win = this.window;
    if (!win) throw new Error('ppo: act() before begin()');
    const D = view.obsDim;
    const W = this.spec.history * D;
    let n = 0;
    for (let i = 0; i < view.batch; i++) {
      if (view.active[i] === 0) continue;
      win.push(i, obs, i * D);
      win.write(i, this.windows, n * W);
      for (let a = 0; a < N_ACTIONS; a++) this.masks[n * N_ACTIONS + a] = mask[i * N_ACTIONS + a];
      this.lanes[n++] = i;
    }
    if (n === 0) return;
    const r = await this.runner.run(this.windows, this.masks, n);
    for (let k = 0; k < n; k++) out[this.lanes[k]] = greedy(r.logits, k);
  }

  close(): Promise<void> {
    return this.runner.dispose();
  }
}

export async function createPpoPolicy(params: PolicyParams, ctx: PolicyContext): Promise<Policy> {
  const dir = ctx.artifacts?.checkpoint_dir ?? String(params.checkpoint);
  const ck = await loadCheckpoint(dir, { featureHash: ctx.featureHash ?? undefined });
  const net = ppoNetwork(ck);
  return new PpoPolicy(params, await PpoOnnxRunner.create(net.spec, net.graph));
}
