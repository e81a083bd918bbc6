// The `swt` command. Each command group lives in its own module and registers itself here.
import { Command, CommanderError } from 'commander';
import { registerConfig } from './config.js';
import { registerers } from './commands.js';
import { exitCodeFor } from '../util/errors.js';

export function buildProgram(): Command {
  const program = new Command('swt')
    .description(
      'swt: forex research and trading — M1 bars in DuckDB, wavelet scattering features, Stochastic MuZero,\n' +
        'honest validation and live trading. Logs go to stderr (quiet) and logs/swt.log (complete).',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .exitOverride();
  registerConfig(program);
  for (const register of registerers) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; every parse error is a usage error (2)
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`swt: error: ${(e as Error).message}\n`);
    process.exitCode = exitCodeFor(e);
  }
}
