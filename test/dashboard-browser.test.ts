// The dashboard in a real browser (Debian's Chromium through playwright-core) against a server fed by
// a paper replay of real bars: the three live panels fill in and change as bars arrive, a fill shows in
// the trades panel within 2 s of its event, the training view draws its charts from a stored run, and
// halt is refused without the token and halts the runner with it. Screenshots go to test-output/dashboard/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../src/config/load.js';
import type { Store } from '../src/store/db.js';
import { startDashboard, type Dashboard } from '../src/server/server.js';
import { HAS_SHARED, ROOT, tempDir } from './helpers/paths.js';
import { paperRun, realBarsStore, I, type PaperRun } from './helpers/live-run.js';
import { writeTrainingRun } from './helpers/dashboard.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.warn(`[swt tests] ${CHROMIUM} not found (apt-get install chromium): the dashboard browser test is SKIPPED`);
const OUT = path.join(ROOT, 'test-output', 'dashboard');
const TOKEN = 'browser-token-51c0d2';

describe.skipIf(!HAS_SHARED || !HAS_CHROMIUM)('the dashboard in Chromium, fed by a paper replay', () => {
  const t = tempDir('swt-dash-browser-');
  let store: Store;
  let browser: Browser;
  let d: Dashboard;
  let run: PaperRun;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    store = await realBarsStore(path.join(t.dir, 'browser.duckdb'), 'unit');
    await writeTrainingRun(store, 'train-1', { iterations: 12, hold: 0.55, sqn: [0.2, 0.6, 0.9, 0.7] });
    // 25 ms a bar: 600 bars of 3 May 2016 in about 15 s
    run = await paperRun(store, { from: '2016-05-03T00:00:00Z', to: '2016-05-03T10:00:00Z', speed: 2400 });
    const base = loadConfig();
    const config = { ...base, dashboard: { ...base.dashboard, port: 0 } };
    d = await startDashboard({ config, store, token: TOKEN, live: { bus: run.bus, control: run.runner, instrument: I, mode: 'paper', pipSize: run.pipSize } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 120_000);
  afterAll(async () => {
    run?.feed.close();
    await browser?.close();
    await d?.close();
    store?.close();
    t.cleanup();
  });

  it('live panels, a fill within 2 s, halt refused then done, the training charts', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // the refused halt is the one failed request the page should see
    page.on('console', (m) => void (m.type() === 'error' && !/status of 401/.test(m.text()) && errors.push(m.text())));
    await page.goto(d.url + '/');
    await page.waitForFunction(() => document.getElementById('ws-status')?.textContent === 'live');

    const firstFill = new Promise<number>((resolve) => {
      const off = run.bus.on('fill', () => {
        off();
        resolve(Date.now());
      });
    });
    const done = run.runner.run();

    await page.waitForFunction(() => Number(document.getElementById('c-bars')?.textContent) > 0, undefined, { timeout: 10_000 });
    const bars1 = Number(await page.textContent('#c-bars'));
    const close1 = await page.textContent('#c-last-bar');
    await page.waitForTimeout(1500);
    const bars2 = Number(await page.textContent('#c-bars'));
    expect(bars2).toBeGreaterThan(bars1);
    expect(await page.textContent('#c-last-bar')).not.toBe(close1);
    expect(await page.textContent('#c-instrument')).toBe(I);
    expect(await page.textContent('#t-mode')).toBe('paper');
    expect(await page.textContent('#t-risk')).toMatch(/^ACTIVE/);
    expect(await page.textContent('#c-memory')).toMatch(/MiB$/);

    const filledAt = await firstFill;
    await page.waitForFunction(() => (document.querySelector('#fills tbody')?.children.length ?? 0) > 0, undefined, { timeout: 2000 });
    const shownAfter = Date.now() - filledAt;
    expect(shownAfter).toBeLessThanOrEqual(2000);
    await page.waitForFunction(() => document.getElementById('t-decision')?.textContent !== '–');
    // ma-crossover does not search: the visits row says so (test/server-visits.test.ts draws a muzero one)
    expect(await page.textContent('#t-visits')).toBe('no search');
    expect(Number(await page.textContent('#x-fills'))).toBeGreaterThan(0);
    await page.waitForSelector('#equity-chart canvas');
    await page.screenshot({ path: path.join(OUT, 'live.png'), fullPage: true });

    // halt without the token: refused, the runner keeps trading
    await page.click('#btn-halt');
    await page.waitForFunction(() => /refused \(401\)/.test(document.getElementById('control-result')?.textContent ?? ''));
    expect(run.runner.status().risk_state).toBe('ACTIVE');
    await page.fill('#token', TOKEN);
    await page.click('#btn-halt');
    await page.waitForFunction(() => /halt: done/.test(document.getElementById('control-result')?.textContent ?? ''));
    expect(run.runner.status().risk_state).toBe('HALTED');
    await page.waitForFunction(() => /^HALTED/.test(document.getElementById('t-risk')?.textContent ?? ''), undefined, { timeout: 3000 });
    await page.screenshot({ path: path.join(OUT, 'live-halted.png'), fullPage: true });
    const html = await page.content();
    expect(html).not.toContain(`value="${TOKEN}"`);

    await page.click('nav button[data-view="training"]');
    await page.waitForSelector('#training-mix canvas');
    await page.waitForSelector('#training-losses canvas');
    await page.waitForSelector('#training-sqn canvas');
    expect(await page.textContent('#tr-run')).toBe('train-1');
    expect(await page.textContent('#tr-sqn')).toBe('0.90');
    await page.screenshot({ path: path.join(OUT, 'training.png'), fullPage: true });

    await page.click('nav button[data-view="validations"]');
    await page.waitForSelector('#validations');
    await page.screenshot({ path: path.join(OUT, 'validations.png'), fullPage: true });

    run.feed.close();
    await done;
    expect(errors).toEqual([]);
  }, 60_000);
});
