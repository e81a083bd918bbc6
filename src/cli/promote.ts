// `swt promote`: one run of the auto-promoter on the stored evidence (src/app/promote.ts). While
// `swt live` runs it holds the journal and runs the promoter on its own schedule (config.promoter).
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { action, common, instrumentArg, makeContext, printJson, type CommonOpts, UsageError } from './context.js';
import { Store } from '../store/db.js';
import { EventBus } from '../live/events.js';
import { promote, type PromoteResult } from '../app/promote.js';
import type { RolloutState } from '../live/promoter.js';
import { log } from '../util/log.js';

interface PromoteOpts extends CommonOpts {
  instrument?: string;
  live?: string;
  journal?: string;
  at?: string;
  dryRun?: boolean;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const stateJson = (s: RolloutState) => ({ ...s, stage_since: iso(s.stage_since), promoted_at: iso(s.promoted_at), updated_at: iso(s.updated_at) });

function text(r: PromoteResult): string {
  const s = r.state;
  const lines = r.decisions.map((d) => `${d.kind.padEnd(13)} ${d.message}`);
  lines.push(
    s.candidate === null
      ? `state: ${s.live_strategy} is live on ${s.instrument} at the full size`
      : `state: ${s.candidate} drives ${s.instrument} at ${(100 * s.scale).toFixed(0)}% of the live size (stage ${s.stage}), ${s.live_strategy} in the shadow`,
  );
  if (r.dry_run) lines.push('dry run: nothing stored');
  return `${lines.join('\n')}\n`;
}

export function registerPromote(program: Command): void {
  common(program.command('promote'))
    .description('the auto-promoter: promote a shadow strategy on evidence (trades, validation grade, bootstrap, drawdown), advance or roll back a rollout')
    .option('--instrument <name>', 'instrument (default: the only one with strategy trades)', instrumentArg)
    .option('--live <name[:k=v,...]>', 'the strategy trading live, when the promoter has no state yet (default: that of the newest live trade)')
    .option('--journal <file>', 'DuckDB file holding strategy_trades and the promoter tables (default: live.journal)')
    .option('--at <time>', 'decide as of this ISO time (default: now)')
    .option('--dry-run', 'decide and print, store nothing')
    .option('--json', 'print JSON')
    .action(
      action(async (o: PromoteOpts) => {
        const ctx = makeContext(o);
        const now = o.at === undefined ? Date.now() : Date.parse(o.at);
        if (!Number.isFinite(now)) throw new UsageError(`--at must be an ISO time (e.g. 2024-03-06T00:00:00Z), got "${o.at}"`);
        const journalFile = o.journal ?? ctx.config.live.journal;
        if (!existsSync(journalFile)) throw new UsageError(`no journal at ${journalFile}: the promoter reads the strategies' trades there (--journal FILE, or live.journal)`);
        const main = await ctx.openStore();
        const same = path.resolve(journalFile) === path.resolve(ctx.config.store.db);
        const journal = same ? main : await Store.open(journalFile, { hold: 'run', lockWaitMs: ctx.config.store.lock_wait_ms });
        const bus = new EventBus();
        bus.on('alert', (a) => log()[a.severity === 'critical' ? 'error' : a.severity === 'warning' ? 'warn' : 'info']({ code: a.code }, a.message));
        try {
          const r = await promote({ trades: journal, validations: main }, ctx.config, { now, instrument: o.instrument, live: o.live, dryRun: o.dryRun, bus });
          if (o.json) printJson({ ...r, decisions: r.decisions.map((d) => ({ ...d, ts: iso(d.ts) })), state: stateJson(r.state) });
          else process.stdout.write(text(r));
        } finally {
          if (!same) journal.close();
        }
      }),
    );
}
