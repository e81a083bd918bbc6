// The auto-promoter on the stores: reads every strategy's closed trades (strategy_trades), each one's
// latest validation (validations) and the rollout state (strategy_rollout), decides (src/live/promoter.ts),
// stores the decisions with their evidence (promotions) and the new state, and raises each decision as
// an alert. The trades and the promoter's tables live in one store (the live runner's journal file by
// default); the validations in another (the main store), or the same one.
import type { Config } from '../config/schema.js';
import type { Store } from '../store/db.js';
import { InputError } from '../util/errors.js';
import { parsePolicyArg, resolvePolicy, resolvePolicyParams } from '../agent/policies/registry.js';
import type { ParamValue } from '../agent/policies/types.js';
import { tradeGains } from '../validation/gains.js';
import { RECOMMENDATIONS, type Recommendation } from '../validation/grade.js';
import { decide, initialRollout, type Decision, type PromoterSettings, type RolloutState, type StrategyEvidence, type ValidationEvidence } from '../live/promoter.js';
import { parseSchedule, PromoterSchedule, type RolloutTarget } from '../live/promoter-schedule.js';
import type { EventBus } from '../live/events.js';

export interface PromoterStores {
  /** strategy_trades, promotions, strategy_rollout. */
  trades: Store;
  /** validations. */
  validations: Store;
}

export interface PromoteOptions {
  now: number;
  /** Default: the one instrument with trades or a rollout state. */
  instrument?: string;
  /** The live strategy when no rollout state is stored yet (default: the strategy of the newest non-shadow trade). */
  live?: string;
  /** Decide and report, store nothing. */
  dryRun?: boolean;
  /** Each decision is raised here as an alert. */
  bus?: EventBus;
}

export interface StoredDecision extends Decision {
  /** promotions.id (null on a dry run). */
  id: number | null;
}

export interface PromoteResult {
  instrument: string;
  dry_run: boolean;
  decisions: StoredDecision[];
  state: RolloutState;
}

export function promoterSettings(config: Config): PromoterSettings {
  const p = config.promoter;
  const spec = parseSchedule(p.schedule);
  return { minTrades: p.min_trades, confidence: p.confidence, resamples: p.resamples, stages: p.stages, rollbackLastN: p.rollback_last_n, seed: p.seed, periodMs: spec.periodMs, offsetMs: spec.offsetMs };
}

const iso = (ms: number) => new Date(ms).toISOString();
const msOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

async function resolveInstrument(store: Store, given: string | undefined): Promise<string> {
  if (given) return given;
  const rows = await store.all<{ instrument: string }>(`SELECT instrument FROM strategy_trades UNION SELECT instrument FROM strategy_rollout ORDER BY 1`);
  if (rows.length === 1) return rows[0].instrument;
  if (rows.length === 0) throw new InputError(`${store.file}: strategy_trades holds no closed trade: nothing to promote (run swt live with --shadow first)`);
  throw new InputError(`${store.file}: trades on several instruments (${rows.map((r) => r.instrument).join(', ')}): give --instrument`);
}

/** The stored rollout state of an instrument (null: the promoter never acted on it). */
export async function readRollout(store: Store, instrument: string): Promise<RolloutState | null> {
  const r = await store.one(
    `SELECT instrument, live_strategy, candidate, stage, scale, driver, epoch_ms(stage_since) AS stage_since, epoch_ms(promoted_at) AS promoted_at, epoch_ms(updated_at) AS updated_at
     FROM strategy_rollout WHERE instrument = $1`,
    [instrument],
  );
  if (!r) return null;
  return {
    instrument: String(r.instrument),
    live_strategy: String(r.live_strategy),
    candidate: r.candidate === null ? null : String(r.candidate),
    stage: msOrNull(r.stage),
    scale: Number(r.scale),
    driver: String(r.driver),
    stage_since: msOrNull(r.stage_since),
    promoted_at: msOrNull(r.promoted_at),
    updated_at: Number(r.updated_at),
  };
}

