// OANDA v20 wire shapes (raw models), their zod parsers, and the step to domain types (../broker.ts).
// Prices and units travel as decimal strings; times as RFC 3339 with up to nanoseconds. Only the fields
// swt reads are declared; the rest pass through (the API adds fields over time).
import { z } from 'zod';
import type { AccountSummary, Fill, PositionReport, PriceTick, TradeReport, Transaction } from '../broker.js';
import { BrokerProtocolError } from '../broker.js';

const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal string');
const id = z.string().regex(/^\d+$/, 'expected a transaction id');
const time = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, 'expected an RFC 3339 UTC time');

export const rawAccountSummary = z.object({
  account: z.object({
    id: z.string(),
    currency: z.string(),
    balance: decimal,
    NAV: decimal,
    unrealizedPL: decimal,
    openPositionCount: z.number().int(),
    lastTransactionID: id,
  }),
  lastTransactionID: id,
});

const rawPositionSide = z.object({ units: decimal, averagePrice: decimal.optional() });
export const rawPosition = z.object({ instrument: z.string(), long: rawPositionSide, short: rawPositionSide });
export const rawPositions = z.object({ positions: z.array(rawPosition), lastTransactionID: id });

const clientExtensions = z.object({ id: z.string().optional(), tag: z.string().optional(), comment: z.string().optional() });
export const rawTrade = z.object({
  id,
  instrument: z.string(),
  price: decimal,
  openTime: time,
  currentUnits: decimal,
  clientExtensions: clientExtensions.optional(),
});
export const rawTrades = z.object({ trades: z.array(rawTrade), lastTransactionID: id });

const priceBucket = z.object({ price: decimal, liquidity: z.number().optional() });
const clientPrice = z.object({ bids: z.array(priceBucket), asks: z.array(priceBucket) });

/** Any transaction: the fields of the types swt reads, all optional beyond id/time/type. */
export const rawTransaction = z.object({
  id,
  time,
  type: z.string(),
  instrument: z.string().optional(),
  units: decimal.optional(),
  price: decimal.optional(),
  reason: z.string().optional(),
  orderID: id.optional(),
  clientOrderID: z.string().optional(),
  clientExtensions: clientExtensions.optional(),
  fullPrice: clientPrice.optional(),
  rejectReason: z.string().optional(),
});
export type RawTransaction = z.infer<typeof rawTransaction>;
export const rawTransactions = z.object({ transactions: z.array(rawTransaction), lastTransactionID: id });

export const rawOrderResponse = z.object({
  orderCreateTransaction: rawTransaction.optional(),
  orderFillTransaction: rawTransaction.optional(),
  orderCancelTransaction: rawTransaction.optional(),
  orderRejectTransaction: rawTransaction.optional(),
  lastTransactionID: id.optional(),
  errorCode: z.string().optional(),
  errorMessage: z.string().optional(),
});

export const rawChanges = z.object({
  changes: z.object({ transactions: z.array(rawTransaction) }),
  state: z.object({ positions: z.array(z.object({ instrument: z.string(), netUnrealizedPL: decimal.optional() })).optional() }).optional(),
  lastTransactionID: id,
});

export const rawStreamLine = z.discriminatedUnion('type', [
  z.object({ type: z.literal('HEARTBEAT'), time }),
  z.object({ type: z.literal('PRICE'), time, instrument: z.string(), bids: z.array(priceBucket).min(1), asks: z.array(priceBucket).min(1), tradeable: z.boolean().optional() }),
]);

const rawOhlc = z.object({ o: decimal, h: decimal, l: decimal, c: decimal });
export const rawCandles = z.object({
  instrument: z.string(),
  granularity: z.string(),
  candles: z.array(z.object({ time, volume: z.number().int(), complete: z.boolean(), mid: rawOhlc.optional(), bid: rawOhlc.optional(), ask: rawOhlc.optional() })),
});

/** Parses a response body with `schema`; a mismatch is a protocol error naming the endpoint and field. */
export function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new BrokerProtocolError(`${what}: unexpected response at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/** RFC 3339 (nanoseconds allowed) → epoch ms, truncating below the millisecond. */
export function timeMs(t: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(t);
  if (!m) throw new BrokerProtocolError(`not an RFC 3339 UTC time: ${t}`);
  const ms = m[2] ? Number(m[2].padEnd(3, '0').slice(0, 3)) : 0;
  return Date.parse(`${m[1]}Z`) + ms;
}

const num = (s: string | undefined): number | null => (s === undefined ? null : Number(s));

export function accountSummaryOf(r: z.infer<typeof rawAccountSummary>): AccountSummary {
  const a = r.account;
  return {
    id: a.id,
    currency: a.currency,
    balance: Number(a.balance),
    nav: Number(a.NAV),
    unrealizedPl: Number(a.unrealizedPL),
    openPositionCount: a.openPositionCount,
    lastTransactionId: r.lastTransactionID,
  };
}

export function positionOf(p: z.infer<typeof rawPosition>): PositionReport {
  const long = Number(p.long.units);
  const short = Number(p.short.units);
  const units = long + short;
  const avg = units > 0 ? num(p.long.averagePrice) : units < 0 ? num(p.short.averagePrice) : null;
  return { instrument: p.instrument, units, averagePrice: avg };
}

export function tradeOf(t: z.infer<typeof rawTrade>): TradeReport {
  return { id: t.id, instrument: t.instrument, units: Number(t.currentUnits), price: Number(t.price), openTs: timeMs(t.openTime), clientId: t.clientExtensions?.id ?? null };
}

export function transactionOf(t: RawTransaction): Transaction {
  return {
    id: t.id,
    type: t.type,
    ts: timeMs(t.time),
    instrument: t.instrument ?? null,
    units: num(t.units),
    price: num(t.price),
    clientId: t.clientOrderID ?? t.clientExtensions?.id ?? null,
    reason: t.rejectReason ?? t.reason ?? null,
  };
}

/** An ORDER_FILL transaction as a Fill (mid from its full price when present). */
export function fillOf(t: RawTransaction): Fill {
  if (t.type !== 'ORDER_FILL' || t.units === undefined || t.price === undefined || !t.instrument) {
    throw new BrokerProtocolError(`transaction ${t.id}: expected an ORDER_FILL with instrument, units and price, got ${t.type}`);
  }
  const fp = t.fullPrice;
  const mid = fp && fp.bids.length && fp.asks.length ? (Number(fp.bids[0].price) + Number(fp.asks[0].price)) / 2 : null;
  return { transactionId: t.id, clientId: t.clientOrderID ?? null, instrument: t.instrument, units: Number(t.units), price: Number(t.price), mid, ts: timeMs(t.time) };
}

export function tickOf(l: Extract<z.infer<typeof rawStreamLine>, { type: 'PRICE' }>): PriceTick {
  return { instrument: l.instrument, ts: timeMs(l.time), bid: Number(l.bids[0].price), ask: Number(l.asks[0].price), tradeable: l.tradeable ?? true };
}

/** Signed whole units as the decimal string the API wants. */
export function unitsString(units: number): string {
  if (!Number.isInteger(units) || units === 0) throw new BrokerProtocolError(`order units must be a non-zero whole number, got ${units}`);
  return String(units);
}
