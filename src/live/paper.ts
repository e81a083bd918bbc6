// The paper broker: simulated fills behind the Broker interface. A market order fills at the next bar's
// open, the backtest's rule: the mid there (moved against the order by `slippagePips`), executed half
// the configured spread worse. The fill's mid is what the market core books, so with no slippage a
// paper run trades exactly as `swt backtest`. A close outside a decision (flatten) fills at the last
// bar's close. Everything is kept in memory, like a broker account: positions, trades, transactions.
import type { AccountChanges, AccountSummary, Broker, Fill, OrderOutcome, OrderRequest, PositionReport, PriceStream, TradeReport, Transaction, TransactionsPage } from './broker.js';
import { BrokerProtocolError } from './broker.js';

export interface PaperBrokerOptions {
  instrument: string;
  pipSize: number;
  /** Round-trip spread in pips (half is paid on each side). */
  spreadPips: number;
  slippagePips: number;
  balance: number;
}

interface Pending {
  req: OrderRequest;
  resolve: (o: OrderOutcome) => void;
}

export class PaperBroker implements Broker {
  readonly kind = 'paper' as const;
  readonly fillsAtNextBar = true;
  private units = 0;
  private avg = 0;
  private openClientId: string | null = null;
  private openTs = 0;
  private readonly log: Transaction[] = [];
  private readonly fills: Fill[] = [];
  private pending: Pending[] = [];
  private last: { ts: number; close: number } | null = null;

  constructor(private readonly o: PaperBrokerOptions) {}

  private txn(type: string, f: Partial<Transaction>, ts: number): Transaction {
    const t: Transaction = { id: String(this.log.length + 1), type, ts, instrument: null, units: null, price: null, clientId: null, reason: null, ...f };
    this.log.push(t);
    return t;
  }

  get lastTransactionId(): string {
    return String(this.log.length);
  }

  onBar(bar: { ts: number; open: number; close: number }): void {
    const due = this.pending;
    this.pending = [];
    for (const p of due) p.resolve({ status: 'filled', fill: this.fill(p.req, bar.open, bar.ts) });
    this.last = { ts: bar.ts, close: bar.close };
  }

  private fill(req: OrderRequest, mid0: number, ts: number): Fill {
    const dir = Math.sign(req.units);
    const mid = this.o.slippagePips === 0 ? mid0 : mid0 + dir * this.o.slippagePips * this.o.pipSize;
    const price = mid + (dir * this.o.spreadPips * this.o.pipSize) / 2;
    const t = this.txn('ORDER_FILL', { instrument: req.instrument, units: req.units, price, clientId: req.clientId, reason: 'MARKET_ORDER' }, ts);
    const next = this.units + req.units;
    if (this.units === 0 || Math.sign(next) !== Math.sign(this.units)) {
      this.avg = price;
      this.openClientId = req.clientId;
      this.openTs = ts;
    } else if (Math.abs(next) > Math.abs(this.units)) {
      this.avg = (this.avg * Math.abs(this.units) + price * Math.abs(req.units)) / Math.abs(next);
    }
    this.units = next;
    const f: Fill = { transactionId: t.id, clientId: req.clientId, instrument: req.instrument, units: req.units, price, mid, ts };
    this.fills.push(f);
    return f;
  }

  async accountSummary(): Promise<AccountSummary> {
    return { id: 'paper', currency: 'USD', balance: this.o.balance, nav: this.o.balance, unrealizedPl: 0, openPositionCount: this.units === 0 ? 0 : 1, lastTransactionId: this.lastTransactionId };
  }

  async openPositions(): Promise<PositionReport[]> {
    return this.units === 0 ? [] : [{ instrument: this.o.instrument, units: this.units, averagePrice: this.avg }];
  }

  async openTrades(): Promise<TradeReport[]> {
    return this.units === 0 ? [] : [{ id: '1', instrument: this.o.instrument, units: this.units, price: this.avg, openTs: this.openTs, clientId: this.openClientId }];
  }

  marketOrder(req: OrderRequest): Promise<OrderOutcome> {
    if (req.instrument !== this.o.instrument) return Promise.resolve({ status: 'rejected', reason: `the paper broker trades ${this.o.instrument} only` });
    if (!Number.isInteger(req.units) || req.units === 0) throw new BrokerProtocolError(`order units must be a non-zero whole number, got ${req.units}`);
    this.txn('MARKET_ORDER', { instrument: req.instrument, units: req.units, clientId: req.clientId }, this.last?.ts ?? 0);
    return new Promise((resolve) => this.pending.push({ req, resolve }));
  }

  async closePosition(instrument: string, clientId: string): Promise<OrderOutcome[]> {
    if (this.units === 0 || instrument !== this.o.instrument) return [];
    if (!this.last) throw new BrokerProtocolError('the paper broker has seen no bar yet: nothing to close at');
    const req = { instrument, units: -this.units, clientId };
    this.txn('MARKET_ORDER', { instrument, units: req.units, clientId }, this.last.ts);
    return [{ status: 'filled', fill: this.fill(req, this.last.close, this.last.ts) }];
  }

  async transactionsSince(id: string): Promise<TransactionsPage> {
    return { transactions: this.log.filter((t) => Number(t.id) > Number(id)), lastTransactionId: this.lastTransactionId };
  }

  async accountChangesSince(id: string): Promise<AccountChanges> {
    return { fills: this.fills.filter((f) => Number(f.transactionId) > Number(id)), positions: await this.openPositions(), lastTransactionId: this.lastTransactionId };
  }

  priceStream(): PriceStream {
    throw new BrokerProtocolError('the paper broker has no price stream of its own: give it a feed (--feed replay, or stream from OANDA)');
  }
}
