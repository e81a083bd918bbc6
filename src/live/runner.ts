// The live runner. On each completed bar, in this order:
//   0. the paper broker sees the bar (it fills the last order at its open); the outcome of the last
//      order is settled: a fill whose units differ from the request is corrected to the intended
//      position at once and raises an alert (the 1 → 66 incident);
//   1-3. the LiveSession books what the broker did (the position comes from fills), builds the same
//      feature row as the store build and asks the policy (one decision per bar);
//   4. the risk engine checks the order the decision needs (a denial is an event, nothing is sent);
//   5. the order goes to the broker with a client id (never re-sent blindly: see the OANDA client);
//   6. post-trade reconciliation (and every reconcile_every_ms): the broker's position is the truth.
// The calendar flattens N minutes before the weekly close and holds decisions until the open. Every
// step is an event on the bus; the runner imports no subscriber.
import type { Bar } from '../env/series.js';
import { ACTION_NAMES, BUY, CLOSE, HOLD, SELL } from '../env/types.js';
import type { Broker, Fill, OrderOutcome } from './broker.js';
import type { MarketCalendar } from './calendar.js';
import type { Clock } from './clock.js';
import type { EventBus } from './events.js';
import type { Feed } from './feed.js';
import type { LiveBar } from './bars.js';
import { reconcile, type ManualTrades } from './reconcile.js';
import type { RiskEngine } from './risk.js';
import type { Execution, LiveSession } from './session.js';
import type { JournalHooks } from './journal.js';
import type { PositionSizer } from './sizing.js';
import type { TradeRecord } from '../env/trades.js';

export interface RunnerOptions {
  instrument: string;
  /** Units of one position (env.units). */
  units: number;
  session: LiveSession;
  broker: Broker;
  feed: Feed;
  clock: Clock;
  bus: EventBus;
  risk: RiskEngine;
  /** null: no calendar rules (a replay of stored bars, whose sessions already respect the week). */
  calendar: MarketCalendar | null;
  flattenBeforeCloseMinutes: number;
  manualTrades: ManualTrades;
  reconcileEveryMs: number;
  /** A broker time further than this from the runner's clock is clock skew: alerted, and booked at the runner's time. */
  maxClockSkewMs: number;
  /** Prefix of every client id (unique per run, so ids never collide across restarts). */
  runId: string;
  strategy: string;
  journal?: JournalHooks | null;
  /** Sizes each entry (null: every position is `units` units). */
  sizer?: PositionSizer | null;
  /**
   * Runners that take every bar after this one (the shadow strategies: src/live/shadow.ts), started
   * with it. They come after, so a shadow never delays the live order.
   */
  followers?: ReadonlyArray<Follower>;
}

export interface Follower {
  readonly strategy: string;
  start(): Promise<void>;
  onBar(bar: LiveBar): Promise<void>;
}

interface Inflight {
  clientId: string;
  /** When the order left (runner clock): a fill stamped before it (or after now) is clock skew. */
  submitTs: number;
  units: number;
  action: number;
  outcome: Promise<OrderOutcome>;
}

export interface RunnerSummary {
  bars: number;
  decisions: number;
  orders: number;
  fills: number;
  denials: number;
  reconciliations: number;
  state: string;
}

export class Runner {
  private inflight: Inflight | null = null;
  /** What the broker did with the last decision, for the session's next bar. */
  private executed: Execution | null = null;
  private lastRecon = -Infinity;
  private seq = 0;
  private lastBar: LiveBar | null = null;
  /** Units resumed at start-up that the session takes at its first bar. */
  private resumed: number | null = null;
  /** Units of the position held (or being entered): `units`, or what the sizer chose at the entry. */
  private size: number;
  readonly stats = { bars: 0, decisions: 0, orders: 0, fills: 0, denials: 0, reconciliations: 0 };
  /** ms from a bar's arrival to its order leaving (bars that sent an order). */
  readonly barToOrderMs: number[] = [];
  /** The followers still running: one that fails is stopped with a critical alert, the live strategy goes on. */
  private followers: Follower[];

  constructor(private readonly o: RunnerOptions) {
    this.size = o.units;
    this.followers = [...(o.followers ?? [])];
    o.bus.on('risk_denial', () => this.stats.denials++);
  }

  private get localUnits(): number {
    if (this.resumed !== null && !this.o.session.active) return this.resumed;
    return this.o.session.side * this.size;
  }

