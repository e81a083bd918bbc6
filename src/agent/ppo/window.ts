// The temporal window of the PPO network: the last H env observations of each lane, oldest first. The
// trainer's rollouts and the `ppo` policy (backtest, validation, live) feed it the same observations
// the env writes, one per decision, so the network sees the same windows in both. Until an episode has
// H observations, the missing older slots repeat its first one (no invented history).
export class ObsWindow {
  private readonly ring: Float32Array;
  private readonly count: Int32Array;

  constructor(
    readonly lanes: number,
    readonly history: number,
    readonly obsDim: number,
  ) {
    this.ring = new Float32Array(lanes * history * obsDim);
    this.count = new Int32Array(lanes);
  }

  /** A new episode on the lane: its history is forgotten. */
  reset(lane: number): void {
    this.count[lane] = 0;
  }

  /** Appends the lane's observation of this decision (obsDim values at obs[offset..]). */
  push(lane: number, obs: Float32Array, offset: number): void {
    const H = this.history;
    const D = this.obsDim;
    const slot = this.count[lane] % H;
    this.ring.set(obs.subarray(offset, offset + D), (lane * H + slot) * D);
    this.count[lane]++;
  }

  /** Writes the lane's window (H · obsDim values, oldest first) at out[offset..]. */
  write(lane: number, out: Float32Array, offset: number): void {
    const H = this.history;
    const D = this.obsDim;
    const c = this.count[lane];
    if (c === 0) throw new Error(`ppo window: lane ${lane} has no observation yet`);
    for (let k = 0; k < H; k++) {
      // k-th oldest of the last H; before the episode's first observation, repeat that one
      const age = H - 1 - k;
      const idx = c - 1 - age < 0 ? 0 : c - 1 - age;
      const src = (lane * H + (idx % H)) * D;
      out.set(this.ring.subarray(src, src + D), offset + k * D);
    }
  }
}