async function currentState(store: Store, instrument: string, opts: PromoteOptions): Promise<RolloutState> {
  const stored = await readRollout(store, instrument);
  if (stored) {
    if (opts.live !== undefined && opts.live !== stored.live_strategy) {
      throw new InputError(`--live ${opts.live}: the promoter's state already names ${stored.live_strategy} as the live strategy on ${instrument} (strategy_rollout)`);
    }
    return stored;
  }
  if (opts.live !== undefined) return initialRollout(instrument, opts.live, opts.now);
  const r = await store.one<{ strategy: string }>(
    `SELECT strategy FROM strategy_trades WHERE instrument = $1 AND NOT shadow AND exit_ts <= $2::TIMESTAMP ORDER BY exit_ts DESC, strategy LIMIT 1`,
    [instrument, iso(opts.now)],
  );
  if (!r) throw new InputError(`${store.file}: no live (shadow = false) trade on ${instrument} and no rollout state: give --live SPEC, the strategy trading live`);
  return initialRollout(instrument, r.strategy, opts.now);
}

/** Parameters with their defaults and references resolved, keys sorted: two specs of one policy compare equal. */
const canonical = (p: Record<string, ParamValue>) => JSON.stringify(Object.fromEntries(Object.entries(p).sort(([a], [b]) => (a < b ? -1 : 1))));

/** The latest validation of a strategy spec (policy + parameters) on the instrument, or why there is none. */
async function latestValidation(store: Store, config: Config, spec: string, instrument: string): Promise<{ v: ValidationEvidence | null; note: string | null }> {
  let name: string;
  let params: Record<string, ParamValue>;
  try {
    const parsed = parsePolicyArg(spec);
    name = parsed.name;
    params = (await resolvePolicy(parsed.name, parsed.params, { store, config })).params;
  } catch (e) {
    return { v: null, note: `spec '${spec}': ${(e as Error).message}` };
  }
  const want = canonical(params);
  const rows = await store.all(
    `SELECT id, params, recommendation, grade, score, json_extract(result, '$.montecarlo.safe_f_mean')::DOUBLE AS safe_f,
            json_extract(result, '$.montecarlo.dd_percentiles.p95')::DOUBLE AS dd_p95
     FROM validations WHERE policy = $1 AND instrument = $2 ORDER BY created_at DESC, id DESC`,
    [name, instrument],
  );
  for (const r of rows) {
    const stored = JSON.parse(String(r.params)) as Record<string, ParamValue>;
    let filled = stored;
    try {
      filled = resolvePolicyParams(name, stored);
    } catch {
      // parameters an older version of the policy took: compared as stored
    }
    if (canonical(filled) !== want) continue;
    const rec = String(r.recommendation) as Recommendation;
    if (!RECOMMENDATIONS.includes(rec)) throw new InputError(`validations #${r.id}: recommendation '${rec}' is not one of ${RECOMMENDATIONS.join(', ')}`);
    return {
      v: { id: Number(r.id), recommendation: rec, letter: String(r.grade), score: Number(r.score), safeF: r.safe_f === null ? 0 : Number(r.safe_f), ddP95: r.dd_p95 === null ? null : Number(r.dd_p95) },
      note: null,
    };
  }
  return { v: null, note: `no validation of ${name} with ${want} on ${instrument}` };
}

