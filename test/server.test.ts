// The dashboard server (issue 13): metrics after a paper replay match the run's journal of events,
// every alert rule fires once from its condition with repeat suppression, the training and validation
// views read the store, and the refusals (non-loopback without a token, wrong WebSocket origin, controls
// without the token) hold.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { EventBus, type LiveEventName } from '../src/live/events.js';
import { Store } from '../src/store/db.js';
import { checkBind, startDashboard, type Dashboard } from '../src/server/server.js';
import { trainingView } from '../src/server/training.js';
import { InputError } from '../src/util/errors.js';
import { HAS_SHARED, swt, tempDir } from './helpers/paths.js';
import { paperRun, realBarsStore, I } from './helpers/live-run.js';
import { parsePrometheus, sampleValue, wsClient, writeTrainingRun } from './helpers/dashboard.js';

const t = tempDir('swt-dash-');
afterAll(t.cleanup);
const TOKEN = 'dash-secret-7f3a91c2';

function dashConfig(over: Partial<Config['dashboard']['alerts']> = {}): Config {
  const c = loadConfig();
  return { ...c, dashboard: { ...c.dashboard, port: 0, throttle_ms: 1000, training_poll_ms: 1000, alerts: { ...c.dashboard.alerts, ...over } } };
}

describe('the training view', () => {
  it('degrades to "not available" on a store without a training run, and reads a stored run as series', async () => {
    const store = await Store.open(path.join(t.dir, 'training.duckdb'));
    try {
      const none = await trainingView(store);
      expect(none.available).toBe(false);
      expect(none.reason).toMatch(/no training run stored yet/);
      await writeTrainingRun(store, 'run-a', { iterations: 6, hold: 0.4, sqn: [0.1, 0.5, 0.3] });
      const v = await trainingView(store);
      expect(v.available).toBe(true);
      expect(v.run_id).toBe('run-a');
      expect(v.iterations.step).toEqual([1, 2, 3, 4, 5, 6]);
      expect(v.iterations.action_share.HOLD).toEqual([0.4, 0.4, 0.4, 0.4, 0.4, 0.4]);
      expect(v.losses.total[0]).toBeCloseTo(3);
      expect(v.evaluations.sqn).toEqual([0.1, 0.5, 0.3]);
      expect(v.latest.best_sqn).toBe(0.5);
      expect(v.latest.episodes).toBe(96);
      expect(v.warnings).toEqual([expect.objectContaining({ kind: 'hold_collapse' })]);
      expect((await trainingView(store, 'nope')).reason).toBe('no training run nope');
    } finally {
      store.close();
    }
  });
});

