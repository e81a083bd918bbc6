import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import path from 'node:path';
import { Store } from '../src/store/db.js';
import { HAS_SHARED, SHARED, swt, tempDir } from './helpers/paths.js';
import { csvLines, makeBars, writeLines } from './helpers/bars.js';

const t = tempDir();
afterAll(t.cleanup);

async function q<T extends Record<string, unknown>>(db: string, sql: string): Promise<T[]> {
  const s = await Store.open(db);
  try {
    return await s.all<T>(sql);
  } finally {
    s.close();
  }
}

describe.skipIf(!HAS_SHARED)('swt backtest on the real 2016 GBP/JPY data', () => {
  const db = path.join(t.dir, 'real.duckdb');
  beforeAll(async () => {
    expect((await swt(['data', 'import', path.join(SHARED, 'data', 'GBPJPY_M1_20160422_20160624.csv.gz'), '--instrument', 'GBP_JPY', '--format', 'csv', '--db', db])).status).toBe(0);
    expect((await swt(['data', 'sessions', '--instrument', 'GBP_JPY', '--db', db])).status).toBe(0);
  });

  it('ma-crossover runs end to end: every trade and the run are stored, costs charged on every round trip', async () => {
    const r = await swt(['backtest', '--policy', 'ma-crossover', '--instrument', 'GBP_JPY', '--db', db, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout).run;
    expect(run.sessions).toBeGreaterThan(150);
    expect(run.metrics.trades).toBeGreaterThan(100);
    const [row] = await q<{ n: number; cost_min: number; cost_max: number; runs: number }>(
      db,
      `SELECT count(*) AS n, min(cost_pips) AS cost_min, max(cost_pips) AS cost_max, (SELECT count(*) FROM runs WHERE run_id = '${run.run_id}') AS runs
       FROM trades WHERE run_id = '${run.run_id}'`,
    );
    expect(row).toEqual({ n: run.metrics.trades, cost_min: 4, cost_max: 4, runs: 1 });
    const human = await swt(['backtest', '--policy', 'ma-crossover', '--instrument', 'GBP_JPY', '--db', db, '--no-save']);
    expect(human.stdout).toMatch(/profit factor .* SQN/);
    expect(human.stdout).toMatch(/actions +HOLD \d+\.\d% +BUY/);
  });
});

describe('swt backtest on synthetic data', () => {
  const db = path.join(t.dir, 'syn.duckdb');
  beforeAll(async () => {
    expect((await swt(['data', 'synth', '--from', '2023-03-06', '--to', '2023-03-24', '--seed', '2', '--out', path.join(t.dir, 'syn.csv'), '--db', db])).status).toBe(0);
    expect((await swt(['data', 'sessions', '--instrument', 'SYN_GBPJPY', '--db', db])).status).toBe(0);
  });

  it('runs end to end and a seeded run is reproduced trade for trade', async () => {
    const args = ['backtest', '--policy', 'random', '--param', 'p_open=0.05', '--instrument', 'SYN_GBPJPY', '--sessions', '20', '--seed', '7', '--db', db, '--json'];
    const a = JSON.parse((await swt(args)).stdout).run;
    const b = JSON.parse((await swt(args)).stdout).run;
    expect(a.sessions).toBe(20);
    expect(a.metrics.trades).toBeGreaterThan(20);
    expect(b.metrics).toEqual(a.metrics);
    const cols = 'idx, episode, side, entry_ts, exit_ts, entry_price, exit_price, gross_pips, net_pips, cost_pips, mae_pips, mfe_pips, bars_held, forced, reward';
    const ta = await q(db, `SELECT ${cols} FROM trades WHERE run_id = '${a.run_id}' ORDER BY idx`);
    const tb = await q(db, `SELECT ${cols} FROM trades WHERE run_id = '${b.run_id}' ORDER BY idx`);
    expect(ta.length).toBe(a.metrics.trades);
    expect(tb).toEqual(ta);
    const c = JSON.parse((await swt([...args.slice(0, -5), '--seed', '8', '--db', db, '--json'])).stdout).run;
    expect(c.metrics).not.toEqual(a.metrics);
  });

  it('refuses an unknown policy or parameter, naming what exists', async () => {
    const u = await swt(['backtest', '--policy', 'magic', '--instrument', 'SYN_GBPJPY', '--db', db]);
    expect(u.status).toBe(2);
    expect(u.stderr).toMatch(/unknown policy 'magic' \(known: hold, random, buy-and-hold, ma-crossover, mean-reversion/);
    const p = await swt(['backtest', '--policy', 'ma-crossover', '--param', 'speed=3', '--instrument', 'SYN_GBPJPY', '--db', db]);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/policy 'ma-crossover' has no parameter 'speed' \(its parameters: fast/);
    const v = await swt(['backtest', '--policy', 'ma-crossover', '--param', 'fast=-1', '--instrument', 'SYN_GBPJPY', '--db', db]);
    expect(v.status).toBe(2);
    expect(v.stderr).toMatch(/fast=-1 is outside/);
  });

  it('refuses a range with no valid session', async () => {
    const r = await swt(['backtest', '--policy', 'hold', '--instrument', 'SYN_GBPJPY', '--from', '2023-03-11', '--to', '2023-03-12', '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no bars for SYN_GBPJPY in the requested range|no valid session/);
    const r2 = await swt(['backtest', '--policy', 'hold', '--instrument', 'SYN_GBPJPY', '--from', '2023-03-10T18:00:00Z', '--to', '2023-03-10T20:59:00Z', '--db', db]);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/no valid session of 360 bars for SYN_GBPJPY in 2023-03-10T18:00:00Z \.\. 2023-03-10T20:59:00Z/);
  });

  it('refuses a feature set that does not cover the requested range', async () => {
    const notBuilt = await swt(['backtest', '--policy', 'hold', '--instrument', 'SYN_GBPJPY', '--set', 'default', '--db', db]);
    expect(notBuilt.status).toBe(2);
    expect(notBuilt.stderr).toMatch(/feature set "default" has not been built: run `swt features build --instrument SYN_GBPJPY --set default`/);
    expect((await swt(['features', 'build', '--instrument', 'SYN_GBPJPY', '--db', db])).status).toBe(0);
    // more bars arrive after the build: the set no longer covers the range
    const later = makeBars('2023-03-28T08:00:00Z', 400);
    expect((await swt(['data', 'import', writeLines(path.join(t.dir, 'later.csv'), csvLines(later)), '--instrument', 'SYN_GBPJPY', '--format', 'csv', '--db', db])).status).toBe(0);
    expect((await swt(['data', 'sessions', '--instrument', 'SYN_GBPJPY', '--db', db])).status).toBe(0);
    const stale = await swt(['backtest', '--policy', 'hold', '--instrument', 'SYN_GBPJPY', '--set', 'default', '--db', db]);
    expect(stale.status).toBe(2);
    expect(stale.stderr).toMatch(/feature set "default" does not cover SYN_GBPJPY from 2023-03-28T08:00:00.000Z \(400 of \d+ bars have no row\)/);
    const ok = await swt(['backtest', '--policy', 'hold', '--instrument', 'SYN_GBPJPY', '--set', 'default', '--to', '2023-03-24', '--db', db, '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).run.sessions_without_features).toBe(1); // the first session starts in the warm-up
  });
});
