// The fault matrix (issue 12, acceptance 2): the real runner on the OANDA client against the fake v20
// server, each fault injected at the worst moment. For every fault the test asserts the documented end
// state (recovered, REDUCING or HALTED), that the broker's position and the runner's agree (zero
// drift), and that no intent was sent twice.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUY, CLOSE, SELL } from '../src/env/types.js';
import { harness, I, type Harness } from './support/live-harness.js';
import { tempDir } from './helpers/paths.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

/** Zero drift, and every client id placed at most once. */
function assertConsistent(x: Harness): void {
  expect(x.brokerUnits()).toBe(x.runner.status().position_units);
  const ids = x.fake.transactions.filter((t) => t.type === 'MARKET_ORDER').map((t) => (t.clientExtensions as { id: string }).id);
  expect(new Set(ids).size).toBe(ids.length);
}

describe('faults at the broker', () => {
  it('an oversize fill (1 → 66) is corrected to the intended position with a critical alert: recovered', async () => {
    h = await harness({ script: { 1: BUY } });
    h.fake.nextFillUnits = 66;
    await h.bar(0);
    await h.bar(1);
    const alert = h.of('alert').find((a) => a.code === 'fill_units_mismatch');
    expect(alert?.severity).toBe('critical');
    expect(h.brokerUnits()).toBe(1);
    await h.bar(2);
    expect(h.session.side).toBe(1);
    expect(h.risk.state).toBe('ACTIVE');
    assertConsistent(h);
  });

  it('a partial fill (4 of 10) is completed to the intended position: recovered', async () => {
    h = await harness({ script: { 1: SELL }, units: 10, limits: { maxOrderUnits: 20, maxPositionUnits: 10 } });
    h.fake.nextFillUnits = -4;
    await h.bar(0);
    await h.bar(1);
    await h.bar(2);
    expect(h.of('alert').some((a) => a.code === 'fill_units_mismatch')).toBe(true);
    expect(h.brokerUnits()).toBe(-10);
    expect(h.session.side).toBe(-1);
    expect(h.risk.state).toBe('ACTIVE');
    assertConsistent(h);
  });

  it('an order filled whose answer times out is found by client id and booked once: recovered', async () => {
    h = await harness({ script: { 1: BUY, 3: CLOSE } });
    h.fake.nextOrderHangs = true;
    await h.bar(0);
    await h.bar(1);
    await h.bar(2);
    expect(h.client.sent.POST).toBe(1);
    expect(h.session.side).toBe(1);
    await h.bar(3);
    await h.bar(4);
    expect(h.session.trades.count).toBe(1);
    expect(h.risk.state).toBe('ACTIVE');
    assertConsistent(h);
  });

  it('a 5xx on the order POST is not retried; the transactions show it was never placed: recovered flat', async () => {
    h = await harness({ script: { 1: BUY } });
    h.fake.fail(503, { method: 'POST' });
    await h.bar(0);
    await h.bar(1);
    await h.bar(2);
    expect(h.client.sent.POST).toBe(1);
    expect(h.of('order').map((o) => o.status)).toContain('not_found');
    expect(h.of('alert').some((a) => a.code === 'order_outcome_unknown')).toBe(true);
    expect(h.session.side).toBe(0);
    expect(h.risk.state).toBe('ACTIVE');
    assertConsistent(h);
  });

  it('429s and slow answers are waited out: recovered', async () => {
    h = await harness({ script: { 1: BUY, 2: CLOSE }, timeoutMs: 400 });
    h.fake.fail(429, { times: 2, retryAfterS: 0.01 });
    h.fake.slowMs = 100;
    await h.bar(0);
    await h.bar(1);
    await h.bar(2);
    await h.bar(3);
    expect(h.session.trades.count).toBe(1);
    expect(h.risk.state).toBe('ACTIVE');
    assertConsistent(h);
  });

  it('duplicate transactions change nothing: recovered', async () => {
    h = await harness({ script: { 1: BUY } });
    h.fake.duplicateTransactions = true;
    await h.bar(0);
    await h.bar(1);
    await h.bar(2);
    expect(h.brokerUnits()).toBe(1);
    assertConsistent(h);
  });

  it('clock skew at the broker is alerted and booked at swt time: recovered', async () => {
    h = await harness({ script: { 1: BUY } });
    h.fake.clockSkewMs = 3_600_000;
    await h.bar(0);
    await h.bar(1);
    await h.bar(2);
    expect(h.of('alert').some((a) => a.code === 'clock_skew')).toBe(true);
    expect(h.session.core.entryTs[0]).toBe(h.t0 + 2 * 60_000);
    assertConsistent(h);
  });
});

