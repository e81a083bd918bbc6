// The auto-promoter's decision: whether a shadow strategy replaces the live one, how far a rollout has
// gone, and when it is rolled back. Pure: the caller gives the trades, the validations, the current
// rollout state and the time (virtual in tests and replays); the same input and seed give the same
// decisions.
//
// A trade's gain is counted per unit of position: net_pips / units (net pips are for the whole position,
// src/env/config.ts), so strategies sized differently compare on their edge, not on their size. Its
// return is that gain per unit of notional, pips · pip_size / entry_price (src/validation/gains.ts).
//
// A candidate qualifies only when every rule holds (each failure is recorded by name):
//   min_trades  it has closed at least min_trades trades (since its last rollback, if any);
//   grade       its latest validation recommends at least TEST (REJECT < IMPROVE < TEST < DEPLOY);
//   bootstrap   P(candidate expectancy > live expectancy) >= confidence, where P is the share of B paired
//               resamples in which the mean of a resample of the candidate's gains exceeds the mean of a
//               resample of the live strategy's gains; each side is resampled with replacement at its own
//               size, independently (seeded streams 0 and 1). A live strategy without a closed trade
//               counts as earning 0 a trade;
//   drawdown    its drawdown stays within its validated 95th-percentile drawdown: the closed trades'
//               returns compounded in exit order at the validation's safe-f (the size the validation
//               measured its drawdowns at), max fall from the running peak as a fraction of it, against
//               the Monte Carlo's p95 max drawdown at safe-f (montecarlo.dd_percentiles.p95).
// The best qualifier (highest P, then expectancy, then name) is promoted to stages[0] of the live size.
//
// Rollout: the promoted strategy drives the real broker at stages[k] of the live size; the incumbent
// keeps running in the shadow. One stage per period: at the first check in a later period than the
// stage began (periods start at offset + k · period, the schedule's), a healthy rollout advances; when it
// reaches the last stage (1, the full size) it is complete and the promoted strategy is the live one.
// It is rolled back to the incumbent at once when either health rule fails:
//   rollback_drawdown    the drawdown of its trades since the promotion (as above) exceeds the p95;
//   rollback_expectancy  over its last rollback_last_n trades, P(expectancy < 0) >= confidence (the
//                        share of B resamples whose mean is below 0).
// A rolled-back strategy is evaluated afresh: only trades after the rollback count as its evidence.
import { nextU32, seedState, streamSeed } from '../util/prng.js';
import { RECOMMENDATIONS, type Recommendation } from '../validation/grade.js';

export interface PromoterSettings {
  minTrades: number;
  confidence: number;
  resamples: number;
  /** Shares of the live size, increasing, ending at 1. */
  stages: readonly number[];
  rollbackLastN: number;
  seed: number;
  /** The rollout's period (one stage per period) and its phase: periods start at offsetMs + k · periodMs. */
  periodMs: number;
  offsetMs: number;
}

/** A strategy's closed trades in exit order. */
export interface StrategyTrades {
  /** Net pips per unit of position. */
  pips: Float64Array;
  /** Net return per unit of notional. */
  returns: Float64Array;
  /** Exit time, ms. */
  exitTs: Float64Array;
}

export interface ValidationEvidence {
  id: number;
  recommendation: Recommendation;
  letter: string;
  score: number;
  safeF: number;
  /** The Monte Carlo's 95th-percentile max drawdown at safe-f (fraction of peak); null when it has none. */
  ddP95: number | null;
}

export interface StrategyEvidence {
  strategy: string;
  trades: StrategyTrades;
  /** Its latest validation (null: none found). */
  validation: ValidationEvidence | null;
  /** Why there is no validation, when it is known (a spec that names no registered policy …). */
  validationNote: string | null;
  /** Only trades closed after this time count (its last rollback); null: all. */
  since: number | null;
}

/** Where the rollout stands on one instrument. Stored (strategy_rollout) and given to a RolloutTarget. */
export interface RolloutState {
  instrument: string;
  /** The incumbent: the live strategy at full size when no rollout runs, the fallback while one does. */
  live_strategy: string;
  /** The strategy being rolled out (null: none). */
  candidate: string | null;
  /** 1-based stage of the rollout (null: none). */
  stage: number | null;
  /** The share of the live size the driver trades. */
  scale: number;
  /** The strategy whose orders go to the real broker; every other one runs in the shadow. */
  driver: string;
  stage_since: number | null;
  promoted_at: number | null;
  updated_at: number;
}

