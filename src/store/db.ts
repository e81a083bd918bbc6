// DuckDB access. One file per store (default data/swt.duckdb). Migrations run on open. Bulk data goes
// through DuckDB (read_csv, INSERT … SELECT, appenders), never row by row in JS.
//
// Several processes, one file. DuckDB lets one process at a time open the file, so a Store holds it
// only as long as its mode says: a short command opens it in `run` mode and keeps it until it exits;
// long-running code opens it in `unit` mode, where the file is held only while a unit of work
// (`store.unit(fn)`), a transaction or a single statement runs, and given back as soon as nothing
// runs. Whenever the store is not held, the next statement opens it again, waiting for another
// holder with backoff for at most `lockWaitMs`, then failing with a StoreLockedError that names the
// holder (see holder.ts).
//
// One write queue per store. Every statement and transaction runs in turn on the one connection, so
// concurrent async callers never interleave: a statement issued while another caller's transaction is
// open waits for its COMMIT or ROLLBACK. Code running inside a transaction (found through
// AsyncLocalStorage, so it needs no handle) runs inline; a nested transaction joins the outer one, and
// when it fails the outer one is rolled back even if the error is caught.
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { migrations } from './migrations/index.js';
import { commandLine, describeHolder, holderFile, identifyHolder, parseLockError, removeHolder, writeHolder, type HoldMode, type LockHolder } from './holder.js';
import { log } from '../util/log.js';

export type { HoldMode } from './holder.js';

const TRACE = process.env.SWT_TRACE_SQL === '1';

export type Params = DuckDBValue[] | Record<string, DuckDBValue>;
export type Row = Record<string, unknown>;

export interface OpenOptions {
  threads?: number;
  /** `run`: hold the file from open to close; `unit`: only while something runs (default `run`). */
  hold?: HoldMode;
  /** How long to wait for another holder of the file, in total, before failing (default 0: try once). */
  lockWaitMs?: number;
  /** What the holder record calls this process (default: its command line). */
  command?: string;
}

/** The store file is held by another process (or another Store in this one) for longer than the wait. */
export class StoreLockedError extends Error {
  constructor(
    message: string,
    readonly holder: LockHolder,
  ) {
    super(message);
    this.name = 'StoreLockedError';
  }
}

/** One exclusive turn on the connection: a statement, a transaction, or withConnection's callback. */
interface Turn {
  store: Store;
  active: boolean;
  inTransaction: boolean;
  nestedFailure: Error | null;
}

const turns = new AsyncLocalStorage<Turn>();

/** Files held by a Store of this process: a second DuckDB instance on the same file in one process would
 * take the process's POSIX lock with it when it closed, so it must wait like any other holder. */
const heldHere = new Map<string, Store>();

const BACKOFF_FIRST_MS = 20;
const BACKOFF_MAX_MS = 1000;

export class Store {
  readonly file: string;
  private readonly key: string;
  private readonly memory: boolean;
  private readonly hold: HoldMode;
  private readonly lockWaitMs: number;
  private readonly command: string;
  private readonly threads: number | undefined;
  private instance: DuckDBInstance | null = null;
  private connection: DuckDBConnection | null = null;
  private tail: Promise<void> = Promise.resolve();
  /** turns queued or running */
  private pending = 0;
  /** units of work running */
  private units = 0;
  private releaseRequested = false;
  private closed = false;
  private openCount = 0;

  private constructor(file: string, opts: OpenOptions) {
    this.file = file;
    this.memory = file === ':memory:';
    this.key = this.memory ? file : path.resolve(file);
    this.hold = opts.hold ?? 'run';
    this.lockWaitMs = opts.lockWaitMs ?? 0;
    this.command = opts.command ?? commandLine();
    this.threads = opts.threads;
  }

  /** Opens (waiting for a holder up to `lockWaitMs`) and migrates; in `unit` mode the file is then given back. */
  static async open(file: string, opts: OpenOptions = {}): Promise<Store> {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const store = new Store(file, opts);
    await store.migrate();
    return store;
  }

  /** How many times this store has opened the file (each release costs one more). */
  get opens(): number {
    return this.openCount;
  }

  /** Turns queued or running on the write queue (the dashboard's "store queue"). */
  get queueLength(): number {
    return this.pending;
  }

  /** Whether this process holds the file now. */
  get held(): boolean {
    return this.connection !== null;
  }

  async run(sql: string, params?: Params): Promise<void> {
    await this.withConnection(async (conn) => {
      const t0 = TRACE ? performance.now() : 0;
      await conn.run(sql, params);
      if (TRACE) trace(sql, t0);
    });
  }

