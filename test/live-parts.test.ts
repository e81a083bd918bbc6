// The runner's parts on their own: the bar aggregator (complete bars only; bid, ask and mid), the stream
// feed's gap detection and backfill over a real loopback stream, the market calendar, the risk engine's
// coded denials, and the typed event bus.
import { afterEach, describe, expect, it } from 'vitest';
import { BarAggregator, type LiveBar } from '../src/live/bars.js';
import { StreamFeed } from '../src/live/feed.js';
import { EventBus, type LiveEventMap } from '../src/live/events.js';
import { MarketCalendar } from '../src/live/calendar.js';
import { RiskEngine } from '../src/live/risk.js';
import { VirtualClock, systemClock } from '../src/live/clock.js';
import { OandaClient } from '../src/live/oanda/client.js';
import { Secret } from '../src/live/secret.js';
import { loadConfig } from '../src/config/load.js';
import { weekCalendar } from '../src/data/calendar.js';
import { FakeV20 } from './support/fake-v20.js';

const I = 'GBP_JPY';
const M = Date.parse('2024-03-06T10:00:00Z');
const tick = (ms: number, bid: number, ask: number) => ({ instrument: I, ts: ms, bid, ask, tradeable: true });

describe('bar aggregator', () => {
  it('emits a bar only when complete: at the first tick of a later minute, or after the grace period', () => {
    const a = new BarAggregator(60_000, 2_000);
    expect(a.onTick(tick(M + 1_000, 150.0, 150.04))).toBeNull();
    expect(a.onTick(tick(M + 20_000, 150.1, 150.12))).toBeNull();
    expect(a.onTick(tick(M + 40_000, 149.9, 149.94))).toBeNull();
    expect(a.flush(M + 61_000)).toBeNull(); // within the grace period
    const b = a.onTick(tick(M + 60_500, 150.2, 150.24)) as LiveBar;
    const r3 = (o: object) => JSON.parse(JSON.stringify(o, (_k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1e6) / 1e6 : v)));
    expect(r3(b)).toEqual({
      ts: M,
      open: 150.02,
      high: 150.11,
      low: 149.92,
      close: 149.92,
      spread: 0.04,
      bid: { open: 150.0, high: 150.1, low: 149.9, close: 149.9 },
      ask: { open: 150.04, high: 150.12, low: 149.94, close: 149.94 },
      ticks: 3,
    });
    expect(a.flush(M + 121_999)).toBeNull();
    expect(a.flush(M + 122_000)?.ts).toBe(M + 60_000);
    expect(a.flush(M + 200_000)).toBeNull(); // nothing open
  });

  it('drops ticks that go back in time or have a crossed quote', () => {
    const a = new BarAggregator();
    a.onTick(tick(M + 5_000, 150, 150.04));
    expect(a.onTick(tick(M + 1_000, 151, 151.04))).toBeNull();
    a.onTick(tick(M + 6_000, 150.1, 150.0));
    const b = a.flush(M + 70_000)!;
    expect(b.ticks).toBe(1);
    expect(b.high).toBeCloseTo(150.02, 9);
    expect(b.low).toBe(b.high);
  });
});

describe('stream feed', () => {
  let fake: FakeV20 | null = null;
  afterEach(async () => {
    await fake?.close();
    fake = null;
  });

  it('turns a price stream into bars; a gap is reported and backfilled with complete candles only', async () => {
    fake = await FakeV20.start({ token: 't' });
    const client = new OandaClient({ restUrl: fake.url, streamUrl: fake.url, accountId: fake.accountId, token: new Secret('t'), timeoutMs: 1000, retries: 1, backoffMs: 5, maxBackoffMs: 10, staleMs: 5000, requestsPerSecond: 100, orderLookupAttempts: 1, orderLookupDelayMs: 1 });
    const bus = new EventBus();
    const gaps: Array<LiveEventMap['feed']> = [];
    bus.on('feed', (e) => e.status === 'gap' && gaps.push(e));
    const backfilled: Array<[number, number]> = [];
    const feed = new StreamFeed({
      instrument: I,
      broker: client,
      clock: systemClock,
      bus,
      week: weekCalendar(loadConfig()),
      barMs: 60_000,
      graceMs: 1e12,
      backfill: async (_i, from, to) => {
        backfilled.push([from, to]);
        // the candles endpoint's complete candles of the hole (one minute of it has none)
        return [2, 4].map((k) => ({ ts: M + k * 60_000, open: 150, high: 150, low: 150, close: 150, bid: null, ask: null, ticks: 0 }));
      },
    });
    const got: number[] = [];
    const run = (async () => {
      for await (const b of feed.bars()) {
        got.push((b.ts - M) / 60_000);
        if (got.length === 5) feed.close();
      }
    })();
    while (fake.streamClients === 0) await new Promise((r) => setTimeout(r, 5));
    fake.tick(I, M + 1_000, 150, 150.04);
    fake.tick(I, M + 61_000, 150, 150.04);
    fake.tick(I, M + 5 * 60_000 + 1_000, 150, 150.04); // minutes 2-4 missing: bar 1 completes, then the gap
    fake.tick(I, M + 6 * 60_000 + 1_000, 150, 150.04);
    await run;
    await client.close();
    expect(got).toEqual([0, 1, 2, 4, 5]);
    expect(backfilled).toEqual([[M + 2 * 60_000, M + 5 * 60_000]]);
    expect(gaps).toHaveLength(1);
    expect(gaps[0].detail).toMatch(/^3 minute\(s\) without a bar/);
  });
});

