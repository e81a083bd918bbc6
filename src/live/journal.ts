// The live journal: the runner's record in DuckDB (tables of migration 008), written through the
// store's write queue. It lives in its own file (live.journal), which the runner holds for its whole
// run: it writes every bar for weeks and must never wait behind a research command holding the main
// store while an order is due, nor pay a DuckDB open per write. Other processes (swt live status, the
// dashboard) ask the runner's API instead of opening the file.
//   - Events are buffered and written at most once a second of wall time (and at close), in one
//     transaction: a replay at full speed would otherwise spend its time committing. A kill -9 loses at
//     most that second of events, never an order: intents and outcomes are written at once, and the
//     position a restart resumes is the newest of the reconciled positions and the filled orders.
//   - An order intent is written, and committed, before the order leaves (write-ahead); its outcome as
//     soon as it is known. A runner killed in between finds the intent 'submitted' at restart.
import type { Store } from '../store/db.js';
import type { EventBus, LiveEventMap, LiveEventName } from './events.js';

export interface OrderIntent {
  client_id: string;
  instrument: string;
  units: number;
  target_units: number;
  intent: string;
  since_transaction_id: string;
}

export interface OpenIntent extends OrderIntent {
  run_id: string;
}

/** What the runner needs from a journal (null: a run that keeps none, e.g. the parity replay). */
export interface JournalHooks {
  intent(o: OrderIntent, ts: number): Promise<void>;
  outcome(clientId: string, status: string, reason: string | null, ts: number): Promise<void>;
  /** Intents left 'submitted' by an earlier run (killed mid-order). */
  openIntents(instrument: string): Promise<OpenIntent[]>;
  /** The last position swt and the broker agreed on (null: none recorded). */
  lastPosition(instrument: string): Promise<number | null>;
  afterBar(): Promise<void>;
}

const tsOf = (ms: number) => new Date(ms).toISOString();

export class Journal implements JournalHooks {
  private buffer: Array<{ name: LiveEventName; e: LiveEventMap[LiveEventName] }> = [];
  private detach: (() => void) | null = null;

  /**
   * `strategy` tags every row (the policy spec as given); a `shadow` journal records a simulated book:
   * its rows never feed a restart's resume (the shadow's paper book starts flat in every run).
   */
  constructor(
    readonly store: Store,
    readonly runId: string,
    readonly strategy: string,
    readonly shadow = false,
  ) {}

  /** Buffers every event of the bus (written by afterBar / flush). */
  attach(bus: EventBus): void {
    this.detach = bus.onAny((name, e) => this.buffer.push({ name, e }));
  }

  async intent(o: OrderIntent, ts: number): Promise<void> {
    await this.store.run(
      `INSERT INTO orders (client_id, run_id, strategy, instrument, units, target_units, intent, status, reason, since_transaction_id, created_at, updated_at, shadow)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted', NULL, $8, $9::TIMESTAMP, $9::TIMESTAMP, $10)`,
      [o.client_id, this.runId, this.strategy, o.instrument, o.units, o.target_units, o.intent, o.since_transaction_id, tsOf(ts), this.shadow],
    );
  }

  async outcome(clientId: string, status: string, reason: string | null, ts: number): Promise<void> {
    await this.store.run(`UPDATE orders SET status = $2, reason = $3, updated_at = $4::TIMESTAMP WHERE client_id = $1`, [clientId, status, reason, tsOf(ts)]);
  }

  async openIntents(instrument: string): Promise<OpenIntent[]> {
    if (this.shadow) return [];
    const rows = await this.store.all<Record<string, unknown>>(
      `SELECT client_id, run_id, instrument, units, target_units, intent, since_transaction_id FROM orders
       WHERE status = 'submitted' AND instrument = $1 AND NOT COALESCE(shadow, false) ORDER BY created_at`,
      [instrument],
    );
    return rows.map((r) => ({
      client_id: String(r.client_id),
      run_id: String(r.run_id),
      instrument: String(r.instrument),
      units: Number(r.units),
      target_units: Number(r.target_units),
      intent: String(r.intent),
      since_transaction_id: String(r.since_transaction_id),
    }));
  }

