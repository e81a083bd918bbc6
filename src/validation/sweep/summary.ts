// What a sweep reports (its --json summary, sweep.json and the report's header): plain snake_case data.
import type { ParamValue } from '../../agent/policies/types.js';
import type { StageStats, Template } from './templates.js';

export type SweepStatus = 'running' | 'done' | 'stopped' | 'target';

export interface SweepSummary {
  sweep_id: number;
  name: string;
  space_file: string;
  space_hash: string;
  policy: string;
  instrument: string;
  status: SweepStatus;
  /** Why it stopped: every round evaluated, the time limit, or the target score. */
  stop_reason: 'complete' | 'max_minutes' | 'target_score';
  resumed: boolean;
  workers: number;
  sessions_available: number;
  stage_sessions: number[];
  /** A training sweep: each stage's training budget in episodes (null for a policy sweep). */
  stage_episodes: number[] | null;
  trials: number;
  evaluations: number;
  evaluations_run: number;
  evaluations_reused: number;
  /** Σ sessions evaluated / sessions of the last stage: the cost in full-budget evaluations. */
  full_budget_equivalents: number;
  seconds: number;
  /** Evaluations (trial × stage) run by this process per minute of its wall time. */
  trials_per_minute: number;
  stages: StageStats[];
  champion: null | {
    trial: number;
    stage: number;
    sessions: number;
    params: Record<string, ParamValue>;
    score: number;
    grade: string;
    /** A training sweep: the checkpoint the champion trained (null for a policy sweep). */
    checkpoint_id: string | null;
    /** Where the champion was validated: the holdout when the space has one, else the out-of-sample range. */
    validated_on: 'holdout' | 'out_of_sample';
    validation_id: number | null;
    validation_score: number | null;
    validation_grade: string | null;
    validation_recommendation: string | null;
  };
  templates: Template[];
  report: string | null;
}