describe('market calendar', () => {
  const cal = MarketCalendar.fromConfig(loadConfig());
  it('is closed over the FX weekend and counts the minutes to the weekly close', () => {
    expect(cal.isOpen(Date.parse('2024-03-06T10:00:00Z'))).toBe(true);
    expect(cal.isOpen(Date.parse('2024-03-09T12:00:00Z'))).toBe(false);
    expect(cal.minutesToClose(Date.parse('2024-03-08T20:45:00Z'))).toBe(15);
    expect(cal.nextOpen(Date.parse('2024-03-09T12:00:00Z'))).toBe(Date.parse('2024-03-10T21:00:00Z'));
  });
});

describe('risk engine', () => {
  const make = (limits = {}) => {
    const bus = new EventBus();
    const denials: string[] = [];
    const states: string[] = [];
    bus.on('risk_denial', (d) => denials.push(d.code));
    bus.on('risk_state', (s) => states.push(`${s.from}->${s.to}`));
    const clock = new VirtualClock(M);
    const risk = new RiskEngine({ maxPositionUnits: 2, maxOrderUnits: 2, maxOrdersPerMinute: 3, dailyLossPips: 100, killSwitchFile: null, ...limits }, bus, clock);
    return { risk, denials, states, clock };
  };

  it('denies with a code per limit, each denial an event', () => {
    const x = make();
    expect(x.risk.check('a', 3, 0)).toMatchObject({ ok: false, code: 'MAX_ORDER_UNITS' });
    expect(x.risk.check('b', 2, 1)).toMatchObject({ ok: false, code: 'MAX_POSITION_UNITS' });
    for (const id of ['c', 'd', 'e']) expect(x.risk.check(id, 1, 0).ok).toBe(true);
    expect(x.risk.check('f', 1, 0)).toMatchObject({ ok: false, code: 'MAX_ORDERS_PER_MINUTE' });
    x.clock.advance(60_001);
    expect(x.risk.check('g', 1, 0).ok).toBe(true);
    expect(x.denials).toEqual(['MAX_ORDER_UNITS', 'MAX_POSITION_UNITS', 'MAX_ORDERS_PER_MINUTE']);
  });

  it('goes REDUCING at the daily loss limit (closes pass), ACTIVE again the next UTC day; HALTED denies all', () => {
    const x = make();
    x.risk.recordRealised(-60, M);
    expect(x.risk.state).toBe('ACTIVE');
    x.risk.recordRealised(-50, M);
    expect(x.risk.state).toBe('REDUCING');
    expect(x.risk.check('open', 1, 0)).toMatchObject({ ok: false, code: 'DAILY_LOSS_LIMIT' });
    expect(x.risk.check('close', -1, 1).ok).toBe(true);
    x.clock.advance(86_400_000);
    expect(x.risk.check('next-day', 1, 0).ok).toBe(true);
    expect(x.risk.state).toBe('ACTIVE');
    x.risk.halt('test');
    expect(x.risk.check('h', -1, 1)).toMatchObject({ ok: false, code: 'HALTED' });
    expect(x.states).toEqual(['ACTIVE->REDUCING', 'REDUCING->ACTIVE', 'ACTIVE->HALTED']);
  });
});
