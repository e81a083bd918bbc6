// The runner's time: the system clock live, a virtual clock in tests and replays (time moves only when
// the test says so, so a test of "60 s later" takes no 60 s).
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms))),
};

export class VirtualClock implements Clock {
  private waiters: Array<{ at: number; resolve: () => void }> = [];
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ at: this.t + ms, resolve }));
  }
  /** Moves time to `t` (never back) and wakes every sleeper due by then, in time order. */
  set(t: number): void {
    if (t < this.t) return;
    this.t = t;
    this.waiters.sort((a, b) => a.at - b.at);
    while (this.waiters.length && this.waiters[0].at <= t) this.waiters.shift()!.resolve();
  }
  advance(ms: number): void {
    this.set(this.t + ms);
  }
}