export type DecisionKind = 'promote' | 'advance' | 'complete' | 'hold' | 'not_qualified' | 'rollback';
export type RuleName = 'min_trades' | 'grade' | 'bootstrap' | 'drawdown' | 'rollback_drawdown' | 'rollback_expectancy';

export interface RuleFailure {
  rule: RuleName;
  detail: string;
}

/** The numbers a decision was made on (null: not measured for this decision, or not measurable). */
export interface Evidence {
  candidate_trades: number | null;
  live_trades: number;
  candidate_expectancy: number | null;
  live_expectancy: number | null;
  p_better: number | null;
  drawdown: number | null;
  dd_p95: number | null;
  safe_f: number | null;
  grade: Recommendation | null;
  grade_letter: string | null;
  score: number | null;
  validation_id: number | null;
  trades_since_promotion: number | null;
  last_n_trades: number | null;
  last_n_expectancy: number | null;
  p_negative: number | null;
  min_trades: number;
  confidence: number;
  resamples: number;
  seed: number;
  stages: number[];
}

export interface Decision {
  ts: number;
  instrument: string;
  kind: DecisionKind;
  /** The incumbent when the decision was made. */
  live_strategy: string;
  /** The strategy the decision is about (null: a hold without candidates). */
  candidate: string | null;
  /** The rollout stage the decision leads to (promote 1, advance 2, complete 3 …; the stage rolled back from; null: none). */
  stage: number | null;
  /** The share of the live size the broker's driver trades after the decision. */
  scale: number;
  /** Every rule that failed (empty for promote, advance, complete and hold). */
  failed_rules: RuleFailure[];
  message: string;
  evidence: Evidence;
}

export interface PromoterInput {
  now: number;
  state: RolloutState;
  /** Every strategy with trades on the instrument (the live one included). */
  strategies: StrategyEvidence[];
  settings: PromoterSettings;
}

export interface PromoterOutcome {
  decisions: Decision[];
  state: RolloutState;
}

// ------------------------------------------------------------------------------------------ statistics

/** Means of `resamples` resamples of `x` with replacement at its own size, from stream `stream` of `seed`. */
export function bootstrapMeans(x: ArrayLike<number>, resamples: number, seed: number, stream: number): Float64Array {
  const n = x.length;
  if (n === 0) throw new RangeError('bootstrapMeans: need at least one value');
  const v = Float64Array.from(x);
  const st = new Uint32Array(4);
  seedState(st, 0, streamSeed(seed, stream));
  // nextBelow's rejection threshold, hoisted: the same draws, without a call per index
  const threshold = 4294967296 % n;
  const out = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      let u = nextU32(st, 0);
      while (u < threshold) u = nextU32(st, 0);
      s += v[u % n];
    }
    out[b] = s / n;
  }
  return out;
}

/** P(mean of a > mean of b) over paired independent resamples; an empty b counts as a mean of 0. */
export function bootstrapPBetter(a: ArrayLike<number>, b: ArrayLike<number>, resamples: number, seed: number): number {
  const ma = bootstrapMeans(a, resamples, seed, 0);
  const mb = b.length > 0 ? bootstrapMeans(b, resamples, seed, 1) : new Float64Array(resamples);
  let k = 0;
  for (let i = 0; i < resamples; i++) if (ma[i] > mb[i]) k++;
  return k / resamples;
}

/** P(mean of x < 0) over resamples. */
export function bootstrapPNegative(x: ArrayLike<number>, resamples: number, seed: number): number {
  const m = bootstrapMeans(x, resamples, seed, 0);
  let k = 0;
  for (let i = 0; i < resamples; i++) if (m[i] < 0) k++;
  return k / resamples;
}

/** Max drawdown (fraction of the running peak) of equity compounding `returns` at fraction f; 1 = ruined. */
export function compoundedDrawdown(returns: ArrayLike<number>, f: number): number {
  let eq = 1;
  let peak = 1;
  let dd = 0;
  for (let i = 0; i < returns.length; i++) {
    const step = 1 + f * returns[i];
    if (step <= 0) return 1;
    eq *= step;
    if (eq > peak) peak = eq;
    else if (1 - eq / peak > dd) dd = 1 - eq / peak;
  }
  return dd;
}

