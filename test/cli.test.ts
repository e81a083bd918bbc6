import { describe, it, expect } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/main.js';
import { swt } from './helpers/paths.js';

function leaves(cmd: Command, prefix: string[] = []): Array<{ path: string[]; cmd: Command }> {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  if (subs.length === 0) return [{ path: prefix, cmd }];
  return subs.flatMap((c) => leaves(c, [...prefix, c.name()]));
}

describe('the swt command line', () => {
  const program = buildProgram();

  it('`swt --help` lists every command group with a description', async () => {
    const r = await swt(['--help']);
    expect(r.status).toBe(0);
    for (const c of program.commands) {
      expect(r.stdout).toContain(c.name());
      expect(c.description().length).toBeGreaterThan(10);
    }
  });

  for (const leaf of leaves(program)) {
    it(`\`swt ${leaf.path.join(' ')} --help\` explains every option`, async () => {
      const r = await swt([...leaf.path, '--help']);
      expect(r.status).toBe(0);
      expect(leaf.cmd.description().length).toBeGreaterThan(10);
      for (const opt of leaf.cmd.options) {
        expect(r.stdout).toContain(opt.long ?? opt.short ?? '');
        expect(opt.description.length, `${leaf.path.join(' ')} ${opt.flags} has no description`).toBeGreaterThan(3);
      }
    });
  }

  it('an unknown command or option is a usage error (exit 2)', async () => {
    expect((await swt(['frobnicate'])).status).toBe(2);
    expect((await swt(['data', 'check', '--no-such-flag'])).status).toBe(2);
  });
});
