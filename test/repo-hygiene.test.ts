// A merge conflict committed by mistake (it happened once, in the README's command table) must fail CI.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers/paths.js';

describe('the repository', () => {
  it('holds no merge conflict markers in tracked text files', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter((f) => /\.(ts|js|mjs|md|yaml|yml|json|rs|toml|sh|html|css)$/.test(f));
    expect(files.length).toBeGreaterThan(50);
    const bad = files.filter((f) => /^(<{7} |>{7} |={7}$)/m.test(readFileSync(path.join(ROOT, f), 'utf8')));
    expect(bad).toEqual([]);
  });
});
