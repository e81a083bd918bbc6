// The store inside one process: its write queue (concurrent async writers never interleave their
// transactions on the one connection) and its hold modes (a store in `unit` mode holds the DuckDB file
// only while something runs, so other processes can open it in between), on real DuckDB files and,
// for "can another process open it now?", real child processes.
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Store, StoreLockedError, type OpenOptions } from '../src/store/db.js';
import { holderFile } from '../src/store/holder.js';
import { tempDir } from './helpers/paths.js';
import { spawnHolder, spawnNode } from './helpers/processes.js';

const t = tempDir('swt-store-');
afterAll(t.cleanup);
let n = 0;
const freshDb = () => path.join(t.dir, `s${++n}.duckdb`);
const tick = () => new Promise<void>((r) => setImmediate(r));

/** A store on a fresh file, closed after `fn` whatever happens. */
async function withStore(fn: (s: Store, db: string) => Promise<void>, opts: OpenOptions = {}): Promise<void> {
  const db = freshDb();
  const s = await Store.open(db, opts);
  try {
    await fn(s, db);
  } finally {
    s.close();
  }
}

describe('the write queue', () => {
  it('concurrent multi-statement transactions never interleave; failed ones leave nothing; none is lost', async () => {
    await withStore(async (s) => {
      await s.run('CREATE TABLE w (writer INTEGER, step INTEGER)');
      await s.run('CREATE TABLE plain (writer INTEGER)');
      const STEPS = 5;
      const fails = (w: number) => w % 4 === 3;
      const seen: string[] = [];
      const tx = (w: number) =>
        s.transaction(async () => {
          const [{ c: before }] = await s.all<{ c: number }>('SELECT count(*) AS c FROM w');
          for (let step = 0; step < STEPS; step++) {
            await s.run('INSERT INTO w VALUES ($1, $2)', [w, step]);
            await tick(); // give every other writer the chance to slip in
            const [{ c }] = await s.all<{ c: number }>('SELECT count(*) AS c FROM w');
            // Only this transaction's own rows may have appeared since it began.
            if (c !== before + step + 1) seen.push(`writer ${w} step ${step}: ${c - before} new rows, expected ${step + 1}`);
            if (fails(w) && step === 2) throw new Error(`writer ${w} fails on purpose`);
          }
        });
      const writers = Array.from({ length: 40 }, (_, w) => w);
      const results = await Promise.allSettled([
        ...writers.map(tx),
        ...writers.map((w) => s.run('INSERT INTO plain VALUES ($1)', [w])),
      ]);
      expect(seen).toEqual([]);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(writers.filter(fails).length);
      const rows = await s.all<{ writer: number; steps: number }>('SELECT writer, count(*) AS steps FROM w GROUP BY writer ORDER BY writer');
      expect(rows).toEqual(writers.filter((w) => !fails(w)).map((w) => ({ writer: w, steps: STEPS })));
      const [{ c: plain }] = await s.all<{ c: number }>('SELECT count(DISTINCT writer) AS c FROM plain');
      expect(plain).toBe(writers.length);
    });
  });

  it("a statement issued while another caller's transaction is open waits for it, and survives its rollback", async () => {
    await withStore(async (s) => {
      await s.run('CREATE TABLE x (v VARCHAR)');
      const order: string[] = [];
      let letGo!: () => void;
      const gate = new Promise<void>((r) => (letGo = r));
      let inside!: () => void;
      const opened = new Promise<void>((r) => (inside = r));
      const doomed = s.transaction(async () => {
        await s.run("INSERT INTO x VALUES ('doomed')");
        inside();
        await gate;
        order.push('transaction fails');
        throw new Error('rolled back on purpose');
      });
      await opened;
      const plain = s.run("INSERT INTO x VALUES ('plain')").then(() => order.push('plain statement done'));
      await tick();
      letGo();
      await expect(doomed).rejects.toThrow('rolled back on purpose');
      await plain;
      expect(order).toEqual(['transaction fails', 'plain statement done']);
      expect(await s.all('SELECT v FROM x')).toEqual([{ v: 'plain' }]);
    });
  });

  it('a transaction inside a transaction joins it; when the inner one fails, all of it is rolled back even if the error is caught', async () => {
    await withStore(async (s) => {
      await s.run('CREATE TABLE y (v INTEGER)');
      await s.transaction(async () => {
        await s.run('INSERT INTO y VALUES (1)');
        await s.transaction(() => s.run('INSERT INTO y VALUES (2)'));
      });
      expect(await s.all('SELECT v FROM y ORDER BY v')).toEqual([{ v: 1 }, { v: 2 }]);
      const outer = s.transaction(async () => {
        await s.run('INSERT INTO y VALUES (3)');
        try {
          await s.transaction(async () => {
            await s.run('INSERT INTO y VALUES (4)');
            throw new Error('inner fails');
          });
        } catch {
          /* swallowed on purpose: the outer transaction must still not commit */
        }
        await s.run('INSERT INTO y VALUES (5)');
      });
      await expect(outer).rejects.toThrow('transaction rolled back: a nested transaction inside it failed (inner fails)');
      expect(await s.all('SELECT v FROM y ORDER BY v')).toEqual([{ v: 1 }, { v: 2 }]);
    });
  });
});

/** Can another process open the file right now? (hold-store.mjs opens it without waiting and lets go.) */
async function otherProcessCanOpen(db: string): Promise<{ ok: boolean; stderr: string }> {
  const r = await spawnHolder(db, ['--for-ms', '0']).done;
  return { ok: r.status === 0, stderr: r.stderr };
}

