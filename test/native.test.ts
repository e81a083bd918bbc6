import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { nativeSelftest, NativeError, abiVersion, EXPECTED_ABI_VERSION, STATUS } from '../bindings/native.js';

describe('native library loading and error mapping', () => {
  it('loads the Rust core and reports the expected ABI version', () => {
    expect(abiVersion()).toBe(EXPECTED_ABI_VERSION);
  });

  it('an ok status does not throw', () => {
    expect(() => nativeSelftest(0)).not.toThrow();
  });

  it('an error status becomes a NativeError carrying swt_last_error text', () => {
    try {
      nativeSelftest(1);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NativeError);
      expect((e as NativeError).status).toBe(STATUS.INVALID);
      expect((e as Error).message).toMatch(/swt_selftest: selftest: invalid argument requested/);
    }
  });

  it('a panic inside the library is caught at the ABI edge and reported, not a crash', () => {
    expect(() => nativeSelftest(2)).toThrow(/internal error \(panic\).*selftest panic requested/);
  });
});

describe('a missing or stale native library', () => {
  it('names the file and says what to run', async () => {
    const { swt } = await import('./helpers/paths.js');
    const r = await swt(['wst', '--J', '2', '--Q', '1', '--input', 'nope.json'], { env: { SWT_NATIVE_LIB: '/nonexistent/libswt.so' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/swt native library not found at \/nonexistent\/libswt\.so\. Run `npm run build` \(or `npm install`\)/);
  });

  it('refuses a library that is not an swt build', async () => {
    const { swt } = await import('./helpers/paths.js');
    // any shared object without swt_abi_version: the C library itself
    const libc = ['/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/lib/aarch64-linux-gnu/libc.so.6'].find((f) => existsSync(f));
    if (!libc) return;
    const r = await swt(['wst', '--J', '2', '--Q', '1', '--input', 'nope.json'], { env: { SWT_NATIVE_LIB: libc } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/does not export swt_abi_version: it is not an swt build or is stale\. Run `npm run build`/);
  });
});
