import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, spawnSync } from 'node:child_process';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** ../shared beside the checkout (CI has it); tests that need it skip visibly when it is absent. */
export const SHARED = process.env.SWT_SHARED ?? path.resolve(ROOT, '..', 'shared');
export const HAS_SHARED = existsSync(path.join(SHARED, 'data', 'README.md'));
if (!HAS_SHARED) console.warn(`[swt tests] ${SHARED} not found: tests on the shared real data and fixtures are SKIPPED`);

export function tempDir(prefix = 'swt-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (dist/) as a user would; `npm test` builds it first. */
export function swt(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'swt.js'), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, SWT_LOG__DIR: path.join(tmpdir(), 'swt-test-logs'), ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeout ?? 300_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The CLI without blocking this process: a test that runs long commands back to back must let the
 * event loop run, or vitest's worker misses its own heartbeats ("Timeout calling onTaskUpdate").
 */
export function swtAsync(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeout?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'swt.js'), ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, SWT_LOG__DIR: path.join(tmpdir(), 'swt-test-logs'), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 300_000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      // a child killed by a signal says which in its stderr (status -1)
      resolve({ status: status ?? -1, stdout, stderr: signal ? `${stderr}\n[killed by ${signal}]` : stderr });
    });
  });
}
