import type { Command } from 'commander';
import YAML from 'yaml';
import { configHash } from '../config/load.js';
import { action, common, makeContext, printJson, type CommonOpts } from './context.js';

export function registerConfig(program: Command): void {
  const cfg = program.command('config').description('inspect the effective configuration');
  common(cfg.command('show'))
    .description('print the effective config (defaults + SWT_* env + flags) and its hash')
    .option('--json', 'print JSON: {"hash", "config"}')
    .action(
      action(async (opts: CommonOpts) => {
        const ctx = makeContext(opts);
        const hash = configHash(ctx.config);
        if (opts.json) printJson({ hash, config: ctx.config });
        else process.stdout.write(`# config hash: ${hash}\n${YAML.stringify(ctx.config)}`);
      }),
    );
}
