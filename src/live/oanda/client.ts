// A typed OANDA v20 client (REST + pricing stream) implementing the Broker interface.
//  - One keep-alive agent per host, at most 2 sockets: OANDA allows 2 new connections per second and
//    100 requests per second per connection; requests are spaced to stay under that.
//  - GETs retry network errors, timeouts, 429 and 5xx with exponential backoff and jitter (429 waits
//    Retry-After when given).
//  - An order POST is never retried blindly: only a 429 (refused before processing) is retried. After a
//    timeout, a dropped connection or a 5xx the outcome is looked up by the order's client id in the
//    transactions since the id known before the POST.
//  - The pricing stream is NDJSON: lines are parsed only when complete (a chunk may end mid-line); a
//    stream that sends nothing for `staleMs` (heartbeats come every 5 s) is dropped and reconnected
//    with backoff.
// The token is a Secret: it goes into the Authorization header and nowhere else (never into an error).
import http from 'node:http';
import https from 'node:https';
import type { AccountChanges, AccountSummary, Broker, OrderOutcome, OrderRequest, PositionReport, PriceStream, PriceStreamHandlers, TradeReport, TransactionsPage } from '../broker.js';
import { BrokerAuthError, BrokerProtocolError, BrokerUnavailableError } from '../broker.js';
import type { Secret } from '../secret.js';
import {
  accountSummaryOf,
  fillOf,
  parse,
  positionOf,
  rawAccountSummary,
  rawCandles,
  rawChanges,
  rawOrderResponse,
  rawPositions,
  rawStreamLine,
  rawTrades,
  rawTransactions,
  tickOf,
  tradeOf,
  transactionOf,
  unitsString,
  type RawTransaction,
} from './models.js';
import type { z } from 'zod';

export interface OandaClientOptions {
  restUrl: string;
  streamUrl: string;
  accountId: string;
  token: Secret;
  /** Per-request timeout (REST). */
  timeoutMs: number;
  /** Retries of a GET after the first try. */
  retries: number;
  backoffMs: number;
  maxBackoffMs: number;
  /** A stream silent this long is stale (OANDA heartbeats every 5 s). */
  staleMs: number;
  requestsPerSecond: number;
  /** How often, and how far apart, the transactions are read for an order whose answer was lost. */
  orderLookupAttempts: number;
  orderLookupDelayMs: number;
  /** Jitter source (seed it for deterministic tests); Math.random by default. */
  random?: () => number;
}

interface Response {
  status: number;
  body: unknown;
  retryAfterMs: number | null;
}

/** A request whose fate is unknown: it may have been processed (timeout, dropped connection, 5xx). */
class AmbiguousError extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class OandaClient implements Broker {
  readonly kind = 'oanda' as const;
  readonly fillsAtNextBar = false;
  private readonly rest: URL;
  private readonly stream: URL;
  private readonly agent: http.Agent;
  private readonly streamAgent: http.Agent;
  private nextSlot = 0;
  /** Newest transaction id seen in any answer ('' until the first). */
  lastTransactionId = '';
  /** Requests sent, by method (tests check that an order POST was not repeated). */
  readonly sent = { GET: 0, POST: 0, PUT: 0 };

  constructor(private readonly o: OandaClientOptions) {
    this.rest = new URL(o.restUrl);
    this.stream = new URL(o.streamUrl);
    const A = this.rest.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new A({ keepAlive: true, maxSockets: 2 });
    const S = this.stream.protocol === 'https:' ? https.Agent : http.Agent;
    this.streamAgent = new S({ keepAlive: false, maxSockets: 1 });
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.streamAgent.destroy();
  }

  private acct(p: string): string {
    return `/v3/accounts/${encodeURIComponent(this.o.accountId)}${p}`;
  }

  private jitter(ms: number): number {
    return ms * (0.5 + (this.o.random ?? Math.random)());
  }

  private backoff(attempt: number): number {
    return Math.min(this.o.maxBackoffMs, this.jitter(this.o.backoffMs * 2 ** attempt));
  }

