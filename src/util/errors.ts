/** Bad input (a file, flag, value or request the user can fix): the CLI exits with code 2. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** An error caused by the user's input (bad file, flag or value): the CLI exits with code 2. */
export class UsageError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