describe('refusals', () => {
  it('refuses a non-loopback host without a token, naming the variable', async () => {
    expect(() => checkBind('0.0.0.0', null, 'SWT_DASHBOARD_TOKEN')).toThrow(InputError);
    expect(() => checkBind('0.0.0.0', null, 'SWT_DASHBOARD_TOKEN')).toThrow(/refusing to serve the dashboard on 0\.0\.0\.0 without a token: .*SWT_DASHBOARD_TOKEN/);
    expect(() => checkBind('127.0.0.1', null, 'SWT_DASHBOARD_TOKEN')).not.toThrow();
    expect(() => checkBind('::1', null, 'SWT_DASHBOARD_TOKEN')).not.toThrow();
    expect(() => checkBind('0.0.0.0', TOKEN, 'SWT_DASHBOARD_TOKEN')).not.toThrow();
    await expect(startDashboard({ config: dashConfig(), store: null, host: '0.0.0.0', token: null })).rejects.toThrow(/without a token/);
  });

  it('swt serve --host 0.0.0.0 without SWT_DASHBOARD_TOKEN exits 2 with the reason', async () => {
    const r = await swt(['serve', '--host', '0.0.0.0', '--port', '0', '--db', path.join(t.dir, 'serve.duckdb')], { env: { SWT_DASHBOARD_TOKEN: '' }, timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refusing to serve the dashboard on 0\.0\.0\.0 without a token/);
  });

  it('refuses a WebSocket from another origin and serves the page with a CSP and no token in it', async () => {
    const d = await startDashboard({ config: dashConfig(), store: null, token: TOKEN, live: { bus: new EventBus(), control: null, instrument: I, mode: 'paper', pipSize: 0.01 } });
    try {
      const ws = d.url.replace('http', 'ws') + '/ws';
      await expect(wsClient(ws, 'http://evil.example')).rejects.toThrow(/HTTP 403/);
      const ok = await wsClient(ws, d.url);
      await new Promise((r) => setTimeout(r, 200));
      expect(ok.messages.map((m) => m.type).sort()).toEqual(['alert', 'collection_status', 'trader_state', 'trades', 'training']);
      ok.close();
      const page = await fetch(d.url + '/');
      expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
      const html = await page.text();
      expect(html).not.toContain(TOKEN);
      expect(html).not.toMatch(/https?:\/\//);
      const uplot = await fetch(d.url + '/assets/uplot.js');
      expect(uplot.status).toBe(200);
      expect(await uplot.text()).toMatch(/uPlot/);
      for (const p of ['/metrics', '/api/alerts', '/health', '/api/live/trader_state']) expect(await (await fetch(d.url + p)).text()).not.toContain(TOKEN);
      const halt = await fetch(d.url + '/api/control/halt', { method: 'POST' });
      expect(halt.status).toBe(401);
    } finally {
      await d.close();
    }
  });
});

describe('the /ws throttle', () => {
  it('sends a change after a quiet window at once (after the gather), coalesces a burst into one message a window by the client’s clock, and ends on the newest state', async () => {
    const bus = new EventBus();
    const base = dashConfig();
    const W = 300;
    const d = await startDashboard({ config: { ...base, dashboard: { ...base.dashboard, throttle_ms: W } }, store: null, token: null, live: { bus, control: null, instrument: I, mode: 'paper', pipSize: 0.01 } });
    const client = await wsClient(d.url.replace('http', 'ws') + '/ws', d.url);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let n = 0;
    const bar = () => bus.emit('bar', { instrument: I, ts: Date.UTC(2016, 4, 3, 0, n++), open: 150, high: 150, low: 150, close: 150 + n / 100, bid_close: null, ask_close: null });
    const collection = () => client.messages.filter((m) => m.type === 'collection_status');
    try {
      await sleep(W + 200); // quiet: past the connect snapshot's window
      const t0 = Date.now();
      bar();
      await sleep(W / 2);
      const lead = collection().at(-1)!;
      expect(lead.data.bars).toBe(1);
      expect(lead.received_at - t0).toBeLessThan(W / 2);
      // a burst: a bar every 10 ms for 1.2 s
      const burstStart = Date.now();
      while (Date.now() - burstStart < 1200) {
        bar();
        await sleep(10);
      }
      const lastEmit = Date.now();
      await sleep(2 * W);
      const times = collection().map((m) => m.received_at);
      for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1], `gap ${i}`).toBeGreaterThanOrEqual(W);
      const during = collection().filter((m) => m.received_at > burstStart);
      expect(during.length).toBeLessThanOrEqual(Math.ceil(1200 / W) + 1);
      expect(during.length).toBeGreaterThanOrEqual(3);
      // the last message carries the newest state: every bar, its event time the last bar's
      const last = collection().at(-1)!;
      expect(last.data.bars).toBe(n);
      expect(Math.abs(last.event_at_ms - lastEmit)).toBeLessThan(50);
      // trader_state moved with the bars under the same rule
      expect(client.messages.filter((m) => m.type === 'trader_state').length).toBe(collection().length);
    } finally {
      client.close();
      await d.close();
    }
  }, 15_000);
});