  private tradeEvent(tr: TradeRecord): void {
    const o = this.o;
    o.bus.emit('trade', {
      ts: o.clock.now(),
      strategy: o.strategy,
      instrument: o.instrument,
      side: tr.side,
      units: this.size,
      entry_ts: tr.entryTs,
      exit_ts: tr.exitTs,
      entry_price: tr.entryPrice,
      exit_price: tr.exitPrice,
      gross_pips: tr.grossPips,
      cost_pips: tr.costPips,
      net_pips: tr.netPips,
      bars_held: tr.barsHeld,
      forced: tr.forced,
    });
  }

  private clientId(kind: string): string {
    return `${this.o.runId}-${kind}-${++this.seq}`;
  }

  /**
   * Start-up: settle intents an earlier run left in flight (from the broker's transactions: completed or
   * cancelled, never sent again), then reconcile. A broker position equal to the one the journal says
   * swt held is swt's own, resumed; any other difference is handled as at any reconciliation.
   */
  async start(): Promise<void> {
    await this.startSelf();
    for (const f of [...this.followers]) await this.follow(f, () => f.start());
  }

  private async follow(f: Follower, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (e) {
      this.followers = this.followers.filter((x) => x !== f);
      this.o.bus.emit('alert', { ts: this.o.clock.now(), severity: 'critical', code: 'shadow_failed', message: `shadow ${f.strategy} stopped: ${(e as Error).message}` });
    }
  }

  private async startSelf(): Promise<void> {
    const o = this.o;
    const j = o.journal;
    if (!j) return this.reconcileNow('startup');
    let expected = await j.lastPosition(o.instrument);
    for (const it of await j.openIntents(o.instrument)) {
      const page = await o.broker.transactionsSince(it.since_transaction_id);
      const fill = page.transactions.find((t) => t.type === 'ORDER_FILL' && t.clientId === it.client_id);
      const status = fill ? 'filled' : 'cancelled';
      const why = fill ? `settled at restart: filled ${fill.units} (transaction ${fill.id})` : 'settled at restart: no transaction carries its client id (never placed)';
      await j.outcome(it.client_id, status, why, o.clock.now());
      o.bus.emit('order', { client_id: it.client_id, instrument: o.instrument, units: it.units, intent: it.intent, status, reason: why, ts: o.clock.now() });
      if (fill) {
        this.fillEvent({ transactionId: fill.id, clientId: fill.clientId, instrument: o.instrument, units: fill.units ?? 0, price: fill.price ?? 0, mid: null, ts: fill.ts });
        expected = it.target_units;
      }
    }
    const positions = await o.broker.openPositions().catch(() => null);
    const report = positions?.find((p) => p.instrument === o.instrument) ?? null;
    const resumable = expected !== null && (o.sizer ? expected !== 0 : Math.abs(expected) === o.units);
    if (report && expected !== null && resumable && report.units === expected && report.averagePrice !== null) {
      this.size = Math.abs(expected);
      o.session.adoptAtStart(Math.sign(expected) as 1 | -1, report.averagePrice, o.clock.now());
      o.bus.emit('reconciliation', { ts: o.clock.now(), instrument: o.instrument, trigger: 'startup', ok: true, broker_units: report.units, local_units: expected, discrepancy: null, action: 'resume' });
      this.resumed = expected;
      this.lastRecon = o.clock.now();
      await j.afterBar();
      return;
    }
    await this.reconcileNow('startup');
    await j.afterBar();
  }

  /** Runs the feed to its end (or until closed); returns the run's counts. */
  async run(): Promise<RunnerSummary> {
    await this.start();
    for await (const bar of this.o.feed.bars()) await this.onBar(bar);
    return { ...this.stats, state: this.o.risk.state };
  }

