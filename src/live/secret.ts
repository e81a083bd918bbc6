// The broker token: read from an environment variable or a file, never from the config. It is wrapped
// so that it cannot leak by accident: printing, JSON, string interpolation and util.inspect all give
// "[redacted]"; only `reveal()` (called where the Authorization header is built) gives the value.
import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors.js';

const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

export class TokenError extends InputError {}

/** The token from `$envVar`, else from `file` (first line); refuses an empty one. */
export function loadToken(o: { envVar: string; file?: string | null; env?: NodeJS.ProcessEnv }): Secret {
  const env = o.env ?? process.env;
  const fromEnv = env[o.envVar];
  if (fromEnv && fromEnv.trim()) return new Secret(fromEnv.trim());
  if (o.file) {
    let text: string;
    try {
      text = readFileSync(o.file, 'utf8');
    } catch (e) {
      throw new TokenError(`cannot read the token file ${o.file}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
    const line = text.split(/\r?\n/)[0]?.trim() ?? '';
    if (!line) throw new TokenError(`the token file ${o.file} is empty: put the OANDA API token on its first line`);
    return new Secret(line);
  }
  throw new TokenError(`no OANDA API token: set ${o.envVar} or live.oanda.token_file (a file holding only the token)`);
}
