// The dashboard server (fastify + @fastify/websocket): /health, /metrics, /api JSON for every panel,
// /ws typed streams, the page (local assets only) and the controls (halt, resume, flatten) behind a
// bearer token. `swt serve` starts it on the store alone; a live run embeds it with its event bus and
// its control (startDashboard with `live`). It only listens to the bus: nothing upstream imports it.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { timingSafeEqual, createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { Config } from '../config/schema.js';
import type { EventBus } from '../live/events.js';
import type { Store } from '../store/db.js';
import { InputError } from '../util/errors.js';
import { log } from '../util/log.js';
import { AlertEngine } from './alerts.js';
import { Hub, type MessageType } from './hub.js';
import { LiveState, type PanelType } from './live-state.js';
import { createMetrics } from './metrics.js';
import { trainingView, type TrainingView } from './training.js';
import { gradeCounts, listValidations, reportFile } from './validations.js';

/** What the server asks of a running runner (the live Runner has these methods). */
export interface LiveControl {
  status(): object;
  halt(reason: string): void | Promise<void>;
  resume(reason: string): void | Promise<void>;
  flatten(reason: string): Promise<void>;
}

export interface LiveSource {
  bus: EventBus;
  control: LiveControl | null;
  instrument: string;
  /** 'paper' | 'practice' | 'live'. */
  mode: string;
  pipSize: number;
  /** Whether the market is open at `ms` (null: always, as in a replay). */
  marketOpen?: ((ms: number) => boolean) | null;
  /** The live run's id (its alerts are stored under it in `events`). */
  runId?: string;
  /** The live strategy's spec (the trader panel's first choice); default 'live'. */
  strategy?: string;
  /** The run's shadow strategies, each on its own bus (the trader panel can switch to one). */
  shadows?: ReadonlyArray<{ strategy: string; bus: EventBus }>;
  /** A strategy's rolling performance (strategy_performance's figures; null: none yet). */
  performance?: ((strategy: string) => object | null) | null;
}

export interface DashboardOptions {
  config: Config;
  store: Store | null;
  live?: LiveSource | null;
  host?: string;
  port?: number;
  /** The bearer token of the controls (from config.dashboard.token_env); null: controls off. */
  token: string | null;
  now?: () => number;
}

export interface Dashboard {
  url: string;
  host: string;
  port: number;
  app: FastifyInstance;
  state: LiveState | null;
  alerts: AlertEngine;
  hub: Hub;
  close(): Promise<void>;
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** Validation reports are self-contained HTML (inline styles and SVG, no scripts). */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '::ffff:127.0.0.1';
}

/** Refuses a bind that would expose the dashboard without a token. */
export function checkBind(host: string, token: string | null, tokenEnv: string): void {
  if (!isLoopback(host) && !token) {
    throw new InputError(`refusing to serve the dashboard on ${host} without a token: a non-loopback host needs ${tokenEnv} set (or use --host 127.0.0.1)`);
  }
}

/** The token of the config's token_env (empty counts as unset). */
export function dashboardToken(config: Config, env: NodeJS.ProcessEnv = process.env): string | null {
  const t = env[config.dashboard.token_env];
  return t && t.length > 0 ? t : null;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m) return false;
  // equal-length digests: the comparison takes the same time whatever the guess
  const a = createHash('sha256').update(m[1]).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const p = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (p.name === 'swt') return dir;
    } catch {
      /* not here: go up */
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the swt package root (for the dashboard page)');
    dir = up;
  }
}

