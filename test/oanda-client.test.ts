// The OANDA v20 client against the loopback fake server: the documented shapes parse into domain types,
// GETs ride out 429/5xx, an order POST is never repeated (a lost answer is found by client id), and the
// price stream survives partial lines, dropped connections and silent (heartbeat-less) streams.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OandaClient, type OandaClientOptions } from '../src/live/oanda/client.js';
import { BrokerAuthError, BrokerUnavailableError, type PriceTick } from '../src/live/broker.js';
import { Secret } from '../src/live/secret.js';
import { exitCodeFor } from '../src/util/errors.js';
import { FakeV20 } from './support/fake-v20.js';

const TOKEN = 'tok-5f2b9c0e-client-test';
const I = 'GBP_JPY';
let fake: FakeV20;
let client: OandaClient;

function clientFor(f: FakeV20, o: Partial<OandaClientOptions> = {}): OandaClient {
  return new OandaClient({
    restUrl: f.url,
    streamUrl: f.url,
    accountId: f.accountId,
    token: new Secret(TOKEN),
    timeoutMs: 400,
    retries: 3,
    backoffMs: 5,
    maxBackoffMs: 50,
    staleMs: 300,
    requestsPerSecond: 100,
    orderLookupAttempts: 3,
    orderLookupDelayMs: 20,
    random: () => 0.5,
    ...o,
  });
}

beforeEach(async () => {
  fake = await FakeV20.start({ token: TOKEN });
  fake.setPrice(I, 150.1, 150.14);
  client = clientFor(fake);
});
afterEach(async () => {
  await client.close();
  await fake.close();
});

const until = async (cond: () => boolean, ms = 3000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('REST reads', () => {
  it('parse decimal strings into signed numbers: a manual short shows as -3 units at the bid', async () => {
    fake.manualTrade(I, -3);
    const [pos] = await client.openPositions();
    expect(pos).toEqual({ instrument: I, units: -3, averagePrice: 150.1 });
    const [trade] = await client.openTrades();
    expect(trade).toMatchObject({ instrument: I, units: -3, price: 150.1, clientId: null });
    const s = await client.accountSummary();
    expect(s.openPositionCount).toBe(1);
    expect(s.lastTransactionId).toBe(fake.lastTransactionId);
  });

  it('a refused token is an input error (exit 2) whose message does not carry the token', async () => {
    const bad = new OandaClient({ ...(client as unknown as { o: OandaClientOptions }).o, token: new Secret('wrong-token') });
    const e = await bad.accountSummary().catch((x) => x);
    expect(e).toBeInstanceOf(BrokerAuthError);
    expect(exitCodeFor(e)).toBe(2);
    expect(String(e.message)).not.toContain('wrong-token');
    await bad.close();
  });

  it('GETs retry 5xx and wait out a 429 (Retry-After), then succeed', async () => {
    fake.fail(503, { times: 2, method: 'GET' });
    fake.fail(429, { times: 1, method: 'GET', retryAfterS: 0.05 });
    const t0 = Date.now();
    await expect(client.openPositions()).resolves.toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(fake.requests.filter((r) => r.path.endsWith('/openPositions'))).toHaveLength(4);
  });

  it('gives up after its retries with an unavailable error', async () => {
    fake.fail(500, { times: 10, method: 'GET' });
    await expect(client.openPositions()).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(fake.requests.filter((r) => r.path.endsWith('/openPositions'))).toHaveLength(4);
  });

  it('a slow answer past the timeout is retried', async () => {
    fake.slowMs = 500;
    setTimeout(() => (fake.slowMs = 0), 450);
    await expect(client.accountSummary()).resolves.toMatchObject({ id: fake.accountId });
  });

  it('duplicate transactions in an answer are read once', async () => {
    fake.manualTrade(I, 1);
    fake.manualTrade(I, -1);
    fake.duplicateTransactions = true;
    const page = await client.transactionsSince('1');
    expect(page.transactions.map((t) => t.id)).toEqual(['2', '3']);
  });
});

describe('orders', () => {
  it('a market order fills at the ask and carries its client id', async () => {
    const out = await client.marketOrder({ instrument: I, units: 2, clientId: 'swt-a1' });
    expect(out).toMatchObject({ status: 'filled', fill: { units: 2, price: 150.14, mid: 150.12, clientId: 'swt-a1' } });
    expect((await client.openPositions())[0].units).toBe(2);
  });

  it('an order processed whose answer is lost is found by client id, never re-sent', async () => {
    fake.nextOrderHangs = true;
    const out = await client.marketOrder({ instrument: I, units: 1, clientId: 'swt-lost' });
    expect(out).toMatchObject({ status: 'filled', fill: { units: 1, clientId: 'swt-lost' } });
    expect(client.sent.POST).toBe(1);
    expect(fake.transactions.filter((t) => t.type === 'MARKET_ORDER')).toHaveLength(1);
    expect((await client.openPositions())[0].units).toBe(1);
  });

  it('a 5xx on the POST is not retried: the transactions say it was never placed', async () => {
    fake.fail(503, { method: 'POST' });
    const out = await client.marketOrder({ instrument: I, units: 1, clientId: 'swt-5xx' });
    expect(out.status).toBe('not_found');
    expect(client.sent.POST).toBe(1);
    expect(await client.openPositions()).toEqual([]);
  });

  it('a 429 on the POST (refused before processing) is waited out and sent again, once filled', async () => {
    fake.fail(429, { method: 'POST', retryAfterS: 0.02 });
    const out = await client.marketOrder({ instrument: I, units: -1, clientId: 'swt-429' });
    expect(out.status).toBe('filled');
    expect(fake.transactions.filter((t) => t.type === 'ORDER_FILL')).toHaveLength(1);
  });

  it('closing a position sends the opposite units', async () => {
    await client.marketOrder({ instrument: I, units: 3, clientId: 'swt-o' });
    const [out] = await client.closePosition(I, 'swt-c');
    expect(out).toMatchObject({ status: 'filled', fill: { units: -3 } });
    expect(await client.openPositions()).toEqual([]);
    expect(await client.closePosition(I, 'swt-c2')).toEqual([]);
  });
});

describe('price stream', () => {
  it('parses only complete lines, reconnects after a drop and after a silent stream', async () => {
    const ticks: PriceTick[] = [];
    const drops: string[] = [];
    let connects = 0;
    const s = client.priceStream([I], { onTick: (t) => ticks.push(t), onDisconnect: (r) => drops.push(r), onConnect: () => connects++ });
    await until(() => fake.streamClients === 1);
    const line = JSON.stringify({ type: 'PRICE', time: '2024-01-02T10:00:00.123456789Z', instrument: I, bids: [{ price: '150.100' }], asks: [{ price: '150.140' }], tradeable: true });
    fake.streamRaw(line.slice(0, 40));
    await new Promise((r) => setTimeout(r, 30));
    expect(ticks).toHaveLength(0);
    fake.streamRaw(`${line.slice(40)}\n`);
    await until(() => ticks.length === 1);
    expect(ticks[0]).toEqual({ instrument: I, ts: Date.parse('2024-01-02T10:00:00.123Z'), bid: 150.1, ask: 150.14, tradeable: true });
    fake.dropStreams();
    await until(() => connects === 2 && fake.streamClients === 1);
    // no heartbeats: after staleMs the client drops the connection and comes back
    await until(() => connects === 3, 3000);
    expect(drops.some((d) => /no heartbeat/.test(d))).toBe(true);
    fake.tick(I, Date.parse('2024-01-02T10:00:01Z'), 150.2, 150.24);
    await until(() => ticks.length === 2);
    s.close();
    await s.done;
  });
});
