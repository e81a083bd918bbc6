// Logging: complete JSON lines in logs/swt.log, quiet concise lines on stderr (never stdout, which
// belongs to --json output). Secrets are redacted by key name wherever they appear.
import pino from 'pino';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';

const REDACT = ['token', 'apiKey', 'api_key', 'authorization', 'password', 'secret', '*.token', '*.apiKey', '*.authorization', '*.password', '*.secret', 'headers.authorization'];

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function conciseStderr(): Writable {
  const tty = process.stderr.isTTY;
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      try {
        const rec = JSON.parse(chunk.toString('utf8')) as { level: number; msg?: string; err?: { message?: string } };
        const lvl = LEVEL_NAMES[rec.level] ?? String(rec.level);
        const tag = tty && rec.level >= 50 ? `\x1b[31m${lvl}\x1b[0m` : tty && rec.level >= 40 ? `\x1b[33m${lvl}\x1b[0m` : lvl;
        const extra = rec.err?.message ? `: ${rec.err.message}` : '';
        process.stderr.write(`swt ${tag} ${rec.msg ?? ''}${extra}\n`);
      } catch {
        process.stderr.write(chunk);
      }
      cb();
    },
  });
}

export type Logger = pino.Logger;

let root: pino.Logger | null = null;
let fileOnly: pino.Logger | null = null;

export interface LogOptions {
  level?: string;
  fileLevel?: string;
  dir?: string;
}

/** Creates (or re-creates) the process logger. Without a dir it only writes to stderr. */
export function initLogger(opts: LogOptions = {}): pino.Logger {
  const level = opts.level ?? 'warn';
  const fileLevel = opts.fileLevel ?? 'debug';
  const streams: pino.StreamEntry[] = [{ level: level as pino.Level, stream: conciseStderr() }];
  if (opts.dir && fileLevel !== 'silent') {
    mkdirSync(opts.dir, { recursive: true });
    streams.push({ level: fileLevel as pino.Level, stream: pino.destination({ dest: path.join(opts.dir, 'swt.log'), sync: true, mkdir: true }) });
  }
  const minLevel = [level, fileLevel].filter((l) => l !== 'silent').sort((a, b) => pino.levels.values[a] - pino.levels.values[b])[0] ?? 'silent';
  const base = { redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid } };
  root = pino({ level: minLevel, ...base }, pino.multistream(streams));
  fileOnly = streams.length > 1 ? pino({ level: fileLevel, ...base }, streams[1].stream) : null;
  return root;
}

export function log(): pino.Logger {
  return root ?? initLogger({ level: process.env.SWT_LOG__LEVEL ?? 'warn', fileLevel: 'silent' });
}

/** Writes to the log file only (for messages the command already printed to the user). */
export function logFileOnly(): pino.Logger | null {
  return fileOnly;
}
