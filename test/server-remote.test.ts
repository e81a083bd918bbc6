// `swt serve` following a `swt live` runner in another process (issue 13: "asks a running runner for
// live state over its API"): two real processes, the runner a paper replay of real bars, the server
// started after it and finding it by its API state file. The served live panels follow the runner's
// bars, fills and position; halt through the served controls needs the dashboard token and halts the
// runner; what the server shows at the end is what the runner reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { indexSessions } from '../src/data/sessions.js';
import { callRunner } from '../src/live/api.js';
import { EventBus, EventLog } from '../src/live/events.js';
import { RunnerLink } from '../src/server/remote.js';
import { Store } from '../src/store/db.js';
import { HAS_SHARED, tempDir } from './helpers/paths.js';
import { realBarsStore, I } from './helpers/live-run.js';
import { spawnSwt, type Running } from './helpers/processes.js';

const TOKEN = 'serve-remote-token-3e9d';
const t = tempDir('swt-serve-remote-');
const running: Running[] = [];
afterAll(() => {
  for (const r of running) r.child.kill('SIGKILL');
  t.cleanup();
});

const env = {
  SWT_STORE__DB: path.join(t.dir, 'swt.duckdb'),
  SWT_LIVE__JOURNAL: path.join(t.dir, 'journal.duckdb'),
  SWT_LIVE__API__STATE_FILE: path.join(t.dir, 'runner.json'),
  SWT_LOG__DIR: path.join(t.dir, 'logs'),
};
const until = async <T>(what: string, f: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> => {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('the runner side: the event log a follower reads', () => {
  it('numbers the bus events from 1, keeps the newest `capacity`, pages after a cursor, and wakes a waiting reader', async () => {
    const bus = new EventBus();
    const log = new EventLog(5);
    log.attach(bus);
    const risk = (k: number) => bus.emit('risk_state', { ts: k, from: 'ACTIVE', to: 'HALTED', reason: `r${k}` });
    for (let k = 1; k <= 3; k++) risk(k);
    expect(log.since(0, 100)).toMatchObject({ first_seq: 1, next_seq: 4 });
    expect(log.since(1, 1).events).toEqual([{ seq: 2, name: 'risk_state', data: { ts: 2, from: 'ACTIVE', to: 'HALTED', reason: 'r2' } }]);
    for (let k = 4; k <= 12; k++) risk(k);
    // a reader at cursor 2 learns that events 3–7 are gone: the oldest kept is 8
    const page = log.since(2, 100);
    expect(page.first_seq).toBe(8);
    expect(page.events.map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(log.since(12, 100).events).toEqual([]);
    const t0 = Date.now();
    const waiting = log.wait(5000);
    setTimeout(() => risk(13), 50);
    await waiting;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(log.since(12, 100).events.map((e) => e.seq)).toEqual([13]);
    // nothing comes: the wait ends at its timeout
    const t1 = Date.now();
    await log.wait(100);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(95);
  });

  it('a state file left by a runner that is gone (kill -9) is no runner to follow', async () => {
    const file = path.join(t.dir, 'stale-runner.json');
    writeFileSync(file, JSON.stringify({ pid: 999999, host: '127.0.0.1', port: 9, api_token: 'x', started_at: '2026-01-01T00:00:00Z' }));
    expect(await new RunnerLink(file).find()).toBeNull();
    expect(await new RunnerLink(path.join(t.dir, 'no-such-file.json')).find()).toBeNull();
  });
});

describe.skipIf(!HAS_SHARED)('swt serve following a swt live runner in another process', () => {
  beforeAll(async () => {
    const store = await realBarsStore(env.SWT_STORE__DB);
    const config = loadConfig();
    await indexSessions(store, config, I, config.data.session_length, config.data.max_gap_minutes);
    store.close();
  }, 120_000);

  it('picks up a runner started after it, shows its bars, fills and position, forwards halt with the token, ends where the runner ends, then follows the next runner from nothing', async () => {
    const serve = spawnSwt(['serve', '--port', '0'], { env: { ...env, SWT_DASHBOARD_TOKEN: TOKEN } });
    running.push(serve);
    const line = await serve.waitFor(/dashboard on (http:\/\/\S+) .*no runner running yet/);
    const url = /(http:\/\/\S+)/.exec(line)![1];
    // 20 ms a bar: Friday's ~250 warm-up bars, then the Sunday-evening session (360 bars), about 12 s
    const args = ['live', '--broker', 'paper', '--feed', 'replay', '--policy', 'ma-crossover', '--instrument', I, '--from', '2016-04-24T21:00:00Z', '--to', '2016-04-25T03:00:00Z', '--json'];
    const runner = spawnSwt([...args, '--speed', '3000'], { env });
    running.push(runner);
    await runner.waitFor(/control API 127\.0\.0\.1:\d+/);
    const apiToken = (JSON.parse(readFileSync(env.SWT_LIVE__API__STATE_FILE, 'utf8')) as { api_token: string }).api_token;
    const get = async (p: string) => (await fetch(url + p)).json();

    // the collection panel counts bars as the runner sends them
    const bars1 = await until('bars on the served panel', async () => ((await get('/api/live/collection_status')).bars > 0 ? (await get('/api/live/collection_status')).bars : null));
    await new Promise((r) => setTimeout(r, 600));
    const c2 = await get('/api/live/collection_status');
    expect(c2.bars).toBeGreaterThan(bars1);
    expect(c2.instrument).toBe(I);
    expect((await get('/api/live/trader_state')).mode).toBe('paper');

    // a fill reaches the trades panel, and the served position is what the runner holds
    const trades = await until('a fill on the served trades panel', async () => {
      const x = await get('/api/live/trades');
      return x.stats.fills > 0 ? x : null;
    });
    expect(trades.recent_fills[0]).toMatchObject({ transaction_id: expect.any(String), units: expect.any(Number) });

    // halt: refused without the dashboard token (the runner keeps trading), forwarded with it
    expect((await fetch(url + '/api/control/halt', { method: 'POST' })).status).toBe(401);
    expect(((await callRunner(env.SWT_LIVE__API__STATE_FILE, 'status')) as { risk_state: string }).risk_state).toBe('ACTIVE');
    const halt = await fetch(url + '/api/control/halt', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'halt via swt serve' }) });
    expect(halt.status).toBe(200);
    expect(await callRunner(env.SWT_LIVE__API__STATE_FILE, 'status')).toMatchObject({ risk_state: 'HALTED', risk_reason: 'halt via swt serve' });
    // the runner's risk_state event comes back to the served panel
    await until('HALTED on the served trader panel', async () => (await get('/api/live/trader_state')).risk_state === 'HALTED');

    const done = await runner.done;
    expect(done.status).toBe(0);
    const summary = JSON.parse(done.stdout) as { bars: number; fills: number; decisions: number; state: string };
    expect(summary.state).toBe('HALTED');
    // what the server shows at the end: every bar, fill and decision of the run, the position from its fills
    const c = await get('/api/live/collection_status');
    const tr = await get('/api/live/trader_state');
    const x = await get('/api/live/trades');
    expect(c.bars).toBe(summary.bars);
    expect(x.stats.fills).toBe(summary.fills);
    expect(tr.position_units).toBe(x.recent_fills.reduce((a: number, f: { units: number }) => a + f.units, 0));
    // the journal keeps each decision event as it went out: a policy without a search has no visits
    const journal = await Store.open(env.SWT_LIVE__JOURNAL, { hold: 'unit' });
    try {
      const rows = await journal.all(`SELECT payload FROM events WHERE name = 'decision'`);
      expect(rows.length).toBe(summary.decisions);
      expect(JSON.parse(String(rows[0].payload))).toMatchObject({ strategy: 'ma-crossover', visits: null });
    } finally {
      journal.close();
    }
    const metrics = await (await fetch(url + '/metrics')).text();
    const decisions = [...metrics.matchAll(/^swt_decisions_total\{action="\w+"\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(decisions).toBe(summary.decisions);
    // the runner is gone: the served collection panel says so, and the token never showed
    await until('disconnected on the served panel', async () => (await get('/api/live/collection_status')).connection === 'disconnected');
    const shown = serve.stderr() + serve.stdout() + metrics + JSON.stringify(c) + JSON.stringify(tr) + JSON.stringify(await get('/api/live/status')) + (await (await fetch(url + '/')).text());
    expect(shown).not.toContain(TOKEN);
    expect(shown).not.toContain(apiToken);

    // a second runner: the served panels start over with its run
    const second = spawnSwt([...args, '--speed', '20000'], { env });
    running.push(second);
    const done2 = await second.done;
    expect(done2.status).toBe(0);
    const summary2 = JSON.parse(done2.stdout) as { bars: number; fills: number; state: string };
    expect(summary2.state).toBe('ACTIVE');
    const c3 = await until('the second run on the served panel', async () => {
      const x = await get('/api/live/collection_status');
      return x.connection === 'disconnected' && x.bars === summary2.bars ? x : null;
    });
    expect(c3.bars).toBe(summary2.bars);
    expect((await get('/api/live/trades')).stats.fills).toBe(summary2.fills);
    expect((await get('/api/live/trader_state')).risk_state).toBe('ACTIVE');
    serve.child.kill('SIGTERM');
    expect((await serve.done).status).toBe(0);
  }, 90_000);
});
