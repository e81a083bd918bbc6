// What a sweep learned about its space: the score of each stage, and the "templates", the parameter
// regions where the best trials concentrate. Both read stage 0, where every trial was scored on the
// same sessions (later stages hold only survivors, a biased sample).
//
// Template of a parameter: over the top decile of trials by stage-0 score (at least one trial), a range
// parameter's p10..p90 next to the p10..p90 of all trials, and the top decile's share of the searched
// range (a small share: the best trials agree on a narrow region); a choice parameter's share of each
// value among the top decile next to its share among all trials.
import type { ParamValue } from '../../agent/policies/types.js';
import { quantileSorted } from '../validate.js';
import { byScore, keptCount, type Evaluation } from './halving.js';
import type { Space } from './space.js';

export interface StageStats {
  stage: number;
  sessions: number;
  evaluations: number;
  /** null when the stage has no evaluation yet. */
  best: number | null;
  p75: number | null;
  median: number | null;
  p25: number | null;
  worst: number | null;
}

export type Template =
  | {
      param: string;
      kind: 'range';
      log: boolean;
      top_trials: number;
      all_trials: number;
      /** The searched range (from the space). */
      range_min: number;
      range_max: number;
      top_p10: number;
      top_median: number;
      top_p90: number;
      all_p10: number;
      all_p90: number;
      /** (top_p90 - top_p10) / (range_max - range_min), on the log axis for log parameters. */
      top_share_of_range: number;
    }
  | {
      param: string;
      kind: 'choices';
      top_trials: number;
      all_trials: number;
      values: Array<{ value: ParamValue; top_share: number; all_share: number }>;
    };

/** The top-decile fraction the templates describe. */
export const TEMPLATE_FRACTION = 0.1;

function sortedOf(values: number[]): Float64Array {
  return Float64Array.from(values).sort();
}

export function sweepStageStats(evaluations: readonly Evaluation[], budgets: readonly number[]): StageStats[] {
  return budgets.map((sessions, stage) => {
    const s = sortedOf(evaluations.filter((e) => e.stage === stage).map((e) => e.score));
    const q = (p: number) => (s.length ? quantileSorted(s, p) : null);
    return { stage, sessions, evaluations: s.length, best: q(100), p75: q(75), median: q(50), p25: q(25), worst: q(0) };
  });
}

/** The trials at stage 0, best first. */
export function stageZero(evaluations: readonly Evaluation[]): Evaluation[] {
  return evaluations.filter((e) => e.stage === 0).sort(byScore);
}

export function templates(evaluations: readonly Evaluation[], space: Space): Template[] {
  const all = stageZero(evaluations);
  if (all.length === 0) return [];
  const top = all.slice(0, keptCount(all.length, TEMPLATE_FRACTION));
  return space.keys.map((k): Template => {
    const def = space.doc.params[k];
    if ('choices' in def) {
      const share = (xs: Evaluation[], v: ParamValue) => xs.filter((e) => e.params[k] === v).length / xs.length;
      return { param: k, kind: 'choices', top_trials: top.length, all_trials: all.length, values: def.choices.map((v) => ({ value: v, top_share: share(top, v), all_share: share(all, v) })) };
    }
    const t = sortedOf(top.map((e) => Number(e.params[k])));
    const a = sortedOf(all.map((e) => Number(e.params[k])));
    const axis = (v: number) => (def.log ? Math.log(v) : v);
    const [p10, p90] = [quantileSorted(t, 10), quantileSorted(t, 90)];
    return {
      param: k,
      kind: 'range',
      log: def.log,
      top_trials: top.length,
      all_trials: all.length,
      range_min: def.min,
      range_max: def.max,
      top_p10: p10,
      top_median: quantileSorted(t, 50),
      top_p90: p90,
      all_p10: quantileSorted(a, 10),
      all_p90: quantileSorted(a, 90),
      top_share_of_range: (axis(p90) - axis(p10)) / (axis(def.max) - axis(def.min)),
    };
  });
}
