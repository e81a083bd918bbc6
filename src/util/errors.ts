/**
 * An error caused by the user's input (a bad file, flag, value or configuration). Every such error
 * extends this class, so that one `instanceof` decides the exit code (2) instead of lists of names.
 * Errors from worker threads cross as `ErrorData`, which keeps this kind.
 */
export class InputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command-line usage (flags, arguments, stored ids). */
export class UsageError extends InputError {}

/** Exit code for an error: 2 for bad input, 1 for any other failure. */
export function exitCodeFor(e: unknown): 1 | 2 {
  return e instanceof InputError ? 2 : 1;
}

/** A thrown value as plain data that survives a thread boundary, with its kind (input or not). */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  input: boolean;
}

export function errorData(e: unknown): ErrorData {
  const err = e as Error;
  return { name: err?.name ?? 'Error', message: err?.message ?? String(e), stack: err?.stack, input: e instanceof InputError };
}

/** Rebuilds an error from `errorData`: an InputError (keeping its name) when it was one. */
export function errorFromData(d: ErrorData): Error {
  const err = d.input ? new InputError(d.message) : new Error(d.message);
  err.name = d.name;
  if (d.stack) err.stack = d.stack;
  return err;
}
