// Successive halving over the stages of a sweep, as pure functions of the evaluations so far: which
// trials go on to the next stage, who the champion is, what each stage's budget is. Ties always go to
// the lower trial id, so the plan is the same however the evaluations were scheduled.
import type { ParamValue } from '../../agent/policies/types.js';

/** One evaluation of a trial (a configuration) at a stage: a row of sweep_trials. */
export interface Evaluation {
  trial: number;
  round: number;
  /** Index of the configuration in the sampler's sequence (grid: in the grid). */
  point: number;
  stage: number;
  sessions: number;
  params: Record<string, ParamValue>;
  score: number;
  grade: string;
  recommendation: string;
  trades: number;
  net_pips: number;
  expectancy: number | null;
  car25: number;
  safe_f: number;
  dd95: number;
  seconds: number;
  /** A training sweep: the checkpoint the trial trained and was scored with, its training run, its budget. */
  checkpoint_id?: string | null;
  train_run_id?: string | null;
  episodes?: number | null;
}

/** Better first: higher score, then the lower trial id. */
export function byScore(a: Pick<Evaluation, 'score' | 'trial'>, b: Pick<Evaluation, 'score' | 'trial'>): number {
  return b.score - a.score || a.trial - b.trial;
}

/** The sessions each stage evaluates, given the sessions the scoring range holds. */
export function stageBudgets(stages: ReadonlyArray<{ sessions?: number | 'all' }>, available: number): number[] {
  return stages.map((s) => (s.sessions === undefined || s.sessions === 'all' ? available : Math.min(s.sessions, available)));
}

/** How many of `n` evaluated trials go on to the next stage: the top fraction `keep`, at least one. */
export function keptCount(n: number, keep: number): number {
  return n === 0 ? 0 : Math.max(1, Math.ceil(keep * n - 1e-9));
}

/** The trials of a round that go on from `stage` (its evaluations given) to the next one, best first. */
export function survivors(evaluated: readonly Evaluation[], keep: number): number[] {
  return [...evaluated].sort(byScore).slice(0, keptCount(evaluated.length, keep)).map((e) => e.trial);
}

/**
 * The champion: the best evaluation at the highest stage any trial reached (a score on more sessions
 * beats any score on fewer: the lower stages are only a filter). null before any evaluation.
 */
export function championOf(evaluations: readonly Evaluation[]): Evaluation | null {
  let top = -1;
  for (const e of evaluations) top = Math.max(top, e.stage);
  const at = evaluations.filter((e) => e.stage === top);
  return at.length ? [...at].sort(byScore)[0] : null;
}

/** Evaluations in a stable order (trial, then stage): what a sweep reports and tests compare. */
export function ordered(evaluations: readonly Evaluation[]): Evaluation[] {
  return [...evaluations].sort((a, b) => a.trial - b.trial || a.stage - b.stage);
}
