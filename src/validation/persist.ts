// Persists validations in the store's `validations` table (the main process is the only writer).
import type { Store } from '../store/db.js';
import type { ValidationResult } from './validate.js';

/** JSON without NaN/Infinity (DuckDB's JSON type refuses them), typed arrays as arrays. */
export function resultJson(r: unknown): string {
  return JSON.stringify(r, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
    return v;
  });
}

/** Inserts one validation and returns its id. */
export async function saveValidation(store: Store, r: ValidationResult, reportDir: string | null): Promise<number> {
  const pv = r.provenance;
  const range = `${pv.data_first ?? ''}..${pv.data_last ?? ''}`;
  const row = await store.one<{ id: number }>(
    `INSERT INTO validations (run_id, policy, params, instrument, range, config_hash, seed, grade, score, recommendation, result, report_dir)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
    [
      pv.run_id,
      r.policy.name,
      JSON.stringify(r.policy.params),
      pv.instrument,
      range,
      pv.config_hash,
      pv.seed,
      r.grade.letter,
      r.grade.score,
      r.grade.recommendation,
      resultJson(r),
      reportDir,
    ],
  );
  return Number(row!.id);
}
