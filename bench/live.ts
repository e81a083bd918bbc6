// bench:live — the soak (issue 12, acceptance 5): N days of market time (default 30) at speed, streamed
// by the fake v20 server over loopback NDJSON to the OANDA client's price stream, aggregated into M1
// bars, traded by the runner through the paper broker. Prints name=value lines:
//   soak_bars, soak_days, soak_seconds, memory_growth_mb_per_day (slope of heap used after GC, per
//   market day, first day left out as warm-up), bar_to_order_ms_p50/p99 (bar arrival → order sent),
//   and the policy it ran. Run: npm run bench:live [-- --days 30 --policy ma-crossover,muzero --pace 1].
// Each policy of --policy (default: ma-crossover, then muzero) soaks in turn after a `policy=NAME` line;
// the first's figures carry the plain names, every later one's the same names suffixed `_NAME`
// (bar_to_order_ms_p99_muzero). muzero runs a freshly initialised checkpoint (initCheckpoint, the way
// the parity tests make one) with the config's network and search: bar → order latency is the cost of
// the feature row, ONNX Runtime and the native search, which does not depend on what the weights learned.
import v8 from 'node:v8';
import vm from 'node:vm';
import { FakeV20 } from '../test/support/fake-v20.js';
import { OandaClient } from '../src/live/oanda/client.js';
import { Secret } from '../src/live/secret.js';
import { StreamFeed } from '../src/live/feed.js';
import { EventBus } from '../src/live/events.js';
import { RiskEngine } from '../src/live/risk.js';
import { Runner } from '../src/live/runner.js';
import { LiveSession } from '../src/live/session.js';
import { PaperBroker } from '../src/live/paper.js';
import { MarketCalendar } from '../src/live/calendar.js';
import { VirtualClock } from '../src/live/clock.js';
import { loadConfig } from '../src/config/load.js';
import { weekCalendar, inClosureMs } from '../src/data/calendar.js';
import { envConfigFromConfig } from '../src/env/config.js';
import { createPolicy, getPolicySpec, resolvePolicy } from '../src/agent/policies/registry.js';
import type { ParamValue } from '../src/agent/policies/types.js';
import { initCheckpoint } from '../src/agent/checkpoints/registry.js';
import { rowBuilderFor } from '../src/features/row.js';
import { Store } from '../src/store/db.js';
import type { Config } from '../src/config/schema.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Prng } from '../src/util/prng.js';
import { report, reportCores } from './util.js';

const arg = (name: string, d: string) => {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : d;
};
const DAYS = Number(arg('days', process.env.BENCH_LIVE_DAYS ?? '30'));
const POLICIES = arg('policy', 'ma-crossover,muzero').split(',').filter(Boolean);
const PACE = Number(arg('pace', '1'));
const TICKS_PER_BAR = 4;
const I = 'GBP_JPY';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