  async onBar(bar: LiveBar): Promise<void> {
    const o = this.o;
    const t0 = performance.now();
    this.stats.bars++;
    o.bus.emit('bar', { instrument: o.instrument, ts: bar.ts, open: bar.open, high: bar.high, low: bar.low, close: bar.close, bid_close: bar.bid?.close ?? null, ask_close: bar.ask?.close ?? null });
    o.broker.onBar?.(bar);
    if (this.inflight) await this.settle(this.inflight);
    if (o.risk.killSwitchOn()) o.risk.halt(`kill switch file ${o.risk.limits.killSwitchFile} exists`);

    const executed = this.executed;
    this.executed = null;
    const out = await o.session.onBar(bar as Bar, executed);
    this.lastBar = bar;
    for (const tr of out.closed) {
      o.risk.recordRealised(tr.netPips, tr.exitTs);
      this.tradeEvent(tr);
    }
    // A session's forced close (the backtest's end-of-session rule) closes the broker's position too.
    if (out.closed.some((tr) => tr.forced)) await this.closeAtBroker('session_end');

    if (o.calendar && o.calendar.minutesToClose(bar.ts + 60_000) <= o.flattenBeforeCloseMinutes && o.session.side !== 0) {
      await this.flatten('weekly close ahead');
    }

    if (out.decision !== null) {
      this.stats.decisions++;
      let action = out.decision;
      let reason: string = out.reason ?? 'policy';
      if ((action === BUY || action === SELL) && o.calendar && o.calendar.minutesToClose(bar.ts + 60_000) <= o.flattenBeforeCloseMinutes) {
        action = HOLD;
        reason = 'calendar_flatten_window';
      }
      o.bus.emit('decision', { instrument: o.instrument, ts: bar.ts, bar_index: out.index, action: ACTION_NAMES[action], reason, position_units: this.localUnits, strategy: o.strategy, visits: out.visits && Object.fromEntries(ACTION_NAMES.map((a, i) => [a, out.visits![i]])) });
      if (action !== HOLD) await this.submit(action, t0);
      // A broker that answers with the fill is settled (and reconciled) now; paper fills at the next open.
      if (this.inflight && !o.broker.fillsAtNextBar) await this.settle(this.inflight);
    }
    if (!this.inflight && o.clock.now() - this.lastRecon >= o.reconcileEveryMs) await this.reconcileNow('interval');
    await o.journal?.afterBar();
    for (const f of [...this.followers]) await this.follow(f, () => f.onBar(bar));
  }

  /**
   * Journals the intent (committed before anything leaves), then sends the order; resolves once it has
   * left, with the outcome to come (the paper broker's arrives at the next bar).
   */
  private async send(clientId: string, units: number, target: number, intent: string): Promise<{ outcome: Promise<OrderOutcome> }> {
    const o = this.o;
    await o.journal?.intent({ client_id: clientId, instrument: o.instrument, units, target_units: target, intent, since_transaction_id: o.broker.lastTransactionId || '0' }, o.clock.now());
    const out = o.broker.marketOrder({ instrument: o.instrument, units, clientId });
    if (!o.journal) return { outcome: out };
    return {
      outcome: out.then(async (r) => {
        await o.journal!.outcome(clientId, r.status, r.status === 'filled' ? null : r.reason, o.clock.now());
        return r;
      }),
    };
  }

  private async submit(action: number, t0: number): Promise<void> {
    const o = this.o;
    const clientId = this.clientId('d');
    // entries are from flat only (the market core holds one position), so the new size replaces the old
    if ((action === BUY || action === SELL) && o.sizer && this.localUnits === 0) {
      const L = o.risk.limits;
      const d = await o.sizer.size(this.lastBar!.close, { max_order_units: L.maxOrderUnits, max_position_units: L.maxPositionUnits });
      o.bus.emit('sizing', { ts: o.clock.now(), strategy: o.strategy, client_id: clientId, ...d });
      if (d.units < 1) {
        o.bus.emit('order', { client_id: clientId, instrument: o.instrument, units: 0, intent: ACTION_NAMES[action], status: 'skipped', reason: 'sized to 0 units', ts: o.clock.now() });
        return;
      }
      this.size = d.units;
    }
    const target = action === BUY ? this.size : action === SELL ? -this.size : 0;
    const units = target - this.localUnits;
    if (units === 0) return;
    const v = o.risk.check(clientId, units, this.localUnits);
    if (!v.ok) {
      o.bus.emit('order', { client_id: clientId, instrument: o.instrument, units, intent: ACTION_NAMES[action], status: 'denied', reason: v.code, ts: o.clock.now() });
      return;
    }
    this.stats.orders++;
    o.bus.emit('order', { client_id: clientId, instrument: o.instrument, units, intent: ACTION_NAMES[action], status: 'submitted', reason: null, ts: o.clock.now() });
    const { outcome } = await this.send(clientId, units, target, ACTION_NAMES[action]);
    this.barToOrderMs.push(performance.now() - t0);
    this.inflight = { clientId, submitTs: o.clock.now(), units, action, outcome };
  }

