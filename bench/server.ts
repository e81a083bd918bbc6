// The dashboard under load: CLIENTS WebSocket clients connected while one real day (3 May 2016, 1,440
// bars) is replayed through the paper runner at SPEED × real time. Prints, per type and client, the
// highest message rate and the shortest gap between two messages (the throttle allows one a second),
// and the event-to-message latency: receive time minus the wall-clock time of the newest event the
// message carries (the staleness of what the page shows, which includes the wait the throttle imposes on
// an event that comes just after a message), and the delivery latency: receive time minus the later of
// that event and the end of the throttle window (what the server adds on top of the throttle), as
// p50/p99/max over the live panel messages after the connect snapshot.
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadConfig } from '../src/config/load.js';
import { startDashboard } from '../src/server/server.js';
import { paperRun, realBarsStore, I } from '../test/helpers/live-run.js';
import { wsClient } from '../test/helpers/dashboard.js';
import { report, reportCores } from './util.js';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const SPEED = Number(process.env.BENCH_SPEED ?? 4800);
const dir = mkdtempSync(path.join(tmpdir(), 'swt-bench-server-'));
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};
try {
  const store = await realBarsStore(path.join(dir, 'bench.duckdb'), 'unit');
  const run = await paperRun(store, { from: '2016-05-03T00:00:00Z', to: '2016-05-04T00:00:00Z', speed: SPEED });
  const base = loadConfig();
  const d = await startDashboard({ config: { ...base, dashboard: { ...base.dashboard, port: 0 } }, store, token: null, live: { bus: run.bus, control: run.runner, instrument: I, mode: 'paper', pipSize: run.pipSize } });
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => wsClient(d.url.replace('http', 'ws') + '/ws', d.url)));
  const t0 = performance.now();
  const summary = await run.runner.run();
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 1100));
  const latency: number[] = [];
  const delivery: number[] = [];
  const throttle = base.dashboard.throttle_ms;
  let maxRate = 0;
  let minGap = Infinity;
  let messages = 0;
  for (const c of clients) {
    const byType = new Map<string, number[]>();
    for (const m of c.messages) {
      messages++;
      (byType.get(m.type) ?? byType.set(m.type, []).get(m.type)!).push(m.received_at);
    }
    for (const [type, times] of byType) {
      for (let i = 1; i < times.length; i++) minGap = Math.min(minGap, times[i] - times[i - 1]);
      // messages in any one-second window [t, t + 1000), the throttle's promise
      let j = 0;
      for (let i = 0; i < times.length; i++) {
        while (times[i] - times[j] >= 1000) j++;
        maxRate = Math.max(maxRate, i - j + 1);
      }
      void type;
    }
    const prev = new Map<string, number>();
    for (const m of c.messages) {
      const p = prev.get(m.type);
      prev.set(m.type, m.received_at);
      if (p === undefined) continue; // the connect snapshot
      if (m.type === 'collection_status' || m.type === 'trader_state' || m.type === 'trades') {
        latency.push(m.received_at - m.event_at_ms);
        delivery.push(m.received_at - Math.max(m.event_at_ms, p + throttle));
      }
    }
  }
  reportCores();
  report('clients', CLIENTS);
  report('speed', SPEED);
  report('bars', summary.bars);
  report('fills', summary.fills);
  report('replay_seconds', seconds);
  report('messages', messages);
  report('max_msgs_in_1s_window_per_type_per_client_received', maxRate);
  report('min_gap_ms_same_type_received', minGap);
  report('min_gap_ms_same_type_sent', d.hub.minGapMs);
  report('latency_p50_ms', q(latency, 0.5));
  report('latency_p99_ms', q(latency, 0.99));
  report('latency_max_ms', q(latency, 1));
  report('delivery_latency_p50_ms', q(delivery, 0.5));
  report('delivery_latency_p99_ms', q(delivery, 0.99));
  report('delivery_latency_max_ms', q(delivery, 1));
  for (const c of clients) c.close();
  await d.close();
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