describe.skipIf(!HAS_SHARED)('a paper replay of one real day', () => {
  let store: Store;
  beforeAll(async () => {
    store = await realBarsStore(path.join(t.dir, 'replay.duckdb'), 'unit');
  }, 120_000);
  afterAll(() => store?.close());

  it('/metrics parses as Prometheus text, holds every named metric and counts what the journal of events counts', async () => {
    const bus = new EventBus();
    const journal: Record<string, number> = {};
    const byKey: Record<string, number> = {};
    bus.onAny((name: LiveEventName, e) => {
      journal[name] = (journal[name] ?? 0) + 1;
      const key = name === 'decision' ? `decision:${(e as { action: string }).action}` : name === 'order' ? `order:${(e as { status: string }).status}` : name === 'risk_denial' ? `denial:${(e as { code: string }).code}` : null;
      if (key) byKey[key] = (byKey[key] ?? 0) + 1;
      if (name === 'reconciliation' && !(e as { ok: boolean }).ok) byKey.discrepancy = (byKey.discrepancy ?? 0) + 1;
    });
    const run = await paperRun(store, { from: '2016-05-03T00:00:00Z', to: '2016-05-04T00:00:00Z', speed: Infinity, bus });
    const d = await startDashboard({ config: dashConfig(), store, token: TOKEN, live: { bus, control: run.runner, instrument: I, mode: 'paper', pipSize: run.pipSize } });
    try {
      const summary = await run.runner.run();
      expect(summary.bars).toBeGreaterThan(1000);
      expect(summary.fills).toBeGreaterThan(4);
      const text = await (await fetch(d.url + '/metrics')).text();
      const { samples, types } = parsePrometheus(text);
      const names = new Set(samples.map((s) => s.name));
      for (const n of [
        'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes',
        'swt_bars_received_total', 'swt_feed_lag_seconds', 'swt_feed_gaps_total',
        'swt_decisions_total', 'swt_orders_total', 'swt_fills_total', 'swt_order_rejections_total',
        'swt_reconciliations_total', 'swt_reconciliation_discrepancies_total',
        'swt_position_units', 'swt_unrealised_pips', 'swt_realised_pips', 'swt_equity_pips', 'swt_drawdown_pips',
      ]) expect(names, n).toContain(n);
      // families with one sample per label are declared even while there is nothing to count
      for (const n of ['swt_risk_denials_total', 'swt_training_episodes_per_second', 'swt_training_loss', 'swt_training_action_share', 'swt_validation_grades', 'swt_alerts_total']) expect(types.has(n), n).toBe(true);
      expect(sampleValue(samples, 'swt_bars_received_total')).toBe(journal.bar);
      expect(journal.bar).toBe(summary.bars);
      expect(sampleValue(samples, 'swt_fills_total')).toBe(journal.fill);
      expect(journal.fill).toBe(summary.fills);
      expect(sampleValue(samples, 'swt_reconciliations_total')).toBe(journal.reconciliation);
      expect(sampleValue(samples, 'swt_reconciliation_discrepancies_total')).toBe(byKey.discrepancy ?? 0);
      let decisions = 0;
      for (const a of ['HOLD', 'BUY', 'SELL', 'CLOSE']) {
        const v = sampleValue(samples, 'swt_decisions_total', { action: a })!;
        expect(v, a).toBe(byKey[`decision:${a}`] ?? 0);
        decisions += v;
      }
      expect(decisions).toBe(summary.decisions);
      for (const s of samples.filter((x) => x.name === 'swt_orders_total')) expect(s.value, s.labels.status).toBe(byKey[`order:${s.labels.status}`]);
      expect(sampleValue(samples, 'swt_orders_total', { status: 'submitted' })).toBe(summary.orders);
      expect(samples.filter((x) => x.name === 'swt_risk_denials_total').reduce((a, s) => a + s.value, 0)).toBe(journal.risk_denial ?? 0);
      // the position and pips agree with the paper broker's account and the session's trades
      const pos = await run.broker.openPositions();
      expect(sampleValue(samples, 'swt_position_units')).toBe(pos[0]?.units ?? 0);
      const closedNet = run.session.trades.records().reduce((a, r) => a + r.netPips, 0);
      if (pos.length === 0) expect(sampleValue(samples, 'swt_realised_pips')).toBeCloseTo(closedNet, 6);
      expect(text).not.toContain(TOKEN);

      const health = await fetch(d.url + '/health');
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', store: { ok: true }, risk: { state: 'ACTIVE' }, feed: { bars: summary.bars } });

      // controls: refused without or with a wrong token; with it, the runner is HALTED and /health says 503
      expect((await fetch(d.url + '/api/control/halt', { method: 'POST' })).status).toBe(401);
      expect((await fetch(d.url + '/api/control/halt', { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect(run.runner.status().risk_state).toBe('ACTIVE');
      const ok = await fetch(d.url + '/api/control/halt', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'test halt' }) });
      expect(ok.status).toBe(200);
      expect(run.runner.status()).toMatchObject({ risk_state: 'HALTED', risk_reason: 'test halt' });
      const h2 = await fetch(d.url + '/health');
      expect(h2.status).toBe(503);
      expect((await h2.json()).problems).toContain('risk: HALTED');
      const resume = await fetch(d.url + '/api/control/resume', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(resume.status).toBe(200);
      expect(run.runner.status().risk_state).toBe('ACTIVE');
    } finally {
      await d.close();
    }
  }, 60_000);
});

describe('alert rules', () => {
  it('each rule fires once from its condition, repeats inside the window are suppressed, each alert is stored, pushed and POSTed', async () => {
    const posts: Array<{ code: string; severity: string }> = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        posts.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    const store = await Store.open(path.join(t.dir, 'alerts.duckdb'), { hold: 'unit' });
    let now = Date.UTC(2016, 4, 3, 10, 0);
    const bus = new EventBus();
    const config = dashConfig({ suppress_ms: 600_000, webhook_url: hookUrl, drawdown_pips: 150, loss_streak: 2, stale_feed_ms: 120_000, hold_share: 0.98, plateau_evaluations: 4, check_every_ms: 3_600_000 });
    const d = await startDashboard({ config, store, token: null, now: () => now, live: { bus, control: null, instrument: I, mode: 'paper', pipSize: 0.01 } });
    const client = await wsClient(d.url.replace('http', 'ws') + '/ws', null);
    try {
      const bar = (close: number) => bus.emit('bar', { instrument: I, ts: now, open: close, high: close, low: close, close, bid_close: null, ask_close: null });
      const order = (id: string, units: number) => bus.emit('order', { client_id: id, instrument: I, units, intent: 'BUY', status: 'submitted', reason: null, ts: now });
      const fill = (id: string, units: number, price: number) => bus.emit('fill', { client_id: id, transaction_id: id, instrument: I, units, price, mid: price, ts: now });
      const codes = () => d.alerts.latest().map((a) => a.code);

      // nothing yet: a fresh feed, no training table
      await d.alerts.check();
      expect(codes()).toEqual([]);

      // two losing positions in a row (loss_streak 2): long 150.00 → 149.90, long 150.00 → 149.80
      bar(150);
      order('a1', 1), fill('a1', 1, 150), order('a2', -1), fill('a2', -1, 149.9);
      expect(codes()).not.toContain('loss_streak');
      order('a3', 1), fill('a3', 1, 150), order('a4', -1), fill('a4', -1, 149.8);
      expect(codes().filter((c) => c === 'loss_streak')).toHaveLength(1);
      // drawdown: -30 realised, then a long at 150.00 marked at 148.50 (-150): 180 pips under the peak of 0
      order('b1', 1), fill('b1', 1, 150);
      bar(148.5);
      expect(codes()).toContain('drawdown');
      bar(148.4);
      // a fill of 66 units for an order of 1
      order('c1', 1), fill('c1', 66, 148.4);
      // reconciliation discrepancy, and the runner's own alert for it shares the rule's window
      bus.emit('reconciliation', { ts: now, instrument: I, trigger: 'interval', ok: false, broker_units: 67, local_units: 1, discrepancy: 'broker 67, local 1', action: 'halt' });
      bus.emit('alert', { ts: now, severity: 'critical', code: 'reconciliation_discrepancy', message: 'broker 67, local 1; action: halt' });
      bus.emit('risk_state', { ts: now, from: 'ACTIVE', to: 'HALTED', reason: 'reconciliation' });
      bus.emit('risk_state', { ts: now, from: 'HALTED', to: 'ACTIVE', reason: 'resume' });
      bus.emit('risk_state', { ts: now, from: 'ACTIVE', to: 'HALTED', reason: 'again' });
      // the feed goes quiet for 3 minutes while the market is open
      now += 180_000;
      await d.alerts.check();
      // a training run whose newest iteration is 99% HOLD and whose last 3 of 4 evaluations are no better
      await writeTrainingRun(store, 'collapsed', { iterations: 3, hold: 0.99, sqn: [0.8, 0.2, 0.5, 0.7] });
      now += 2_000; // past the training read's cache
      await d.alerts.check();
      now += 2_000;
      await d.alerts.check();
      bar(148.3);
      order('c2', 1), fill('c2', 5, 148.3);

      const rules = ['loss_streak', 'drawdown', 'fill_mismatch', 'reconciliation', 'risk_halted', 'stale_feed', 'hold_collapse', 'training_plateau'];
      expect([...codes()].sort()).toEqual([...rules].sort());
      const sev = Object.fromEntries(d.alerts.latest().map((a) => [a.code, a.severity]));
      expect(sev).toEqual({ loss_streak: 'warning', drawdown: 'critical', fill_mismatch: 'critical', reconciliation: 'critical', risk_halted: 'critical', stale_feed: 'warning', hold_collapse: 'warning', training_plateau: 'info' });

      await d.alerts.flush();
      const stored = await store.all<{ code: string; n: bigint }>(`SELECT payload->>'code' AS code, count(*) AS n FROM events WHERE name = 'alert' AND run_id = 'dashboard' GROUP BY 1`);
      expect(Object.fromEntries(stored.map((r) => [r.code, Number(r.n)]))).toEqual(Object.fromEntries(rules.map((r) => [r, 1])));
      expect(posts.map((p) => p.code).sort()).toEqual([...rules].sort());
      const { samples } = parsePrometheus(await (await fetch(d.url + '/metrics')).text());
      for (const r of rules) expect(sampleValue(samples, 'swt_alerts_total', { code: r }), r).toBe(1);
      for (const r of ['drawdown', 'fill_mismatch', 'reconciliation', 'risk_halted', 'hold_collapse', 'training_plateau']) expect(sampleValue(samples, 'swt_alerts_suppressed_total', { code: r }), r).toBeGreaterThanOrEqual(1);

      // past the window the same condition raises again
      now += 601_000;
      bus.emit('risk_state', { ts: now, from: 'HALTED', to: 'ACTIVE', reason: 'resume' });
      bus.emit('risk_state', { ts: now, from: 'ACTIVE', to: 'HALTED', reason: 'third' });
      expect(codes().filter((c) => c === 'risk_halted')).toHaveLength(2);

      // the alerts reached the WebSocket client (throttled: the newest list, at most one message a second)
      await new Promise((r) => setTimeout(r, 1200));
      const last = client.messages.filter((m) => m.type === 'alert').at(-1)!;
      expect(last.data.alerts.map((a: { code: string }) => a.code)).toEqual(expect.arrayContaining(rules));
    } finally {
      client.close();
      await d.close();
      store.close();
      hook.close();
    }
  }, 30_000);
});
