// `swt promote` as a user runs it: on a journal holding the strategies' trades and a main store holding
// their validations. --dry-run decides and prints, and stores nothing; a real run stores the decision
// and the rollout state; bad input exits 2 naming what was expected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { swt, tempDir } from './helpers/paths.js';
import { DAY, gaussianPips, INSTRUMENT, saveValidationOf, writeTrades } from './helpers/promoter-store.js';
import { Store } from '../src/store/db.js';

const LIVE = 'ma-crossover:fast=10,slow=50';
const CAND = 'mean-reversion:window=60';
const D0 = Date.UTC(2024, 2, 4);
const t = tempDir('swt-promote-cli-');
const db = path.join(t.dir, 'swt.duckdb');
const journal = path.join(t.dir, 'journal.duckdb');
const AT = new Date(D0 + 10 * DAY).toISOString();
const run = (...args: string[]) => swt(['promote', '--db', db, '--journal', journal, '--instrument', INSTRUMENT, ...args]);

async function counts(): Promise<{ promotions: number; rollout: number }> {
  const s = await Store.open(journal);
  try {
    const r = await s.one<{ promotions: number; rollout: number }>(`SELECT (SELECT count(*) FROM promotions)::INTEGER AS promotions, (SELECT count(*) FROM strategy_rollout)::INTEGER AS rollout`);
    return r!;
  } finally {
    s.close();
  }
}

const SNAKE = /^[a-z0-9]+(_[a-z0-9]+)*$/;
function keys(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => keys(x, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(k), keys(x, out);
  return out;
}

beforeAll(async () => {
  const main = await Store.open(db);
  await saveValidationOf(main, CAND, gaussianPips(300, 4, 8, 12));
  main.close();
  const j = await Store.open(journal);
  await writeTrades(j, { strategy: LIVE, shadow: false, pips: gaussianPips(300, 0.5, 8, 1), t0: D0, spacingMs: DAY / 30 });
  await writeTrades(j, { strategy: CAND, shadow: true, pips: gaussianPips(300, 4, 8, 4), t0: D0, spacingMs: DAY / 30 });
  j.close();
}, 60_000);
afterAll(() => t.cleanup());

describe('swt promote', () => {
  it('--dry-run --json decides and prints the decision with its evidence, and stores nothing', async () => {
    const r = await run('--at', AT, '--dry-run', '--json');
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ instrument: INSTRUMENT, dry_run: true, state: { driver: CAND, scale: 0.25, stage: 1, live_strategy: LIVE, promoted_at: AT } });
    expect(out.decisions).toHaveLength(1);
    expect(out.decisions[0]).toMatchObject({ id: null, ts: AT, kind: 'promote', candidate: CAND, failed_rules: [], evidence: { candidate_trades: 300, live_trades: 300 } });
    expect(out.decisions[0].evidence.p_better).toBeGreaterThanOrEqual(0.95);
    expect(keys(out).filter((k) => !SNAKE.test(k))).toEqual([]);
    expect(await counts()).toEqual({ promotions: 0, rollout: 0 });
  });

  it('a real run stores the decision and the state; a second run in the same period holds', async () => {
    const r = await run('--at', AT, '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.dry_run).toBe(false);
    expect(out.decisions[0]).toMatchObject({ id: 1, kind: 'promote' });
    expect(await counts()).toEqual({ promotions: 1, rollout: 1 });
    const again = await run('--at', new Date(D0 + 10 * DAY + 3_600_000).toISOString());
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/^hold +mean-reversion:window=60 stays at 25\.00% \(stage 1\/3\) until the next period: 0 trades since the promotion/m);
    expect(again.stdout).toContain(`state: ${CAND} drives ${INSTRUMENT} at 25% of the live size (stage 1), ${LIVE} in the shadow`);
    expect(await counts()).toEqual({ promotions: 2, rollout: 1 });
  });

  it('bad input exits 2 and says what was expected', async () => {
    const at = await run('--at', 'yesterday');
    expect(at.status).toBe(2);
    expect(at.stderr).toContain('--at must be an ISO time');
    const missing = await swt(['promote', '--db', db, '--journal', path.join(t.dir, 'none.duckdb')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`no journal at ${path.join(t.dir, 'none.duckdb')}`);
    const other = await run('--instrument', 'EUR_USD');
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/no live \(shadow = false\) trade on EUR_USD/);
    const sched = await swt(['promote', '--db', db, '--journal', journal, '--dry-run'], { env: { SWT_PROMOTER__SCHEDULE: 'weekly' } });
    expect(sched.status).toBe(2);
    expect(sched.stderr).toMatch(/promoter\.schedule: .*daily HH:MM UTC/);
  });
});
