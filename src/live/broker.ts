// The broker at the edge: the few calls the runner needs, in domain types (numbers and epoch ms, signed
// units: + long, − short). The OANDA client and the paper broker both implement it, so the runner never
// knows which one it talks to. Raw wire shapes live in ./oanda/models.ts only.
import { InputError } from '../util/errors.js';

export interface AccountSummary {
  id: string;
  currency: string;
  balance: number;
  nav: number;
  unrealizedPl: number;
  openPositionCount: number;
  /** Newest transaction id on the account (the point to read transactions from). */
  lastTransactionId: string;
}

/** The net position of one instrument (a hedging account's long and short are netted here). */
export interface PositionReport {
  instrument: string;
  /** Signed net units (0: flat). */
  units: number;
  /** Average entry price of the net position (null when flat). */
  averagePrice: number | null;
}

export interface TradeReport {
  id: string;
  instrument: string;
  /** Signed current units. */
  units: number;
  price: number;
  openTs: number;
  /** The client id swt gave the order that opened it (null: opened outside swt). */
  clientId: string | null;
}

export interface OrderRequest {
  instrument: string;
  /** Signed, non-zero whole units. */
  units: number;
  /** swt's id for the intent: the broker keeps it, so the outcome can be found after a timeout. */
  clientId: string;
}

export interface Fill {
  transactionId: string;
  clientId: string | null;
  instrument: string;
  /** Signed units filled. */
  units: number;
  /** Executed price (the ask for a buy, the bid for a sell). */
  price: number;
  /** Mid price at the fill (the price convention of the market core); null when the broker gave none. */
  mid: number | null;
  ts: number;
}

export type OrderOutcome =
  | { status: 'filled'; fill: Fill }
  | { status: 'rejected'; reason: string }
  | { status: 'cancelled'; reason: string }
  /** The request's fate could not be learned (timeout, and no transaction carries its client id). */
  | { status: 'not_found'; reason: string };

export interface Transaction {
  id: string;
  type: string;
  ts: number;
  instrument: string | null;
  units: number | null;
  price: number | null;
  clientId: string | null;
  reason: string | null;
}

export interface TransactionsPage {
  transactions: Transaction[];
  lastTransactionId: string;
}

export interface AccountChanges {
  /** Fills since the id. */
  fills: Fill[];
  positions: PositionReport[];
  lastTransactionId: string;
}

export interface PriceTick {
  instrument: string;
  ts: number;
  bid: number;
  ask: number;
  tradeable: boolean;
}

export interface PriceStreamHandlers {
  onTick(t: PriceTick): void;
  onHeartbeat?(ts: number): void;
  /** A connection dropped or went stale; the stream reconnects by itself. */
  onDisconnect?(reason: string): void;
  onConnect?(): void;
}

export interface PriceStream {
  /** Stops the stream (no reconnect). */
  close(): void;
  /** Resolves once the stream has stopped. */
  readonly done: Promise<void>;
}

export interface Broker {
  readonly kind: 'paper' | 'oanda';
  /**
   * True when a market order fills at the next bar's open (the paper broker): the runner feeds it each
   * bar (onBar) and collects the outcome then. False: the outcome comes with the answer.
   */
  readonly fillsAtNextBar: boolean;
  /** Newest transaction id this client has seen (where a lost order's outcome is searched from). */
  readonly lastTransactionId: string;
  /** The paper broker's price source: each completed bar, before the runner acts on it. */
  onBar?(bar: { ts: number; open: number; close: number }): void;
  accountSummary(): Promise<AccountSummary>;
  openPositions(): Promise<PositionReport[]>;
  openTrades(): Promise<TradeReport[]>;
  marketOrder(req: OrderRequest): Promise<OrderOutcome>;
  /** Closes the whole position of the instrument (no-op outcome list when flat). */
  closePosition(instrument: string, clientId: string): Promise<OrderOutcome[]>;
  transactionsSince(id: string): Promise<TransactionsPage>;
  accountChangesSince(id: string): Promise<AccountChanges>;
  priceStream(instruments: readonly string[], handlers: PriceStreamHandlers): PriceStream;
  close?(): Promise<void>;
}

/** A broker answer that is not what the documented API promises (unparseable, missing fields). */
export class BrokerProtocolError extends Error {}

/** A broker request that failed after its retries (network, 5xx, timeouts). */
export class BrokerUnavailableError extends Error {}

/** The broker refused the credentials or the account (fix the setup, not the code). */
export class BrokerAuthError extends InputError {}

/** The signed position of `instrument` in a list of reports (0 when absent). */
export function unitsOf(positions: readonly PositionReport[], instrument: string): number {
  let u = 0;
  for (const p of positions) if (p.instrument === instrument) u += p.units;
  return u;
}
