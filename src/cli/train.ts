// `swt train`: MuZero self-play and training on the store's data; `swt train status`.
import type { Command } from 'commander';
import { Option } from 'commander';
import { action, common, instrumentArg, makeContext, parseInteger, parseNumber, printJson, type CommonOpts } from './context.js';
import { parseRange } from '../data/range.js';
import { pickInstrument } from '../app/market.js';
import { trainFromStore, trainStatus, type TrainProgress, type TrainSummary } from '../app/train.js';

const PRESETS = ['test', 'demo', 'default'] as const;
const ALGOS = ['muzero', 'ppo'] as const;

interface TrainOpts extends CommonOpts {
  algo: (typeof ALGOS)[number];
  preset: string;
  instrument?: string;
  from?: string;
  to?: string;
  resume?: boolean;
  maxEpisodes?: number;
  maxMinutes?: number;
  seed?: number;
}

const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(0)}%`);

function line(p: TrainProgress): string {
  const m = p.action_mix.share;
  const l = p.losses;
  return [
    `ep ${p.episodes} (${p.episodes_per_s.toFixed(1)}/s)`,
    `steps ${p.env_steps} (${p.env_steps_per_s.toFixed(0)}/s)`,
    `upd ${p.updates}`,
    l ? `loss ${l.total.toFixed(3)} (p ${l.policy.toFixed(3)} v ${l.value.toFixed(3)} ${l.reward !== undefined ? `r ${l.reward.toFixed(3)}` : `ent ${(l.entropy ?? 0).toFixed(3)}`})` : 'loss -',
    `mix H ${pct(m.HOLD)} B ${pct(m.BUY)} S ${pct(m.SELL)} C ${pct(m.CLOSE)} flat-hold ${pct(p.action_mix.hold_while_flat)}`,
    `exp ${p.expectancy === null ? '-' : p.expectancy.toFixed(2)}`,
    `best sqn ${p.best_sqn === null ? '-' : p.best_sqn.toFixed(2)}`,
  ].join(' | ');
}

function summaryText(s: TrainSummary): string {
  const e = s.evaluation;
  return [
    `training run ${s.run_id} (${s.algo} ${s.preset}, tfjs ${s.backend}) ${s.status}: ${s.episodes} episodes, ${s.env_steps} env steps, ${s.updates} updates in ${s.seconds.toFixed(0)} s`,
    `  ${line(s)}`,
    `  last evaluation: ${e ? `sqn ${e.sqn?.toFixed(2) ?? '-'}, expectancy ${e.expectancy?.toFixed(2) ?? '-'}, trades ${e.trades}, net ${e.net_pips.toFixed(1)} pips on ${e.sessions} held-out sessions` : 'none'}`,
    `  checkpoints: last ${s.last_checkpoint}, best ${s.best_checkpoint ?? '-'}`,
    `  time: self-play ${s.selfplay_seconds.toFixed(0)} s, training ${s.train_seconds.toFixed(0)} s, evaluation ${s.eval_seconds.toFixed(0)} s`,
    s.collapses.length ? `  COLLAPSE ALARMS: ${s.collapses.join(', ')}` : '  no collapse alarm',
  ].join('\n');
}

export function registerTrain(program: Command): void {
  const t = program.command('train').description('train the MuZero agent by self-play, or the PPO agent (--algo ppo) (swt train status: the latest run)');

  common(t.command('run', { isDefault: true }))
    .description('muzero: self-play, replay and learner, evaluation and checkpoints every train.eval_every updates; ppo: rollouts and PPO epochs, every ppo.eval_every gradient steps')
    .addOption(new Option('--algo <name>', 'the learner').choices([...ALGOS]).default('muzero'))
    .addOption(new Option('--preset <name>', 'training preset (train_presets in the config; ppo_presets with --algo ppo)').choices([...PRESETS]).default('default'))
    .option('--instrument <name>', 'instrument (default: the only one in the store)', instrumentArg)
    .option('--from <date>', 'start of the training range (YYYY-MM-DD or ISO timestamp, UTC)')
    .option('--to <date>', 'end (inclusive) of the training range')
    .option('--resume', 'continue the latest run from its last checkpoint (episodes, optimizer, RNG, replay)')
    .option('--max-episodes <n>', 'stop after this many episodes in total', parseInteger('--max-episodes', 1))
    .option('--max-minutes <m>', 'stop after this many minutes', parseNumber('--max-minutes', 0))
    .option('--seed <s>', 'seed of the run (default train.seed)', parseInteger('--seed', 0))
    .option('--json', 'print the summary as JSON')
    .action(
      action(async (o: TrainOpts) => {
        const ctx = makeContext(o, {}, o.preset, o.algo);
        const store = await ctx.openStore({ hold: 'unit' });
        const instrument = await pickInstrument(store, o.instrument);
        let stop = false;
        const onSignal = (sig: string) => {
          if (stop) return;
          stop = true;
          process.stderr.write(`\nswt: ${sig}: checkpointing, then exiting\n`);
        };
        const sigint = () => onSignal('SIGINT');
        const sigterm = () => onSignal('SIGTERM');
        process.on('SIGINT', sigint);
        process.on('SIGTERM', sigterm);
        const tty = process.stderr.isTTY;
        let lastLine = 0;
        try {
          const s = await trainFromStore(store, ctx.config, {
            algo: o.algo,
            preset: o.preset,
            instrument,
            range: parseRange(o.from, o.to),
            resume: Boolean(o.resume),
            maxEpisodes: o.maxEpisodes ?? null,
            maxMinutes: o.maxMinutes ?? null,
            seed: o.seed,
            shouldStop: () => stop,
            onWarning: (m) => process.stderr.write(`${tty ? '\n' : ''}swt: warning: ${m}\n`),
            onProgress: (p) => {
              if (tty) process.stderr.write(`\r\x1b[K${line(p)}`);
              else if (performance.now() - lastLine > 10_000) {
                lastLine = performance.now();
                process.stderr.write(`swt: train: ${line(p)}\n`);
              }
            },
          });
          if (tty) process.stderr.write('\n');
          if (o.json) printJson(s);
          else process.stdout.write(`${summaryText(s)}\n`);
        } finally {
          process.off('SIGINT', sigint);
          process.off('SIGTERM', sigterm);
        }
      }),
    );

  common(t.command('status'))
    .description('the latest training run: progress, last metrics and evaluation, collapse events')
    .option('--json', 'print JSON: {"run", "last_metrics", "last_evaluation", "events"}')
    .action(
      action(async (o: CommonOpts) => {
        const ctx = makeContext(o);
        const st = await trainStatus(await ctx.openStore());
        if (o.json) return printJson(st);
        if (!st.run) {
          process.stdout.write('no training run in this store (start one with `swt train --preset test`)\n');
          return;
        }
        const r = st.run;
        const ev = st.last_evaluation;
        process.stdout.write(
          [
            `run ${r.run_id} (${r.preset}, ${r.instrument}) ${r.status}: ${r.episodes} episodes, ${r.updates} updates, ${r.env_steps} env steps; updated ${r.updated_at}`,
            `  checkpoints: last ${r.last_checkpoint ?? '-'}, best ${r.best_checkpoint ?? '-'} (sqn ${r.best_sqn ?? '-'})`,
            `  last evaluation: ${ev ? JSON.stringify(ev) : 'none'}`,
            `  action mix: ${st.last_metrics ? JSON.stringify((st.last_metrics as { action_mix?: unknown }).action_mix) : '-'}`,
            `  events: ${st.events.length ? st.events.map((e) => `${e.ts} ${e.kind}: ${e.message}`).join('; ') : 'none'}`,
          ].join('\n') + '\n',
        );
      }),
    );
}
