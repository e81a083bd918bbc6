// The live journal: the runner's record in DuckDB (tables of migration 008), written through the
// store's write queue with the file held only per unit (hold 'unit': `swt serve` or a research command
// can open the file between bars). It lives in its own file by default (live.journal): the runner
// writes every bar for weeks, and must never wait behind a long research command holding the main
// store while an order is due.
//   - Events are buffered and written once per bar, in one transaction.
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

  constructor(
    readonly store: Store,
    readonly runId: string,
    readonly strategy: string,
  ) {}

  /** Buffers every event of the bus (written by afterBar / flush). */
  attach(bus: EventBus): void {
    this.detach = bus.onAny((name, e) => this.buffer.push({ name, e }));
  }

  async intent(o: OrderIntent, ts: number): Promise<void> {
    await this.store.run(
      `INSERT INTO orders (client_id, run_id, strategy, instrument, units, target_units, intent, status, reason, since_transaction_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted', NULL, $8, $9::TIMESTAMP, $9::TIMESTAMP)`,
      [o.client_id, this.runId, this.strategy, o.instrument, o.units, o.target_units, o.intent, o.since_transaction_id, tsOf(ts)],
    );
  }

  async outcome(clientId: string, status: string, reason: string | null, ts: number): Promise<void> {
    await this.store.run(`UPDATE orders SET status = $2, reason = $3, updated_at = $4::TIMESTAMP WHERE client_id = $1`, [clientId, status, reason, tsOf(ts)]);
  }

  async openIntents(instrument: string): Promise<OpenIntent[]> {
    const rows = await this.store.all<Record<string, unknown>>(
      `SELECT client_id, run_id, instrument, units, target_units, intent, since_transaction_id FROM orders WHERE status = 'submitted' AND instrument = $1 ORDER BY created_at`,
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
    const r = await this.store.one<{ units: number }>(`SELECT units FROM positions WHERE instrument = $1 ORDER BY ts DESC, rowid DESC LIMIT 1`, [instrument]);
    return r ? Number(r.units) : null;
  }

  async afterBar(): Promise<void> {
    await this.flush();
  }

  /** Writes the buffered events (one transaction). */
  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    await this.store.transaction(async () => {
      for (const { name, e } of batch) {
        const ts = tsOf((e as { ts: number }).ts);
        if (name === 'decision') {
          const d = e as LiveEventMap['decision'];
          await this.store.run(`INSERT INTO decisions VALUES ($1, $2, $3, $4::TIMESTAMP, $5, $6, $7, $8)`, [this.runId, d.strategy, d.instrument, ts, d.bar_index, d.action, d.reason, d.position_units]);
        } else if (name === 'fill') {
          const f = e as LiveEventMap['fill'];
          await this.store.run(`INSERT INTO fills VALUES ($1, $2, $3, $4, $5, $6, $7, $8::TIMESTAMP) ON CONFLICT DO NOTHING`, [this.runId, f.transaction_id, f.client_id, f.instrument, f.units, f.price, f.mid, ts]);
        } else if (name === 'reconciliation') {
          const r = e as LiveEventMap['reconciliation'];
          await this.store.run(`INSERT INTO reconciliations VALUES ($1, $2::TIMESTAMP, $3, $4, $5, $6, $7, $8)`, [this.runId, ts, r.trigger, r.ok, r.broker_units, r.local_units, r.discrepancy, r.action]);
          if (r.ok && r.broker_units !== null) await this.store.run(`INSERT INTO positions VALUES ($1, $2::TIMESTAMP, $3, $4, 'reconciled')`, [this.runId, ts, r.instrument, r.broker_units]);
        }
        if (name !== 'bar') await this.store.run(`INSERT INTO events VALUES ($1, $2::TIMESTAMP, $3, $4::JSON)`, [this.runId, ts, name, JSON.stringify(e)]);
      }
    });
  }

  async close(): Promise<void> {
    this.detach?.();
    await this.flush();
  }
}
