// `swt serve` following `swt live` runners in other processes: a runner is found the way `swt live
// status` finds it (its API state file), its bus events are read over its loopback API (GET /events,
// long-polled after a cursor) and emitted in order on a local EventBus, so the same LiveState, metrics,
// alerts and /ws hub as an embedded dashboard see them. The state file is looked at again while no
// runner answers, so a runner started after `swt serve` (or a new one after the last stopped) is
// followed too. Controls are forwarded with the API token of the state file (the dashboard's own token
// guards them on this side).
import { EventBus, type LoggedEvent } from '../live/events.js';
import { ControlApiError, readRunnerState, requestRunner, type RunInfo, type RunnerState } from '../live/api.js';
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
  /** Pause before looking again when no runner answers. */
  retryMs?: number;
  /** Whether a run can be shown (its instrument is in the config); others are not followed. */
  accept?: (run: RunInfo) => boolean;
  now?: () => number;
}

const sameRunner = (a: RunnerState, b: RunnerState) => a.pid === b.pid && a.started_at === b.started_at && a.port === b.port;

export class RunnerLink implements LiveControl {
  readonly bus = new EventBus();
  private current: { state: RunnerState; run: RunInfo } | null = null;
  private last: RunnerState | null = null;
  private cursor = 0;
  private lastStatus: object = { runner: 'none' };
  private stopped = false;
  private loop: Promise<void> | null = null;
  private refused = new Set<string>();
  private readonly runListeners: Array<(run: RunInfo) => void> = [];
  private readonly waitMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;

  constructor(
    private readonly stateFile: string,
    private readonly o: RunnerLinkOptions = {},
  ) {
    this.waitMs = o.waitMs ?? 1000;
    this.retryMs = o.retryMs ?? 1000;
    this.now = o.now ?? Date.now;
  }

  /** The run followed now (null: none answers). */
  get run(): RunInfo | null {
    return this.current?.run ?? null;
  }

  /** Called when another runner than the last one is found, before any of its events. */
  onRun(fn: (run: RunInfo) => void): void {
    this.runListeners.push(fn);
  }

  /** Looks at the state file once: the run of the runner named there if it answers, else null. */
  async find(): Promise<RunInfo | null> {
    let state: RunnerState;
    try {
      state = readRunnerState(this.stateFile);
    } catch {
      return null;
    }
    let first: EventsAnswer;
    try {
      first = (await requestRunner(state, 'GET', '/events?after=0&limit=0', { timeoutMs: 5000 })) as EventsAnswer;
    } catch {
      return null; // a state file left by a runner that is gone (kill -9)
    }
    const run = first.run;
    if (!run) return null;
    if (this.o.accept && !this.o.accept(run)) {
      if (!this.refused.has(run.run_id)) log().warn(`swt serve: runner ${run.run_id} trades ${run.instrument}, which this config does not define: not followed`);
      this.refused.add(run.run_id);
      return null;
    }
    if (!this.last || !sameRunner(this.last, state)) {
      this.cursor = 0;
      for (const fn of this.runListeners) fn(run);
    }
    this.last = state;
    this.current = { state, run };
    this.lastStatus = first.status;
    return run;
  }

  /** Follows the runner (the events it still keeps, then each new one), and the next when it stops. */
  start(): void {
    this.loop ??= this.follow();
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      if (!this.current && !(await this.find())) {
        await new Promise((r) => setTimeout(r, this.retryMs));
        continue;
      }
      const { state, run } = this.current!;
      try {
        const a = (await requestRunner(state, 'GET', `/events?after=${this.cursor}&wait_ms=${this.waitMs}`, { timeoutMs: this.waitMs + 10_000 })) as EventsAnswer;
        if (this.stopped) return;
        if (a.first_seq > this.cursor + 1) log().warn(`swt serve: runner ${run.run_id} no longer keeps events ${this.cursor + 1}–${a.first_seq - 1}: the live panels miss them`);
        for (const e of a.events) {
          this.cursor = e.seq;
          this.bus.emit(e.name, e.data as never);
        }
        this.lastStatus = a.status;
      } catch (e) {
        if (this.stopped) return;
        log().warn(`swt serve: lost runner ${run.run_id}: ${(e as Error).message}`);
        this.current = null;
        this.bus.emit('feed', { ts: this.now(), status: 'disconnected', detail: `runner ${run.run_id} does not answer (stopped?)` });
      }
    }
  }

  /** The runner's status as of the last answer. */
  status(): object {
    return this.lastStatus;
  }

  private async control(action: 'halt' | 'resume' | 'flatten', reason: string): Promise<void> {
    if (!this.current) throw new ControlApiError(`no running runner to ${action} (none answers at ${this.stateFile})`);
    this.lastStatus = (await requestRunner(this.current.state, 'POST', `/${action}`, { body: { reason }, timeoutMs: 30_000 })) as object;
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

  /** Stops following (a pending long-poll ends within waitMs; nothing it brings is emitted). */
  close(): void {
    this.stopped = true;
  }
}
