// Shared plumbing for every command: config (file + env + flags), logger, store, JSON output and
// exit codes (0 ok, 1 failure, 2 bad usage/input).
import { Command, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { initLogger, logFileOnly } from '../util/log.js';
import { Store, type HoldMode } from '../store/db.js';

import { exitCodeFor, UsageError } from '../util/errors.js';
export { UsageError };

export interface CommonOpts {
  db?: string;
  config?: string;
  logLevel?: string;
  json?: boolean;
}

/** Adds the options every command shares. */
export function common(cmd: Command): Command {
  return cmd
    .option('--db <path>', 'DuckDB store file (default: store.db in the config, data/swt.duckdb)')
    .option('--config <file>', 'YAML config file (default: config/default.yaml; SWT_CONFIG also works)')
    .addOption(new Option('--log-level <level>', 'stderr log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']));
}

export interface Ctx {
  config: Config;
  opts: CommonOpts;
  /**
   * The command's store, opened on first use (waiting up to store.lock_wait_ms for another holder).
   * Short commands keep the default `run` hold; long-running ones ask for `unit` and hold the file
   * only while a unit of work, transaction or statement runs.
   */
  openStore(opts?: { hold?: HoldMode }): Promise<Store>;
}

export function makeContext(opts: CommonOpts, overrides: Record<string, unknown> = {}, preset?: string, algo?: 'muzero' | 'ppo'): Ctx {
  const all: Record<string, unknown> = { ...overrides };
  if (opts.db) all['store.db'] = opts.db;
  if (opts.logLevel) all['log.level'] = opts.logLevel;
  const config: Config = loadConfig({ file: opts.config, overrides: all, preset, algo });
  initLogger({ level: config.log.level, fileLevel: config.log.file_level, dir: config.log.dir });
  let store: Store | null = null;
  return {
    config,
    opts,
    async openStore(o = {}) {
      if (!store) {
        store = await Store.open(config.store.db, { hold: o.hold ?? 'run', lockWaitMs: config.store.lock_wait_ms });
        process.once('exit', () => store?.close());
      }
      return store;
    },
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

function jsonReplacer(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  return v;
}

/** Wraps an action: maps errors to exit codes and clear stderr messages. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      const err = e as Error;
      const code = exitCodeFor(e);
      try {
        logFileOnly()?.error({ err }, code === 2 ? 'bad input' : 'command failed');
      } catch {
        /* logging must not hide the error */
      }
      process.stderr.write(`swt: error: ${err.message}\n`);
      process.exitCode = code;
    }
  };
}

export function parseNumber(name: string, min?: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || (min !== undefined && n < min)) {
      throw new UsageError(`${name} must be a number${min !== undefined ? ` >= ${min}` : ''}, got "${v}"`);
    }
    return n;
  };
}

export function parseInteger(name: string, min?: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || (min !== undefined && n < min)) {
      throw new UsageError(`${name} must be an integer${min !== undefined ? ` >= ${min}` : ''}, got "${v}"`);
    }
    return n;
  };
}

const INSTRUMENT_RE = /^[A-Z0-9]+(_[A-Z0-9]+)*$/;

/** Commander parser for --instrument: OANDA-style names (GBP_JPY). */
export function instrumentArg(v: string): string {
  if (!INSTRUMENT_RE.test(v)) throw new UsageError(`--instrument must look like GBP_JPY (upper case, underscore), got "${v}"`);
  return v;
}

/** Commander parser for --sessions: 'all' or a positive number of sessions. */
export function sessionsArg(v: string): number | 'all' {
  if (v === 'all') return 'all';
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--sessions must be 'all' or an integer >= 1, got "${v}"`);
  return n;
}

/** Commander accumulator for repeatable options. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
