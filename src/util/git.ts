// The git commit of the running code, recorded with results that must say where they came from.
import { execFileSync } from 'node:child_process';
import { packageRoot } from '../config/load.js';

/** HEAD of the checkout swt runs from, with `-dirty` when tracked files have changes; null outside git. */
export function gitCommit(): string | null {
  try {
    const cwd = packageRoot();
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}