  /** Collects the in-flight order's outcome (now for a broker that answers, at the next bar for paper). */
  private async settle(f: Inflight): Promise<void> {
    const o = this.o;
    this.inflight = null;
    let out: OrderOutcome;
    try {
      out = await f.outcome;
    } catch (e) {
      out = { status: 'not_found', reason: (e as Error).message };
    }
    o.bus.emit('order', { client_id: f.clientId, instrument: o.instrument, units: f.units, intent: ACTION_NAMES[f.action], status: out.status, reason: out.status === 'filled' ? null : out.reason, ts: o.clock.now() });
    if (out.status !== 'filled') {
      if (out.status === 'not_found') o.bus.emit('alert', { ts: o.clock.now(), severity: 'warning', code: 'order_outcome_unknown', message: `order ${f.clientId}: ${out.reason}` });
      await this.reconcileNow('post_trade');
      return;
    }
    this.fillEvent(out.fill);
    if (out.fill.units !== f.units) {
      o.bus.emit('alert', {
        ts: o.clock.now(),
        severity: 'critical',
        code: 'fill_units_mismatch',
        message: `order ${f.clientId} asked for ${f.units} units and was filled ${out.fill.units}: correcting to the intended position`,
      });
      const fix = f.units - out.fill.units;
      const fixId = this.clientId('fix');
      const fixOut = await (await this.send(fixId, fix, f.units + this.localUnits, 'correct_fill')).outcome;
      o.bus.emit('order', { client_id: fixId, instrument: o.instrument, units: fix, intent: 'correct_fill', status: fixOut.status, reason: fixOut.status === 'filled' ? null : fixOut.reason, ts: o.clock.now() });
      if (fixOut.status === 'filled') this.fillEvent(fixOut.fill);
    }
    let ts = out.fill.ts;
    if (ts < f.submitTs - o.maxClockSkewMs || ts > o.clock.now() + o.maxClockSkewMs) {
      o.bus.emit('alert', { ts: o.clock.now(), severity: 'warning', code: 'clock_skew', message: `the broker's fill time ${new Date(ts).toISOString()} is outside the order's time (sent ${new Date(f.submitTs).toISOString()}, now ${new Date(o.clock.now()).toISOString()}) by more than live.max_clock_skew_s: booked at swt's time` });
      ts = o.clock.now();
    }
    this.executed = { action: f.action, price: out.fill.mid ?? out.fill.price, ts };
    // Post-trade reconciliation against what the session will hold once it books this fill.
    await this.reconcileNow('post_trade', this.unitsAfter(f.action));
  }

  private unitsAfter(action: number): number {
    return action === BUY ? this.size : action === SELL ? -this.size : action === CLOSE ? 0 : this.localUnits;
  }

  private fillEvent(f: Fill): void {
    this.stats.fills++;
    this.o.bus.emit('fill', { client_id: f.clientId, transaction_id: f.transactionId, instrument: f.instrument, units: f.units, price: f.price, mid: f.mid, ts: f.ts });
  }

  /** Compares with the broker and acts (halt / adopt / order); every run is an event. */
  async reconcileNow(trigger: string, expected?: number): Promise<void> {
    const o = this.o;
    this.lastRecon = o.clock.now();
    this.stats.reconciliations++;
    const local = expected ?? this.localUnits;
    const r = await reconcile(o.broker, o.instrument, local, this.size, o.manualTrades);
    let action = 'none';
    if (r.action.kind === 'order' && o.broker.fillsAtNextBar) {
      // the paper broker cannot hold anything swt did not send it: a difference there is a bug, and a
      // correcting order would only fill at the next bar
      o.risk.halt(`paper broker: ${r.discrepancy}`);
      action = 'halt';
    } else if (r.action.kind === 'halt') {
      o.risk.halt(r.action.reason);
      action = 'halt';
    } else if (r.action.kind === 'adopt' && expected === undefined) {
      this.adoptSide(r.action.side, r.action.price);
      action = `adopt ${r.brokerUnits}`;
    } else if (r.action.kind === 'adopt') {
      // the fill is not booked yet: a difference to the expected position cannot be adopted safely
      o.risk.halt(`post-trade: ${r.discrepancy}`);
      action = 'halt';
    } else if (r.action.kind === 'order') {
      const id = this.clientId('rec');
      const out = await (await this.send(id, r.action.units, r.action.target, 'reconcile')).outcome;
      o.bus.emit('order', { client_id: id, instrument: o.instrument, units: r.action.units, intent: 'reconcile', status: out.status, reason: out.status === 'filled' ? null : out.reason, ts: o.clock.now() });
      if (out.status === 'filled') this.fillEvent(out.fill);
      if (expected === undefined) this.adoptSide(Math.sign(r.action.target) as -1 | 0 | 1, out.status === 'filled' ? (out.fill.mid ?? out.fill.price) : null);
      action = `order ${r.action.units}`;
    }
    if (!r.ok) o.bus.emit('alert', { ts: o.clock.now(), severity: r.action.kind === 'halt' ? 'critical' : 'warning', code: 'reconciliation_discrepancy', message: `${r.discrepancy}; action: ${action}` });
    o.bus.emit('reconciliation', { ts: o.clock.now(), instrument: o.instrument, trigger, ok: r.ok, broker_units: r.brokerUnits, local_units: local, discrepancy: r.discrepancy, action });
    if (r.action.kind === 'order' && !o.broker.fillsAtNextBar) {
      const again = await reconcile(o.broker, o.instrument, this.expectedAfter(expected, r.action.target), this.size, o.manualTrades);
      o.bus.emit('reconciliation', { ts: o.clock.now(), instrument: o.instrument, trigger: 'verify', ok: again.ok, broker_units: again.brokerUnits, local_units: again.localUnits, discrepancy: again.discrepancy, action: again.ok ? 'none' : 'halt' });
      if (!again.ok) o.risk.halt(`reconciliation could not correct the position: ${again.discrepancy}`);
    }
  }