/** Every strategy's trades on the instrument closed by `now`, in exit order, per unit of position. */
async function loadStrategies(stores: PromoterStores, config: Config, instrument: string, now: number): Promise<StrategyEvidence[]> {
  const inst = config.instruments[instrument];
  if (!inst) throw new InputError(`instrument ${instrument} is not in the config's instruments (${Object.keys(config.instruments).join(', ')}): its pip size is needed`);
  const rows = await stores.trades.columns(
    `SELECT strategy, run_id, units, entry_price, net_pips, epoch_ms(exit_ts) AS exit_ms FROM strategy_trades
     WHERE instrument = $1 AND exit_ts <= $2::TIMESTAMP ORDER BY strategy, exit_ts, entry_ts, run_id`,
    [instrument, iso(now)],
  );
  const rollbacks = new Map(
    (await stores.trades.all<{ candidate: string; at: number }>(`SELECT candidate, epoch_ms(max(ts)) AS at FROM promotions WHERE instrument = $1 AND kind = 'rollback' GROUP BY candidate`, [instrument])).map((r) => [
      r.candidate,
      Number(r.at),
    ]),
  );
  const strategy = rows.strategy as string[];
  const out: StrategyEvidence[] = [];
  for (let lo = 0; lo < strategy.length; ) {
    let hi = lo;
    while (hi < strategy.length && strategy[hi] === strategy[lo]) hi++;
    const n = hi - lo;
    const netPips = new Float64Array(n);
    const entryPrice = new Float64Array(n);
    const exitTs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const units = Math.abs(Number(rows.units[lo + i]));
      if (!(units > 0)) throw new InputError(`strategy_trades: a trade of ${strategy[lo]} (run ${rows.run_id[lo + i]}) has units ${rows.units[lo + i]}: a closed trade needs units > 0`);
      // net_pips are the market core's, for one position of env.units whatever size was traded: the
      // same scale as the validation's trades, so sizes (and rollout stages) never change the evidence
      netPips[i] = Number(rows.net_pips[lo + i]);
      entryPrice[i] = Number(rows.entry_price[lo + i]);
      exitTs[i] = Number(rows.exit_ms[lo + i]);
    }
    let returns: Float64Array;
    try {
      returns = tradeGains({ count: n, netPips, entryPrice }, { pipSize: inst.pip_size, units: config.env.units });
    } catch (e) {
      throw new InputError(`strategy_trades of ${strategy[lo]}: ${(e as Error).message}`);
    }
    const { v, note } = await latestValidation(stores.validations, config, strategy[lo], instrument);
    out.push({ strategy: strategy[lo], trades: { pips: netPips, returns, exitTs }, validation: v, validationNote: note, since: rollbacks.get(strategy[lo]) ?? null });
    lo = hi;
  }
  return out;
}

async function store(s: Store, decisions: Decision[], state: RolloutState): Promise<StoredDecision[]> {
  return s.transaction(async () => {
    const out: StoredDecision[] = [];
    for (const d of decisions) {
      const e = d.evidence;
      const row = await s.one<{ id: number }>(
        `INSERT INTO promotions (ts, instrument, kind, live_strategy, candidate, stage, scale, failed_rules, candidate_trades, live_trades, candidate_expectancy, live_expectancy,
           p_better, drawdown, dd_p95, safe_f, grade, validation_id, last_n_trades, last_n_expectancy, p_negative, confidence, resamples, seed, message, evidence)
         VALUES ($1::TIMESTAMP, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26) RETURNING id`,
        [
          iso(d.ts), d.instrument, d.kind, d.live_strategy, d.candidate, d.stage, d.scale, d.failed_rules.map((f) => f.rule).join(','),
          e.candidate_trades, e.live_trades, e.candidate_expectancy, e.live_expectancy, e.p_better, e.drawdown, e.dd_p95, e.safe_f, e.grade, e.validation_id,
          e.last_n_trades, e.last_n_expectancy, e.p_negative, e.confidence, e.resamples, e.seed, d.message, JSON.stringify({ failed_rules: d.failed_rules, ...e }),
        ],
      );
      out.push({ id: Number(row!.id), ...d });
    }
    const t = (ms: number | null) => (ms === null ? null : iso(ms));
    await s.run(`DELETE FROM strategy_rollout WHERE instrument = $1`, [state.instrument]);
    await s.run(
      `INSERT INTO strategy_rollout (instrument, live_strategy, candidate, stage, scale, driver, stage_since, promoted_at, updated_at, decision_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7::TIMESTAMP, $8::TIMESTAMP, $9::TIMESTAMP, $10)`,
      [state.instrument, state.live_strategy, state.candidate, state.stage, state.scale, state.driver, t(state.stage_since), t(state.promoted_at), iso(state.updated_at), out.at(-1)?.id ?? null],
    );
    return out;
  });
}

