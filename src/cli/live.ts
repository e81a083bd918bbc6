// `swt live`: run a policy live or on paper (the runner, its journal and its control API), and
// `swt live status|flatten|halt|resume`, which ask the running runner over its loopback API.
import type { Command } from 'commander';
import { Option } from 'commander';
import { action, common, instrumentArg, makeContext, parseInteger, printJson, type CommonOpts, UsageError } from './context.js';
import { parseRange } from '../data/range.js';
import { parsePolicyArg, policyNames } from '../agent/policies/registry.js';
import { createLiveRun, newLiveRunId } from '../app/live.js';
import { liveStrategies, promoterSchedule, readRollout, runnerRolloutTarget } from '../app/promote.js';
import type { RolloutState } from '../live/promoter.js';
import { Store } from '../store/db.js';
import { Journal } from '../live/journal.js';
import { EVENT_LOG_CAPACITY, EventLog } from '../live/events.js';
import { callRunner, startControlApi } from '../live/api.js';
import { log } from '../util/log.js';
import { MarketCalendar } from '../live/calendar.js';
import { dashboardToken, startDashboard } from '../server/server.js';

interface LiveOpts extends CommonOpts {
  broker: 'paper' | 'oanda';
  mode: 'practice' | 'live';
  policy?: string;
  instrument?: string;
  feed: 'stream' | 'replay';
  speed: string;
  from?: string;
  to?: string;
  seed: number;
  iUnderstandThisIsRealMoney?: boolean;
  dashboard?: boolean;
  shadow: string[];
}

const CONTROL = ['status', 'flatten', 'halt', 'resume'] as const;

