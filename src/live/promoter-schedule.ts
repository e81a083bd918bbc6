// When the promoter runs inside `swt live`, and where its decisions go: a schedule on the runner's
// clock ('daily HH:MM UTC') that runs the promoter at the first poll at or after each slot, and hands
// the rollout state it leaves to a RolloutTarget (the runner: which strategy drives the real broker, at
// what share of the live size). The host polls (on every bar, like the runner's reconciliation timer),
// so a virtual clock needs no sleeping and a replay at full speed keeps its time.
import { InputError } from '../util/errors.js';
import type { Decision, RolloutState } from './promoter.js';
import type { EventBus } from './events.js';
import type { Clock } from './clock.js';
import { DAY_MS } from '../validation/metrics.js';

export interface ScheduleSpec {
  text: string;
  /** Slots fall at offsetMs + k · periodMs (ms since the epoch, UTC). */
  periodMs: number;
  offsetMs: number;
}

const DAILY = /^daily ([01]\d|2[0-3]):([0-5]\d) UTC$/;

/** 'daily HH:MM UTC' → one slot a day at that time. */
export function parseSchedule(text: string): ScheduleSpec {
  const m = DAILY.exec(text.trim());
  if (!m) throw new InputError(`promoter.schedule: expected 'daily HH:MM UTC' (e.g. 'daily 00:00 UTC'), got '${text}'`);
  return { text, periodMs: DAY_MS, offsetMs: (Number(m[1]) * 60 + Number(m[2])) * 60_000 };
}

/** The first slot strictly after `t`. */
export function nextSlot(t: number, s: ScheduleSpec): number {
  return s.offsetMs + (Math.floor((t - s.offsetMs) / s.periodMs) + 1) * s.periodMs;
}

/**
 * What drives the real broker. `apply` gets the state at start-up and after every run: `state.driver`
 * sends its orders to the broker at `state.scale` × the live size; every other strategy (the
 * incumbent `state.live_strategy` during a rollout included) runs in the shadow.
 */
export interface RolloutTarget {
  apply(state: RolloutState): void | Promise<void>;
}

export interface PromoterRun {
  at: number;
  decisions: Decision[];
  state: RolloutState;
}

export interface PromoterScheduleOptions {
  spec: ScheduleSpec;
  /** Runs the promoter at `now` and stores its decisions. */
  run(now: number): Promise<PromoterRun>;
  /** The stored rollout state (null: the promoter never ran on this instrument). */
  load(): Promise<RolloutState | null>;
  target: RolloutTarget;
  /** Where a failed run is alerted (the runner's bus); it never stops the host. */
  bus?: EventBus;
}

export class PromoterSchedule {
  private nextAt: number | null = null;
  private running: Promise<PromoterRun | null> | null = null;
  private readonly waiters: Array<(r: PromoterRun) => void> = [];

  constructor(private readonly o: PromoterScheduleOptions) {}

  /** Applies the stored state (a restarted runner resumes its rollout) and sets the first slot after `now`. */
  async start(now: number): Promise<RolloutState | null> {
    this.nextAt = nextSlot(now, this.o.spec);
    const state = await this.o.load();
    if (state) await this.o.target.apply(state);
    return state;
  }

  /** The next slot the promoter runs at (null before start). */
  get due(): number | null {
    return this.nextAt;
  }

  /**
   * Runs the promoter when a slot has come (once, however many slots were missed), then hands the state
   * to the target; returns null when nothing was due or a run is in flight. A failed run is alerted and
   * the schedule waits for the next slot.
   */
  poll(now: number): Promise<PromoterRun | null> {
    if (this.nextAt === null) throw new Error('PromoterSchedule: start() before poll()');
    if (this.running || now < this.nextAt) return Promise.resolve(null);
    this.nextAt = nextSlot(now, this.o.spec);
    this.running = (async () => {
      try {
        const r = await this.o.run(now);
        await this.o.target.apply(r.state);
        for (const w of this.waiters.splice(0)) w(r);
        return r;
      } catch (e) {
        this.o.bus?.emit('alert', { ts: now, severity: 'critical', code: 'promoter_failed', message: `the promoter failed at ${new Date(now).toISOString()}: ${(e as Error).message}; next run ${new Date(this.nextAt!).toISOString()}` });
        return null;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Resolves when no run is in flight (the host awaits it before it closes the stores a run uses). */
  async idle(): Promise<void> {
    await this.running;
  }

  /** Resolves with the next completed run. */
  nextRun(): Promise<PromoterRun> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Polls at every bar of the bus, at the runner's clock's time; returns the unsubscribe function. */
  attach(bus: EventBus, clock: Clock): () => void {
    return bus.on('bar', () => void this.poll(clock.now()));
  }
}
