// `swt live` as a user runs it, against the fake v20 server: killed with SIGKILL between the order's
// submission and its fill confirmation, then restarted (acceptance 3), controlled over its loopback API
// (status, halt, resume, flatten), and checked for the broker token in every output, log line and stored row (acceptance 4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { FakeV20 } from './support/fake-v20.js';
import { spawnSwt } from './helpers/processes.js';
import { tempDir } from './helpers/paths.js';
import { Store } from '../src/store/db.js';

const TOKEN = 'tok-91c3e7aa-do-not-leak-4f0b';
const I = 'GBP_JPY';
const t = tempDir();
let fake: FakeV20;
afterAll(async () => {
  await fake?.close();
  t.cleanup();
});

const logDir = path.join(t.dir, 'logs');
const env = () => ({
  SWT_OANDA_TOKEN: TOKEN,
  SWT_OANDA_ACCOUNT: fake.accountId,
  SWT_LIVE__OANDA__PRACTICE__REST_URL: fake.url,
  SWT_LIVE__OANDA__PRACTICE__STREAM_URL: fake.url,
  SWT_LIVE__OANDA__TIMEOUT_MS: '60000',
  SWT_LIVE__OANDA__STALE_MS: '2000',
  SWT_LIVE__BAR_GRACE_MS: '100000',
  SWT_STORE__DB: path.join(t.dir, 'swt.duckdb'),
  SWT_LIVE__JOURNAL: path.join(t.dir, 'journal.duckdb'),
  SWT_LIVE__API__STATE_FILE: path.join(t.dir, 'runner.json'),
  SWT_LOG__DIR: logDir,
  SWT_LOG__LEVEL: 'info',
});
const ARGS = ['live', '--broker', 'oanda', '--mode', 'practice', '--policy', 'buy-and-hold', '--instrument', I, '--feed', 'stream'];
// a Wednesday morning: the market calendar is open whatever day the test runs
const M0 = Date.parse('2024-03-06T10:00:00Z');
const tick = (minute: number, sec: number, p: number) => fake.tick(I, M0 + minute * 60_000 + sec * 1000, p - 0.02, p + 0.02);
// The fake server runs in this process: a blocking spawnSync would stall it, so every CLI call is async.
const swt = (args: string[], o: { env: Record<string, string> }) => spawnSwt(args, o).done.then((f) => ({ status: f.status, stdout: f.stdout, stderr: f.stderr }));
const until = async (cond: () => boolean, ms = 20_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

beforeAll(async () => {
  fake = await FakeV20.start({ token: TOKEN });
  fake.heartbeats(200);
});

describe('swt live against the fake v20 server', () => {
  let statusJson = '';
  const outputs: string[] = [];

  it('killed -9 between order submit and fill confirmation, restarted: the intent completes once, journal and broker agree; flatten closes it over the API', async () => {
    fake.nextOrderHangs = true; // the order is filled at the broker; its answer never arrives
    const first = spawnSwt(ARGS, { env: env() });
    await first.waitFor(/swt live: running/);
    await until(() => fake.streamClients === 1);
    tick(0, 1, 150);
    tick(0, 30, 150.01);
    tick(1, 1, 150.02); // bar 0 complete → BUY → intent journaled → POST
    await until(() => fake.requests.some((r) => r.method === 'POST'));
    first.child.kill('SIGKILL');
    const f1 = await first.done;
    expect(f1.signal).toBe('SIGKILL');
    outputs.push(f1.stdout, f1.stderr);
    expect(fake.positions.get(I)?.units).toBe(1);

    const second = spawnSwt(ARGS, { env: env() });
    await second.waitFor(/swt live: running/);
    await until(() => fake.streamClients >= 1);
    tick(2, 1, 150.03);
    tick(3, 1, 150.04);
    tick(4, 1, 150.05);
    const st = await swt(['live', 'status', '--json'], { env: env() });
    expect(st.status).toBe(0);
    statusJson = st.stdout;
    const status = JSON.parse(st.stdout);
    expect(status).toMatchObject({ broker: 'oanda', risk_state: 'ACTIVE', position_units: 1, scale: 1, shadows: [] });
    // halt and resume over the API
    expect(JSON.parse((await swt(['live', 'halt', '--json'], { env: env() })).stdout).risk_state).toBe('HALTED');
    expect(JSON.parse((await swt(['live', 'resume', '--json'], { env: env() })).stdout).risk_state).toBe('ACTIVE');
    // never repeated: one market order at the broker before the flatten
    expect(fake.transactions.filter((x) => x.type === 'MARKET_ORDER')).toHaveLength(1);
    // flatten over the API: the broker's position is closed by one order and the runner reports flat
    // (no tick follows, so buy-and-hold has no bar to buy again at)
    const flat = await swt(['live', 'flatten', '--json'], { env: env() });
    outputs.push(flat.stdout, flat.stderr);
    expect(flat.status).toBe(0);
    expect(JSON.parse(flat.stdout)).toMatchObject({ risk_state: 'ACTIVE', position_units: 0 });
    expect(fake.positions.get(I)?.units ?? 0).toBe(0);
    const human = await swt(['live', 'status'], { env: env() });
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/position[ _]units:? +0\b/);
    second.child.kill('SIGTERM');
    const f2 = await second.done;
    outputs.push(f2.stdout, f2.stderr);
    expect(f2.status).toBe(0);

    const orders = fake.transactions.filter((x) => x.type === 'MARKET_ORDER');
    expect(orders.map((x) => x.units)).toEqual(['1', '-1']);
    const ids = orders.map((x) => (x.clientExtensions as { id: string }).id);
    expect(new Set(ids).size).toBe(2);
    const j = await Store.open(path.join(t.dir, 'journal.duckdb'));
    try {
      const orders = await j.all<{ status: string; reason: string; intent: string; units: number }>('SELECT status, reason, intent, units FROM orders ORDER BY created_at');
      expect(orders).toHaveLength(2);
      expect(orders[0].status).toBe('filled');
      expect(orders[0].reason).toMatch(/settled at restart/);
      expect(orders[1]).toMatchObject({ intent: 'flatten', status: 'filled', units: -1 });
      const pos = await j.one<{ units: number }>('SELECT units FROM positions ORDER BY ts DESC, rowid DESC LIMIT 1');
      expect(Number(pos?.units)).toBe(0);
      const resumed = await j.all('SELECT * FROM reconciliations WHERE action = $1', ['resume']);
      expect(resumed).toHaveLength(1);
    } finally {
      j.close();
    }
  }, 60_000);

  it('a refused token fails with exit 2 and a message without the token', async () => {
    const r = await swt(ARGS, { env: { ...env(), SWT_OANDA_TOKEN: `${TOKEN}-wrong` } });
    outputs.push(r.stdout, r.stderr);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refused the token/);
  });

  it('the broker token appears in no output, log line, JSON, state file or stored row (acceptance 4)', async () => {
    expect(statusJson.length).toBeGreaterThan(10);
    const texts = [...outputs, statusJson];
    for (const f of existsSync(logDir) ? readdirSync(logDir) : []) texts.push(readFileSync(path.join(logDir, f), 'utf8'));
    expect(texts.join('').length).toBeGreaterThan(100);
    for (const x of texts) expect(x).not.toContain(TOKEN.slice(4, 20));
    // every row of every table of the journal and the store, as text
    for (const db of ['journal.duckdb', 'swt.duckdb']) {
      const s = await Store.open(path.join(t.dir, db));
      try {
        const tables = await s.all<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main'`);
        let dumped = 0;
        for (const { name } of tables) {
          const rows = await s.all(`SELECT * FROM "${name}"`);
          const text = JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
          dumped += rows.length;
          expect(text).not.toContain(TOKEN.slice(4, 20));
        }
        if (db === 'journal.duckdb') expect(dumped).toBeGreaterThan(5);
      } finally {
        s.close();
      }
    }
    // and the raw files (WAL included)
    for (const f of readdirSync(t.dir)) {
      const p = path.join(t.dir, f);
      if (statSync(p).isFile()) expect(readFileSync(p).includes(Buffer.from(TOKEN.slice(4, 20)))).toBe(false);
    }
  });
});
