// A loopback stand-in for OANDA's v20 REST and pricing-stream API (127.0.0.1, random port), speaking the
// documented endpoints and shapes swt uses, with faults a test can inject: disconnects, missing
// heartbeats and partial lines on the stream; 429, 5xx and slow answers; an order accepted and filled
// whose answer never comes; partial and oversize fills; duplicated transactions; clock skew; a manual
// trade behind the runner's back. Used by the tests and by bench:live (the soak's stream).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeCandle {
  ts: number;
  complete: boolean;
  volume?: number;
  mid: [number, number, number, number];
  bid?: [number, number, number, number];
  ask?: [number, number, number, number];
}

interface Fault {
  status: number;
  method?: string;
  path?: RegExp;
  retryAfterS?: number;
  left: number;
}

interface Txn {
  id: string;
  time: string;
  type: string;
  [k: string]: unknown;
}

export interface RequestRecord {
  method: string;
  path: string;
  authorized: boolean;
  at: number;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace('Z', '000000Z');
const px = (n: number) => n.toFixed(5).replace(/0+$/, '').replace(/\.$/, '');
const ohlc = (a: [number, number, number, number]) => ({ o: px(a[0]), h: px(a[1]), l: px(a[2]), c: px(a[3]) });

export class FakeV20 {
  readonly accountId: string;
  readonly requests: RequestRecord[] = [];
  readonly transactions: Txn[] = [];
  readonly positions = new Map<string, { units: number; avg: number; clientId: string | null; openTs: number }>();
  readonly prices = new Map<string, { bid: number; ask: number }>();
  readonly candles = new Map<string, FakeCandle[]>();
  balance = 100_000;
  /** Added to every time the server reports (clock skew). */
  clockSkewMs = 0;
  /** Delay before every REST answer. */
  slowMs = 0;
  /** Next order: fill this many units (signed like the request) instead of the requested ones. */
  nextFillUnits: number | null = null;
  /** Next order: process and fill it, but never answer (the client's timeout fires). */
  nextOrderHangs = false;
  /** Every transactions answer lists each transaction twice. */
  duplicateTransactions = false;
  /** Answer the openPositions endpoint with 503 until cleared (a report that cannot be read). */
  positionsUnavailable = false;
  private faults: Fault[] = [];
  private streams = new Set<http.ServerResponse>();
  private server: http.Server;
  private nextId = 1;
  private hbTimer: NodeJS.Timeout | null = null;
  url = '';

