import { describe, it, expect } from 'vitest';
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
