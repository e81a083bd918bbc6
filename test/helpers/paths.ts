import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';

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

/**
 * Runs the built CLI (dist/) as a user would; `npm test` builds it first. Never with spawnSync: a
 * test that blocks its worker's event loop for a minute (one long command, or several back to back)
 * makes vitest's worker miss the answer to its own "onTaskUpdate" call, and the whole run fails.
 */
export function swt(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeout?: number } = {}): Promise<CliResult> {
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
