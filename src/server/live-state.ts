// What the live panels show, folded from the runner's event bus: the collection status (feed), the
// trader state (position from fills, equity in pips, risk) and the trades (recent fills, execution
// stats). The server only listens; the runner never knows it is watched. Every snapshot is snake_case
// plain data, sent as it is on /ws and /api.
import type { EventBus, LiveEventMap, LiveEventName, RiskState } from '../live/events.js';

export type PanelType = 'collection_status' | 'trader_state' | 'trades';

export interface LiveStateOptions {
  instrument: string;
  pipSize: number;
  /** 'paper' | 'practice' | 'live' (what the runner trades on). */
  mode: string;
  history: number;
  equityPoints: number;
  /** Items waiting in the store's write queue (null: no store attached). */
  storeQueue?: () => number | null;
  /** Wall-clock ms (the panels' "last bar received", uptime, feed lag). */
  now?: () => number;
}

export interface FillRow {
  ts: number;
  client_id: string | null;
  transaction_id: string;
  units: number;
  price: number;
  mid: number | null;
  /** Cost against the mid, in pips (half the spread plus any slippage). */
  cost_pips: number | null;
  realised_pips: number | null;
}

export interface DecisionRow {
  ts: number;
  bar_index: number;
  action: string;
  reason: string;
  position_units: number;
  strategy: string;
  /** The search's root visit counts by action (null: the policy does not search). */
  visits: Record<string, number> | null;
}

/** Counts by kind, the source of the metrics (each one event on the bus, as the journal records it). */
export interface LiveCounts {
  bars: number;
  gaps: number;
  decisions: Record<string, number>;
  orders: Record<string, number>;
  fills: number;
  rejections: number;
  denials: Record<string, number>;
  reconciliations: number;
  discrepancies: number;
  /** Closed positions (a fill that brings the position back to zero or through it). */
  closed_positions: number;
}

export class LiveState {
  private startedAt!: number;
  private readonly now: () => number;
  // the fold of one run's events (clear() starts it over)
  private feedStatus!: string;
  private feedDetail!: string;
  private lastBar!: LiveEventMap['bar'] | null;
  private lastBarAt!: number | null;
  private units!: number;
  private avgPrice!: number | null;
  private realised!: number;
  private peak!: number;
  private risk!: { state: RiskState; reason: string };
  private lastDecision!: DecisionRow | null;
  private equity!: Array<[number, number]>;
  private fills!: FillRow[];
  private costs!: number[];
  private lossStreak!: number;
  private submitted!: Map<string, number>;
  counts!: LiveCounts;
  /** Wall-clock ms of the newest event folded into each panel (the load bench's latency origin). */
  readonly eventAt: Record<PanelType, number> = { collection_status: 0, trader_state: 0, trades: 0 };
  private readonly listeners: Array<(panel: PanelType) => void> = [];
  private readonly fillListeners: Array<(f: FillRow, order_units: number | null) => void> = [];
  private readonly closeListeners: Array<(pips: number, streak: number) => void> = [];
  private readonly off: Array<() => void> = [];

  constructor(private o: LiveStateOptions) {
    this.now = o.now ?? Date.now;
    this.clear();
  }

  private clear(): void {
    this.startedAt = this.now();
    this.feedStatus = 'waiting';
    this.feedDetail = '';
    this.lastBar = null;
    this.lastBarAt = null;
    this.units = 0;
    this.avgPrice = null;
    this.realised = 0;
    this.peak = 0;
    this.risk = { state: 'ACTIVE', reason: 'start' };
    this.lastDecision = null;
    this.equity = [];
    this.fills = [];
    this.costs = [];
    this.lossStreak = 0;
    this.submitted = new Map();
    this.counts = { bars: 0, gaps: 0, decisions: {}, orders: {}, fills: 0, rejections: 0, denials: {}, reconciliations: 0, discrepancies: 0, closed_positions: 0 };
  }

  /** Another run starts (swt serve found a new runner): its panels start from nothing. */
  follow(run: { instrument: string; mode: string; pipSize: number }): void {
    this.o = { ...this.o, ...run };
    this.clear();
    for (const p of ['collection_status', 'trader_state', 'trades'] as const) this.changed(p);
  }

