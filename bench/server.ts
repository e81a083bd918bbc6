// The dashboard under load (acceptance 5): CLIENTS WebSocket clients connected while one real day
// (3 May 2016, 1,440 bars) is replayed through the paper runner at SPEED × real time. All times are
// taken on the receiving client's clock. Prints:
//   - max_msgs_in_1s_window_per_type_per_client_received: the most messages of one type one client
//     received in any window [t, t + 1 s) (the throttle's promise: 1);
//   - newest_event_age_*: the age at receipt of the NEWEST event a message reflects (receive time − its
//     event_at_ms), over the live panel messages after the connect snapshot. It cannot stay small at a
//     burst's tail: an event just after a message can reach the client no sooner than a window later,
//     and if nothing newer comes the message that carries it is that old (once per burst and type);
//   - latency_*: event-to-message latency, what the server adds to what the throttle allows: receive
//     time − the later of the newest event and the window's end by the client's clock (the previous
//     message's receipt + throttle_ms; the guard the hub adds beyond the window counts as latency);
//   - oldest_coalesced_staleness_*: for the same messages, the age at send time of the OLDEST change the
//     message folds in (what the throttle made an event wait; up to a window by design);
//   - fill_to_message_max_ms: from a fill event to the first trades message listing it, per client.
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
const PANELS = new Set(['collection_status', 'trader_state', 'trades']);
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
  const staleness: number[] = [];
  d.hub.onSent((type, ms) => void (PANELS.has(type) && staleness.push(ms)));
  const filledAt = new Map<string, number>();
  run.bus.on('fill', (f) => void filledAt.set(f.transaction_id, Date.now()));
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => wsClient(d.url.replace('http', 'ws') + '/ws', d.url)));
  const t0 = performance.now();
  const summary = await run.runner.run();
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 1500));
  const latency: number[] = [];
  const age: number[] = [];
  const byType: Record<string, number[]> = {};
  const window = base.dashboard.throttle_ms;
  let maxRate = 0;
  let minGap = Infinity;
  let messages = 0;
  let fillMax = 0;
  let fillsSeen = 0;
  for (const c of clients) {
    const times = new Map<string, number[]>();
    const firstSeen = new Map<string, number>();
    for (const m of c.messages) {
      messages++;
      const ts = times.get(m.type) ?? times.set(m.type, []).get(m.type)!;
      if (ts.length > 0 && PANELS.has(m.type)) {
        const l = m.received_at - Math.max(m.event_at_ms, ts[ts.length - 1] + window);
        latency.push(l);
        (byType[m.type] ??= []).push(l);
        age.push(m.received_at - m.event_at_ms);
      }
      ts.push(m.received_at);
      if (m.type === 'trades') for (const f of m.data.recent_fills as Array<{ transaction_id: string }>) if (!firstSeen.has(f.transaction_id)) firstSeen.set(f.transaction_id, m.received_at);
    }
    for (const ts of times.values()) {
      for (let i = 1; i < ts.length; i++) minGap = Math.min(minGap, ts[i] - ts[i - 1]);
      let j = 0;
      for (let i = 0; i < ts.length; i++) {
        while (ts[i] - ts[j] >= 1000) j++;
        maxRate = Math.max(maxRate, i - j + 1);
      }
    }
    for (const [id, at] of filledAt) {
      const seen = firstSeen.get(id);
      if (seen === undefined) fillMax = Infinity;
      else {
        fillsSeen++;
        fillMax = Math.max(fillMax, seen - at);
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
  report('newest_event_age_p50_ms', q(age, 0.5));
  report('newest_event_age_p99_ms', q(age, 0.99));
  report('newest_event_age_max_ms', q(age, 1));
  report('latency_definition', 'receipt_minus_later_of_newest_event_and_window_end');
  report('latency_p50_ms', q(latency, 0.5));
  report('latency_p99_ms', q(latency, 0.99));
  report('latency_max_ms', q(latency, 1));
  for (const [type, xs] of Object.entries(byType)) report(`latency_p99_ms_${type}`, q(xs, 0.99));
  report('oldest_coalesced_staleness_p50_ms', q(staleness, 0.5));
  report('oldest_coalesced_staleness_p99_ms', q(staleness, 0.99));
  report('oldest_coalesced_staleness_max_ms', q(staleness, 1));
  report('fills_delivered', fillsSeen);
  report('fill_to_message_max_ms', fillMax);
  for (const c of clients) c.close();
  await d.close();
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
