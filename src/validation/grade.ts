// The grade of a validated strategy: a composite score, a letter and a recommendation with gates.
//
// Composite score = 0.30 · expectancy + 0.30 · risk-adjusted return + 0.20 · consistency
//                 + 0.20 · drawdown control, each sub-score in [0, 100]:
//   expectancy (30 %)          expectancy in R multiples, E_R = expectancy / |average loss| (net pips per
//                              trade per pip of the typical loss): 100 · clamp(E_R / 0.5). 0.5 R a trade or
//                              more scores 100, a losing expectancy 0; no losing trade at all with a positive
//                              expectancy scores 100.
//   risk-adjusted return (30 %) CAR25 at safe-f (the 25th-percentile yearly growth when the position is
//                              sized so that the tail drawdown equals the tolerance — Bandy's risk
//                              normalisation): 100 · clamp(CAR25 / 30 %). The default gate (15 %) scores 50.
//   consistency (20 %)         share p of profitable days among the days that closed a trade:
//                              100 · clamp((p − 0.40) / (0.65 − 0.40)); 40 % or fewer scores 0, 65 % or more 100.
//   drawdown control (20 %)    the worst 95th-percentile max drawdown over the stress scenarios at the
//                              original safe-f, DD95: 100 when it stays at the tolerance, 0 at the gate:
//                              100 · clamp((gate − DD95) / (gate − tolerance)).
// clamp(x) limits x to [0, 1]; a sub-score whose input is undefined (no trades, no days) is 0. Without a
// trade DD95 is undefined too (no tradable size to measure it at): its gate value and input are null.
//
// Letter: A+ >= 90, A >= 80, B >= 70, C >= 60, D >= 50, F below.
//
// Gates (config validation.gates): CAR25 >= min_car25 %, DD95 <= max_dd95, profit factor >=
// min_profit_factor, win rate >= min_win_rate, trades >= min_trades.
// Recommendation:
//   REJECT   no trade closed (nothing to size, nothing to deploy: every sub-score is 0, every gate fails
//            with that reason); or no edge: expectancy <= 0 after costs, or safe-f / CAR25 <= 0 (no
//            position size grows equity);
//   DEPLOY   every gate passes and the score is at least deploy_min_score;
//   TEST     every performance gate passes but the sample is too small (trade-count gate) or the score
//            is below deploy_min_score: paper-trade it to gather evidence;
//   IMPROVE  an edge exists but a performance gate fails.
import { InputError } from '../util/errors.js';

export interface Gates {
  min_car25: number;
  max_dd95: number;
  min_profit_factor: number;
  min_win_rate: number;
  min_trades: number;
}

export const DEFAULT_GATES: Readonly<Gates> = Object.freeze({
  min_car25: 15,
  max_dd95: 0.25,
  min_profit_factor: 1.5,
  min_win_rate: 0.4,
  min_trades: 30,
});

export interface GradeInput {
  trades: number;
  winRate: number | null;
  /** null when there is no losing trade. */
  profitFactor: number | null;
  expectancyPips: number | null;
  /** Mean losing trade in net pips (negative); null without losses. */
  avgLossPips: number | null;
  /** CAR25 at safe-f, % per year. */
  car25: number;
  safeF: number;
  /** Worst 95th-percentile max drawdown over the scenarios at the original safe-f (fraction of peak). */
  dd95: number;
  /** The safe-f drawdown tolerance (fraction). */
  ddTolerance: number;
  /** Profitable days / days that closed a trade; null without such days. */
  profitableDayShare: number | null;
  /** Sessions (episodes) the run covered: named in the rationale when no trade closed. */
  sessions?: number;
}

export interface GradeOptions {
  gates?: Partial<Gates>;
  deployMinScore?: number;
}

export type Recommendation = 'DEPLOY' | 'TEST' | 'IMPROVE' | 'REJECT';
/** Recommendations from the weakest to the strongest (a gate such as "at least TEST" compares positions here). */
export const RECOMMENDATIONS: readonly Recommendation[] = ['REJECT', 'IMPROVE', 'TEST', 'DEPLOY'];
export type Letter = 'A+' | 'A' | 'B' | 'C' | 'D' | 'F';

export interface ScoreComponent {
  name: 'expectancy' | 'risk_adjusted_return' | 'consistency' | 'drawdown_control';
  label: string;
  weight: number;
  /** The measured input (E_R, CAR25 %, share of profitable days, DD95). */
  input: number | null;
  score: number;
  definition: string;
}