describe('reconciliation', () => {
  it('a manual trade behind the runner is flattened (manual_trades: flatten) at the next interval: recovered', async () => {
    h = await harness({ script: {} });
    await h.bar(0);
    h.fake.manualTrade(I, 5);
    await h.bar(1); // within the interval: not yet seen
    await h.bar(2);
    const recs = h.of('reconciliation');
    expect(recs.some((r) => !r.ok && r.broker_units === 5 && r.action === 'order -5')).toBe(true);
    expect(h.brokerUnits()).toBe(0);
    expect(h.risk.state).toBe('ACTIVE');
    assertConsistent(h);
  });

  it('a manual trade of one position is adopted (manual_trades: adopt): the session holds it', async () => {
    h = await harness({ script: { 3: CLOSE }, manualTrades: 'adopt' });
    await h.bar(0);
    h.fake.manualTrade(I, -1);
    await h.bar(1);
    await h.bar(2);
    expect(h.session.side).toBe(-1);
    await h.bar(3);
    await h.bar(4);
    expect(h.session.trades.count).toBe(1);
    expect(h.brokerUnits()).toBe(0);
    assertConsistent(h);
  });

  it('an unreadable position report is never flat: HALTED, orders denied, until resumed', async () => {
    h = await harness({ script: { 3: BUY, 6: BUY } });
    await h.bar(0);
    h.fake.positionsUnavailable = true;
    await h.bar(1);
    await h.bar(2);
    expect(h.risk.state).toBe('HALTED');
    expect(h.of('risk_state').at(-1)?.reason).toMatch(/could not be read.*not assuming flat/);
    await h.bar(3);
    expect(h.of('risk_denial').map((d) => d.code)).toContain('HALTED');
    expect(h.brokerUnits()).toBe(0);
    h.fake.positionsUnavailable = false;
    h.runner.resume('test');
    await h.bar(4);
    await h.bar(5);
    await h.bar(6);
    await h.bar(7);
    expect(h.brokerUnits()).toBe(1);
    assertConsistent(h);
  });

  it('the kill switch file halts the runner and flatten closes the position', async () => {
    const t = tempDir();
    const kill = path.join(t.dir, 'KILL');
    h = await harness({ script: { 1: BUY, 3: CLOSE }, limits: { killSwitchFile: kill } });
    await h.bar(0);
    await h.bar(1);
    await h.bar(2);
    expect(h.brokerUnits()).toBe(1);
    writeFileSync(kill, '');
    await h.bar(3);
    expect(h.risk.state).toBe('HALTED');
    expect(h.of('risk_denial').map((d) => d.code)).toContain('KILL_SWITCH');
    expect(h.brokerUnits()).toBe(1);
    await h.runner.flatten('kill switch');
    expect(h.brokerUnits()).toBe(0);
    expect(h.session.trades.count).toBe(1);
    assertConsistent(h);
    t.cleanup();
  });

  it('a daily loss past the limit turns the runner REDUCING: closes pass, new positions are denied', async () => {
    h = await harness({ script: { 1: BUY, 3: CLOSE, 5: BUY }, limits: { dailyLossPips: 50 } });
    await h.bar(0);
    await h.bar(1);
    await h.bar(2, 150);
    await h.bar(3, 149);
    await h.bar(4, 149); // the close filled at 149: −100 pips
    expect(h.risk.state).toBe('REDUCING');
    await h.bar(5, 149);
    expect(h.of('risk_denial').map((d) => d.code)).toContain('DAILY_LOSS_LIMIT');
    expect(h.brokerUnits()).toBe(0);
    assertConsistent(h);
  });
});