  /** Rows as plain JS objects (BIGINT → bigint converted to number when safe, TIMESTAMP → Date). */
  async all<T extends Row = Row>(sql: string, params?: Params): Promise<T[]> {
    return this.withConnection(async (conn) => {
      const t0 = TRACE ? performance.now() : 0;
      const reader = await conn.runAndReadAll(sql, params);
      if (TRACE) trace(sql, t0);
      return reader.getRowObjectsJS().map((r) => normaliseRow(r)) as T[];
    });
  }

  async one<T extends Row = Row>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  /** Columns as JS arrays, for bulk numeric reads (convert to typed arrays at the caller). */
  async columns(sql: string, params?: Params): Promise<Record<string, unknown[]>> {
    return this.withConnection(async (conn) => (await conn.runAndReadAll(sql, params)).getColumnsObjectJS() as Record<string, unknown[]>);
  }

  /**
   * Runs `fn` with the raw connection, alone on it (appenders, streamed results). Inside a transaction
   * it runs inline; statements `fn` issues through the store run inline too.
   */
  async withConnection<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const turn = this.ownTurn();
    if (turn) return fn(this.connected());
    return this.enqueue(async () => fn(this.connected()));
  }

  /** Runs `fn` in a transaction: everything or nothing reaches the store. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const turn = this.ownTurn();
    if (turn?.inTransaction) {
      try {
        return await fn();
      } catch (e) {
        turn.nestedFailure ??= e as Error;
        throw e;
      }
    }
    if (turn) return this.transactionIn(turn, fn);
    return this.enqueue((t) => this.transactionIn(t, fn));
  }

  /**
   * A unit of work: the file stays held from the unit's first statement to its end (temp tables and
   * session settings live that long), and in `unit` mode it is given back when the last running unit
   * ends. Units may run concurrently; their statements still take turns.
   */
  async unit<T>(fn: () => Promise<T>): Promise<T> {
    const inTurn = this.ownTurn() !== null;
    this.units++;
    try {
      return await fn();
    } finally {
      this.units--;
      // Inside a turn, that turn's end gives the file back.
      if (!inTurn) this.releaseIfIdle();
    }
  }

  /**
   * Gives the file back as soon as nothing runs (at once when idle; otherwise when the running units
   * and queued statements are done). The next statement opens it again.
   */
  async release(): Promise<void> {
    this.releaseRequested = true;
    if (this.ownTurn()) return;
    if (this.pending === 0) this.releaseIfIdle();
    else await this.enqueue(async () => undefined, false);
  }

  async schemaVersion(): Promise<number> {
    const row = await this.one<{ v: number | null }>('SELECT max(version) AS v FROM schema_version');
    return Number(row?.v ?? 0);
  }

  private async migrate(): Promise<void> {
    await this.unit(async () => {
      await this.run(
        'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)',
      );
      const current = await this.schemaVersion();
      // Every migration not yet recorded runs, not only those above the highest: migrations written in
      // parallel can land out of number order (014 before 012), and a store must still get 012.
      const done = new Set((await this.all<{ version: number }>('SELECT version FROM schema_version')).map((r) => Number(r.version)));
      let applied = 0;
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await this.transaction(async () => {
          for (const stmt of m.up) await this.run(stmt);
          await this.run('INSERT INTO schema_version (version, name) VALUES ($1, $2)', [m.version, m.name]);
        });
        applied++;
      }
      // The schema goes into the database file now, not only into the write-ahead log: DuckDB 1.5 cannot
      // replay a WAL whose CREATE TABLE has a DEFAULT calling a function ("GetDefaultDatabase with no
      // default database set"), so a process killed before its first checkpoint would leave a store
      // that no longer opens (seen with kill -9 during a checkpoint save).
      if (applied > 0 || current === 0) await this.run('CHECKPOINT');
    });
  }

  /** Closes the store for good (the holder record goes first, then the file). */
  close(): void {
    this.closed = true;
    this.releaseNow();
  }

  // ------------------------------------------------------------------------------------ internals

  private ownTurn(): Turn | null {
    const t = turns.getStore();
    return t && t.store === this && t.active ? t : null;
  }

  private connected(): DuckDBConnection {
    if (!this.connection) throw new Error(`store ${this.file} is closed`);
    return this.connection;
  }

  /** Runs `fn` alone on the connection, after every turn queued before it, with the file held. */
  private enqueue<T>(fn: (turn: Turn) => Promise<T>, needsFile = true): Promise<T> {
    this.pending++;
    const run = this.tail.then(async () => {
      const turn: Turn = { store: this, active: true, inTransaction: false, nestedFailure: null };
      try {
        if (needsFile) await this.acquire();
        return await turns.run(turn, () => fn(turn));
      } finally {
        turn.active = false;
        this.pending--;
        this.releaseIfIdle();
      }
    });
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async transactionIn<T>(turn: Turn, fn: () => Promise<T>): Promise<T> {
    const conn = this.connected();
    turn.inTransaction = true;
    turn.nestedFailure = null;
    try {
      await conn.run('BEGIN TRANSACTION');
      try {
        const out = await fn();
        // set by a nested transaction that failed while fn ran (TS cannot see that through the await)
        const nested = turn.nestedFailure as Error | null;
        if (nested) throw new Error(`transaction rolled back: a nested transaction inside it failed (${nested.message})`, { cause: nested });
        await conn.run('COMMIT');
        return out;
      } catch (e) {
        try {
          await conn.run('ROLLBACK');
        } catch {
          /* the original error matters more */
        }
        throw e;
      }
    } finally {
      turn.inTransaction = false;
    }
  }

  private releaseIfIdle(): void {
    if (this.pending === 0 && this.units === 0 && (this.hold === 'unit' || this.releaseRequested)) this.releaseNow();
  }

  private releaseNow(): void {
    this.releaseRequested = false;
    if (!this.connection) return;
    // Giving back an in-memory database would lose it.
    if (this.memory && !this.closed) return;
    // The record goes while the file is still ours: after the close, it may already be the next holder's.
    try {
      if (!this.memory) removeHolder(this.key);
    } catch (e) {
      log().warn({ err: e }, `cannot remove the holder record ${holderFile(this.key)}`);
    } finally {
      this.closeInstance();
    }
  }

  private closeInstance(): void {
    const conn = this.connection;
    const inst = this.instance;
    this.connection = null;
    this.instance = null;
    if (heldHere.get(this.key) === this) heldHere.delete(this.key);
    try {
      conn?.closeSync();
    } finally {
      inst?.closeSync();
    }
  }

  /** Opens the file if it is not held, waiting for another holder with jittered backoff. */
  private async acquire(): Promise<void> {
    if (this.connection) return;
    if (this.closed) throw new Error(`store ${this.file} is closed`);
    const t0 = Date.now();
    let delay = BACKOFF_FIRST_MS;
    for (;;) {
      const holder = await this.tryOpen();
      if (!holder) return;
      const waited = Date.now() - t0;
      if (waited >= this.lockWaitMs) throw this.lockedError(holder, waited);
      // Jitter keeps several waiters from retrying in step; results never depend on it.
      const sleep = Math.min(delay * (0.5 + Math.random()), this.lockWaitMs - waited);
      await new Promise((r) => setTimeout(r, sleep));
      delay = Math.min(delay * 2, BACKOFF_MAX_MS);
    }
  }

  /** One attempt: null when the file is now held here, else who holds it. */
  private async tryOpen(): Promise<LockHolder | null> {
    const other = heldHere.get(this.key);
    if (other && other !== this) {
      return { pid: process.pid, program: null, record: null, staleRecord: null, sameProcess: true };
    }
    const options: Record<string, string> = {};
    if (this.threads) options.threads = String(this.threads);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(this.file, options);
    } catch (e) {
      const lock = parseLockError((e as Error).message);
      if (lock) return identifyHolder(this.key, lock);
      throw new Error(`cannot open DuckDB store ${this.file}: ${(e as Error).message}`);
    }
    let conn: DuckDBConnection;
    try {
      conn = await instance.connect();
      // Everything inside swt is UTC; TIMESTAMPTZ casts must not depend on the machine's zone.
      await conn.run("SET TimeZone = 'UTC'");
    } catch (e) {
      instance.closeSync();
      throw e;
    }
    this.instance = instance;
    this.connection = conn;
    this.openCount++;
    if (!this.memory) {
      heldHere.set(this.key, this);
      try {
        writeHolder(this.key, this.hold, this.command);
      } catch (e) {
        // Only a waiting command's message suffers (it names the PID alone), not this one's work.
        log().warn({ err: e }, `cannot write the holder record ${holderFile(this.key)}`);
      }
    }
    return null;
  }

  private lockedError(holder: LockHolder, waitedMs: number): StoreLockedError {
    return new StoreLockedError(
      `store ${this.file} is in use by another process: ${describeHolder(holder)}. ` +
        `Waited ${(waitedMs / 1000).toFixed(1)} s (store.lock_wait_ms = ${this.lockWaitMs}). ` +
        'Run this again when that command is done, or stop it; to wait longer set store.lock_wait_ms (SWT_STORE__LOCK_WAIT_MS). ' +
        'To ask a running process something, use its local API, not the store file.',
      holder,
    );
  }
}

function trace(sql: string, t0: number): void {
  process.stderr.write(`[sql ${(performance.now() - t0).toFixed(0)} ms] ${sql.replace(/\s+/g, ' ').slice(0, 100)}\n`);
}

function normaliseRow(r: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(r)) out[k] = typeof v === 'bigint' && Number.isSafeInteger(Number(v)) ? Number(v) : v;
  return out;
}

/** Quotes a string literal for SQL that cannot take a parameter (file paths in read_csv, …). */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