export interface GateResult {
  name: keyof Gates;
  label: string;
  value: number | null;
  threshold: number;
  op: '>=' | '<=';
  passed: boolean;
  /** Why it failed (null when it passed). */
  reason: string | null;
}

export interface Grade {
  score: number;
  letter: Letter;
  recommendation: Recommendation;
  /** One line explaining the recommendation. */
  rationale: string;
  components: ScoreComponent[];
  gates: GateResult[];
  failed_gates: GateResult[];
  deploy_min_score: number;
}

/** Grading inputs or thresholds that cannot be graded (exit code 2). */
export class GradeInputError extends InputError {}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

export function letterFor(score: number): Letter {
  if (score >= 90) return 'A+';
  if (score >= 80) return 'A';
  if (score >= 70) return 'B';
  if (score >= 60) return 'C';
  if (score >= 50) return 'D';
  return 'F';
}

function finiteOrNull(name: string, v: number | null): void {
  if (v !== null && !Number.isFinite(v)) throw new GradeInputError(`${name} must be a finite number or null, got ${v}`);
}

function checkInput(i: GradeInput): void {
  if (!Number.isInteger(i.trades) || i.trades < 0) throw new GradeInputError(`trades must be an integer >= 0, got ${i.trades}`);
  for (const k of ['winRate', 'profitFactor', 'expectancyPips', 'avgLossPips', 'profitableDayShare'] as const) finiteOrNull(k, i[k]);
  for (const k of ['car25', 'safeF', 'dd95'] as const) {
    if (!Number.isFinite(i[k])) throw new GradeInputError(`${k} must be a finite number, got ${i[k]}`);
  }
  if (!(i.ddTolerance > 0 && i.ddTolerance < 1)) throw new GradeInputError(`ddTolerance must be in (0, 1), got ${i.ddTolerance}`);
  if (i.sessions !== undefined && !(Number.isInteger(i.sessions) && i.sessions >= 0)) throw new GradeInputError(`sessions must be an integer >= 0, got ${i.sessions}`);
}

const pct = (x: number, d = 1) => `${(100 * x).toFixed(d)}%`;

export function components(i: GradeInput, gates: Gates): ScoreComponent[] {
  let eR: number | null = null;
  if (i.expectancyPips !== null) eR = i.avgLossPips !== null && i.avgLossPips < 0 ? i.expectancyPips / -i.avgLossPips : i.expectancyPips > 0 ? Infinity : i.expectancyPips < 0 ? -Infinity : 0;
  const eScore = eR === null ? 0 : 100 * clamp01(eR / 0.5);
  const carScore = i.safeF > 0 ? 100 * clamp01(i.car25 / 30) : 0;
  const cScore = i.profitableDayShare === null ? 0 : 100 * clamp01((i.profitableDayShare - 0.4) / 0.25);
  const span = gates.max_dd95 - i.ddTolerance;
  const ddScore = i.safeF <= 0 ? 0 : span > 0 ? 100 * clamp01((gates.max_dd95 - i.dd95) / span) : i.dd95 <= gates.max_dd95 ? 100 : 0;
  return [
    {
      name: 'expectancy',
      label: 'Expectancy',
      weight: 0.3,
      // Infinite without losing trades: shown as undefined, scored by its sign.
      input: eR !== null && Number.isFinite(eR) ? eR : null,
      score: eScore,
      definition: 'expectancy in R = net pips per trade / |average losing trade|; 100 at 0.5 R or more, 0 at or below 0',
    },
    {
      name: 'risk_adjusted_return',
      label: 'Risk-adjusted return',
      weight: 0.3,
      input: i.car25,
      score: carScore,
      definition: 'CAR25 at safe-f (25th-percentile yearly growth with the tail drawdown held at the tolerance); 100 at 30 %/year or more',
    },
    {
      name: 'consistency',
      label: 'Consistency',
      weight: 0.2,
      input: i.profitableDayShare,
      score: cScore,
      definition: 'share of profitable days among days that closed a trade; 0 at 40 % or less, 100 at 65 % or more',
    },
    {
      name: 'drawdown_control',
      label: 'Drawdown control',
      weight: 0.2,
      // Without a trade there is no tradable size to measure a drawdown at.
      input: i.trades === 0 ? null : i.dd95,
      score: ddScore,
      definition: `worst 95th-percentile max drawdown over the stress scenarios at the original safe-f; 100 at the tolerance (${pct(i.ddTolerance, 0)}), 0 at the gate (${pct(gates.max_dd95, 0)})`,
    },
  ];
}

