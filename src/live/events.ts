// The runner's typed event bus: everything the runner does is an event here. The dashboard (issue 13)
// and the journal subscribe; live code never imports a subscriber. Payloads are snake_case plain data,
// so a subscriber can store or send them as they are.
export type RiskState = 'ACTIVE' | 'REDUCING' | 'HALTED';

export interface LiveEventMap {
  bar: { instrument: string; ts: number; open: number; high: number; low: number; close: number; bid_close: number | null; ask_close: number | null };
  decision: { instrument: string; ts: number; bar_index: number; action: string; reason: string; position_units: number; strategy: string };
  order: { client_id: string; instrument: string; units: number; intent: string; status: string; reason: string | null; ts: number };
  fill: { client_id: string | null; transaction_id: string; instrument: string; units: number; price: number; mid: number | null; ts: number };
  reconciliation: { ts: number; instrument: string; trigger: string; ok: boolean; broker_units: number | null; local_units: number; discrepancy: string | null; action: string };
  risk_state: { ts: number; from: RiskState; to: RiskState; reason: string };
  risk_denial: { ts: number; code: string; message: string; client_id: string; units: number };
  alert: { ts: number; severity: 'info' | 'warning' | 'critical'; code: string; message: string };
  feed: { ts: number; status: 'connected' | 'disconnected' | 'gap' | 'market_closed' | 'market_open'; detail: string };
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
