// Alerts: rules with severities, checked as events arrive and on a schedule. Each alert raised is
// stored in `events`, logged, pushed on /ws and (optionally) POSTed to a webhook; the same code again
// inside the suppression window is only counted. The runner's own alerts (bus 'alert') go through the
// same path, so a person sees one stream.
//
// Rules (code, severity):
//   drawdown            critical  equity pips under the peak by more than alerts.drawdown_pips
//   loss_streak         warning   alerts.loss_streak losing positions in a row
//   stale_feed          warning   no bar for alerts.stale_feed_ms while the market is open
//   reconciliation      critical  a reconciliation run that found a discrepancy
//   risk_halted         critical  the risk engine turned HALTED
//   hold_collapse       warning   training: HOLD's share of the newest iteration >= alerts.hold_share
//   training_plateau    info      training: alerts.plateau_evaluations evaluations without a new best SQN
//   fill_mismatch       critical  a fill whose units differ from its order's
import type { Config } from '../config/schema.js';
import type { EventBus, LiveEventMap } from '../live/events.js';
import type { Store } from '../store/db.js';
import { log } from '../util/log.js';
import type { LiveState } from './live-state.js';
import type { Metrics } from './metrics.js';
import { evaluationsSinceBest, type TrainingView } from './training.js';

export type Severity = LiveEventMap['alert']['severity'];

export interface Alert {
  ts: number;
  severity: Severity;
  code: string;
  message: string;
  source: 'dashboard' | 'runner';
}

export interface AlertOptions {
  rules: Config['dashboard']['alerts'];
  store: Store | null;
  metrics: Metrics | null;
  live: LiveState | null;
  bus: EventBus | null;
  /** The newest training view (null: no store). */
  training: () => Promise<TrainingView | null>;
  /** Whether the market is open at `ms` (the stale-feed rule only applies then). */
  marketOpen: (ms: number) => boolean;
  now?: () => number;
  history: number;
  /** The run the alerts belong to in `events` (the live run's id, or 'dashboard' for swt serve). */
  runId: string;
}

/** The runner's alerts for conditions a rule here watches too: one code, so one suppression window. */
const RUNNER_CODES: Record<string, string> = { reconciliation_discrepancy: 'reconciliation', fill_units_mismatch: 'fill_mismatch' };

export class AlertEngine {
  private readonly lastRaised = new Map<string, number>();
  private readonly recent: Alert[] = [];
  private readonly listeners: Array<(a: Alert) => void> = [];
  private readonly pending = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private readonly off: Array<() => void> = [];
  private readonly now: () => number;
  private readonly startedAt: number;

  constructor(private readonly o: AlertOptions) {
    this.now = o.now ?? Date.now;
    this.startedAt = this.now();
    const r = o.rules;
    if (o.live) {
      o.live.onPositionClosed((_pips, streak) => {
        if (streak >= r.loss_streak) this.raise('loss_streak', 'warning', `${streak} losing positions in a row (limit ${r.loss_streak})`);
      });
      o.live.onFillRow((f, asked) => {
        if (asked !== null && asked !== f.units) this.raise('fill_mismatch', 'critical', `order ${f.client_id} asked for ${asked} units and was filled ${f.units}`);
      });
      o.live.onChange((panel) => {
        if (panel === 'trader_state') this.checkDrawdown();
      });
    }
    if (o.bus) {
      this.off.push(
        o.bus.on('reconciliation', (e) => {
          if (!e.ok) this.raise('reconciliation', 'critical', `reconciliation (${e.trigger}) found ${e.discrepancy ?? 'a discrepancy'}; action: ${e.action}`);
        }),
        o.bus.on('risk_state', (e) => {
          if (e.to === 'HALTED') this.raise('risk_halted', 'critical', `risk HALTED: ${e.reason}`);
        }),
        o.bus.on('alert', (e) => this.raise(RUNNER_CODES[e.code] ?? e.code, e.severity, e.message, 'runner')),
      );
    }
  }

  onAlert(fn: (a: Alert) => void): void {
    this.listeners.push(fn);
  }

  /** The latest alerts, newest first. */
  latest(): Alert[] {
    return this.recent;
  }