export function registerLive(program: Command): void {
  common(program.command('live'))
    .description('trade a policy on paper or at OANDA (bar by bar: features, policy, risk, order, reconciliation); or control the running runner')
    .argument('[control]', `talk to the running runner instead: ${CONTROL.join(' | ')}`)
    .addOption(new Option('--broker <b>', 'where orders go').choices(['paper', 'oanda']).default('paper'))
    .addOption(new Option('--mode <m>', 'OANDA host: practice or live (live needs --i-understand-this-is-real-money)').choices(['practice', 'live']).default('practice'))
    .option('--policy <name[:k=v,...]>', `policy (${policyNames().join(', ')}), parameters inline`)
    .option('--shadow <name[:k=v,...]>', 'a shadow strategy on the same feed, trading its own paper book (repeatable; never sends an order to the broker)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--instrument <name>', 'instrument', instrumentArg)
    .addOption(new Option('--feed <f>', 'bars from the OANDA price stream or a replay of stored bars').choices(['stream', 'replay']).default('stream'))
    .option('--speed <x>', 'replay speed: a multiple of real time, or max', 'max')
    .option('--from <date>', 'replay: first traded bar (earlier bars warm the features up)')
    .option('--to <date>', 'replay: end (inclusive)')
    .option('--seed <n>', 'seed of stochastic policies', parseInteger('--seed'), 1)
    .option('--i-understand-this-is-real-money', 'required with --mode live')
    .option('--json', 'print JSON')
    .option('--dashboard', 'serve the dashboard with the live streams (dashboard.host/port; controls need SWT_DASHBOARD_TOKEN)')
    .action(
      action(async (control: string | undefined, o: LiveOpts) => {
        const ctx = makeContext(o);
        if (control !== undefined) {
          if (!(CONTROL as readonly string[]).includes(control)) throw new UsageError(`unknown live command '${control}': expected ${CONTROL.join(', ')}`);
          const r = await callRunner(ctx.config.live.api.state_file, control as (typeof CONTROL)[number]);
          if (o.json) printJson(r);
          else process.stdout.write(`${Object.entries(r as Record<string, unknown>).map(([k, v]) => `${k.padEnd(18)} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : v}`).join('\n')}\n`);
          return;
        }
        if (!o.policy) throw new UsageError('--policy is required to start a runner (e.g. --policy ma-crossover:fast=10,slow=50)');
        if (!o.instrument) throw new UsageError('--instrument is required to start a runner');
        if (o.mode === 'live' && o.broker === 'oanda' && !o.iUnderstandThisIsRealMoney) {
          throw new UsageError('--mode live trades real money: add --i-understand-this-is-real-money');
        }
        const speed = o.speed === 'max' ? Infinity : Number(o.speed);
        if (!(speed > 0)) throw new UsageError(`--speed must be a number > 0 or max, got "${o.speed}"`);
        const config = ctx.config;
        const store = await ctx.openStore({ hold: 'unit' });
        // The journal file is the runner's own (live.journal): it holds it for the whole run, since
        // opening DuckDB per write would cost every bar tens of ms; others ask the runner's API.
        const journalStore = await Store.open(config.live.journal, { hold: 'run', lockWaitMs: config.store.lock_wait_ms });
        // the schema goes into the file now, so a kill -9 leaves only rows in the WAL to replay
        await journalStore.run('CHECKPOINT');
        // a promotion survives a restart: the stored rollout's driver trades, the others are shadows
        const plan = liveStrategies(await readRollout(journalStore, o.instrument), o.policy, o.shadow);
        const { name, params } = parsePolicyArg(plan.driver);
        const runId = newLiveRunId();
        // every row is tagged by the spec as given (the live strategy's and each shadow's)
        const journal = new Journal(journalStore, runId, plan.driver);
        const run = await createLiveRun(store, config, {
          broker: o.broker,
          mode: o.mode,
          policy: name,
          params,
          instrument: o.instrument,
          feed: o.feed,
          speed,
          range: parseRange(o.from, o.to),
          sessions: o.feed === 'replay',
          seed: o.seed,
          runId,
          journal,
          strategy: plan.driver,
          shadows: plan.shadows,
          journalStore,
        });
        journal.attach(run.bus);
        run.sizer.scale = plan.scale;
        // The auto-promoter, on the runner's clock (config.promoter.schedule), when there is a candidate.
        // assigned inside the rollout target's callback: typed by a cast so that the checks below are not narrowed to null
        let restart = null as RolloutState | null;
        const promoter =
          plan.shadows.length > 0
            ? promoterSchedule({ trades: journalStore, validations: store }, config, {
                instrument: o.instrument,
                live: plan.driver,
                bus: run.bus,
                target: runnerRolloutTarget({
                  driver: plan.driver,
                  setScale: (scale) => (run.sizer.scale = scale),
                  // the feed stops after this bar; the position is closed once the runner's loop is over
                  // (not here, between a decision and its fill)
                  switchTo: async (state) => {
                    restart = state;
                    run.feed.close();
                  },
                }),
              })
            : null;
        let detachPromoter = () => {};
        if (promoter) {
          await promoter.start(run.clock.now());
          detachPromoter = promoter.attach(run.bus, run.clock);
        }
        // what `swt serve` in another process reads through the API (GET /events)
        const events = new EventLog(EVENT_LOG_CAPACITY);
        events.attach(run.bus);
        const mode = o.broker === 'paper' ? 'paper' : o.mode;
        await store.release();
        const api = await startControlApi(
          {
            // the shadows and the rollout scale beside the live strategy's own status
            status: () => ({
              ...run.runner.status(),
              scale: run.sizer.scale,
              shadows: run.shadows.map((sh) => ({ strategy: sh.strategy, position_units: sh.runner.status().position_units, risk_state: sh.risk.state, trades: sh.session.trades.count })),
            }),
            flatten: (r) => run.runner.flatten(r), halt: (r) => run.runner.halt(r), resume: (r) => run.runner.resume(r) },
          { host: config.live.api.host, port: config.live.api.port, token: process.env[config.live.api.token_env] ?? null, stateFile: config.live.api.state_file, events, run: { run_id: runId, instrument: o.instrument, mode, feed: o.feed } },
        );
        // the dashboard listens to the bus; the runner does not know it is there
        const dashboard = o.dashboard
          ? await startDashboard({
              config,
              store,
              token: dashboardToken(config),
              live: {
                bus: run.bus,
                control: run.runner,
                instrument: o.instrument,
                mode,
                pipSize: config.instruments[o.instrument].pip_size,
                runId,
                marketOpen: o.feed === 'replay' ? null : (ms) => MarketCalendar.fromConfig(config).isOpen(ms),
                strategy: plan.driver,
                shadows: run.shadows,
                performance: (s) => run.records.get(s)?.figures() ?? null,
              },
            })
          : null;
        if (dashboard) process.stderr.write(`swt live: dashboard on ${dashboard.url}\n`);
        run.bus.on('alert', (a) => log()[a.severity === 'critical' ? 'error' : a.severity === 'warning' ? 'warn' : 'info']({ code: a.code }, a.message));
        run.bus.on('risk_state', (r) => log().warn({ from: r.from, to: r.to }, `risk state ${r.to}: ${r.reason}`));
        const stop = () => run.feed.close();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        // the kill switch by signal
        process.on('SIGUSR2', () => run.runner.halt('kill switch: SIGUSR2'));
        process.stderr.write(`swt live: running ${name} on ${o.instrument} (${o.broker}${o.broker === 'oanda' ? ` ${o.mode}` : ''}, ${o.feed} feed), run ${runId}, control API ${api.state.host}:${api.state.port}\n`);
        let summary;
        try {
          summary = await run.runner.run();
          if (restart) await run.runner.flatten(`promoter: ${restart.driver} takes over at ${restart.scale} of the live size`);
        } finally {
          // a promoter run still reading the journal must end before its store closes
          detachPromoter();
          await promoter?.idle();
          await dashboard?.close();
          await journal.close();
          await api.close();
          await run.close();
          journalStore.close();
        }
        const shadows = run.shadows.map((sh) => ({ strategy: sh.strategy, trades: sh.session.trades.count, ...sh.runner.stats, state: sh.risk.state }));
        const restartRequired = restart ? { driver: restart.driver, scale: restart.scale, candidate: restart.candidate, stage: restart.stage } : null;
        if (o.json) printJson({ run_id: runId, strategy: plan.driver, scale: run.sizer.scale, ...summary, trades: run.session.trades.count, shadows, restart_required: restartRequired });
        else {
          process.stdout.write(`live run ${runId}: ${summary.bars} bars, ${summary.decisions} decisions, ${summary.orders} orders, ${summary.fills} fills, ${summary.denials} denials, ${run.session.trades.count} trades; risk ${summary.state}\n`);
          for (const sh of shadows) process.stdout.write(`  shadow ${sh.strategy}: ${sh.decisions} decisions, ${sh.orders} paper orders, ${sh.trades} trades; risk ${sh.state}\n`);
        }
        if (restart) {
          // EX_TEMPFAIL: a supervisor restarts the same command line, and the stored rollout picks the driver
          process.stderr.write(`swt live: the promoter made ${restart.driver} the strategy that trades (${restart.scale} of the live size); the position was flattened: restart swt live with the same strategies\n`);
          process.exitCode = 75;
        }
      }),
    );
}