  private expectedAfter(expected: number | undefined, target: number): number {
    return expected ?? target;
  }

  /** Makes the session hold `side` (the broker's), closing or opening at the given price. */
  private adoptSide(side: -1 | 0 | 1, price: number | null): void {
    const s = this.o.session;
    if (s.side === side) return;
    const px = price ?? this.lastBar?.close ?? null;
    if (px === null || !s.active) {
      this.o.risk.halt(`cannot take the broker's position locally (${px === null ? 'no price yet' : 'no session running'})`);
      return;
    }
    const ts = this.o.clock.now();
    if (s.side !== 0) this.tradeEvent(s.closeOutside(px, ts));
    if (side !== 0) s.adopt(side, px, ts);
  }

  private async closeAtBroker(intent: string): Promise<Fill | null> {
    const o = this.o;
    const id = this.clientId(intent === 'session_end' ? 'end' : 'flat');
    await o.journal?.intent({ client_id: id, instrument: o.instrument, units: -this.localUnits, target_units: 0, intent, since_transaction_id: o.broker.lastTransactionId || '0' }, o.clock.now());
    const outs = await o.broker.closePosition(o.instrument, id);
    await o.journal?.outcome(id, outs.length === 0 ? 'cancelled' : outs[0].status, outs.length === 0 ? 'already flat' : null, o.clock.now());
    let last: Fill | null = null;
    for (const out of outs) {
      this.o.bus.emit('order', { client_id: out.status === 'filled' ? (out.fill.clientId ?? '') : '', instrument: this.o.instrument, units: out.status === 'filled' ? out.fill.units : 0, intent, status: out.status, reason: out.status === 'filled' ? null : out.reason, ts: this.o.clock.now() });
      if (out.status === 'filled') {
        this.fillEvent(out.fill);
        last = out.fill;
      }
    }
    return last;
  }

  /** Closes the position now (command, kill switch, calendar); the session books it at the fill. */
  async flatten(reason: string): Promise<void> {
    const fill = await this.closeAtBroker('flatten');
    if (this.o.session.side !== 0) {
      const px = fill ? (fill.mid ?? fill.price) : (this.lastBar?.close ?? null);
      if (px !== null && this.o.session.active) this.tradeEvent(this.o.session.closeOutside(px, fill?.ts ?? this.o.clock.now()));
    }
    this.o.bus.emit('alert', { ts: this.o.clock.now(), severity: 'info', code: 'flattened', message: reason });
    await this.reconcileNow('flatten');
  }

  halt(reason: string): void {
    this.o.risk.halt(reason);
  }

  resume(reason: string): void {
    this.o.risk.resume(reason);
  }

  status() {
    return { instrument: this.o.instrument, strategy: this.o.strategy, broker: this.o.broker.kind, risk_state: this.o.risk.state, risk_reason: this.o.risk.reason, position_units: this.localUnits, ...this.stats, last_bar_ts: this.lastBar?.ts ?? null };
  }
}
