// /metrics: prom-client's default process metrics plus swt's own. Counters and gauges of the live run
// are read from LiveState at scrape time (its counts are the bus events, one per journal entry), the
// training and validation gauges from the store views, so nothing is counted twice.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { LiveState } from './live-state.js';
import type { TrainingView } from './training.js';

export interface MetricSources {
  live: LiveState | null;
  training: () => Promise<TrainingView | null>;
  grades: () => Promise<Record<string, number> | null>;
}

const ACTIONS = ['HOLD', 'BUY', 'SELL', 'CLOSE'];

export interface Metrics {
  registry: Registry;
  alerts: Counter<'code' | 'severity'>;
  suppressed: Counter<'code'>;
}

/** A gauge whose value(s) come from `read` at each scrape. */
function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[], read: (g: Gauge<L>) => void | Promise<void>): void {
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      await read(this);
    },
  });
}

export function createMetrics(src: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const live = src.live;
  // read at scrape time: a followed runner's new run replaces the counts
  const c = () => live!.counts;
  // Totals read from the state are gauges to prom-client but counters to Prometheus (monotonic), so
  // they keep the _total names and say so in their help.
  const total = (name: string, help: string, read: () => number) => gauge(registry, name, `${help} (counter)`, [], (g) => void (live && g.set(read())));
  const byLabel = (name: string, help: string, label: string, read: () => Record<string, number>, always: string[] = []) =>
    gauge(registry, name, `${help} (counter)`, [label], (g) => {
      if (!live) return;
      const m = read();
      for (const k of new Set([...always, ...Object.keys(m)])) g.set({ [label]: k }, m[k] ?? 0);
    });

  total('swt_bars_received_total', 'Completed bars received from the feed', () => c().bars);
  gauge(registry, 'swt_feed_lag_seconds', 'Seconds since the last bar arrived', [], (g) => {
    const lag = live?.feedLagMs();
    if (lag !== null && lag !== undefined) g.set(lag / 1000);
  });
  total('swt_feed_gaps_total', 'Gaps the feed reported (weekday minutes without a bar)', () => c().gaps);
  byLabel('swt_decisions_total', 'Decisions by action', 'action', () => c().decisions, ACTIONS);
  byLabel('swt_orders_total', 'Order events by status (submitted, filled, rejected, denied, …)', 'status', () => c().orders);
  total('swt_fills_total', 'Fills', () => c().fills);
  total('swt_order_rejections_total', 'Orders the broker rejected', () => c().rejections);
  byLabel('swt_risk_denials_total', 'Orders the risk engine denied, by code', 'code', () => c().denials);
  total('swt_reconciliations_total', 'Reconciliation runs', () => c().reconciliations);
  total('swt_reconciliation_discrepancies_total', 'Reconciliation runs that found a discrepancy', () => c().discrepancies);
  const value = (name: string, help: string, read: (s: LiveState) => number) => gauge(registry, name, help, [], (g) => void (live && g.set(read(live))));
  value('swt_position_units', 'Position in units (signed)', (s) => s.positionUnits);
  value('swt_unrealised_pips', 'Unrealised pips of the open position at the last close', (s) => s.unrealisedPips);
  value('swt_realised_pips', 'Realised pips of the run', (s) => s.realisedPips);
  value('swt_equity_pips', 'Realised plus unrealised pips', (s) => s.equityPips);
  value('swt_drawdown_pips', 'Pips under the equity peak', (s) => s.drawdownPips);
  gauge(registry, 'swt_risk_halted', '1 while the risk engine is HALTED', [], (g) => void (live && g.set(live.riskState === 'HALTED' ? 1 : 0)));

  gauge(registry, 'swt_training_episodes_per_second', 'Self-play episodes per second of the newest training run', [], async (g) => {
    const v = (await src.training())?.latest.episodes_per_s;
    if (v !== null && v !== undefined) g.set(v);
  });
  gauge(registry, 'swt_training_env_steps_per_second', 'Environment steps per second of the newest training run', [], async (g) => {
    const v = (await src.training())?.latest.env_steps_per_s;
    if (v !== null && v !== undefined) g.set(v);
  });
  gauge(registry, 'swt_training_loss', 'Latest training losses by component', ['component'], async (g) => {
    for (const [k, v] of Object.entries((await src.training())?.latest.losses ?? {})) g.set({ component: k }, v);
  });
  gauge(registry, 'swt_training_action_share', "Share of each action in the newest iteration's decisions", ['action'], async (g) => {
    const v = await src.training();
    if (!v?.available) return;
    const s = v.iterations.action_share;
    for (const a of ACTIONS) if (s[a]?.length) g.set({ action: a }, s[a][s[a].length - 1]);
  });
  gauge(registry, 'swt_validation_grades', 'Stored validations by grade', ['grade'], async (g) => {
    for (const [k, n] of Object.entries((await src.grades()) ?? {})) g.set({ grade: k }, n);
  });
  const alerts = new Counter({ name: 'swt_alerts_total', help: 'Alerts raised (after repeat suppression)', labelNames: ['code', 'severity'] as const, registers: [registry] });
  const suppressed = new Counter({ name: 'swt_alerts_suppressed_total', help: 'Repeats of an alert inside its suppression window', labelNames: ['code'] as const, registers: [registry] });
  return { registry, alerts, suppressed };
}