  /** The run's instrument (null: waiting for one to follow). */
  get instrument(): string | null {
    return this.o.instrument || null;
  }

  /** Starts listening; returns this. */
  attach(bus: EventBus): this {
    const on = <K extends LiveEventName>(name: K, fn: (e: LiveEventMap[K]) => void) => this.off.push(bus.on(name, fn));
    on('bar', (e) => this.onBar(e));
    on('feed', (e) => {
      this.feedStatus = e.status === 'gap' ? this.feedStatus : e.status;
      this.feedDetail = e.detail;
      if (e.status === 'gap') this.counts.gaps++;
      this.changed('collection_status');
    });
    on('decision', (e) => {
      this.counts.decisions[e.action] = (this.counts.decisions[e.action] ?? 0) + 1;
      this.lastDecision = { ts: e.ts, bar_index: e.bar_index, action: e.action, reason: e.reason, position_units: e.position_units, strategy: e.strategy, visits: e.visits };
      this.changed('trader_state');
    });
    on('order', (e) => {
      this.counts.orders[e.status] = (this.counts.orders[e.status] ?? 0) + 1;
      if (e.status === 'rejected') this.counts.rejections++;
      if (e.status === 'submitted') this.submitted.set(e.client_id, e.units);
      this.changed('trades');
    });
    on('fill', (e) => this.onFill(e));
    on('risk_state', (e) => {
      this.risk = { state: e.to, reason: e.reason };
      this.changed('trader_state');
    });
    on('risk_denial', (e) => {
      this.counts.denials[e.code] = (this.counts.denials[e.code] ?? 0) + 1;
      this.changed('trades');
    });
    on('reconciliation', (e) => {
      this.counts.reconciliations++;
      if (!e.ok) this.counts.discrepancies++;
      this.changed('trader_state');
    });
    return this;
  }

  detach(): void {
    for (const f of this.off.splice(0)) f();
  }

  /** Called with the panel that changed, after the change. */
  onChange(fn: (panel: PanelType) => void): void {
    this.listeners.push(fn);
  }

  /** Called with each fill and the units its order asked for (null: no submitted order of that id seen). */
  onFillRow(fn: (f: FillRow, orderUnits: number | null) => void): void {
    this.fillListeners.push(fn);
  }

  /** Called when a position closes, with its pips and the current losing streak. */
  onPositionClosed(fn: (pips: number, streak: number) => void): void {
    this.closeListeners.push(fn);
  }

  private changed(panel: PanelType): void {
    this.eventAt[panel] = this.now();
    for (const fn of this.listeners) fn(panel);
  }

  private onBar(e: LiveEventMap['bar']): void {
    this.counts.bars++;
    this.lastBar = e;
    this.lastBarAt = this.now();
    if (this.feedStatus === 'waiting') this.feedStatus = 'connected';
    this.pushEquity(e.ts);
    this.changed('collection_status');
    this.changed('trader_state');
  }

  private onFill(e: LiveEventMap['fill']): void {
    this.counts.fills++;
    const { pipSize } = this.o;
    const before = this.units;
    const next = before + e.units;
    let realised: number | null = null;
    // The part of the fill that shrinks the position realises pips against the average price.
    if (before !== 0 && Math.sign(e.units) !== Math.sign(before) && this.avgPrice !== null) {
      const closed = Math.min(Math.abs(e.units), Math.abs(before));
      realised = (((e.price - this.avgPrice) * Math.sign(before)) / pipSize) * (closed / Math.abs(before));
      this.realised += realised;
      if (Math.sign(next) !== Math.sign(before)) {
        this.counts.closed_positions++;
        this.lossStreak = realised < 0 ? this.lossStreak + 1 : 0;
        for (const fn of this.closeListeners) fn(realised, this.lossStreak);
      }
    }
    if (next === 0) this.avgPrice = null;
    else if (before === 0 || Math.sign(next) !== Math.sign(before)) this.avgPrice = e.price;
    else if (Math.abs(next) > Math.abs(before)) this.avgPrice = ((this.avgPrice ?? e.price) * Math.abs(before) + e.price * Math.abs(e.units)) / Math.abs(next);
    this.units = next;
    const cost = e.mid === null ? null : ((e.price - e.mid) * Math.sign(e.units)) / pipSize;
    if (cost !== null) this.costs.push(cost);
    const row: FillRow = { ts: e.ts, client_id: e.client_id, transaction_id: e.transaction_id, units: e.units, price: e.price, mid: e.mid, cost_pips: cost, realised_pips: realised };
    this.fills.unshift(row);
    if (this.fills.length > this.o.history) this.fills.length = this.o.history;
    const asked = e.client_id === null ? null : (this.submitted.get(e.client_id) ?? null);
    if (e.client_id !== null) this.submitted.delete(e.client_id);
    this.pushEquity(e.ts);
    for (const fn of this.fillListeners) fn(row, asked);
    this.changed('trades');
    this.changed('trader_state');
  }