const mean = (x: ArrayLike<number>): number | null => {
  if (x.length === 0) return null;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
};

/** The period `ts` falls in. */
export function periodIndex(ts: number, s: Pick<PromoterSettings, 'periodMs' | 'offsetMs'>): number {
  return Math.floor((ts - s.offsetMs) / s.periodMs);
}

// ------------------------------------------------------------------------------------------- decisions

const EMPTY: StrategyTrades = { pips: new Float64Array(0), returns: new Float64Array(0), exitTs: new Float64Array(0) };

/** The trades closed in (after, now]: exit order, so a slice. */
function window(t: StrategyTrades, after: number | null, now: number): StrategyTrades {
  let lo = 0;
  let hi = t.exitTs.length;
  while (hi > 0 && t.exitTs[hi - 1] > now) hi--;
  if (after !== null) while (lo < hi && t.exitTs[lo] <= after) lo++;
  return { pips: t.pips.subarray(lo, hi), returns: t.returns.subarray(lo, hi), exitTs: t.exitTs.subarray(lo, hi) };
}

const tail = (t: StrategyTrades, n: number): StrategyTrades => {
  const lo = Math.max(0, t.pips.length - n);
  return { pips: t.pips.subarray(lo), returns: t.returns.subarray(lo), exitTs: t.exitTs.subarray(lo) };
};

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const pips = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
const prob = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));

function baseEvidence(s: PromoterSettings, live: StrategyTrades): Evidence {
  return {
    candidate_trades: null,
    live_trades: live.pips.length,
    candidate_expectancy: null,
    live_expectancy: mean(live.pips),
    p_better: null,
    drawdown: null,
    dd_p95: null,
    safe_f: null,
    grade: null,
    grade_letter: null,
    score: null,
    validation_id: null,
    trades_since_promotion: null,
    last_n_trades: null,
    last_n_expectancy: null,
    p_negative: null,
    min_trades: s.minTrades,
    confidence: s.confidence,
    resamples: s.resamples,
    seed: s.seed,
    stages: [...s.stages],
  };
}

function withValidation(ev: Evidence, v: ValidationEvidence | null): Evidence {
  if (!v) return ev;
  return { ...ev, grade: v.recommendation, grade_letter: v.letter, score: v.score, validation_id: v.id, safe_f: v.safeF, dd_p95: v.ddP95 };
}

/** The drawdown at the validation's safe-f, or why it cannot be measured. */
function drawdownAt(t: StrategyTrades, v: ValidationEvidence | null, note: string | null): { dd: number | null; why: string | null } {
  if (!v) return { dd: null, why: `no validation${note ? ` (${note})` : ''}: no validated p95 drawdown to compare with` };
  if (!(v.safeF > 0)) return { dd: null, why: `validation #${v.id} has safe-f ${v.safeF}: no tradable size to measure a drawdown at` };
  if (v.ddP95 === null) return { dd: null, why: `validation #${v.id} has no 95th-percentile drawdown` };
  return { dd: compoundedDrawdown(t.returns, v.safeF), why: null };
}

const TEST_RANK = RECOMMENDATIONS.indexOf('TEST');

interface Evaluated {
  e: StrategyEvidence;
  failed: RuleFailure[];
  ev: Evidence;
}

function evaluateCandidate(e: StrategyEvidence, live: StrategyTrades, now: number, s: PromoterSettings): Evaluated {
  const t = window(e.trades, e.since, now);
  const n = t.pips.length;
  const failed: RuleFailure[] = [];
  const v = e.validation;
  if (n < s.minTrades) failed.push({ rule: 'min_trades', detail: `${n} trades${e.since !== null ? ' since its last rollback' : ''} < ${s.minTrades}` });
  if (!v) failed.push({ rule: 'grade', detail: `no validation${e.validationNote ? ` (${e.validationNote})` : ''}` });
  else if (RECOMMENDATIONS.indexOf(v.recommendation) < TEST_RANK) failed.push({ rule: 'grade', detail: `validation #${v.id} recommends ${v.recommendation}, below TEST` });
  const p = n > 0 ? bootstrapPBetter(t.pips, live.pips, s.resamples, s.seed) : null;
  if (p === null) failed.push({ rule: 'bootstrap', detail: 'no closed trade to resample' });
  else if (p < s.confidence) failed.push({ rule: 'bootstrap', detail: `P(expectancy > live) = ${prob(p)} < ${s.confidence}` });
  const { dd, why } = drawdownAt(t, v, e.validationNote);
  if (dd === null) failed.push({ rule: 'drawdown', detail: why! });
  else if (dd > v!.ddP95!) failed.push({ rule: 'drawdown', detail: `drawdown ${pct(dd)} > validated p95 ${pct(v!.ddP95!)}` });
  const ev = withValidation({ ...baseEvidence(s, live), candidate_trades: n, candidate_expectancy: mean(t.pips), p_better: p, drawdown: dd }, v);
  return { e, failed, ev };
}

