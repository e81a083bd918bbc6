// `swt live --shadow` as a user runs it: a paper replay of the stored sessions of a June day with two
// shadows prints each shadow's counts, journals every strategy's rows under its spec, and refuses a
// shadow that is the live strategy (exit 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { Store } from '../src/store/db.js';
import { replayCliEnv, replayCliStore, I } from './helpers/live-run.js';
import { HAS_SHARED, swt, tempDir } from './helpers/paths.js';

const t = tempDir();
afterAll(t.cleanup);
const env = () => replayCliEnv(t.dir);

beforeAll(async () => {
  if (!HAS_SHARED) return;
  const store = await replayCliStore(t.dir);
  store.close();
}, 120_000);

const shadows = ['ma-crossover:fast=5,slow=20', 'mean-reversion:window=60'];
const args = ['live', '--broker', 'paper', '--feed', 'replay', '--policy', 'ma-crossover', '--instrument', I, '--from', '2016-06-20T00:00:00Z', '--to', '2016-06-21T00:00:00Z'];

describe.skipIf(!HAS_SHARED)('swt live --shadow', () => {
  it('runs the shadows beside the live strategy, prints their counts and journals each under its spec', async () => {
    const r = await swt([...args, ...shadows.flatMap((s) => ['--shadow', s]), '--json'], { env: env() });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.strategy).toBe('ma-crossover');
    expect(out.shadows.map((s: { strategy: string }) => s.strategy)).toEqual(shadows);
    for (const s of out.shadows) {
      expect(s.bars).toBe(out.bars);
      expect(s.orders).toBeGreaterThan(0);
      expect(s.state).toBe('ACTIVE');
    }
    const j = await Store.open(path.join(t.dir, 'journal.duckdb'));
    try {
      const rows = await j.all<{ strategy: string; shadow: boolean; orders: number }>(`SELECT strategy, shadow, count(*)::INTEGER AS orders FROM orders WHERE intent IN ('BUY', 'SELL', 'CLOSE') GROUP BY ALL ORDER BY strategy`);
      expect(rows).toEqual(
        [{ strategy: 'ma-crossover', shadow: false, orders: out.orders }, ...shadows.map((s, k) => ({ strategy: s, shadow: true, orders: out.shadows[k].orders }))].sort((a, b) => (a.strategy < b.strategy ? -1 : 1)),
      );
      const trades = await j.all<{ strategy: string; n: number }>(`SELECT strategy, count(*)::INTEGER AS n FROM strategy_trades GROUP BY ALL ORDER BY strategy`);
      expect(trades.find((x) => x.strategy === 'ma-crossover')?.n).toBe(out.trades);
      for (const [k, s] of shadows.entries()) expect(trades.find((x) => x.strategy === s)?.n).toBe(out.shadows[k].trades);
      const perf = await j.all<{ strategy: string; trades: number }>(`SELECT strategy, trades FROM strategy_performance ORDER BY strategy`);
      expect(perf).toEqual(trades.map((x) => ({ strategy: x.strategy, trades: x.n })));
    } finally {
      j.close();
    }
  }, 180_000);

  it('refuses a shadow that is the live strategy, or one given twice (exit 2)', async () => {
    const same = await swt([...args, '--shadow', 'ma-crossover'], { env: env() });
    expect(same.status).toBe(2);
    expect(same.stderr).toContain('--shadow ma-crossover: it is the live strategy');
    const twice = await swt([...args, '--shadow', shadows[1], '--shadow', shadows[1]], { env: env() });
    expect(twice.status).toBe(2);
    expect(twice.stderr).toContain(`--shadow ${shadows[1]} is given twice`);
  }, 60_000);
});
