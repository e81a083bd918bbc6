// DuckDB access. One file per store (default data/swt.duckdb); one writer process. Migrations run on
// open. Bulk data goes through DuckDB (read_csv, INSERT … SELECT, appenders), never row by row in JS.
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { migrations } from './migrations/index.js';

const TRACE = process.env.SWT_TRACE_SQL === '1';

export type Params = DuckDBValue[] | Record<string, DuckDBValue>;
export type Row = Record<string, unknown>;

export class Store {
  private constructor(
    readonly file: string,
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}

  static async open(file: string, opts: { threads?: number } = {}): Promise<Store> {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const options: Record<string, string> = {};
    if (opts.threads) options.threads = String(opts.threads);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(file, options);
    } catch (e) {
      throw new Error(`cannot open DuckDB store ${file}: ${(e as Error).message}`);
    }
    const conn = await instance.connect();
    // Everything inside swt is UTC; TIMESTAMPTZ casts must not depend on the machine's zone.
    await conn.run("SET TimeZone = 'UTC'");
    const store = new Store(file, instance, conn);
    await store.migrate();
    return store;
  }

  async run(sql: string, params?: Params): Promise<void> {
    const t0 = TRACE ? performance.now() : 0;
    await this.conn.run(sql, params);
    if (TRACE) process.stderr.write(`[sql ${(performance.now() - t0).toFixed(0)} ms] ${sql.replace(/\s+/g, ' ').slice(0, 100)}\n`);
  }

  /** Rows as plain JS objects (BIGINT → bigint converted to number when safe, TIMESTAMP → Date). */
  async all<T extends Row = Row>(sql: string, params?: Params): Promise<T[]> {
    const t0 = TRACE ? performance.now() : 0;
    const reader = await this.conn.runAndReadAll(sql, params);
    if (TRACE) process.stderr.write(`[sql ${(performance.now() - t0).toFixed(0)} ms] ${sql.replace(/\s+/g, ' ').slice(0, 100)}\n`);
    return reader.getRowObjectsJS().map((r) => normaliseRow(r)) as T[];
  }

  async one<T extends Row = Row>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  /** Columns as JS arrays, for bulk numeric reads (convert to typed arrays at the caller). */
  async columns(sql: string, params?: Params): Promise<Record<string, unknown[]>> {
    const reader = await this.conn.runAndReadAll(sql, params);
    return reader.getColumnsObjectJS() as Record<string, unknown[]>;
  }

  /** Runs `fn` in a transaction: everything or nothing reaches the store. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const out = await fn();
      await this.conn.run('COMMIT');
      return out;
    } catch (e) {
      try {
        await this.conn.run('ROLLBACK');
      } catch {
        /* the original error matters more */
      }
      throw e;
    }
  }

  async schemaVersion(): Promise<number> {
    const row = await this.one<{ v: number | null }>('SELECT max(version) AS v FROM schema_version');
    return Number(row?.v ?? 0);
  }

  private async migrate(): Promise<void> {
    await this.conn.run(
      'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)',
    );
    const current = await this.schemaVersion();
    for (const m of migrations) {
      if (m.version <= current) continue;
      await this.transaction(async () => {
        for (const stmt of m.up) await this.conn.run(stmt);
        await this.conn.run('INSERT INTO schema_version (version, name) VALUES ($1, $2)', [m.version, m.name]);
      });
    }
  }

  close(): void {
    try {
      this.conn.closeSync();
    } finally {
      this.instance.closeSync();
    }
  }
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
