// The runner's typed event bus: everything the runner does is an event here. The dashboard (issue 13)
// and the journal subscribe; live code never imports a subscriber. Payloads are snake_case plain data,
// so a subscriber can store or send them as they are.
export type RiskState = 'ACTIVE' | 'REDUCING' | 'HALTED';

export interface LiveEventMap {
  bar: { instrument: string; ts: number; open: number; high: number; low: number; close: number; bid_close: number | null; ask_close: number | null };
  /** visits: the search's root visit counts by action (null: the policy does not search). */
  decision: { instrument: string; ts: number; bar_index: number; action: string; reason: string; position_units: number; strategy: string; visits: Record<string, number> | null };
  order: { client_id: string; instrument: string; units: number; intent: string; status: string; reason: string | null; ts: number };
  fill: { client_id: string | null; transaction_id: string; instrument: string; units: number; price: number; mid: number | null; ts: number };
  reconciliation: { ts: number; instrument: string; trigger: string; ok: boolean; broker_units: number | null; local_units: number; discrepancy: string | null; action: string };
  risk_state: { ts: number; from: RiskState; to: RiskState; reason: string };
  risk_denial: { ts: number; code: string; message: string; client_id: string; units: number };
  alert: { ts: number; severity: 'info' | 'warning' | 'critical'; code: string; message: string };
  feed: { ts: number; status: 'connected' | 'disconnected' | 'gap' | 'market_closed' | 'market_open'; detail: string };
  /** A closed trade of the strategy (pips as the market core books them, for env.units; units: the position's). */
  trade: {
    ts: number;
    strategy: string;
    instrument: string;
    side: 'long' | 'short';
    units: number;
    entry_ts: number;
    exit_ts: number;
    entry_price: number;
    exit_price: number;
    gross_pips: number;
    cost_pips: number;
    net_pips: number;
    bars_held: number;
    forced: boolean;
  };
  /** The size chosen for an entry and everything it was computed from (src/live/sizing.ts). */
  sizing: SizingEvent;
}

export interface SizingEvent {
  ts: number;
  strategy: string;
  client_id: string;
  method: 'fixed' | 'kelly' | 'safe_f';
  /** The units ordered (0: no order). */
  units: number;
  /** Units before the risk caps. */
  requested_units: number;
  /** Fraction of the balance as notional the units come from (null: fixed units). */
  fraction: number | null;
  /** Kelly's f* = W − (1 − W) / R, or the validation's safe-f, before the fraction and clamp. */
  raw_fraction: number | null;
  kelly_multiplier: number | null;
  win_rate: number | null;
  payoff_ratio: number | null;
  trades: number;
  safe_f: number | null;
  validation_id: number | null;
  balance: number | null;
  price: number;
  scale: number;
  /** Which bound of [min_fraction, max_fraction] was applied (null: none). */
  clamp: 'min' | 'max' | null;
  /** Which risk limit cut the size (null: none). */
  cap: 'max_order_units' | 'max_position_units' | null;
  /** Why the method's own size was not used (e.g. too few trades for Kelly); null: it was. */
  fallback: string | null;
}

export type LiveEventName = keyof LiveEventMap;
export type Listener<K extends LiveEventName> = (e: LiveEventMap[K]) => void;

export class EventBus {
  private readonly listeners: { [K in LiveEventName]?: Array<Listener<K>> } = {};
  private readonly any: Array<(name: LiveEventName, e: LiveEventMap[LiveEventName]) => void> = [];

  /** Subscribes to one event type; returns the unsubscribe function. */
  on<K extends LiveEventName>(name: K, fn: Listener<K>): () => void {
    const list = (this.listeners[name] ??= []) as Array<Listener<K>>;
    list.push(fn);
    return () => list.splice(list.indexOf(fn), 1);
  }

  /** Subscribes to every event (the journal). */
  onAny(fn: (name: LiveEventName, e: LiveEventMap[LiveEventName]) => void): () => void {
    this.any.push(fn);
    return () => this.any.splice(this.any.indexOf(fn), 1);
  }

  emit<K extends LiveEventName>(name: K, e: LiveEventMap[K]): void {
    for (const fn of (this.listeners[name] ?? []) as Array<Listener<K>>) fn(e);
    for (const fn of this.any) fn(name, e);
  }
}

export interface LoggedEvent {
  seq: number;
  name: LiveEventName;
  data: LiveEventMap[LiveEventName];
}

/** A run's events kept for followers: about a week of M1 bars with their decisions (a few MB at most). */
export const EVENT_LOG_CAPACITY = 20_000;

/**
 * The bus's recent events, numbered from 1, for a reader in another process (`swt serve` asks the
 * runner's API for the events after its cursor). It keeps the newest `capacity` events: a reader that
 * falls further behind learns it from `first_seq`.
 */
export class EventLog {
  private buf: LoggedEvent[] = [];
  private head = 0;
  private nextSeq = 1;
  private waiters: Array<() => void> = [];

  constructor(private readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`EventLog: capacity must be an integer >= 1, got ${capacity}`);
  }

  attach(bus: EventBus): () => void {
    return bus.onAny((name, data) => this.push(name, data));
  }

  push(name: LiveEventName, data: LiveEventMap[LiveEventName]): void {
    this.buf.push({ seq: this.nextSeq++, name, data });
    // drop from the front in chunks: O(1) amortised per event
    if (this.buf.length - this.head > this.capacity) this.head++;
    if (this.head >= this.capacity) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /** Up to `limit` events with seq > after; first_seq: the oldest one kept; next_seq: the next to be logged. */
  since(after: number, limit: number): { first_seq: number; next_seq: number; events: LoggedEvent[] } {
    const first = this.buf.length > this.head ? this.buf[this.head].seq : this.nextSeq;
    const from = this.head + Math.max(0, after + 1 - first);
    return { first_seq: first, next_seq: this.nextSeq, events: this.buf.slice(from, Math.min(this.buf.length, from + limit)) };
  }

  /** Resolves at the next event, or after `ms`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref(); // a pending follower never keeps a finished runner alive
      this.waiters.push(done);
    });
  }
}