  async lastPosition(instrument: string): Promise<number | null> {
    if (this.shadow) return null;
    await this.flush();
    const r = await this.store.one<{ units: number }>(
      `SELECT units FROM (
         SELECT ts, units, 0 AS k FROM positions WHERE instrument = $1 AND NOT COALESCE(shadow, false)
         UNION ALL SELECT updated_at AS ts, target_units AS units, 1 AS k FROM orders WHERE instrument = $1 AND status = 'filled' AND NOT COALESCE(shadow, false)
       ) ORDER BY ts DESC, k DESC LIMIT 1`,
      [instrument],
    );
    return r ? Number(r.units) : null;
  }

  private lastFlush = 0;

  async afterBar(): Promise<void> {
    if (performance.now() - this.lastFlush >= 1000) await this.flush();
  }

  /** Writes the buffered events: one multi-row INSERT per table and chunk, in one transaction. */
  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.lastFlush = performance.now();
    const rows: Record<string, unknown[][]> = { decisions: [], fills: [], reconciliations: [], positions: [], events: [] };
    for (const { name, e } of batch) {
      const ts = tsOf((e as { ts: number }).ts);
      if (name === 'decision') {
        const d = e as LiveEventMap['decision'];
        rows.decisions.push([this.runId, d.strategy, d.instrument, ts, d.bar_index, d.action, d.reason, d.position_units, this.shadow]);
      } else if (name === 'fill') {
        const f = e as LiveEventMap['fill'];
        rows.fills.push([this.runId, this.strategy, f.transaction_id, f.client_id, f.instrument, f.units, f.price, f.mid, ts]);
      } else if (name === 'reconciliation') {
        const r = e as LiveEventMap['reconciliation'];
        rows.reconciliations.push([this.runId, ts, r.trigger, r.ok, r.broker_units, r.local_units, r.discrepancy, r.action, this.strategy]);
        if (r.ok && r.broker_units !== null) rows.positions.push([this.runId, ts, r.instrument, r.broker_units, 'reconciled', this.strategy, this.shadow]);
      }
      if (name !== 'bar') rows.events.push([this.runId, ts, name, JSON.stringify(e), this.strategy]);
    }
    // column lists: migration 012 appended columns, and fills was rebuilt in another order
    const columns: Record<string, Array<[string, string]>> = {
      decisions: [['run_id', ''], ['strategy', ''], ['instrument', ''], ['ts', '::TIMESTAMP'], ['bar_index', ''], ['action', ''], ['reason', ''], ['position_units', ''], ['shadow', '']],
      fills: [['run_id', ''], ['strategy', ''], ['transaction_id', ''], ['client_id', ''], ['instrument', ''], ['units', ''], ['price', ''], ['mid', ''], ['ts', '::TIMESTAMP']],
      reconciliations: [['run_id', ''], ['ts', '::TIMESTAMP'], ['trigger', ''], ['ok', ''], ['broker_units', ''], ['local_units', ''], ['discrepancy', ''], ['action', ''], ['strategy', '']],
      positions: [['run_id', ''], ['ts', '::TIMESTAMP'], ['instrument', ''], ['units', ''], ['source', ''], ['strategy', ''], ['shadow', '']],
      events: [['run_id', ''], ['ts', '::TIMESTAMP'], ['name', ''], ['payload', ''], ['strategy', '']],
    };
    await this.store.transaction(async () => {
      for (const [table, list] of Object.entries(rows)) {
        for (let k = 0; k < list.length; k += 200) {
          const chunk = list.slice(k, k + 200);
          const c = columns[table];
          const values = chunk.map((_r, ri) => `(${c.map(([, cast], ci) => `$${ri * c.length + ci + 1}${cast}`).join(', ')})`).join(', ');
          const conflict = table === 'fills' ? ' ON CONFLICT DO NOTHING' : '';
          await this.store.run(`INSERT INTO ${table} (${c.map(([n]) => n).join(', ')}) VALUES ${values}${conflict}`, chunk.flat() as never);
        }
      }
    });
  }

  async close(): Promise<void> {
    this.detach?.();
    await this.flush();
  }
}