  /** Spaces request starts to stay under the per-connection rate limit. */
  private async slot(): Promise<void> {
    const now = Date.now();
    const gap = 1000 / this.o.requestsPerSecond;
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + gap;
    if (at > now) await sleep(at - now);
  }

  private once(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Response> {
    const url = new URL(path, this.rest);
    const mod = url.protocol === 'https:' ? https : http;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    this.sent[method]++;
    return new Promise<Response>((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.o.token.reveal()}`,
            'content-type': 'application/json',
            'accept-datetime-format': 'RFC3339',
            ...(payload ? { 'content-length': Buffer.byteLength(payload) } : {}),
          },
          timeout: this.o.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(new AmbiguousError(`${method} ${url.pathname}: ${e.message}`)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown = null;
            if (text) {
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
            }
            const ra = res.headers['retry-after'];
            const retryAfterMs = ra !== undefined && Number.isFinite(Number(ra)) ? Number(ra) * 1000 : null;
            resolve({ status: res.statusCode ?? 0, body: json, retryAfterMs });
          });
        },
      );
      req.on('timeout', () => req.destroy(new AmbiguousError(`${method} ${url.pathname}: no answer within ${this.o.timeoutMs} ms`)));
      req.on('error', (e) => reject(e instanceof AmbiguousError ? e : new AmbiguousError(`${method} ${url.pathname}: ${e.message}`)));
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** One request with the retry rules of its method (see the header). */
  private async request(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      await this.slot();
      let r: Response;
      try {
        r = await this.once(method, path, body);
      } catch (e) {
        if (method !== 'GET') throw e;
        if (attempt >= this.o.retries) throw new BrokerUnavailableError(`${(e as Error).message} (after ${attempt + 1} tries)`);
        await sleep(this.backoff(attempt));
        continue;
      }
      if (r.status === 401 || r.status === 403) throw new BrokerAuthError(`${method} ${path.split('?')[0]}: the broker refused the token or account (HTTP ${r.status})`);
      if (r.status === 429) {
        if (attempt >= this.o.retries) throw new BrokerUnavailableError(`${method} ${path.split('?')[0]}: rate limited (HTTP 429) after ${attempt + 1} tries`);
        await sleep(r.retryAfterMs ?? this.backoff(attempt));
        continue;
      }
      if (r.status >= 500) {
        if (method !== 'GET') throw new AmbiguousError(`${method} ${path.split('?')[0]}: HTTP ${r.status}`);
        if (attempt >= this.o.retries) throw new BrokerUnavailableError(`${method} ${path.split('?')[0]}: HTTP ${r.status} after ${attempt + 1} tries`);
        await sleep(this.backoff(attempt));
        continue;
      }
      if (r.body === undefined) throw new BrokerProtocolError(`${method} ${path.split('?')[0]}: HTTP ${r.status} with a body that is not JSON`);
      const last = (r.body as { lastTransactionID?: unknown } | null)?.lastTransactionID;
      if (typeof last === 'string' && (this.lastTransactionId === '' || BigInt(last) > BigInt(this.lastTransactionId))) this.lastTransactionId = last;
      return r;
    }
  }

  private async get<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const r = await this.request('GET', path);
    if (r.status !== 200) throw new BrokerProtocolError(`GET ${path.split('?')[0]}: HTTP ${r.status}: ${errorMessage(r.body)}`);
    return parse(schema, r.body, `GET ${path.split('?')[0]}`);
  }

  async accountSummary(): Promise<AccountSummary> {
    return accountSummaryOf(await this.get(this.acct('/summary'), rawAccountSummary));
  }

  async openPositions(): Promise<PositionReport[]> {
    return (await this.get(this.acct('/openPositions'), rawPositions)).positions.map(positionOf);
  }

  async openTrades(): Promise<TradeReport[]> {
    return (await this.get(this.acct('/openTrades'), rawTrades)).trades.map(tradeOf);
  }

  async transactionsSince(id: string): Promise<TransactionsPage> {
    const r = await this.get(this.acct(`/transactions/sinceid?id=${encodeURIComponent(id)}`), rawTransactions);
    return { transactions: dedupe(r.transactions).map(transactionOf), lastTransactionId: r.lastTransactionID };
  }

  async accountChangesSince(id: string): Promise<AccountChanges> {
    const r = await this.get(this.acct(`/changes?sinceTransactionID=${encodeURIComponent(id)}`), rawChanges);
    const fills = dedupe(r.changes.transactions).filter((t) => t.type === 'ORDER_FILL').map(fillOf);
    return { fills, positions: await this.openPositions(), lastTransactionId: r.lastTransactionID };
  }

  async marketOrder(req: OrderRequest): Promise<OrderOutcome> {
    const since = this.lastTransactionId || (await this.accountSummary()).lastTransactionId;
    const body = {
      order: {
        type: 'MARKET',
        instrument: req.instrument,
        units: unitsString(req.units),
        timeInForce: 'FOK',
        positionFill: 'DEFAULT',
        clientExtensions: { id: req.clientId, tag: 'swt' },
        tradeClientExtensions: { id: req.clientId, tag: 'swt' },
      },
    };
    let r: Response;
    try {
      r = await this.request('POST', this.acct('/orders'), body);
    } catch (e) {
      if (e instanceof AmbiguousError) return this.findOutcome(req.clientId, since, e.message);
      throw e;
    }
    const p = parse(rawOrderResponse, r.body, 'POST /orders');
    return orderOutcomeOf(p, r.status);
  }

  /** The outcome of an order whose answer was lost, from the transactions that carry its client id. */
  private async findOutcome(clientId: string, since: string, why: string): Promise<OrderOutcome> {
    for (let k = 0; k < this.o.orderLookupAttempts; k++) {
      if (k > 0) await sleep(this.o.orderLookupDelayMs);
      const r = await this.get(this.acct(`/transactions/sinceid?id=${encodeURIComponent(since)}`), rawTransactions);
      const mine = dedupe(r.transactions);
      const create = mine.find((t) => t.type === 'MARKET_ORDER' && t.clientExtensions?.id === clientId);
      const fill = mine.find((t) => t.type === 'ORDER_FILL' && (t.clientOrderID === clientId || (create && t.orderID === create.id)));
      if (fill) return { status: 'filled', fill: { ...fillOf(fill), clientId } };
      const cancel = mine.find((t) => t.type === 'ORDER_CANCEL' && (t.clientOrderID === clientId || (create && t.orderID === create.id)));
      if (cancel) return { status: 'cancelled', reason: cancel.reason ?? 'cancelled' };
      const reject = mine.find((t) => t.type === 'MARKET_ORDER_REJECT' && t.clientExtensions?.id === clientId);
      if (reject) return { status: 'rejected', reason: reject.rejectReason ?? 'rejected' };
    }
    return { status: 'not_found', reason: `${why}; no transaction carries client id ${clientId}` };
  }

  async closePosition(instrument: string, clientId: string): Promise<OrderOutcome[]> {
    const positions = await this.openPositions();
    const units = positions.find((p) => p.instrument === instrument)?.units ?? 0;
    if (units === 0) return [];
    // A close is an order like any other: a market order for the opposite units, with a client id, so
    // a lost answer is found the same way.
    return [await this.marketOrder({ instrument, units: -units, clientId })];
  }

  /** M1 (or other) candles of a time range: at most 5000 per request (the API's cap). */
  async candles(instrument: string, o: { from: number; to?: number | null; count?: number; price: 'M' | 'BA' | 'MBA'; granularity?: string }): Promise<z.infer<typeof rawCandles>> {
    const q = new URLSearchParams({ price: o.price, granularity: o.granularity ?? 'M1', from: new Date(o.from).toISOString() });
    if (o.to != null) q.set('to', new Date(o.to).toISOString());
    else q.set('count', String(o.count ?? 5000));
    return this.get(`/v3/instruments/${encodeURIComponent(instrument)}/candles?${q}`, rawCandles);
  }

  priceStream(instruments: readonly string[], h: PriceStreamHandlers): PriceStream {
    let stopped = false;
    let current: http.ClientRequest | null = null;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const url = new URL(this.acct(`/pricing/stream?instruments=${encodeURIComponent(instruments.join(','))}`), this.stream);
    const mod = url.protocol === 'https:' ? https : http;
    const connect = (): Promise<string> =>
      new Promise<string>((resolve) => {
        let buf = '';
        let stale: NodeJS.Timeout | null = null;
        let gotLine = false;
        const arm = () => {
          if (stale) clearTimeout(stale);
          stale = setTimeout(() => req.destroy(new Error(`no heartbeat for ${this.o.staleMs} ms`)), this.o.staleMs);
        };
        let settled = false;
        const finish = (why: string) => {
          if (stale) clearTimeout(stale);
          if (!settled) {
            settled = true;
            resolve(gotLine ? `ok:${why}` : why);
          }
        };
        const req = mod.request(url, { method: 'GET', agent: this.streamAgent, headers: { authorization: `Bearer ${this.o.token.reveal()}`, 'accept-datetime-format': 'RFC3339' } }, (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            finish(res.statusCode === 401 || res.statusCode === 403 ? 'auth' : `HTTP ${res.statusCode}`);
            return;
          }
          h.onConnect?.();
          arm();
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            arm();
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (!line) continue;
              let json: unknown;
              try {
                json = JSON.parse(line);
              } catch {
                req.destroy(new Error('a stream line is not JSON'));
                return;
              }
              const m = rawStreamLine.safeParse(json);
              if (!m.success) continue; // other message types are not ours to read
              gotLine = true;
              if (m.data.type === 'HEARTBEAT') h.onHeartbeat?.(Date.parse(m.data.time));
              else h.onTick(tickOf(m.data));
            }
          });
          res.on('end', () => finish('the server ended the stream'));
          res.on('error', (e) => finish(e.message));
          res.on('close', () => finish('connection closed'));
        });
        current = req;
        req.on('error', (e) => finish(e.message));
        req.end();
      });
    void (async () => {
      let attempt = 0;
      while (!stopped) {
        const why = await connect();
        if (stopped) break;
        if (why === 'auth') {
          h.onFatal?.(new BrokerAuthError('the price stream: the broker refused the token or account (HTTP 401/403)'));
          break;
        }
        h.onDisconnect?.(why.replace(/^ok:/, ''));
        attempt = why.startsWith('ok:') ? 0 : attempt + 1;
        // ≥ 500 ms between connections keeps under OANDA's 2 new connections per second.
        await sleep(Math.max(500, this.backoff(attempt)));
      }
      resolveDone();
    })();
    return {
      close: () => {
        stopped = true;
        current?.destroy();
      },
      done,
    };
  }
}

/** Drops repeated transactions (the same id twice in one answer). */
function dedupe(ts: RawTransaction[]): RawTransaction[] {
  const seen = new Set<string>();
  return ts.filter((t) => (seen.has(t.id) ? false : (seen.add(t.id), true)));
}

function errorMessage(body: unknown): string {
  const m = (body as { errorMessage?: unknown } | null)?.errorMessage;
  return typeof m === 'string' ? m : 'no error message';
}

function orderOutcomeOf(p: z.infer<typeof rawOrderResponse>, status: number): OrderOutcome {
  if (p.orderFillTransaction) return { status: 'filled', fill: fillOf(p.orderFillTransaction) };
  if (p.orderCancelTransaction) return { status: 'cancelled', reason: p.orderCancelTransaction.reason ?? 'cancelled' };
  if (p.orderRejectTransaction) return { status: 'rejected', reason: p.orderRejectTransaction.rejectReason ?? p.errorCode ?? 'rejected' };
  if (status >= 400) return { status: 'rejected', reason: p.errorCode ?? p.errorMessage ?? `HTTP ${status}` };
  throw new BrokerProtocolError(`POST /orders: HTTP ${status} without a fill, cancel or reject transaction`);
}
