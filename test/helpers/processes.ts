// Real concurrent processes for the multi-process store tests: the built CLI and small helper scripts,
// spawned asynchronously so that several run at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './paths.js';

export interface Finished {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Date.now() when the process exited */
  endedAt: number;
  seconds: number;
}

export interface Running {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  done: Promise<Finished>;
  /** Resolves when stdout or stderr has a line matching `re` (rejects if the process exits first). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
}

export function spawnNode(args: string[], opts: { env?: Record<string, string> } = {}): Running {
  const t0 = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, SWT_LOG__DIR: path.join(tmpdir(), 'swt-test-logs'), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners: Array<() => void> = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    for (const l of [...listeners]) l();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
    for (const l of [...listeners]) l();
  });
  const done = new Promise<Finished>((resolve) => {
    child.on('close', (status, signal) => {
      const endedAt = Date.now();
      resolve({ status, signal, stdout: out, stderr: err, endedAt, seconds: (endedAt - t0) / 1000 });
      for (const l of [...listeners]) l();
    });
  });
  const waitFor = (re: RegExp, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; stderr: ${err.slice(-2000)}`)), timeoutMs);
      const check = () => {
        const m = re.exec(out) ?? re.exec(err);
        if (m) {
          clearTimeout(timer);
          listeners.splice(listeners.indexOf(check), 1);
          resolve(m[0]);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(timer);
          listeners.splice(listeners.indexOf(check), 1);
          reject(new Error(`process exited (${child.exitCode ?? child.signalCode}) before a line matching ${re}; stderr: ${err.slice(-2000)}`));
        }
      };
      listeners.push(check);
      check();
    });
  return { child, pid: child.pid!, stdout: () => out, stderr: () => err, done, waitFor };
}

/** The built CLI (`bin/swt.js`), as a user would run it in another terminal. */
export function spawnSwt(args: string[], opts: { env?: Record<string, string> } = {}): Running {
  return spawnNode([path.join(ROOT, 'bin', 'swt.js'), ...args], opts);
}

/** test/helpers/hold-store.mjs: holds a store file until killed (or for --for-ms). */
export function spawnHolder(db: string, extra: string[] = []): Running {
  return spawnNode([path.join(ROOT, 'test', 'helpers', 'hold-store.mjs'), db, ...extra]);
}
