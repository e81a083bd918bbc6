// `swt serve` following a `swt live` runner in another process: the runner is found the way `swt live
// status` finds it (its API state file), its bus events are read over its loopback API (GET /events,
// long-polled after a cursor) and emitted in order on a local EventBus, so the same LiveState, metrics,
// alerts and /ws hub as an embedded dashboard see them. Controls are forwarded with the API token of
// the state file (the dashboard's own token guards them on this side).
import { EventBus, type LoggedEvent } from '../live/events.js';
import { readRunnerState, requestRunner, type RunInfo, type RunnerState } from '../live/api.js';
import { log } from '../util/log.js';
import type { LiveControl } from './server.js';

interface EventsAnswer {
  run: RunInfo | null;
  status: Record<string, unknown>;
  first_seq: number;
  next_seq: number;
  events: LoggedEvent[];
}

export interface RunnerLinkOptions {
  /** How long one GET /events may wait for an event. */
  waitMs?: number;
  /** Pause before asking again after a failed request. */
  retryMs?: number;
  now?: () => number;
}

export class RunnerLink implements LiveControl {
  readonly bus = new EventBus();
  private cursor = 0;
  private lastStatus: Record<string, unknown>;
  private stopped = false;
  private reachable = true;
  private loop: Promise<void> | null = null;
  private readonly waitMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;

  private constructor(
    private readonly state: RunnerState,
    readonly run: RunInfo,
    first: EventsAnswer,
    o: RunnerLinkOptions,
  ) {
    this.lastStatus = first.status;
    this.waitMs = o.waitMs ?? 1000;
    this.retryMs = o.retryMs ?? 1000;
    this.now = o.now ?? Date.now;
  }

  /** The runner of the state file, or null when none is running there (no file, or no answer). */
  static async find(stateFile: string, o: RunnerLinkOptions = {}): Promise<RunnerLink | null> {
    let state: RunnerState;
    try {
      state = readRunnerState(stateFile);
    } catch {
      return null;
    }
    try {
      const first = (await requestRunner(state, 'GET', '/events?after=0&limit=0', { timeoutMs: 5000 })) as EventsAnswer;
      if (!first.run) return null;
      return new RunnerLink(state, first.run, first, o);
    } catch (e) {
      log().warn(`swt serve: ${stateFile} names a runner that does not answer (${(e as Error).message}): no live panels`);
      return null;
    }
  }

  /** Starts following (the events the runner still keeps, then each new one). */
  start(): void {
    this.loop ??= this.follow();
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      try {
        const a = (await requestRunner(this.state, 'GET', `/events?after=${this.cursor}&wait_ms=${this.waitMs}`, { timeoutMs: this.waitMs + 10_000 })) as EventsAnswer;
        if (this.stopped) return;
        if (!this.reachable) log().info(`swt serve: runner ${this.run.run_id} answers again`);
        this.reachable = true;
        if (a.first_seq > this.cursor + 1) log().warn(`swt serve: the runner no longer keeps events ${this.cursor + 1}–${a.first_seq - 1}: the live panels miss them`);
        for (const e of a.events) {
          this.cursor = e.seq;
          this.bus.emit(e.name, e.data as never);
        }
        this.lastStatus = a.status;
      } catch (e) {
        if (this.stopped) return;
        if (this.reachable) {
          this.reachable = false;
          log().warn(`swt serve: lost runner ${this.run.run_id}: ${(e as Error).message}`);
          this.bus.emit('feed', { ts: this.now(), status: 'disconnected', detail: `runner ${this.run.run_id} does not answer (stopped?)` });
        }
        await new Promise((r) => setTimeout(r, this.retryMs));
      }
    }
  }

  /** The runner's status as of the last answer. */
  status(): object {
    return this.lastStatus;
  }

  private async control(action: 'halt' | 'resume' | 'flatten', reason: string): Promise<void> {
    this.lastStatus = (await requestRunner(this.state, 'POST', `/${action}`, { body: { reason }, timeoutMs: 30_000 })) as Record<string, unknown>;
  }

  halt(reason: string): Promise<void> {
    return this.control('halt', reason);
  }

  resume(reason: string): Promise<void> {
    return this.control('resume', reason);
  }

  flatten(reason: string): Promise<void> {
    return this.control('flatten', reason);
  }

  async close(): Promise<void> {
    this.stopped = true;
    // the pending long-poll ends within waitMs; nothing it brings is emitted
  }
}
