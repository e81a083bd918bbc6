// The dashboard's trader panel switches between the run's strategies (issue 14): in Chromium, against
// a paper replay of real bars with two shadows, the selector lists the live strategy and the shadows,
// and choosing one shows its own position, fills and rolling performance (from its own bus and record).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import type { Store } from '../src/store/db.js';
import { createLiveRun, type LiveRun } from '../src/app/live.js';
import { startDashboard, type Dashboard } from '../src/server/server.js';
import { HAS_SHARED, tempDir } from './helpers/paths.js';
import { realBarsStore, I } from './helpers/live-run.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const SHADOWS = ['ma-crossover:fast=5,slow=20', 'mean-reversion:window=60,entry_z=1.5,exit_z=0'];

describe.skipIf(!HAS_SHARED)('the trader panel switches between the live strategy and its shadows', () => {
  const t = tempDir('swt-shadow-dash-');
  let store: Store;
  let run: LiveRun;
  let d: Dashboard;
  let browser: Browser | null = null;

  beforeAll(async () => {
    store = await realBarsStore(path.join(t.dir, 'bars.duckdb'));
    const base = loadConfig();
    const config: Config = { ...base, dashboard: { ...base.dashboard, port: 0 }, live: { ...base.live, risk: { ...base.live.risk, daily_loss_pips: 1e9, max_orders_per_minute: 1000 }, reconcile_every_s: 3600 } };
    const from = new Date('2016-06-01T06:00:00Z');
    run = await createLiveRun(store, config, { broker: 'paper', mode: 'practice', policy: 'ma-crossover', params: {}, instrument: I, feed: 'replay', speed: Infinity, start: from, range: { from, to: new Date('2016-06-01T12:00:00Z') }, sessions: false, seed: 1, shadows: SHADOWS });
    d = await startDashboard({
      config,
      store: null,
      token: null,
      live: { bus: run.bus, control: run.runner, instrument: I, mode: 'paper', pipSize: 0.01, strategy: 'ma-crossover', shadows: run.shadows, performance: (s) => run.records.get(s)?.figures() ?? null },
    });
    // the whole replay runs with the dashboard listening: its panels are the fold of every event
    await run.runner.run();
    if (HAS_CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await d?.close();
    await run?.close();
    store?.close();
    t.cleanup();
  });

  it('the API serves each strategy’s panels and performance; an unknown strategy is a 400 naming the choices', async () => {
    const get = async (p: string) => {
      const r = await fetch(d.url + p);
      return { status: r.status, body: (await r.json()) as any };
    };
    expect((await get('/api/live/strategies')).body).toEqual({ strategies: [{ strategy: 'ma-crossover', shadow: false }, ...SHADOWS.map((s) => ({ strategy: s, shadow: true }))] });
    const fills = new Set<number>();
    for (const [k, s] of SHADOWS.entries()) {
      const sh = run.shadows[k];
      const x = (await get(`/api/live/trades?strategy=${encodeURIComponent(s)}`)).body;
      expect(x.stats.fills).toBe(sh.runner.stats.fills);
      fills.add(x.stats.fills);
      const tr = (await get(`/api/live/trader_state?strategy=${encodeURIComponent(s)}`)).body;
      expect(tr.mode).toBe('shadow');
      expect(tr.position_units).toBe(sh.runner.status().position_units);
      const p = (await get(`/api/live/performance?strategy=${encodeURIComponent(s)}`)).body;
      expect(p.performance.trades).toBe(sh.session.trades.count);
    }
    fills.add((await get('/api/live/trades')).body.stats.fills);
    // three strategies, three different records: the panels are not one strategy's shown thrice
    expect(fills.size).toBe(3);
    expect((await get('/api/live/trades')).body.stats.fills).toBe(run.runner.stats.fills);
    const bad = await get('/api/live/trades?strategy=nope');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('no strategy "nope" in this run (strategies: ma-crossover, ma-crossover:fast=5,slow=20');
  });

  it.skipIf(!HAS_CHROMIUM)('in Chromium: the selector lists live and shadows; choosing a shadow shows its fills and performance', async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(d.url + '/');
    await page.waitForFunction(() => (document.getElementById('t-strategy') as HTMLSelectElement).options.length === 3);
    expect(await page.$$eval('#t-strategy option', (os) => os.map((o) => o.textContent))).toEqual(['ma-crossover (live)', ...SHADOWS.map((s) => `${s} (shadow)`)]);
    await page.waitForFunction((n) => document.getElementById('x-fills')?.textContent === String(n), run.runner.stats.fills);
    for (const [k, s] of SHADOWS.entries()) {
      const sh = run.shadows[k];
      await page.selectOption('#t-strategy', s);
      await page.waitForFunction((n) => document.getElementById('x-fills')?.textContent === String(n), sh.runner.stats.fills, { timeout: 5000 });
      await page.waitForFunction((n) => document.getElementById('t-performance')?.textContent?.startsWith(`${n} trades`), sh.session.trades.count, { timeout: 5000 });
      expect(await page.textContent('#t-mode')).toBe('shadow');
      expect(await page.textContent('#t-position')).toBe(String(sh.runner.status().position_units));
    }
    await page.selectOption('#t-strategy', 'ma-crossover');
    await page.waitForFunction((n) => document.getElementById('x-fills')?.textContent === String(n), run.runner.stats.fills, { timeout: 5000 });
    expect(await page.textContent('#t-mode')).toBe('paper');
    expect(errors).toEqual([]);
  }, 60_000);
});