function evaluateCandidates(input: PromoterInput, by: Map<string, StrategyEvidence>): PromoterOutcome {
  const { now, state, settings: s } = input;
  const live = window(by.get(state.live_strategy)?.trades ?? EMPTY, null, now);
  const candidates = input.strategies.filter((e) => e.strategy !== state.live_strategy).sort((a, b) => (a.strategy < b.strategy ? -1 : 1));
  const base = { ts: now, instrument: state.instrument, live_strategy: state.live_strategy };
  if (candidates.length === 0) {
    const ev = baseEvidence(s, live);
    return {
      decisions: [{ ...base, kind: 'hold', candidate: null, stage: null, scale: 1, failed_rules: [], message: `no candidate: no strategy but ${state.live_strategy} has closed trades on ${state.instrument}`, evidence: ev }],
      state: { ...state, updated_at: now },
    };
  }
  const evaluated = candidates.map((e) => evaluateCandidate(e, live, now, s));
  const qualified = evaluated.filter((x) => x.failed.length === 0);
  qualified.sort((a, b) => b.ev.p_better! - a.ev.p_better! || b.ev.candidate_expectancy! - a.ev.candidate_expectancy! || (a.e.strategy < b.e.strategy ? -1 : 1));
  const chosen = qualified[0] ?? null;
  let next: RolloutState = { ...state, updated_at: now };
  const decisions: Decision[] = evaluated.map((x) => {
    const c = x.e.strategy;
    const figures = `${x.ev.candidate_trades} trades, expectancy ${pips(x.ev.candidate_expectancy)} vs live ${pips(x.ev.live_expectancy)} pips/unit over ${x.ev.live_trades}, P(better) ${prob(x.ev.p_better)}`;
    if (x === chosen) {
      const last = s.stages.length === 1;
      next = last
        ? { ...next, live_strategy: c, candidate: null, stage: null, scale: 1, driver: c, stage_since: null, promoted_at: null }
        : { ...next, candidate: c, stage: 1, scale: s.stages[0], driver: c, stage_since: now, promoted_at: now };
      const dd = `drawdown ${pct(x.ev.drawdown!)} <= p95 ${pct(x.ev.dd_p95!)}, validation #${x.ev.validation_id} ${x.ev.grade}`;
      return { ...base, kind: 'promote', candidate: c, stage: 1, scale: s.stages[0], failed_rules: [], message: `promote ${c} over ${state.live_strategy} at ${pct(s.stages[0])} of the live size (stage 1/${s.stages.length}): ${figures} >= ${s.confidence}, ${dd}`, evidence: x.ev };
    }
    if (x.failed.length === 0) {
      return { ...base, kind: 'hold', candidate: c, stage: null, scale: 1, failed_rules: [], message: `${c} qualifies (${figures}) but ${chosen!.e.strategy} has the stronger evidence`, evidence: x.ev };
    }
    return { ...base, kind: 'not_qualified', candidate: c, stage: null, scale: 1, failed_rules: x.failed, message: `${c} not promoted: ${x.failed.map((f) => `${f.rule}: ${f.detail}`).join('; ')} (${figures})`, evidence: x.ev };
  });
  return { decisions, state: next };
}

