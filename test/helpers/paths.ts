import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

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
