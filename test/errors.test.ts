// Bad input is one class (InputError, exit code 2) with a subclass per area; anything else exits 1.
// The kind survives a thread boundary as plain data.
import { describe, it, expect } from 'vitest';
import { errorData, errorFromData, exitCodeFor, InputError, UsageError } from '../src/util/errors.js';
import { ConfigError } from '../src/config/load.js';
import { PolicyError } from '../src/agent/policies/types.js';
import { EnvInputError } from '../src/env/types.js';
import { MonteCarloInputError } from '../src/validation/montecarlo.js';
import { GradeInputError } from '../src/validation/grade.js';
import { ReportExistsError } from '../src/validation/report/index.js';
import { NativeError } from '../bindings/native.js';

describe('input errors', () => {
  const inputs: Error[] = [
    new UsageError('u'),
    new ConfigError('c'),
    new PolicyError('p'),
    new EnvInputError('e'),
    new MonteCarloInputError('m'),
    new GradeInputError('g'),
    new ReportExistsError('/tmp/x'),
  ];

  it('every input-error class is an InputError named after its class, exit code 2', () => {
    for (const e of inputs) {
      expect(e).toBeInstanceOf(InputError);
      expect(e.name).toBe(e.constructor.name);
      expect(exitCodeFor(e)).toBe(2);
    }
  });

  it('other failures exit 1 (a native status error is a failure: the TS side checks user input first)', () => {
    expect(exitCodeFor(new Error('boom'))).toBe(1);
    expect(exitCodeFor(new TypeError('x is undefined'))).toBe(1);
    expect(exitCodeFor(new NativeError(1, 'swt_x: bad length', 'swt_x'))).toBe(1);
    expect(exitCodeFor('a string')).toBe(1);
  });

  it('crosses a thread boundary as data, keeping message, name and kind', () => {
    const back = errorFromData(structuredClone(errorData(new PolicyError("unknown policy 'x'"))));
    expect(back).toBeInstanceOf(InputError);
    expect(back.name).toBe('PolicyError');
    expect(back.message).toBe("unknown policy 'x'");
    const other = errorFromData(structuredClone(errorData(new RangeError('out of range'))));
    expect(other).not.toBeInstanceOf(InputError);
    expect(other.name).toBe('RangeError');
    expect(exitCodeFor(other)).toBe(1);
  });
});
