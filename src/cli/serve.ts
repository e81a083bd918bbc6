// `swt serve`: the dashboard on the store (training and validation views, alerts on training). It holds
// the store file only for each query (hold: 'unit'), so it runs beside `swt train` and `swt live`.
import type { Command } from 'commander';
import { action, common, makeContext, parseInteger, type CommonOpts } from './context.js';
import { dashboardToken, startDashboard } from '../server/server.js';

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
      const d = await startDashboard({ config: ctx.config, store, token, host: o.host, port: o.port });
      process.stderr.write(`swt: dashboard on ${d.url} (controls ${token ? 'on' : `off: set ${ctx.config.dashboard.token_env}`})\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await d.close();
      store.close();
    }),
  );
}
