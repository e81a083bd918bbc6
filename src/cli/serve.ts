// `swt serve`: the dashboard on the store (training and validation views, alerts on training). It holds
// the store file only for each query (hold: 'unit'), so it runs beside `swt train` and `swt live`. A
// runner already running (found by its API state file, as `swt live status` finds it) is followed over
// its API: its live panels, metrics and alerts, and the controls forwarded to it.
import type { Command } from 'commander';
import { action, common, makeContext, parseInteger, type CommonOpts } from './context.js';
import { dashboardToken, startDashboard, type LiveSource } from '../server/server.js';
import { RunnerLink } from '../server/remote.js';
import { MarketCalendar } from '../live/calendar.js';

interface ServeOpts extends CommonOpts {
  port?: number;
  host?: string;
}

export function registerServe(program: Command): void {
  common(
    program
      .command('serve')
      .description('serve the dashboard: /health, /metrics, /api, /ws and the page (controls need SWT_DASHBOARD_TOKEN)')
      .option('--port <n>', 'port (default dashboard.port, 8787; 0: a free one)', parseInteger('--port', 0))
      .option('--host <host>', 'host to bind (default dashboard.host, 127.0.0.1; others need the token)'),
  ).action(
    action(async (o: ServeOpts) => {
      const ctx = makeContext(o);
      const token = dashboardToken(ctx.config);
      const store = await ctx.openStore({ hold: 'unit' });
      const config = ctx.config;
      const link = new RunnerLink(config.live.api.state_file, { accept: (run) => run.instrument in config.instruments });
      const first = await link.find();
      const calendar = MarketCalendar.fromConfig(config);
      const live: LiveSource = {
        bus: link.bus,
        control: link,
        instrument: first?.instrument ?? '',
        mode: first?.mode ?? '',
        pipSize: first ? config.instruments[first.instrument].pip_size : 1,
        runId: first?.run_id,
        // stale only while a runner on a stream feed is followed and the market is open (a replay never)
        marketOpen: (ms) => link.run !== null && link.run.feed !== 'replay' && calendar.isOpen(ms),
      };
      const d = await startDashboard({ config, store, token, host: o.host, port: o.port, live });
      link.onRun((run) => d.state!.follow({ instrument: run.instrument, mode: run.mode, pipSize: config.instruments[run.instrument].pip_size }));
      link.start();
      process.stderr.write(
        `swt: dashboard on ${d.url} (controls ${token ? 'on' : `off: set ${config.dashboard.token_env}`}; ${first ? `following runner ${first.run_id} on ${first.instrument}` : `no runner running yet: watching ${config.live.api.state_file}`})\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      link.close();
      await d.close();
      store.close();
    }),
  );
}