describe('holding the file only for units of work', () => {
  it('in unit mode the file is held only while a unit or statement runs; a temp table lives as long as its unit', async () => {
    await withStore(async (s, db) => {
      expect(s.held).toBe(false);
      expect((await otherProcessCanOpen(db)).ok).toBe(true);
      const opensBefore = s.opens;
      await s.unit(async () => {
        await s.run('CREATE TEMP TABLE scratch AS SELECT 42 AS v');
        expect(s.held).toBe(true);
        const probe = await otherProcessCanOpen(db);
        expect(probe.ok).toBe(false);
        expect(probe.stderr).toContain(`PID ${process.pid}`);
        expect(await s.all('SELECT v FROM scratch')).toEqual([{ v: 42 }]);
      });
      expect(s.held).toBe(false);
      expect((await otherProcessCanOpen(db)).ok).toBe(true);
      // The next statement opens the file again, on a fresh connection: the unit's temp table is gone.
      await expect(s.all('SELECT v FROM scratch')).rejects.toThrow(/scratch/);
      expect(s.opens).toBe(opensBefore + 2);
      expect(s.held).toBe(false);
    }, { hold: 'unit' });
  });

  it('in run mode the file stays held until release(), which waits for the running units, and the next statement takes it again', async () => {
    await withStore(async (s, db) => {
      await s.run('CREATE TABLE z (v INTEGER)');
      expect(s.held).toBe(true);
      let finishUnit!: () => void;
      const unitGate = new Promise<void>((r) => (finishUnit = r));
      const unit = s.unit(async () => {
        await s.run('INSERT INTO z VALUES (1)');
        await unitGate;
        await s.run('INSERT INTO z VALUES (2)');
      });
      await tick();
      await s.release();
      expect(s.held).toBe(true); // a unit is still running
      finishUnit();
      await unit;
      expect(s.held).toBe(false);
      expect((await otherProcessCanOpen(db)).ok).toBe(true);
      expect(await s.all('SELECT v FROM z ORDER BY v')).toEqual([{ v: 1 }, { v: 2 }]);
      expect(s.held).toBe(true);
    });
  });

  it('a second Store of this process waits for the first instead of sharing its lock, then gets the file', async () => {
    const db = freshDb();
    const a = await Store.open(db);
    const err = await Store.open(db, { lockWaitMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreLockedError);
    expect((err as Error).message).toContain(`another Store of this process (PID ${process.pid}) holds it; share that Store or close it first`);
    const waiting = Store.open(db, { lockWaitMs: 10_000 });
    setTimeout(() => a.close(), 300);
    const b = await waiting;
    expect(await b.one('SELECT 1 AS one')).toEqual({ one: 1 });
    b.close();
  });

  it('waits with backoff for another process that lets go within lock_wait_ms', async () => {
    const db = freshDb();
    const holder = spawnHolder(db, ['--for-ms', '1000']);
    await holder.waitFor(/held \d+/);
    const t0 = Date.now();
    const s = await Store.open(db, { lockWaitMs: 20_000 });
    try {
      const released = await holder.done;
      expect(released.status).toBe(0);
      expect(Date.now()).toBeGreaterThanOrEqual(released.endedAt - 50);
      expect(Date.now() - t0).toBeGreaterThan(300);
      expect(await s.one('SELECT 1 AS one')).toEqual({ one: 1 });
    } finally {
      s.close();
    }
  });

  it('writes a holder record beside the file while it holds it, removes it when it lets go, and ignores a stale one', async () => {
    await withStore(async (s, db) => {
      expect(existsSync(holderFile(db))).toBe(false);
      await s.unit(async () => {
        expect(s.held).toBe(false); // a unit takes the file at its first statement
        await s.one('SELECT 1');
        const rec = JSON.parse(readFileSync(holderFile(db), 'utf8'));
        expect(rec).toMatchObject({ pid: process.pid, command: 'swt test-holder', hold: 'unit' });
        expect(Date.parse(rec.held_since)).toBeGreaterThan(Date.now() - 10_000);
        expect(Date.parse(rec.process_started_at)).toBeLessThanOrEqual(Date.parse(rec.held_since));
      });
      expect(existsSync(holderFile(db))).toBe(false);
      // A record left by a killed process (its PID no longer runs) does not keep anyone out.
      const gone = spawnNode(['-e', '']);
      expect((await gone.done).status).toBe(0);
      const deadPid = gone.pid;
      writeFileSync(holderFile(db), JSON.stringify({ pid: deadPid, command: 'swt killed', process_started_at: new Date().toISOString(), held_since: new Date().toISOString(), hold: 'run' }));
      expect((await otherProcessCanOpen(db)).ok).toBe(true);
      expect(existsSync(holderFile(db))).toBe(false);
    }, { hold: 'unit', command: 'swt test-holder' });
  });
});

describe('migrations', () => {
  it('applies a migration numbered below the highest one applied (migrations written in parallel land out of order)', async () => {
    const db = freshDb();
    const s = await Store.open(db);
    // As if migration 11 had not existed when this store was last opened.
    await s.run('DROP TABLE strategy_trades');
    await s.run('DELETE FROM schema_version WHERE version = 11');
    const top = await s.schemaVersion();
    s.close();
    expect(top).toBeGreaterThan(11);
    const again = await Store.open(db);
    try {
      expect((await again.all<{ version: number }>('SELECT version FROM schema_version WHERE version = 11')).length).toBe(1);
      expect(await again.all('SELECT * FROM strategy_trades')).toEqual([]);
      expect(await again.schemaVersion()).toBe(top);
    } finally {
      again.close();
    }
  });
});