function checkRollout(input: PromoterInput, by: Map<string, StrategyEvidence>): PromoterOutcome {
  const { now, state, settings: s } = input;
  const c = state.candidate!;
  const e = by.get(c) ?? { strategy: c, trades: EMPTY, validation: null, validationNote: null, since: null };
  const live = window(by.get(state.live_strategy)?.trades ?? EMPTY, null, now);
  const all = window(e.trades, e.since, now);
  const since = window(e.trades, state.promoted_at, now);
  const last = tail(all, s.rollbackLastN);
  const v = e.validation;
  const { dd } = drawdownAt(since, v, e.validationNote);
  const pNeg = last.pips.length > 0 ? bootstrapPNegative(last.pips, s.resamples, s.seed) : null;
  const failed: RuleFailure[] = [];
  if (dd !== null && dd > v!.ddP95!) failed.push({ rule: 'rollback_drawdown', detail: `drawdown since the promotion ${pct(dd)} > validated p95 ${pct(v!.ddP95!)}` });
  if (pNeg !== null && pNeg >= s.confidence) failed.push({ rule: 'rollback_expectancy', detail: `P(expectancy < 0) over the last ${last.pips.length} trades = ${prob(pNeg)} >= ${s.confidence}` });
  const ev = withValidation(
    {
      ...baseEvidence(s, live),
      candidate_trades: all.pips.length,
      candidate_expectancy: mean(all.pips),
      drawdown: dd,
      trades_since_promotion: since.pips.length,
      last_n_trades: last.pips.length,
      last_n_expectancy: mean(last.pips),
      p_negative: pNeg,
    },
    v,
  );
  const base = { ts: now, instrument: state.instrument, live_strategy: state.live_strategy, candidate: c };
  const health = `${since.pips.length} trades since the promotion, drawdown ${dd === null ? 'n/a' : pct(dd)} (p95 ${ev.dd_p95 === null ? 'n/a' : pct(ev.dd_p95)}), last ${last.pips.length} expectancy ${pips(ev.last_n_expectancy)} pips/unit, P(< 0) ${prob(pNeg)}`;
  if (failed.length > 0) {
    return {
      decisions: [{ ...base, kind: 'rollback', stage: state.stage, scale: 1, failed_rules: failed, message: `roll back ${c} to ${state.live_strategy} at stage ${state.stage}/${s.stages.length}: ${failed.map((f) => f.detail).join('; ')}`, evidence: ev }],
      state: { ...state, candidate: null, stage: null, scale: 1, driver: state.live_strategy, stage_since: null, promoted_at: null, updated_at: now },
    };
  }
  if (state.stage_since !== null && periodIndex(now, s) > periodIndex(state.stage_since, s)) {
    const stage = state.stage! + 1;
    const scale = s.stages[stage - 1];
    if (stage === s.stages.length) {
      return {
        decisions: [{ ...base, kind: 'complete', stage, scale, failed_rules: [], message: `${c} replaces ${state.live_strategy} at the full live size (stage ${stage}/${s.stages.length}): ${health}`, evidence: ev }],
        state: { ...state, live_strategy: c, candidate: null, stage: null, scale: 1, driver: c, stage_since: null, promoted_at: null, updated_at: now },
      };
    }
    return {
      decisions: [{ ...base, kind: 'advance', stage, scale, failed_rules: [], message: `advance ${c} to ${pct(scale)} of the live size (stage ${stage}/${s.stages.length}): ${health}`, evidence: ev }],
      state: { ...state, stage, scale, stage_since: now, updated_at: now },
    };
  }
  return {
    decisions: [{ ...base, kind: 'hold', stage: state.stage, scale: state.scale, failed_rules: [], message: `${c} stays at ${pct(state.scale)} (stage ${state.stage}/${s.stages.length}) until the next period: ${health}`, evidence: ev }],
    state: { ...state, updated_at: now },
  };
}

/** The promoter's decisions at `now` and the rollout state they leave (see the header for the rules). */
export function decide(input: PromoterInput): PromoterOutcome {
  const by = new Map(input.strategies.map((e) => [e.strategy, e]));
  return input.state.candidate !== null ? checkRollout(input, by) : evaluateCandidates(input, by);
}

/** The state of an instrument the promoter has not acted on: `live` drives at full size. */
export function initialRollout(instrument: string, live: string, now: number): RolloutState {
  return { instrument, live_strategy: live, candidate: null, stage: null, scale: 1, driver: live, stage_since: null, promoted_at: null, updated_at: now };
}