  private constructor(private readonly token: string, accountId: string) {
    this.accountId = accountId;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  static async start(o: { token: string; accountId?: string }): Promise<FakeV20> {
    const f = new FakeV20(o.token, o.accountId ?? '101-004-1234567-001');
    await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
    f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
    f.txn('CREATE', { accountID: f.accountId });
    return f;
  }

  async close(): Promise<void> {
    if (this.hbTimer) clearInterval(this.hbTimer);
    for (const s of this.streams) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** The next `times` requests matching `method`/`path` get `status` (429 with Retry-After when given). */
  fail(status: number, o: { times?: number; method?: string; path?: RegExp; retryAfterS?: number } = {}): void {
    this.faults.push({ status, method: o.method, path: o.path, retryAfterS: o.retryAfterS, left: o.times ?? 1 });
  }

  setPrice(instrument: string, bid: number, ask: number): void {
    this.prices.set(instrument, { bid, ask });
  }

  now(): number {
    return Date.now() + this.clockSkewMs;
  }

  // ---- stream ----

  get streamClients(): number {
    return this.streams.size;
  }

  /** Sends a PRICE line (and remembers the price for fills). */
  tick(instrument: string, ts: number, bid: number, ask: number): void {
    this.streamRaw(this.priceLine(instrument, ts, bid, ask));
  }

  /** The PRICE line `tick` sends (newline included), for a test that writes it in pieces; remembers the price. */
  priceLine(instrument: string, ts: number, bid: number, ask: number): string {
    this.setPrice(instrument, bid, ask);
    return `${JSON.stringify({ type: 'PRICE', time: rfc3339(ts + this.clockSkewMs), instrument, bids: [{ price: px(bid), liquidity: 1e6 }], asks: [{ price: px(ask), liquidity: 1e6 }], closeoutBid: px(bid), closeoutAsk: px(ask), status: 'tradeable', tradeable: true })}\n`;
  }

  heartbeat(): void {
    this.streamRaw(`${JSON.stringify({ type: 'HEARTBEAT', time: rfc3339(this.now()) })}\n`);
  }

  /** Heartbeats every `ms` (0 stops them: the "missing heartbeats" fault). */
  heartbeats(ms: number): void {
    if (this.hbTimer) clearInterval(this.hbTimer);
    this.hbTimer = ms > 0 ? setInterval(() => this.heartbeat(), ms) : null;
  }

  /** Writes raw text to every stream (partial lines: split one line over two calls). */
  streamRaw(text: string): void {
    for (const s of this.streams) s.write(text);
  }

  /** Drops every stream connection mid-stream. */
  dropStreams(): void {
    for (const s of this.streams) s.socket?.destroy();
    this.streams.clear();
  }

  // ---- account ----

  /** A trade made outside swt (on the web platform): the position moves, no client id. */
  manualTrade(instrument: string, units: number): void {
    this.fillUnits(instrument, units, null, null);
  }

  private txn(type: string, fields: Record<string, unknown>): Txn {
    const t: Txn = { id: String(this.nextId++), time: rfc3339(this.now()), type, ...fields };
    this.transactions.push(t);
    return t;
  }

  get lastTransactionId(): string {
    return String(this.nextId - 1);
  }

  private fillUnits(instrument: string, units: number, clientId: string | null, orderId: string | null): Txn {
    const p = this.prices.get(instrument);
    if (!p) throw new Error(`fake v20: no price for ${instrument}`);
    const price = units > 0 ? p.ask : p.bid;
    const pos = this.positions.get(instrument) ?? { units: 0, avg: 0, clientId: null, openTs: this.now() };
    const next = pos.units + units;
    if (pos.units === 0 || Math.sign(next) !== Math.sign(pos.units)) {
      Object.assign(pos, { avg: next === 0 ? 0 : price, clientId, openTs: this.now() });
    } else if (Math.abs(next) > Math.abs(pos.units)) {
      pos.avg = (pos.avg * Math.abs(pos.units) + price * Math.abs(units)) / Math.abs(next);
    }
    pos.units = next;
    if (next === 0) this.positions.delete(instrument);
    else this.positions.set(instrument, pos);
    return this.txn('ORDER_FILL', {
      orderID: orderId ?? this.lastTransactionId,
      ...(clientId ? { clientOrderID: clientId } : {}),
      instrument,
      units: String(units),
      price: px(price),
      fullVWAP: px(price),
      fullPrice: { bids: [{ price: px(p.bid), liquidity: 1e6 }], asks: [{ price: px(p.ask), liquidity: 1e6 }] },
      reason: clientId ? 'MARKET_ORDER' : 'MARKET_ORDER_POSITION_CLOSEOUT',
      pl: '0.0000',
      accountBalance: px(this.balance),
    });
  }

  // ---- HTTP ----

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const authorized = req.headers.authorization === `Bearer ${this.token}`;
    this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, authorized, at: Date.now() });
    const body = await new Promise<string>((r) => {
      let s = '';
      req.on('data', (c) => (s += c));
      req.on('end', () => r(s));
    });
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(json));
    };
    if (!authorized) return send(401, { errorMessage: 'Insufficient authorization to perform request.' });
    const fault = this.faults.find((f) => f.left > 0 && (!f.method || f.method === req.method) && (!f.path || f.path.test(url.pathname)));
    if (fault) {
      fault.left--;
      return send(fault.status, { errorMessage: `injected ${fault.status}` }, fault.retryAfterS !== undefined ? { 'retry-after': String(fault.retryAfterS) } : {});
    }
    if (this.slowMs > 0 && !url.pathname.endsWith('/pricing/stream')) await new Promise((r) => setTimeout(r, this.slowMs));
    const acct = `/v3/accounts/${this.accountId}`;
    const p = url.pathname;
    const last = this.lastTransactionId;
    if (p === `${acct}/pricing/stream`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.flushHeaders();
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
      return;
    }
    if (p === `${acct}/summary`) {
      return send(200, {
        account: { id: this.accountId, currency: 'USD', balance: px(this.balance), NAV: px(this.balance), unrealizedPL: '0.0000', openPositionCount: this.positions.size, lastTransactionID: last },
        lastTransactionID: last,
      });
    }
    if (p === `${acct}/openPositions`) {
      if (this.positionsUnavailable) return send(503, { errorMessage: 'positions unavailable' });
      const positions = [...this.positions].map(([instrument, q]) => ({
        instrument,
        long: q.units > 0 ? { units: String(q.units), averagePrice: px(q.avg) } : { units: '0' },
        short: q.units < 0 ? { units: String(q.units), averagePrice: px(q.avg) } : { units: '0' },
        pl: '0.0000',
        unrealizedPL: '0.0000',
      }));
      return send(200, { positions, lastTransactionID: last });
    }
    if (p === `${acct}/openTrades`) {
      const trades = [...this.positions].map(([instrument, q], k) => ({
        id: String(1000 + k),
        instrument,
        price: px(q.avg),
        openTime: rfc3339(q.openTs),
        initialUnits: String(q.units),
        currentUnits: String(q.units),
        state: 'OPEN',
        ...(q.clientId ? { clientExtensions: { id: q.clientId } } : {}),
      }));
      return send(200, { trades, lastTransactionID: last });
    }
    if (p === `${acct}/transactions/sinceid`) {
      const since = BigInt(url.searchParams.get('id') ?? '0');
      const ts = this.transactions.filter((t) => BigInt(t.id) > since);
      return send(200, { transactions: this.duplicateTransactions ? ts.flatMap((t) => [t, t]) : ts, lastTransactionID: last });
    }
    if (p === `${acct}/changes`) {
      const since = BigInt(url.searchParams.get('sinceTransactionID') ?? '0');
      const ts = this.transactions.filter((t) => BigInt(t.id) > since);
      return send(200, { changes: { transactions: this.duplicateTransactions ? ts.flatMap((t) => [t, t]) : ts }, state: { positions: [] }, lastTransactionID: last });
    }
    if (p === `${acct}/orders` && req.method === 'POST') return this.order(body, res, send);
    const cm = /^\/v3\/instruments\/([A-Z0-9_]+)\/candles$/.exec(p);
    if (cm) return this.serveCandles(cm[1], url.searchParams, send);
    send(404, { errorMessage: `no route ${req.method} ${p}` });
  }

  private order(body: string, res: http.ServerResponse, send: (s: number, j: unknown) => void): void {
    let o: { order?: { type?: string; instrument?: string; units?: string; clientExtensions?: { id?: string } } };
    try {
      o = JSON.parse(body);
    } catch {
      return send(400, { errorMessage: 'Invalid JSON' });
    }
    const order = o.order ?? {};
    const units = Number(order.units);
    const clientId = order.clientExtensions?.id ?? null;
    if (order.type !== 'MARKET' || !order.instrument || !/^-?\d+$/.test(order.units ?? '') || units === 0) {
      const rej = this.txn('MARKET_ORDER_REJECT', { instrument: order.instrument, units: order.units, rejectReason: 'UNITS_INVALID', ...(clientId ? { clientExtensions: { id: clientId } } : {}) });
      return send(400, { orderRejectTransaction: rej, errorCode: 'UNITS_INVALID', errorMessage: 'units invalid', lastTransactionID: this.lastTransactionId });
    }
    const create = this.txn('MARKET_ORDER', { instrument: order.instrument, units: order.units, timeInForce: 'FOK', positionFill: 'DEFAULT', reason: 'CLIENT_ORDER', ...(clientId ? { clientExtensions: { id: clientId } } : {}) });
    if (!this.prices.has(order.instrument)) {
      const cancel = this.txn('ORDER_CANCEL', { orderID: create.id, ...(clientId ? { clientOrderID: clientId } : {}), reason: 'MARKET_HALTED' });
      return send(201, { orderCreateTransaction: create, orderCancelTransaction: cancel, lastTransactionID: this.lastTransactionId });
    }
    const fillUnits = this.nextFillUnits ?? units;
    this.nextFillUnits = null;
    const fill = this.fillUnits(order.instrument, fillUnits, clientId, create.id);
    if (this.nextOrderHangs) {
      this.nextOrderHangs = false;
      // processed and filled; the answer is lost (the connection dies without a response)
      setTimeout(() => res.socket?.destroy(), 10_000).unref();
      return;
    }
    send(201, { orderCreateTransaction: create, orderFillTransaction: fill, relatedTransactionIDs: [create.id, fill.id], lastTransactionID: this.lastTransactionId });
  }

  private serveCandles(instrument: string, q: URLSearchParams, send: (s: number, j: unknown) => void): void {
    const all = this.candles.get(instrument);
    if (!all) return send(400, { errorMessage: `Invalid value specified for 'instrument'` });
    const price = q.get('price') ?? 'M';
    const from = q.get('from') ? Date.parse(q.get('from')!) : -Infinity;
    const to = q.get('to') ? Date.parse(q.get('to')!) : Infinity;
    const count = q.get('count') ? Number(q.get('count')) : 500;
    if (q.get('to') && q.get('count')) return send(400, { errorMessage: 'to and count cannot both be given' });
    let sel = all.filter((c) => c.ts >= from && c.ts < to);
    if (q.get('to')) {
      if (sel.length > 5000) return send(400, { errorMessage: 'Maximum value for count exceeded' });
    } else {
      if (count > 5000) return send(400, { errorMessage: 'Maximum value for count exceeded' });
      sel = sel.slice(0, count);
    }
    send(200, {
      instrument,
      granularity: q.get('granularity') ?? 'S5',
      candles: sel.map((c) => ({
        complete: c.complete,
        volume: c.volume ?? 1,
        time: rfc3339(c.ts),
        ...(price.includes('M') ? { mid: ohlc(c.mid) } : {}),
        ...(price.includes('B') && c.bid ? { bid: ohlc(c.bid) } : {}),
        ...(price.includes('A') && c.ask ? { ask: ohlc(c.ask) } : {}),
      })),
    });
  }
}
