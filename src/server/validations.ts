// The validations view: the stored runs of `swt validate` with grade and score, and where their HTML
// report lives (served under /reports/<id>/ so the page can link to it).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Store } from '../store/db.js';

export interface ValidationRow {
  id: number;
  created_at: string;
  run_id: string | null;
  policy: string;
  instrument: string;
  range: string;
  grade: string;
  score: number;
  recommendation: string;
  report_url: string | null;
}

export async function listValidations(store: Store, limit = 200): Promise<ValidationRow[]> {
  const rows = await store.all<{ id: number; created_at: unknown; run_id: string | null; policy: string; instrument: string; range: string; grade: string; score: number; recommendation: string; report_dir: string | null }>(
    `SELECT id, created_at, run_id, policy, instrument, range, grade, score, recommendation, report_dir FROM validations ORDER BY id DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    created_at: String(r.created_at),
    run_id: r.run_id,
    policy: r.policy,
    instrument: r.instrument,
    range: r.range,
    grade: r.grade,
    score: r.score,
    recommendation: r.recommendation,
    report_url: r.report_dir && existsSync(path.join(r.report_dir, 'index.html')) ? `/reports/${Number(r.id)}/` : null,
  }));
}

/** A stored validation's report file (index.html or report.pdf), or null. */
export async function reportFile(store: Store, id: number, file: 'index.html' | 'report.pdf'): Promise<string | null> {
  const r = await store.one<{ report_dir: string | null }>(`SELECT report_dir FROM validations WHERE id = $1`, [id]);
  if (!r?.report_dir) return null;
  const f = path.join(r.report_dir, file);
  return existsSync(f) ? f : null;
}

/** Validations per grade (the metrics' gauge). */
export async function gradeCounts(store: Store): Promise<Record<string, number>> {
  const rows = await store.all<{ grade: string; n: bigint | number }>(`SELECT grade, count(*) AS n FROM validations GROUP BY grade`);
  return Object.fromEntries(rows.map((r) => [r.grade, Number(r.n)]));
}
