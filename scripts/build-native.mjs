#!/usr/bin/env node
// Builds the Rust core (native/) as part of `npm install`. Fails with a message that names the missing
// prerequisite instead of a stack trace, because this is the first thing a new user runs.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.SWT_SKIP_NATIVE_BUILD === '1') {
  console.error('swt: SWT_SKIP_NATIVE_BUILD=1, not building the Rust core');
  process.exit(0);
}
const probe = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  console.error(
    [
      'swt: cannot build the native core: `cargo` was not found on PATH.',
      'swt needs a Rust toolchain (cargo and rustc 1.75 or newer). Install it, e.g. with your package manager',
      '(Debian: `apt-get install cargo`) or rustup, then run `npm install` again.',
    ].join('\n'),
  );
  process.exit(1);
}
console.error(`swt: building the native core with ${probe.stdout.trim()} (release, offline)`);
const build = spawnSync(
  'cargo',
  ['build', '--release', '--offline', '--locked', '--manifest-path', path.join(root, 'native', 'Cargo.toml')],
  { stdio: 'inherit' },
);
if (build.status !== 0) {
  console.error('swt: the Rust build failed (see the cargo output above).');
  process.exit(build.status ?? 1);
}
