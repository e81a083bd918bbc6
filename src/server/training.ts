// The training view's one query. `swt train` (issue 11) writes `training_metrics` rows
//   (run_id VARCHAR, kind VARCHAR, step BIGINT, episode BIGINT, ts TIMESTAMP, metrics JSON)
// with kind 'iteration' (episodes, env_steps, episodes_per_s, env_steps_per_s, expectancy,
// action_mix.share.{HOLD,BUY,SELL,CLOSE}), 'update' (the losses: total, policy, value, reward, …) and
// 'evaluation' (sqn, trades, net_pips), and `training_events` (run_id, ts, kind, message) for collapse
// warnings. Everything the dashboard reads of training is read here, so a change of that schema is a
// change of this file only; a store without the tables gives { available: false } and the view says so.
import type { Store } from '../store/db.js';

export interface TrainingSeries {
  step: number[];
  episodes: number[];
  env_steps_per_s: number[];
  episodes_per_s: number[];
  action_share: Record<string, number[]>;
}

export interface TrainingView {
  available: boolean;
  reason: string | null;
  run_id: string | null;
  runs: string[];
  iterations: TrainingSeries;
  losses: { step: number[]; total: number[]; policy: number[]; value: number[]; reward: number[] };
  evaluations: { step: number[]; sqn: Array<number | null>; net_pips: Array<number | null> };
  warnings: Array<{ ts: string; kind: string; message: string }>;
  latest: { episodes: number | null; env_steps_per_s: number | null; episodes_per_s: number | null; hold_share: number | null; losses: Record<string, number> | null; best_sqn: number | null };
}

const ACTIONS = ['HOLD', 'BUY', 'SELL', 'CLOSE'];

function empty(reason: string | null, runs: string[] = [], runId: string | null = null): TrainingView {
  return {
    available: reason === null,
    reason,
    run_id: runId,
    runs,
    iterations: { step: [], episodes: [], env_steps_per_s: [], episodes_per_s: [], action_share: Object.fromEntries(ACTIONS.map((a) => [a, []])) },
    losses: { step: [], total: [], policy: [], value: [], reward: [] },
    evaluations: { step: [], sqn: [], net_pips: [] },
    warnings: [],
    latest: { episodes: null, env_steps_per_s: null, episodes_per_s: null, hold_share: null, losses: null, best_sqn: null },
  };
}

async function tables(store: Store): Promise<Set<string>> {
  const rows = await store.all<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_name IN ('training_metrics', 'training_events')`);
  return new Set(rows.map((r) => r.table_name));
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The newest training run (or `runId`) as chart series; never throws for a missing or empty table. */
export async function trainingView(store: Store, runId: string | null = null): Promise<TrainingView> {
  const have = await tables(store);
  if (!have.has('training_metrics')) return empty('no training_metrics table in this store yet: run swt train');
  const runs = (await store.all<{ run_id: string }>(`SELECT run_id FROM training_metrics GROUP BY run_id ORDER BY max(ts) DESC`)).map((r) => r.run_id);
  const id = runId ?? runs[0] ?? null;
  if (id === null) return empty('no training run stored yet', runs);
  if (!runs.includes(id)) return empty(`no training run ${id}`, runs);
  const v = empty(null, runs, id);
  const rows = await store.all<{ kind: string; step: number | bigint; metrics: string }>(
    `SELECT kind, step, CAST(metrics AS VARCHAR) AS metrics FROM training_metrics WHERE run_id = $1 AND kind IN ('iteration', 'update', 'evaluation') ORDER BY step, episode, ts`,
    [id],
  );
  let best: number | null = null;
  for (const r of rows) {
    const step = Number(r.step);
    const m = JSON.parse(r.metrics) as Record<string, unknown>;
    if (r.kind === 'iteration') {
      const it = v.iterations;
      it.step.push(step);
      it.episodes.push(num(m.episodes) ?? NaN);
      it.env_steps_per_s.push(num(m.env_steps_per_s) ?? NaN);
      it.episodes_per_s.push(num(m.episodes_per_s) ?? NaN);
      const share = ((m.action_mix as { share?: Record<string, unknown> } | undefined)?.share ?? {}) as Record<string, unknown>;
      for (const a of ACTIONS) it.action_share[a].push(num(share[a]) ?? 0);
      v.latest.episodes = num(m.episodes);
      v.latest.env_steps_per_s = num(m.env_steps_per_s);
      v.latest.episodes_per_s = num(m.episodes_per_s);
      v.latest.hold_share = num(share.HOLD);
    } else if (r.kind === 'update') {
      v.losses.step.push(step);
      v.losses.total.push(num(m.total) ?? NaN);
      v.losses.policy.push(num(m.policy) ?? NaN);
      v.losses.value.push(num(m.value) ?? NaN);
      v.losses.reward.push(num(m.reward) ?? NaN);
      v.latest.losses = Object.fromEntries(Object.entries(m).filter(([, x]) => num(x) !== null)) as Record<string, number>;
    } else {
      const sqn = num(m.sqn);
      v.evaluations.step.push(step);
      v.evaluations.sqn.push(sqn);
      v.evaluations.net_pips.push(num(m.net_pips));
      if (sqn !== null && (best === null || sqn > best)) best = sqn;
    }
  }
  v.latest.best_sqn = best;
  if (have.has('training_events')) {
    const ev = await store.all<{ ts: unknown; kind: string; message: string }>(`SELECT ts, kind, message FROM training_events WHERE run_id = $1 ORDER BY ts`, [id]);
    v.warnings = ev.map((e) => ({ ts: String(e.ts), kind: e.kind, message: e.message }));
  }
  return v;
}

/** Evaluations since the best SQN (the plateau rule's input): 0 when the last one is the best. */
export function evaluationsSinceBest(v: TrainingView): number {
  const s = v.evaluations.sqn;
  let bestAt = -1;
  let best = -Infinity;
  s.forEach((x, i) => {
    if (x !== null && x > best) {
      best = x;
      bestAt = i;
    }
  });
  return bestAt < 0 ? s.length : s.length - 1 - bestAt;
}