  /** Starts the scheduled checks. */
  start(): void {
    this.timer ??= setInterval(() => void this.check(), this.o.rules.check_every_ms);
    this.timer.unref();
  }

  /** The scheduled rules, once (the schedule calls it; a test may too). */
  async check(): Promise<void> {
    const r = this.o.rules;
    const live = this.o.live;
    if (live) {
      const now = this.now();
      const since = live.lastBarArrival ?? this.startedAt;
      if (now - since > r.stale_feed_ms && this.o.marketOpen(now)) this.raise('stale_feed', 'warning', `no bar for ${Math.round((now - since) / 1000)} s while the market is open (limit ${r.stale_feed_ms / 1000} s)`);
      this.checkDrawdown();
    }
    let v: TrainingView | null = null;
    try {
      v = await this.o.training();
    } catch (e) {
      log().warn({ err: e }, 'alerts: cannot read the training view');
    }
    if (v?.available) {
      const hold = v.latest.hold_share;
      if (hold !== null && hold >= r.hold_share) this.raise('hold_collapse', 'warning', `training run ${v.run_id}: HOLD is ${(hold * 100).toFixed(1)}% of the newest iteration's decisions (limit ${(r.hold_share * 100).toFixed(1)}%)`);
      const stale = evaluationsSinceBest(v);
      if (v.evaluations.sqn.length >= r.plateau_evaluations && stale >= r.plateau_evaluations - 1)
        this.raise('training_plateau', 'info', `training run ${v.run_id}: ${stale} evaluations without a new best SQN (best ${v.latest.best_sqn ?? 'none'})`);
    }
  }

  private checkDrawdown(): void {
    const live = this.o.live;
    if (!live) return;
    const dd = live.drawdownPips;
    if (dd > this.o.rules.drawdown_pips) this.raise('drawdown', 'critical', `drawdown ${dd.toFixed(1)} pips (limit ${this.o.rules.drawdown_pips})`);
  }

  /** Raises an alert unless the same code was raised inside the suppression window; true when raised. */
  raise(code: string, severity: Severity, message: string, source: Alert['source'] = 'dashboard'): boolean {
    const now = this.now();
    const last = this.lastRaised.get(code);
    if (last !== undefined && now - last < this.o.rules.suppress_ms) {
      this.o.metrics?.suppressed.inc({ code });
      return false;
    }
    this.lastRaised.set(code, now);
    const a: Alert = { ts: now, severity, code, message, source };
    this.recent.unshift(a);
    if (this.recent.length > this.o.history) this.recent.length = this.o.history;
    this.o.metrics?.alerts.inc({ code, severity });
    const line = `alert ${severity} ${code}: ${message}`;
    if (severity === 'critical') log().error({ alert: a }, line);
    else if (severity === 'warning') log().warn({ alert: a }, line);
    else log().info({ alert: a }, line);
    this.track(this.store(a));
    if (this.o.rules.webhook_url) this.track(this.post(this.o.rules.webhook_url, a));
    for (const fn of this.listeners) fn(a);
    return true;
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async store(a: Alert): Promise<void> {
    const s = this.o.store;
    if (!s) return;
    try {
      // the live journal's events table (migration 008): one row per alert, name 'alert'
      await s.run(`INSERT INTO events (run_id, ts, name, payload) VALUES ($1, make_timestamp($2::BIGINT * 1000), 'alert', $3)`, [
        this.o.runId,
        a.ts,
        JSON.stringify({ ts: a.ts, severity: a.severity, code: a.code, message: a.message, source: a.source }),
      ]);
    } catch (e) {
      log().error({ err: e }, `alerts: cannot store alert ${a.code} in events`);
    }
  }

  private async post(url: string, a: Alert): Promise<void> {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(a), signal: AbortSignal.timeout(this.o.rules.webhook_timeout_ms) });
      if (!res.ok) log().warn(`alerts: webhook answered ${res.status} for ${a.code}`);
    } catch (e) {
      log().warn({ err: e }, `alerts: webhook POST failed for ${a.code}`);
    }
  }

  /** Waits for stores and webhook POSTs under way (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const f of this.off.splice(0)) f();
    await this.flush();
  }
}
