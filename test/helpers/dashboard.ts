// Helpers of the dashboard tests: a training run written as `swt train` writes it (the columns the
// server's training module assumes), Prometheus text parsed strictly, a WebSocket client.
import { WebSocket } from 'ws';
import type { Store } from '../../src/store/db.js';

/** A training run: `iterations` iteration rows (HOLD share `hold`), updates and evaluations with these SQNs. */
export async function writeTrainingRun(store: Store, runId: string, o: { iterations: number; hold: number; sqn: number[] }): Promise<void> {
  await store.run(`CREATE TABLE IF NOT EXISTS training_metrics (run_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, step BIGINT NOT NULL, episode BIGINT NOT NULL, ts TIMESTAMP NOT NULL, metrics JSON NOT NULL)`);
  await store.run(`CREATE TABLE IF NOT EXISTS training_events (run_id VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, kind VARCHAR NOT NULL, message VARCHAR NOT NULL, details JSON)`);
  const rest = (1 - o.hold) / 3;
  for (let i = 1; i <= o.iterations; i++) {
    const ts = new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString().replace('Z', '');
    const it = { episodes: i * 16, env_steps: i * 16 * 240, episodes_per_s: 2 + i / 10, env_steps_per_s: 480 + i, expectancy: 0.1, action_mix: { decisions: 1000, share: { HOLD: o.hold, BUY: rest, SELL: rest, CLOSE: rest }, hold_while_flat: o.hold, in_market: 0.1 } };
    await store.run(`INSERT INTO training_metrics VALUES ($1, 'iteration', $2, $3, $4::TIMESTAMP, $5)`, [runId, i, i * 16, ts, JSON.stringify(it)]);
    await store.run(`INSERT INTO training_metrics VALUES ($1, 'update', $2, $3, $4::TIMESTAMP, $5)`, [runId, i, i * 16, ts, JSON.stringify({ total: 3 / i, policy: 1 / i, value: 1.5 / i, reward: 0.5 / i, chance: 0, q: 0, commitment: 0, entropy: 1.2 })]);
  }
  for (let k = 0; k < o.sqn.length; k++) {
    const ts = new Date(Date.UTC(2025, 0, 1, 1, k)).toISOString().replace('Z', '');
    await store.run(`INSERT INTO training_metrics VALUES ($1, 'evaluation', $2, $3, $4::TIMESTAMP, $5)`, [runId, (k + 1) * 2, (k + 1) * 32, ts, JSON.stringify({ trades: 40, net_pips: 10 * o.sqn[k], sessions: 8, sqn: o.sqn[k] })]);
  }
  await store.run(`INSERT INTO training_events VALUES ($1, '2025-01-01 00:30:00', 'hold_collapse', 'HOLD above 95% for 3 iterations', NULL)`, [runId]);
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition format; throws on any line that is not HELP, TYPE or a sample. */
export function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( [0-9]+)?$/;
  const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    if (line.startsWith('# HELP ')) return;
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) return void types.set(t[1], t[2]);
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1} is not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(LABEL)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  });
  return { samples, types };
}

export function sampleValue(s: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return s.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
}

export interface WsClient {
  ws: WebSocket;
  messages: Array<{ type: string; seq: number; event_at_ms: number; data: any; received_at: number }>;
  close(): void;
}

/** Connects to `url` (ws://…/ws) with an Origin header; resolves when open, rejects on refusal. */
export function wsClient(url: string, origin: string | null): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { headers: { origin } } : {});
    const c: WsClient = { ws, messages: [], close: () => ws.close() };
    ws.on('message', (d) => c.messages.push({ ...JSON.parse(String(d)), received_at: Date.now() }));
    ws.once('open', () => resolve(c));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}
