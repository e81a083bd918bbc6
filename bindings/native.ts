// Loads the Rust core (native/target/release/libswt.so) with koffi and turns its status codes into
// exceptions. Every other binding module declares its functions on `nativeLib()` and wraps calls in
// `check` / `checkAsync`.
import koffi from 'koffi';
import type { LibraryHandle } from 'koffi';
import { existsSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The ABI version this TypeScript was written against (native/src/ffi/mod.rs ABI_VERSION). */
export const EXPECTED_ABI_VERSION = 3;

export const STATUS = { OK: 0, INVALID: 1, STATE: 2, HANDLE: 3, PANIC: 99 } as const;

export class NativeError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fn: string,
  ) {
    super(message);
    this.name = 'NativeError';
  }
}

export class NativeLibraryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NativeLibraryError';
  }
}

const REBUILD_HINT = 'Run `npm run build` (or `npm install`) in the swt directory to build the Rust core.';

function repoRoot(): string {
  // bindings/ sits at the repo root, and is compiled to dist/bindings/: walk up to the folder with native/.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(path.join(dir, 'native', 'Cargo.toml'))) return dir;
    dir = path.dirname(dir);
  }
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
}

export function libraryPath(): string {
  if (process.env.SWT_NATIVE_LIB) return process.env.SWT_NATIVE_LIB;
  const file = process.platform === 'darwin' ? 'libswt.dylib' : process.platform === 'win32' ? 'swt.dll' : 'libswt.so';
  return path.join(repoRoot(), 'native', 'target', 'release', file);
}

/** Newest modification time among the Rust sources, to tell a user their build is older than the code. */
function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (entry.name.endsWith('.rs')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

let lib: LibraryHandle | null = null;
let lastErrorFn: ((buf: Buffer, len: number) => number) | null = null;
let lastErrorAnyFn: ((buf: Buffer, len: number) => number) | null = null;

/** The loaded library (loaded once, ABI-checked). Throws NativeLibraryError with what to run. */
export function nativeLib(): LibraryHandle {
  if (lib) return lib;
  const file = libraryPath();
  if (!existsSync(file)) {
    throw new NativeLibraryError(`swt native library not found at ${file}. ${REBUILD_HINT}`);
  }
  let loaded: LibraryHandle;
  try {
    loaded = koffi.load(file);
  } catch (e) {
    throw new NativeLibraryError(`cannot load swt native library ${file}: ${(e as Error).message}. ${REBUILD_HINT}`);
  }
  let version: number;
  try {
    version = (loaded.func('int swt_abi_version()') as () => number)();
  } catch {
    throw new NativeLibraryError(`${file} does not export swt_abi_version: it is not an swt build or is stale. ${REBUILD_HINT}`);
  }
  if (version !== EXPECTED_ABI_VERSION) {
    throw new NativeLibraryError(
      `swt native library ${file} has ABI version ${version}, this code expects ${EXPECTED_ABI_VERSION} (stale build). ${REBUILD_HINT}`,
    );
  }
  lastErrorFn = loaded.func('size_t swt_last_error(_Out_ uint8_t *buf, size_t len)') as (b: Buffer, n: number) => number;
  lastErrorAnyFn = loaded.func('size_t swt_last_error_any(_Out_ uint8_t *buf, size_t len)') as (b: Buffer, n: number) => number;
  lib = loaded;
  return lib;
}

/** Declares a function, failing with a "stale build" message when the library lacks the symbol. */
export function declare<T extends (...args: never[]) => unknown>(signature: string): T {
  const l = nativeLib();
  try {
    return l.func(signature) as unknown as T;
  } catch (e) {
    throw new NativeLibraryError(
      `swt native library lacks \`${signature}\` (${(e as Error).message}); the build is stale. ${REBUILD_HINT}`,
    );
  }
}

function readError(fn: ((b: Buffer, n: number) => number) | null): string {
  if (!fn) return 'unknown error';
  const buf = Buffer.alloc(4096);
  const n = fn(buf, buf.length);
  return buf.subarray(0, Math.min(n, buf.length - 1)).toString('utf8');
}

/** Throws NativeError when `status` is not OK; `fnName` names the native call in the message. */
export function check(status: number, fnName: string): void {
  if (status !== STATUS.OK) throw new NativeError(status, `${fnName}: ${readError(lastErrorFn)}`, fnName);
}

/** Same as check, for calls made with koffi's `.async` (run on another thread). */
export function checkAsyncStatus(status: number, fnName: string): void {
  if (status !== STATUS.OK) throw new NativeError(status, `${fnName}: ${readError(lastErrorAnyFn)}`, fnName);
}

/** Promise wrapper over a koffi `.async` function that returns a status. */
export function callAsync(fn: { async: (...args: unknown[]) => void }, fnName: string, ...args: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err: unknown, status: number) => {
      if (err) return reject(err);
      try {
        checkAsyncStatus(status, fnName);
        resolve();
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Warns (does not fail) when the Rust sources are newer than the built library. */
export function staleBuildWarning(): string | null {
  try {
    const file = libraryPath();
    const src = path.join(repoRoot(), 'native', 'src');
    if (!existsSync(file) || !existsSync(src)) return null;
    if (newestSourceMtime(src) > statSync(file).mtimeMs) {
      return `the Rust sources in ${src} are newer than ${file}. ${REBUILD_HINT}`;
    }
  } catch {
    /* best effort only */
  }
  return null;
}

const selftestFn = () => declare<(mode: number) => number>('int swt_selftest(int mode)');

/** Exercises the error path end to end: 0 ok, 1 invalid-argument error, 2 caught panic. */
export function nativeSelftest(mode: 0 | 1 | 2): void {
  check(selftestFn()(mode), 'swt_selftest');
}

export function abiVersion(): number {
  nativeLib();
  return EXPECTED_ABI_VERSION;
}
