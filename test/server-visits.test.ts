// The trader panel's "last decision with its search visit distribution" (issue 13): a muzero paper
// replay (a checkpoint's network searched by the native MCTS) puts the root visit counts of each
// decision it asked the policy for in the runner's decision event — they sum to the simulations — and
// the dashboard's trader panel shows them, as JSON and, in Chromium, as one bar per action; a policy
// without a search sends none and the panel says "no search".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { importFiles } from '../src/data/import.js';
import { indexSessions } from '../src/data/sessions.js';
import { buildFeatures } from '../src/features/store.js';
import { initCheckpoint } from '../src/agent/checkpoints/registry.js';
import { createLiveRun } from '../src/app/live.js';
import type { LiveEventMap } from '../src/live/events.js';
import { startDashboard } from '../src/server/server.js';
import { Store } from '../src/store/db.js';
import { HAS_SHARED, ROOT, SHARED, tempDir } from './helpers/paths.js';

const I = 'GBP_JPY';
const CHROMIUM = '/usr/bin/chromium';
const OUT = path.join(ROOT, 'test-output', 'dashboard');
const t = tempDir('swt-visits-');
let store: Store;
let config: Config;
afterAll(() => {
  store?.close();
  t.cleanup();
});

describe.skipIf(!HAS_SHARED)('search visits in the live decision events and the trader panel', () => {
  beforeAll(async () => {
    config = loadConfig({ overrides: { 'checkpoints.dir': path.join(t.dir, 'checkpoints'), 'dashboard.port': 0 } });
    // the first 4,000 bars of the real file (22–27 April 2016): enough for the features' warm-up and a few sessions
    const csv = gunzipSync(readFileSync(path.join(SHARED, 'data', 'GBPJPY_M1_20160422_20160624.csv.gz'))).toString('utf8').split('\n').slice(0, 4001).join('\n');
    const file = path.join(t.dir, 'gbpjpy-head.csv');
    writeFileSync(file, csv + '\n');
    store = await Store.open(path.join(t.dir, 'visits.duckdb'));
    await importFiles(store, [file], { instrument: I, format: 'csv' });
    await indexSessions(store, config, I, config.data.session_length, config.data.max_gap_minutes);
    await buildFeatures(store, config, { instrument: I, set: config.features.default_set });
  }, 120_000);

  it('muzero: each searched decision carries visits summing to the simulations; the panel draws them', async () => {
    const { meta } = await initCheckpoint(store, config, { seed: 3 });
    const simulations = 12;
    const from = new Date('2016-04-26T00:00:00Z');
    const run = await createLiveRun(store, config, { broker: 'paper', mode: 'practice', policy: 'muzero', params: { checkpoint: meta.id, simulations }, instrument: I, feed: 'replay', speed: Infinity, range: { from, to: null }, sessions: true, seed: 1 });
    const decisions: Array<LiveEventMap['decision']> = [];
    run.bus.on('decision', (d) => decisions.push(d));
    const d = await startDashboard({ config, store, token: null, live: { bus: run.bus, control: run.runner, instrument: I, mode: 'paper', pipSize: config.instruments[I].pip_size } });
    try {
      await run.runner.run();
      const searched = decisions.filter((e) => e.reason === 'policy');
      expect(searched.length).toBeGreaterThan(100);
      for (const e of searched) {
        expect(Object.keys(e.visits!)).toEqual(['HOLD', 'BUY', 'SELL', 'CLOSE']);
        expect(Object.values(e.visits!).reduce((a, b) => a + b, 0)).toBe(simulations);
      }
      // decisions the policy was not asked for (feature rows not ok) carry no search
      for (const e of decisions.filter((x) => x.reason !== 'policy')) expect(e.visits).toBeNull();
      const last = decisions.at(-1)!;
      const panel = await (await fetch(d.url + '/api/live/trader_state')).json();
      expect(panel.last_decision).toMatchObject({ bar_index: last.bar_index, action: last.action, visits: last.visits });

      if (!existsSync(CHROMIUM)) return console.warn(`[swt tests] ${CHROMIUM} not found: the visits bar chart is not checked in a browser`);
      const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        await page.goto(d.url + '/');
        await page.waitForSelector('#t-visits .visit');
        const rows = await page.$$eval('#t-visits .visit', (els) => els.map((e) => ({ action: (e as HTMLElement).dataset.action, n: Number(e.querySelector('.visit-n')!.textContent), width: (e.querySelector('.visit-bar') as HTMLElement).getBoundingClientRect().width, track: e.querySelector('.visit-track')!.getBoundingClientRect().width })));
        expect(rows.map((r) => r.action)).toEqual(['HOLD', 'BUY', 'SELL', 'CLOSE']);
        expect(rows.map((r) => r.n)).toEqual(Object.values(last.visits!));
        // each bar's length is its share of the visits
        for (const r of rows) expect(r.width / r.track).toBeCloseTo(r.n / simulations, 2);
        mkdirSync(OUT, { recursive: true });
        await page.screenshot({ path: path.join(OUT, 'live-muzero-visits.png'), fullPage: true });
      } finally {
        await browser.close();
      }
    } finally {
      await d.close();
      await run.close();
    }
  }, 120_000);
});