/** What each gate lacks when no trade closed. */
const NO_TRADE_GATE: Record<keyof Gates, string> = {
  min_car25: 'nothing to size, no growth to measure',
  max_dd95: 'no drawdown at a tradable size to measure',
  min_profit_factor: 'no wins or losses',
  min_win_rate: 'no wins or losses',
  min_trades: 'no sample at all',
};

export function evaluateGates(i: GradeInput, g: Gates): GateResult[] {
  const out: GateResult[] = [];
  const none = i.trades === 0;
  // Without a trade every gate fails for the same reason, and says so rather than a figure's artefact.
  const gate = (name: keyof Gates, label: string, value: number | null, op: '>=' | '<=', passed: boolean, reason: string | null) =>
    out.push({ name, label, value, threshold: g[name], op, passed, reason: passed ? null : none ? `no trade closed: ${NO_TRADE_GATE[name]}` : reason });

  gate('min_car25', 'CAR25 (% per year)', i.car25, '>=', i.safeF > 0 && i.car25 >= g.min_car25,
    i.safeF <= 0 ? 'safe-f is 0: no position size grows equity' : `CAR25 ${i.car25.toFixed(1)}% is below ${g.min_car25}%`);
  gate('max_dd95', '95th-percentile max drawdown (worst scenario)', none ? null : i.dd95, '<=', i.safeF > 0 && i.dd95 <= g.max_dd95,
    i.safeF <= 0 ? 'safe-f is 0: drawdown at a tradable size is undefined' : `drawdown ${pct(i.dd95)} exceeds ${pct(g.max_dd95, 0)} under stress`);
  const pf = i.profitFactor;
  const pfPass = i.trades > 0 && (pf === null ? (i.expectancyPips ?? 0) > 0 : pf >= g.min_profit_factor);
  gate('min_profit_factor', 'Profit factor', pf, '>=', pfPass,
    i.trades === 0 ? 'no trades' : pf === null ? 'no losing and no winning trade' : `profit factor ${pf.toFixed(2)} is below ${g.min_profit_factor}`);
  gate('min_win_rate', 'Win rate', i.winRate, '>=', i.winRate !== null && i.winRate >= g.min_win_rate,
    i.winRate === null ? 'no trades' : `win rate ${pct(i.winRate)} is below ${pct(g.min_win_rate, 0)}`);
  gate('min_trades', 'Trades', i.trades, '>=', i.trades >= g.min_trades, `${i.trades} trades are fewer than ${g.min_trades}: too small a sample`);
  return out;
}

/** Grades a strategy from its validated figures (see the header for every definition). */
export function grade(input: GradeInput, opts: GradeOptions = {}): Grade {
  checkInput(input);
  const gates: Gates = { ...DEFAULT_GATES, ...opts.gates };
  const deployMin = opts.deployMinScore ?? 70;
  const comps = components(input, gates);
  const score = comps.reduce((a, c) => a + c.weight * c.score, 0);
  const gateResults = evaluateGates(input, gates);
  const failed = gateResults.filter((g) => !g.passed);
  const edge = (input.expectancyPips ?? 0) > 0 && input.safeF > 0 && input.car25 > 0;
  let recommendation: Recommendation;
  let rationale: string;
  if (input.trades === 0) {
    recommendation = 'REJECT';
    rationale = `no trade closed${input.sessions !== undefined ? ` over ${input.sessions} session${input.sessions === 1 ? '' : 's'}` : ''}: nothing to size, nothing to deploy`;
  } else if (!edge) {
    recommendation = 'REJECT';
    rationale =
      (input.expectancyPips ?? 0) <= 0
        ? 'no edge: the expectancy after costs is not positive'
        : 'no edge at a safe size: safe-f or CAR25 is not positive';
  } else if (failed.length === 0) {
    recommendation = score >= deployMin ? 'DEPLOY' : 'TEST';
    rationale = score >= deployMin ? 'every gate passes' : `every gate passes but the score ${score.toFixed(1)} is below ${deployMin}: paper-trade first`;
  } else if (failed.every((g) => g.name === 'min_trades')) {
    recommendation = 'TEST';
    rationale = 'every performance gate passes but the sample is too small: paper-trade to gather trades';
  } else {
    recommendation = 'IMPROVE';
    rationale = `an edge exists but ${failed.length} gate${failed.length > 1 ? 's fail' : ' fails'}: ${failed.map((g) => g.name).join(', ')}`;
  }
  return {
    score,
    letter: letterFor(score),
    recommendation,
    rationale,
    components: comps,
    gates: gateResults,
    failed_gates: failed,
    deploy_min_score: deployMin,
  };
}
