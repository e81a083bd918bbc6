// The auto-promoter inside `swt live`, as a user runs it: a paper replay with a shadow whose record
// (300 trades) and validation are much better than the live strategy's. At the first 00:00 UTC of the
// runner's clock the promoter promotes it: the runner flattens, stops and exits 75 (a new strategy
// cannot take over a running process). Started again with the same command line, the stored rollout
// makes the shadow the strategy that trades, at 25% of the live size, and the former live strategy a
// shadow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { Store } from '../src/store/db.js';
import { replayCliEnv, replayCliStore, I } from './helpers/live-run.js';
import { HAS_SHARED, swt, tempDir } from './helpers/paths.js';
import { gaussianPips, saveValidationOf, writeTrades, DAY } from './helpers/promoter-store.js';

const t = tempDir();
afterAll(t.cleanup);
const LIVE = 'ma-crossover';
const CAND = 'mean-reversion:window=60';
// 100 units a position, so that 25% of it is a whole number of units
const env = () => replayCliEnv(t.dir, { SWT_LIVE__SIZING__UNITS: '100', SWT_LIVE__RISK__MAX_POSITION_UNITS: '100', SWT_LIVE__RISK__MAX_ORDER_UNITS: '200' });
const args = ['live', '--broker', 'paper', '--feed', 'replay', '--policy', LIVE, '--shadow', CAND, '--instrument', I, '--from', '2016-06-20T00:00:00Z', '--to', '2016-06-21T00:00:00Z', '--json'];

beforeAll(async () => {
  if (!HAS_SHARED) return;
  const store = await replayCliStore(t.dir);
  // the evidence: validations in the main store, an earlier month of both strategies' trades in the journal
  await saveValidationOf(store, LIVE, gaussianPips(300, 0.5, 8, 11));
  await saveValidationOf(store, CAND, gaussianPips(300, 4, 8, 12));
  store.close();
  const journal = await Store.open(path.join(t.dir, 'journal.duckdb'));
  const may = Date.UTC(2016, 4, 2);
  await writeTrades(journal, { strategy: LIVE, shadow: false, pips: gaussianPips(300, 0.5, 8, 1), t0: may, spacingMs: DAY / 12, units: 100, runId: 'earlier' });
  await writeTrades(journal, { strategy: CAND, shadow: true, pips: gaussianPips(300, 4, 8, 4), t0: may, spacingMs: DAY / 12, units: 100, runId: 'earlier' });
  journal.close();
}, 120_000);

describe.skipIf(!HAS_SHARED)('swt live with the auto-promoter', () => {
  it('promotes the better shadow at 00:00 UTC, flattens and exits 75; restarted, the shadow trades at 25% and the old live strategy is the shadow', async () => {
    const first = await swt(args, { env: env() });
    expect(first.status, first.stderr).toBe(75);
    expect(first.stderr).toMatch(/the promoter made mean-reversion:window=60 the strategy that trades \(0.25 of the live size\)/);
    const out1 = JSON.parse(first.stdout);
    expect(out1.strategy).toBe(LIVE);
    expect(out1.restart_required).toEqual({ driver: CAND, scale: 0.25, candidate: CAND, stage: 1 });

    let j = await Store.open(path.join(t.dir, 'journal.duckdb'));
    let promoteTs: number;
    try {
      const p = await j.all<{ kind: string; candidate: string; candidate_trades: number; p_better: number; ts: number }>(`SELECT kind, candidate, candidate_trades, p_better, epoch_ms(ts) AS ts FROM promotions ORDER BY id`);
      expect(p.map((r) => [r.kind, r.candidate])).toEqual([['promote', CAND]]);
      expect(p[0].candidate_trades).toBeGreaterThanOrEqual(300);
      expect(Number(p[0].p_better)).toBeGreaterThanOrEqual(0.95);
      promoteTs = Number(p[0].ts);
      // the first midnight of the replay (it starts with the stored bars of 2016-06-16)
      expect(new Date(promoteTs).toISOString()).toBe('2016-06-17T00:00:00.000Z');
      expect(await j.one(`SELECT driver, scale, stage FROM strategy_rollout WHERE instrument = '${I}'`)).toEqual({ driver: CAND, scale: 0.25, stage: 1 });
    } finally {
      j.close();
    }

    const second = await swt(args, { env: env() });
    expect([0, 75], second.stderr.slice(-3000)).toContain(second.status);
    const out2 = JSON.parse(second.stdout);
    expect(out2.strategy).toBe(CAND);
    expect(out2.shadows.map((s: { strategy: string }) => s.strategy)).toEqual([LIVE]);
    j = await Store.open(path.join(t.dir, 'journal.duckdb'));
    try {
      const sized = await j.all<{ payload: string }>(`SELECT payload FROM events WHERE name = 'sizing' AND run_id = '${out2.run_id}' ORDER BY ts`);
      const mine = sized.map((r) => JSON.parse(r.payload) as { strategy: string; scale: number; units: number }).filter((s) => s.strategy === CAND);
      expect(mine.length).toBeGreaterThan(0);
      // its first entries at the first stage: 25 of the 100 units
      expect(mine[0]).toMatchObject({ scale: 0.25, units: 25 });
      // every later size follows a stored decision's stage
      const scales = new Set((await j.all<{ scale: number }>(`SELECT scale FROM promotions`)).map((r) => Number(r.scale)));
      for (const s of mine) expect(scales.has(s.scale) || s.scale === 1).toBe(true);
      const orders = await j.all<{ strategy: string; shadow: boolean }>(`SELECT DISTINCT strategy, shadow FROM orders WHERE run_id = '${out2.run_id}' AND intent IN ('BUY', 'SELL', 'CLOSE') ORDER BY strategy`);
      expect(orders).toContainEqual({ strategy: CAND, shadow: false });
      expect(orders.filter((o) => o.strategy === LIVE).every((o) => o.shadow)).toBe(true);
    } finally {
      j.close();
    }
  }, 300_000);
});