  /** Unrealised pips of the open position at the last close. */
  get unrealisedPips(): number {
    if (this.units === 0 || this.avgPrice === null || !this.lastBar) return 0;
    return ((this.lastBar.close - this.avgPrice) * Math.sign(this.units)) / this.o.pipSize;
  }

  get equityPips(): number {
    return this.realised + this.unrealisedPips;
  }

  get drawdownPips(): number {
    return Math.max(0, this.peak - this.equityPips);
  }

  get positionUnits(): number {
    return this.units;
  }

  get realisedPips(): number {
    return this.realised;
  }

  get riskState(): RiskState {
    return this.risk.state;
  }

  /** ms since the last bar arrived (null before the first). */
  feedLagMs(): number | null {
    return this.lastBarAt === null ? null : this.now() - this.lastBarAt;
  }

  get lastBarArrival(): number | null {
    return this.lastBarAt;
  }

  private pushEquity(ts: number): void {
    const eq = this.equityPips;
    this.peak = Math.max(this.peak, eq);
    const last = this.equity[this.equity.length - 1];
    if (last && last[0] === ts) last[1] = eq;
    else this.equity.push([ts, eq]);
    if (this.equity.length > this.o.equityPoints) this.equity.splice(0, this.equity.length - this.o.equityPoints);
  }

  collection() {
    const mem = process.memoryUsage();
    return {
      connection: this.feedStatus,
      detail: this.feedDetail,
      instrument: this.o.instrument,
      bars: this.counts.bars,
      gaps: this.counts.gaps,
      last_bar: this.lastBar ? { ts: this.lastBar.ts, open: this.lastBar.open, high: this.lastBar.high, low: this.lastBar.low, close: this.lastBar.close } : null,
      last_bar_received_ms_ago: this.feedLagMs(),
      store_queue: this.o.storeQueue?.() ?? null,
      memory_rss_bytes: mem.rss,
      memory_heap_used_bytes: mem.heapUsed,
      uptime_s: (this.now() - this.startedAt) / 1000,
    };
  }

  trader() {
    return {
      mode: this.o.mode,
      instrument: this.o.instrument,
      position_units: this.units,
      average_price: this.avgPrice,
      unrealised_pips: this.unrealisedPips,
      realised_pips: this.realised,
      equity_pips: this.equityPips,
      drawdown_pips: this.drawdownPips,
      equity_curve: { ts: this.equity.map((p) => p[0]), pips: this.equity.map((p) => p[1]) },
      risk_state: this.risk.state,
      risk_reason: this.risk.reason,
      reconciliations: this.counts.reconciliations,
      discrepancies: this.counts.discrepancies,
      last_decision: this.lastDecision,
    };
  }

  trades() {
    const n = this.costs.length;
    return {
      recent_fills: this.fills,
      stats: {
        fills: this.counts.fills,
        orders: this.counts.orders,
        rejections: this.counts.rejections,
        denials: this.counts.denials,
        closed_positions: this.counts.closed_positions,
        mean_cost_pips: n ? this.costs.reduce((a, b) => a + b, 0) / n : null,
        loss_streak: this.lossStreak,
      },
    };
  }

  panel(p: PanelType) {
    return p === 'collection_status' ? this.collection() : p === 'trader_state' ? this.trader() : this.trades();
  }
}