const SEVERITY: Record<Decision['kind'], 'info' | 'warning' | 'critical'> = { promote: 'warning', advance: 'info', complete: 'warning', hold: 'info', not_qualified: 'info', rollback: 'critical' };

/** One run of the promoter at `now` (see the module header). */
export async function promote(stores: PromoterStores, config: Config, opts: PromoteOptions): Promise<PromoteResult> {
  const instrument = await resolveInstrument(stores.trades, opts.instrument);
  const state = await currentState(stores.trades, instrument, opts);
  const strategies = await loadStrategies(stores, config, instrument, opts.now);
  const outcome = decide({ now: opts.now, state, strategies, settings: promoterSettings(config) });
  const decisions = opts.dryRun ? outcome.decisions.map((d) => ({ id: null, ...d })) : await store(stores.trades, outcome.decisions, outcome.state);
  for (const d of decisions) opts.bus?.emit('alert', { ts: d.ts, severity: SEVERITY[d.kind], code: `promoter_${d.kind}`, message: d.message });
  return { instrument, dry_run: opts.dryRun === true, decisions, state: outcome.state };
}

/**
 * The promoter as `swt live` hosts it: on the schedule of config.promoter, on the runner's instrument,
 * storing into the journal store, alerting on the runner's bus, handing each state to `target`.
 */
export function promoterSchedule(stores: PromoterStores, config: Config, o: { instrument: string; live: string; bus: EventBus; target: RolloutTarget }): PromoterSchedule {
  return new PromoterSchedule({
    spec: parseSchedule(config.promoter.schedule),
    run: async (now) => {
      const r = await promote(stores, config, { now, instrument: o.instrument, live: (await readRollout(stores.trades, o.instrument)) ? undefined : o.live, bus: o.bus });
      return { at: now, decisions: r.decisions, state: r.state };
    },
    load: () => readRollout(stores.trades, o.instrument),
    target: o.target,
    bus: o.bus,
  });
}

/**
 * Which strategy a starting `swt live` drives the broker with, and which run in the shadow: the stored
 * rollout's driver when there is one (a promotion survives a restart), else the `--policy`. The driver
 * must be one of the strategies the command line names, so a restart with other strategies is refused
 * rather than silently trading something else.
 */
export function liveStrategies(rollout: RolloutState | null, policy: string, shadows: readonly string[]): { driver: string; shadows: string[]; scale: number } {
  const named = [policy, ...shadows];
  if (!rollout || rollout.driver === policy) return { driver: policy, shadows: [...shadows], scale: rollout?.scale ?? 1 };
  if (!named.includes(rollout.driver)) {
    throw new InputError(
      `the stored rollout on ${rollout.instrument} makes '${rollout.driver}' the strategy that trades (scale ${rollout.scale}); start swt live with it as --policy or --shadow (given: ${named.join(', ')})`,
    );
  }
  return { driver: rollout.driver, shadows: named.filter((s) => s !== rollout.driver), scale: rollout.scale };
}

/**
 * The rollout target of a running `swt live`: a new scale for the strategy that drives is applied at
 * once (the next entry is sized with it). A new driver cannot take over a running process (its
 * position, session and risk state are another runner's), so the runner flattens, stops, and the
 * caller exits asking for a restart, which `liveStrategies` resolves to the new driver.
 */
export function runnerRolloutTarget(o: { driver: string; setScale(scale: number): void; switchTo(state: RolloutState): Promise<void> }): RolloutTarget {
  return {
    async apply(state) {
      if (state.driver === o.driver) o.setScale(state.scale);
      else await o.switchTo(state);
    },
  };
}