/** The page's files: ours from src/server/page, uPlot from its npm package. Fixed names, no paths from requests. */
function assets(): Record<string, { file: string; type: string }> {
  const page = path.join(packageRoot(), 'src', 'server', 'page');
  const uplot = path.join(path.dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
  return {
    '/': { file: path.join(page, 'index.html'), type: 'text/html; charset=utf-8' },
    '/assets/app.js': { file: path.join(page, 'app.js'), type: 'text/javascript; charset=utf-8' },
    '/assets/style.css': { file: path.join(page, 'style.css'), type: 'text/css; charset=utf-8' },
    '/assets/uplot.js': { file: path.join(uplot, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
    '/assets/uplot.css': { file: path.join(uplot, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
  };
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const d = o.config.dashboard;
  const host = o.host ?? d.host;
  const port = o.port ?? d.port;
  checkBind(host, o.token, d.token_env);
  const now = o.now ?? Date.now;
  const store = o.store;
  const live = o.live ?? null;

  const state = live ? new LiveState({ instrument: live.instrument, pipSize: live.pipSize, mode: live.mode, history: d.history, equityPoints: d.equity_points, storeQueue: store ? () => store.queueLength : undefined, now }).attach(live.bus) : null;

  // One training read per poll interval, shared by the view, the metrics and the alert rules.
  let training: { at: number; view: TrainingView | null; json: string } = { at: -Infinity, view: null, json: '' };
  let reading: Promise<TrainingView | null> | null = null;
  const readTraining = async (): Promise<TrainingView | null> => {
    if (!store) return null;
    if (now() - training.at < d.training_poll_ms) return training.view;
    reading ??= trainingView(store)
      .then((view) => {
        training = { at: now(), view, json: JSON.stringify(view) };
        return view;
      })
      .finally(() => (reading = null));
    return reading;
  };
  const grades = async () => (store ? gradeCounts(store) : null);
  const metrics = createMetrics({ live: state, training: readTraining, grades });
  const alerts = new AlertEngine({ rules: d.alerts, store, metrics, live: state, bus: live?.bus ?? null, training: readTraining, marketOpen: live?.marketOpen ?? (() => true), now, history: d.history, runId: live?.runId ?? 'dashboard' });

  const hub = new Hub(
    (type: MessageType) => {
      if (type === 'training') return { data: training.view ?? { available: false, reason: store ? 'not read yet' : 'no store' }, event_at_ms: training.at };
      if (type === 'alert') return { data: { alerts: alerts.latest() }, event_at_ms: alerts.latest()[0]?.ts ?? 0 };
      if (!state) return { data: null, event_at_ms: 0 };
      return { data: state.panel(type), event_at_ms: state.eventAt[type] };
    },
    // the throttle runs on the wall clock, as its timers and the clients do (not the injected `now`)
    { throttleMs: d.throttle_ms },
  );
  state?.onChange((p: PanelType) => hub.offer(p));
  alerts.onAlert(() => hub.offer('alert'));

  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 });
  await app.register(websocket, { options: { maxPayload: 4096 } });
  app.addHook('onSend', async (req, reply, payload) => {
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cache-control', 'no-store');
    return payload;
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err instanceof InputError ? 400 : (err.statusCode ?? 500);
    if (status >= 500) log().error({ err, url: req.url }, 'dashboard: request failed');
    void reply.code(status).send({ error: err.message });
  });

  for (const [route, a] of Object.entries(assets())) {
    app.get(route, async (_req, reply) => reply.type(a.type).send(readFileSync(a.file)));
  }

  const storeOk = async (): Promise<{ ok: boolean; error: string | null }> => {
    if (!store) return { ok: true, error: null };
    try {
      await store.one('SELECT 1 AS one');
      return { ok: true, error: null };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  };

  app.get('/health', async (_req, reply) => {
    const s = await storeOk();
    const problems: string[] = [];
    if (!s.ok) problems.push(`store: ${s.error}`);
    let feed = null;
    let risk = null;
    let broker = null;
    if (state && live) {
      const lag = state.feedLagMs();
      const c = state.collection();
      const stale = (lag ?? 0) > d.alerts.stale_feed_ms && (live.marketOpen ?? (() => true))(now());
      feed = { connection: c.connection, bars: c.bars, last_bar_received_ms_ago: lag, stale };
      if (stale) problems.push('feed: stale');
      if (c.connection === 'disconnected') problems.push('feed: disconnected');
      risk = { state: state.riskState, reason: state.trader().risk_reason };
      if (state.riskState === 'HALTED') problems.push('risk: HALTED');
      const st = live.control?.status() as { broker?: string } | undefined;
      broker = { kind: st?.broker ?? live.mode, position_units: state.positionUnits };
    }
    const ok = problems.length === 0;
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unhealthy', problems, store: s, feed, broker, risk, live_attached: live !== null });
  });

  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  const noLive = (reply: FastifyReply) => reply.code(404).send({ error: 'no live runner attached to this dashboard (start it with swt live … --dashboard)' });
  // the trader panel's strategies: the live one (the state above) and each shadow (a state of its own bus)
  const liveName = live?.strategy ?? 'live';
  const strategies = new Map<string, LiveState>(state ? [[liveName, state]] : []);
  for (const sh of live?.shadows ?? []) {
    strategies.set(sh.strategy, new LiveState({ instrument: live!.instrument, pipSize: live!.pipSize, mode: 'shadow', history: d.history, equityPoints: d.equity_points, now }).attach(sh.bus));
  }
  type StrategyQuery = FastifyRequest<{ Querystring: { strategy?: string } }>;
  const stateOf = (req: StrategyQuery): LiveState => {
    const name = req.query.strategy ?? liveName;
    const st = strategies.get(name);
    if (!st) throw new InputError(`no strategy "${name}" in this run (strategies: ${[...strategies.keys()].join(', ')})`);
    return st;
  };
  app.get('/api/live/strategies', async (_req, reply) => (state ? { strategies: [...strategies.keys()].map((k) => ({ strategy: k, shadow: k !== liveName })) } : noLive(reply)));
  for (const p of ['collection_status', 'trader_state', 'trades'] as const) {
    app.get(`/api/live/${p}`, async (req: StrategyQuery, reply) => (state ? stateOf(req).panel(p) : noLive(reply)));
  }
  app.get('/api/live/performance', async (req: StrategyQuery, reply) => {
    if (!state) return noLive(reply);
    stateOf(req);
    const name = req.query.strategy ?? liveName;
    return { strategy: name, performance: live?.performance?.(name) ?? null };
  });
  app.get('/api/live/status', async (_req, reply) => (live?.control ? live.control.status() : noLive(reply)));
  app.get('/api/training', async (req: FastifyRequest<{ Querystring: { run_id?: string } }>) => {
    if (!store) return { available: false, reason: 'no store' };
    const id = req.query.run_id;
    return id ? trainingView(store, id) : ((await readTraining()) ?? { available: false, reason: 'no store' });
  });
  app.get('/api/validations', async () => ({ validations: store ? await listValidations(store) : [] }));
  app.get('/api/alerts', async () => ({ alerts: alerts.latest() }));

  const reportId = (raw: string): number => {
    const id = Number(raw);
    if (!Number.isInteger(id) || id < 1) throw new InputError(`validation id must be a positive integer, got "${raw}"`);
    return id;
  };
  app.get('/reports/:id/', async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const f = store ? await reportFile(store, reportId(req.params.id), 'index.html') : null;
    if (!f) return reply.code(404).send({ error: `no HTML report for validation ${req.params.id}` });
    return reply.header('content-security-policy', REPORT_CSP).type('text/html; charset=utf-8').send(readFileSync(f));
  });
  app.get('/reports/:id/report.pdf', async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const f = store ? await reportFile(store, reportId(req.params.id), 'report.pdf') : null;
    if (!f) return reply.code(404).send({ error: `no PDF report for validation ${req.params.id}` });
    return reply.type('application/pdf').send(readFileSync(f));
  });

  app.post('/api/control/:action', async (req: FastifyRequest<{ Params: { action: string }; Body: { reason?: unknown } | undefined }>, reply) => {
    if (!o.token) return reply.code(403).send({ error: `controls are off: set ${d.token_env} when starting the dashboard` });
    if (!tokenMatches(req.headers.authorization, o.token)) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a valid bearer token is required' });
    const action = req.params.action;
    if (action !== 'halt' && action !== 'resume' && action !== 'flatten') return reply.code(404).send({ error: `unknown control "${action}" (halt, resume, flatten)` });
    if (!live?.control) return reply.code(503).send({ error: 'no live runner attached to this dashboard' });
    const reason = typeof req.body?.reason === 'string' && req.body.reason ? req.body.reason.slice(0, 200) : `dashboard ${action}`;
    log().warn(`dashboard: ${action} (${reason})`);
    if (action === 'flatten') await live.control.flatten(reason);
    else if (action === 'halt') await live.control.halt(reason);
    else await live.control.resume(reason);
    return { ok: true, action, status: live.control.status() };
  });

  let allowedOrigins = new Set<string>();
  app.get(
    '/ws',
    {
      websocket: true,
      // A browser always sends Origin; a page from elsewhere must not read the streams.
      preValidation: async (req, reply) => {
        const origin = req.headers.origin;
        if (origin !== undefined && !allowedOrigins.has(origin)) {
          log().warn(`dashboard: refused a WebSocket from origin ${origin}`);
          await reply.code(403).send({ error: `origin ${origin} is not allowed` });
        }
      },
    },
    (socket) => hub.add(socket),
  );

  await readTraining().catch((e) => log().warn({ err: e }, 'dashboard: cannot read the training view'));
  await app.listen({ host, port });
  const addr = app.server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  allowedOrigins = new Set([`http://${hostPart}:${boundPort}`, ...(isLoopback(host) ? [`http://localhost:${boundPort}`, `http://127.0.0.1:${boundPort}`] : [])]);

  const poll = setInterval(() => {
    void readTraining()
      .then(() => {
        if (training.json !== lastTrainingJson) {
          lastTrainingJson = training.json;
          hub.offer('training');
        }
      })
      .catch((e) => log().warn({ err: e }, 'dashboard: cannot read the training view'));
  }, d.training_poll_ms);
  poll.unref();
  let lastTrainingJson = '';
  alerts.start();

  return {
    url: `http://${hostPart}:${boundPort}`,
    host,
    port: boundPort,
    app,
    state,
    alerts,
    hub,
    async close() {
      clearInterval(poll);
      hub.close();
      for (const st of strategies.values()) st.detach();
      await alerts.close();
      await app.close();
    },
  };
}