/** The policy to soak with its parameters and the store its artifacts live in (muzero: a checkpoint). */
async function policyFor(name: string, config: Config, store: Store): Promise<Record<string, ParamValue>> {
  if (name !== 'muzero') return {};
  const { meta } = await initCheckpoint(store, config, { seed: 1 });
  return { checkpoint: meta.id };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'swt-bench-live-'));
  const config = loadConfig({ overrides: { 'checkpoints.dir': path.join(dir, 'checkpoints') } });
  const store = await Store.open(path.join(dir, 'bench.duckdb'));
  reportCores();
  try {
    for (const [k, name] of POLICIES.entries()) await soak(name, k === 0 ? '' : `_${name.replaceAll('-', '_')}`, config, store);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function soak(POLICY: string, suffix: string, config: Config, store: Store): Promise<void> {
  const env = envConfigFromConfig(config, I);
  const token = 'bench-token';
  const fake = await FakeV20.start({ token });
  const client = new OandaClient({ restUrl: fake.url, streamUrl: fake.url, accountId: fake.accountId, token: new Secret(token), timeoutMs: 5000, retries: 2, backoffMs: 50, maxBackoffMs: 500, staleMs: 60_000, requestsPerSecond: 100, orderLookupAttempts: 2, orderLookupDelayMs: 50 });
  const bus = new EventBus();
  // market time at speed: the runner's clock follows the bars (a rate limit per minute is per market minute)
  const clock = new VirtualClock(0);
  bus.on('bar', (b) => clock.set(b.ts + 60_000));
  const week = weekCalendar(config);
  const { params, artifacts } = await resolvePolicy(POLICY, await policyFor(POLICY, config, store), { store, config });
  const policy = await createPolicy(POLICY, params, { seed: 1, env, fit: null, config, artifacts, featureHash: null });
  // a policy that observes gets the store build's feature-row builder, run live
  const features = getPolicySpec(POLICY).observes ? rowBuilderFor(config, config.features.default_set, I, 1) : null;
  const session = LiveSession.create({ env, policy, features, instrument: I });
  const inst = config.instruments[I];
  const broker = new PaperBroker({ instrument: I, pipSize: inst.pip_size, spreadPips: inst.spread_pips, slippagePips: 0, balance: 1e5 });
  const feed = new StreamFeed({ instrument: I, broker: client, clock, bus, week, barMs: env.barMs, graceMs: 1e12 });
  const risk = new RiskEngine({ maxPositionUnits: env.units, maxOrderUnits: 2 * env.units, maxOrdersPerMinute: 1000, dailyLossPips: 1e9, killSwitchFile: null }, bus, clock);
  const runner = new Runner({ instrument: I, units: env.units, session, broker, feed, clock, bus, risk, calendar: MarketCalendar.fromConfig(config), flattenBeforeCloseMinutes: config.live.flatten_before_close_minutes, manualTrades: 'flatten', reconcileEveryMs: 60_000, maxClockSkewMs: 1e15, runId: 'bench', strategy: POLICY });
  const codes: Record<string, number> = {};
  bus.on('risk_denial', (d) => (codes[d.code] = (codes[d.code] ?? 0) + 1));
  bus.on('risk_state', (r) => process.stderr.write(`risk ${r.to}: ${r.reason}\n`));
  const done = runner.run();
  while (fake.streamClients === 0) await new Promise((r) => setTimeout(r, 10));

  // market minutes of DAYS calendar days from a Monday, weekend closure left out
  const t0 = Date.parse('2024-01-01T00:00:00Z');
  const rng = new Prng(7);
  let p = 150;
  let sent = 0;
  const mem: Array<[number, number]> = [];
  const start = performance.now();
  for (let day = 0; day < DAYS; day++) {
    for (let m = 0; m < 1440; m++) {
      const ts = t0 + (day * 1440 + m) * 60_000;
      if (inClosureMs(ts, week)) continue;
      for (let k = 0; k < TICKS_PER_BAR; k++) {
        p += 0.01 * rng.normal();
        fake.tick(I, ts + k * 10_000, p - 0.02, p + 0.02);
      }
      sent++;
      // The market waits for the runner every PACE bars (the socket would buffer otherwise). At 1 the
      // runner works on a bar while only that minute's ticks arrive, as live, where ticks come a few a
      // second; a backlog of queued lines would be parsed inside the awaits of a bar's work and count
      // against its latency.
      if (sent % PACE === 0) while (runner.stats.bars < sent - 1) await new Promise((r) => setImmediate(r));
    }
    while (runner.stats.bars < sent - 1) await new Promise((r) => setTimeout(r, 1));
    gc();
    mem.push([day, process.memoryUsage().heapUsed / 2 ** 20]);
  }
  const seconds = (performance.now() - start) / 1000;
  feed.close();
  await done;
  await session.close();
  await client.close();
  await fake.close();
  // least-squares slope of heap used over market days, the first day left out (warm-up)
  const pts = mem.slice(1);
  const mx = pts.reduce((a, q) => a + q[0], 0) / pts.length;
  const my = pts.reduce((a, q) => a + q[1], 0) / pts.length;
  const slope = pts.reduce((a, q) => a + (q[0] - mx) * (q[1] - my), 0) / Math.max(1e-9, pts.reduce((a, q) => a + (q[0] - mx) ** 2, 0));
  const r = (name: string, v: number | string) => report(`${name}${suffix}`, v);
  report('policy', POLICY);
  r('soak_days', DAYS);
  r('soak_bars', runner.stats.bars);
  r('soak_decisions', runner.stats.decisions);
  r('soak_orders', runner.stats.orders);
  r('soak_fills', runner.stats.fills);
  r('soak_denials', runner.stats.denials);
  r('soak_trades', session.trades.count);
  r('soak_seconds', seconds);
  r('memory_growth_mb_per_day', slope);
  r('bar_to_order_ms_p50', percentile(runner.barToOrderMs, 50));
  r('bar_to_order_ms_p99', percentile(runner.barToOrderMs, 99));
  r('risk_state', risk.state);
  for (const [c, n] of Object.entries(codes)) r(`soak_denials_${c.toLowerCase()}`, n);
}

void main().catch((e) => {
  process.stderr.write(`bench:live failed: ${(e as Error).stack}\n`);
  process.exitCode = 1;
});
