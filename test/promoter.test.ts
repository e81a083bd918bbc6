// The auto-promoter (issue 14, acceptance 3): a shadow strategy replaces the live one only on evidence,
// in stages of 25 → 50 → 100 % over three periods, and is rolled back when it degrades. The promoter
// runs on its schedule at virtual time (no sleeping); trades are in a real DuckDB store's
// strategy_trades, validations are saved by the real persist code, and every decision's evidence is
// read back from the store.
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import path from 'node:path';
import { tempDir } from './helpers/paths.js';
import { avg, DAY, gaussianPips, HOUR, INSTRUMENT, PIP, PRICE, saveValidationOf, writeTrades } from './helpers/promoter-store.js';
import { Store } from '../src/store/db.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { EventBus, type LiveEventMap } from '../src/live/events.js';
import { VirtualClock } from '../src/live/clock.js';
import { Prng } from '../src/util/prng.js';
import { bootstrapMeans, bootstrapPBetter, bootstrapPNegative, compoundedDrawdown, decide, initialRollout, periodIndex, type PromoterSettings, type RolloutState } from '../src/live/promoter.js';
import { nextSlot, parseSchedule } from '../src/live/promoter-schedule.js';
import { liveStrategies, promote, promoterSchedule, promoterSettings, readRollout, runnerRolloutTarget } from '../src/app/promote.js';

const LIVE = 'ma-crossover:fast=10,slow=50';
const CAND = 'mean-reversion:window=60';
// Monday 2024-03-04 00:00 UTC; the shadows trade for ten days before the promoter first looks
const D0 = Date.UTC(2024, 2, 4);
const day = (k: number) => D0 + k * DAY;
const PER_DAY = 30;
const SPACING = DAY / PER_DAY;

const t = tempDir('swt-promoter-');
afterAll(() => t.cleanup());
let n = 0;
let store: Store;
let config: Config;
beforeEach(async () => {
  store = await Store.open(path.join(t.dir, `s${n++}.duckdb`));
  config = loadConfig({ env: {} });
});
afterEach(() => store.close());

/** Runs the promoter on the schedule at virtual midnights, recording what the rollout target was given and the alerts. */
function harness(startAt: number) {
  const clock = new VirtualClock(startAt);
  const bus = new EventBus();
  const alerts: Array<LiveEventMap['alert']> = [];
  bus.on('alert', (a) => alerts.push(a));
  const applied: RolloutState[] = [];
  const schedule = promoterSchedule({ trades: store, validations: store }, config, { instrument: INSTRUMENT, live: LIVE, bus, target: { apply: (s) => void applied.push(s) } });
  return {
    clock,
    alerts,
    applied,
    schedule,
    /** Moves the clock to `ms` and polls as the runner does at a bar. */
    async at(ms: number) {
      clock.set(ms);
      return schedule.poll(clock.now());
    },
  };
}

/** Both strategies' trades of day k (live trades are shadow = false for the driver). */
async function tradeDay(k: number, live: number[], cand: number[], driver: string) {
  await writeTrades(store, { strategy: LIVE, shadow: driver !== LIVE, pips: live, t0: day(k), spacingMs: SPACING });
  await writeTrades(store, { strategy: CAND, shadow: driver !== CAND, pips: cand, t0: day(k), spacingMs: SPACING });
}

const rows = () => store.all(`SELECT * FROM promotions ORDER BY id`);

describe('the promoter on virtual time, with the evidence in a real store', () => {
  it('promotes a much better shadow (300 trades) and rolls it out 25 → 50 → 100 % over three daily periods', async () => {
    const livePips = gaussianPips(360, 0.5, 8, 1);
    const candPips = gaussianPips(360, 4, 8, 4);
    await saveValidationOf(store, LIVE, gaussianPips(300, 0.5, 8, 11));
    const v = await saveValidationOf(store, CAND, gaussianPips(300, 4, 8, 12));
    expect(v.result.grade.recommendation).toMatch(/TEST|DEPLOY/);
    for (let k = 0; k < 10; k++) await tradeDay(k, livePips.slice(k * PER_DAY, (k + 1) * PER_DAY), candPips.slice(k * PER_DAY, (k + 1) * PER_DAY), LIVE);

    const h = harness(day(10) - 60_000);
    expect(await h.schedule.start(h.clock.now())).toBeNull();
    expect(h.schedule.due).toBe(day(10));
    expect(await h.at(day(10) - 1)).toBeNull(); // not yet midnight

    const r1 = await h.at(day(10));
    expect(r1!.decisions.map((d) => d.kind)).toEqual(['promote']);
    const p = r1!.decisions[0];
    expect(p.evidence.candidate_trades).toBe(300);
    expect(p.evidence.live_trades).toBe(300);
    expect(p.evidence.candidate_expectancy).toBeCloseTo(avg(candPips.slice(0, 300)), 9);
    expect(p.evidence.live_expectancy).toBeCloseTo(avg(livePips.slice(0, 300)), 9);
    expect(p.evidence.p_better).toBeGreaterThanOrEqual(0.95);
    expect(p.evidence.drawdown).toBeLessThanOrEqual(p.evidence.dd_p95!);
    expect(p.evidence.validation_id).toBe(v.id);
    expect(h.applied.at(-1)).toMatchObject({ driver: CAND, scale: 0.25, stage: 1, live_strategy: LIVE, candidate: CAND });

    // a poll later the same day: no run; the candidate now drives, the incumbent trades in the shadow
    expect(await h.at(day(10) + 12 * HOUR)).toBeNull();
    await tradeDay(10, livePips.slice(300, 330), candPips.slice(300, 330), CAND);
    const r2 = await h.at(day(11) + 5 * 60_000);
    expect(r2!.decisions.map((d) => [d.kind, d.stage, d.scale])).toEqual([['advance', 2, 0.5]]);
    expect(r2!.decisions[0].evidence.trades_since_promotion).toBe(30);
    await tradeDay(11, livePips.slice(330, 360), candPips.slice(330, 360), CAND);
    const r3 = await h.at(day(12));
    expect(r3!.decisions.map((d) => [d.kind, d.stage, d.scale])).toEqual([['complete', 3, 1]]);
    expect(h.applied.map((s) => [s.driver, s.scale])).toEqual([[CAND, 0.25], [CAND, 0.5], [CAND, 1]]);
    expect(h.applied.at(-1)).toMatchObject({ live_strategy: CAND, candidate: null, stage: null });

    // the store holds each decision with its numbers, and the state; each was an alert
    const stored = await rows();
    expect(stored.map((r) => [r.kind, r.stage, r.scale])).toEqual([['promote', 1, 0.25], ['advance', 2, 0.5], ['complete', 3, 1]]);
    expect(stored[0]).toMatchObject({ candidate: CAND, live_strategy: LIVE, candidate_trades: 300, live_trades: 300, failed_rules: '', grade: v.result.grade.recommendation, validation_id: v.id, confidence: 0.95, resamples: 10000 });
    expect(Number(stored[0].p_better)).toBe(p.evidence.p_better);
    expect(Number(stored[0].dd_p95)).toBeCloseTo(v.result.montecarlo.dd_percentiles.p95, 12);
    expect(JSON.parse(String(stored[2].evidence))).toMatchObject({ trades_since_promotion: 60, stages: [0.25, 0.5, 1] });
    expect(await readRollout(store, INSTRUMENT)).toMatchObject({ live_strategy: CAND, driver: CAND, candidate: null, scale: 1 });
    expect(h.alerts.map((a) => a.code)).toEqual(['promoter_promote', 'promoter_advance', 'promoter_complete']);
    expect(h.alerts[0].message).toContain(`P(better) ${p.evidence.p_better!.toFixed(4)} >= 0.95, drawdown ${(100 * p.evidence.drawdown!).toFixed(2)}% <= p95`);
  });

  it('does not promote a shadow that is better by noise only, and the decision row says the bootstrap P', async () => {
    // one distribution, two samples: pick the seeds where the candidate's sample mean is the higher
    const livePips = gaussianPips(300, 3, 8, 21);
    const candPips = gaussianPips(300, 3, 8, 22);
    expect(avg(candPips)).toBeGreaterThan(avg(livePips));
    await saveValidationOf(store, LIVE, gaussianPips(300, 3, 8, 31));
    const v = await saveValidationOf(store, CAND, gaussianPips(300, 3, 8, 32));
    expect(v.result.grade.recommendation).toMatch(/TEST|DEPLOY/);
    for (let k = 0; k < 10; k++) await tradeDay(k, livePips.slice(k * PER_DAY, (k + 1) * PER_DAY), candPips.slice(k * PER_DAY, (k + 1) * PER_DAY), LIVE);
    const h = harness(day(10) - 1);
    await h.schedule.start(h.clock.now());
    const r = await h.at(day(10));
    expect(r!.decisions.map((d) => d.kind)).toEqual(['not_qualified']);
    expect(r!.decisions[0].failed_rules.map((f) => f.rule)).toEqual(['bootstrap']);
    const [row] = await rows();
    expect(row).toMatchObject({ kind: 'not_qualified', candidate: CAND, failed_rules: 'bootstrap', candidate_trades: 300 });
    expect(Number(row.p_better)).toBeGreaterThan(0.5);
    expect(Number(row.p_better)).toBeLessThan(0.95);
    expect(Number(row.candidate_expectancy)).toBeGreaterThan(Number(row.live_expectancy));
    expect(String(row.message)).toContain(`P(expectancy > live) = ${Number(row.p_better).toFixed(4)} < 0.95`);
    expect(h.applied.at(-1)).toMatchObject({ driver: LIVE, scale: 1, candidate: null });
  });

  it('rolls back a promoted strategy that degrades, and gives it no second chance on its old record', async () => {
    const livePips = gaussianPips(420, 0.5, 8, 41);
    const candPips = gaussianPips(300, 4, 8, 42);
    await saveValidationOf(store, CAND, gaussianPips(300, 4, 8, 43));
    for (let k = 0; k < 10; k++) await tradeDay(k, livePips.slice(k * PER_DAY, (k + 1) * PER_DAY), candPips.slice(k * PER_DAY, (k + 1) * PER_DAY), LIVE);
    const h = harness(day(10) - 1);
    await h.schedule.start(h.clock.now());
    expect((await h.at(day(10)))!.decisions[0].kind).toBe('promote');
    // promoted, it loses: N(-10, 8) for a day
    const bad = gaussianPips(30, -10, 8, 44);
    await tradeDay(10, livePips.slice(300, 330), bad, CAND);
    const r = await h.at(day(11));
    const d = r!.decisions[0];
    expect(d.kind).toBe('rollback');
    expect(d.stage).toBe(1);
    expect(d.failed_rules.map((f) => f.rule).sort()).toEqual(['rollback_drawdown', 'rollback_expectancy']);
    expect(d.evidence.trades_since_promotion).toBe(30);
    expect(d.evidence.drawdown).toBeGreaterThan(d.evidence.dd_p95!);
    expect(d.evidence.last_n_trades).toBe(50);
    expect(d.evidence.last_n_expectancy).toBeCloseTo(avg([...candPips.slice(280), ...bad]), 9);
    expect(d.evidence.p_negative).toBeGreaterThanOrEqual(0.95);
    expect(h.applied.map((s) => [s.driver, s.scale])).toEqual([[CAND, 0.25], [LIVE, 1]]);
    expect(h.alerts.at(-1)).toMatchObject({ severity: 'critical', code: 'promoter_rollback' });
    const [, row] = await rows();
    expect(row).toMatchObject({ kind: 'rollback', failed_rules: 'rollback_drawdown,rollback_expectancy', last_n_trades: 50 });
    expect(Number(row.p_negative)).toBe(d.evidence.p_negative);
    expect(Number(row.drawdown)).toBeGreaterThan(Number(row.dd_p95));

    // the next day its 300 good shadow trades no longer count: only trades since the rollback
    await tradeDay(11, livePips.slice(330, 360), gaussianPips(30, 4, 8, 45), LIVE);
    const next = (await h.at(day(12)))!.decisions[0];
    expect(next.kind).toBe('not_qualified');
    expect(next.failed_rules[0]).toMatchObject({ rule: 'min_trades', detail: '30 trades since its last rollback < 100' });
  });

  it('does not promote a much better shadow whose drawdown at its safe-f exceeds its validated p95', async () => {
    // the same edge as the promoted case, another sample: its path falls 10.6 % at safe-f, past the p95
    const candPips = gaussianPips(300, 4, 8, 2);
    const v = await saveValidationOf(store, CAND, gaussianPips(300, 4, 8, 12));
    await writeTrades(store, { strategy: LIVE, shadow: false, pips: gaussianPips(300, 0.5, 8, 1), t0: day(0), spacingMs: SPACING });
    await writeTrades(store, { strategy: CAND, shadow: true, pips: candPips, t0: day(0), spacingMs: SPACING });
    const [d] = (await promote({ trades: store, validations: store }, config, { now: day(10), instrument: INSTRUMENT })).decisions;
    expect(d.kind).toBe('not_qualified');
    expect(d.failed_rules.map((f) => f.rule)).toEqual(['drawdown']);
    expect(d.evidence.p_better).toBe(1);
    const dd = compoundedDrawdown(candPips.map((p) => (p * PIP) / PRICE), v.result.montecarlo.safe_f_mean);
    expect(d.evidence.drawdown).toBeCloseTo(dd, 12);
    expect(dd).toBeGreaterThan(v.result.montecarlo.dd_percentiles.p95);
    expect(d.failed_rules[0].detail).toBe(`drawdown ${(100 * dd).toFixed(2)}% > validated p95 ${(100 * v.result.montecarlo.dd_percentiles.p95).toFixed(2)}%`);
  });

  it('hosted on a runner bus: polls at each bar on the runner clock; a failed run is a critical alert, not a crash', async () => {
    const clock = new VirtualClock(day(1) - 1);
    const bus = new EventBus();
    const alerts: Array<LiveEventMap['alert']> = [];
    bus.on('alert', (a) => alerts.push(a));
    const applied: RolloutState[] = [];
    const stores = { trades: store, validations: store };
    const bar = (ts: number) => bus.emit('bar', { instrument: INSTRUMENT, ts, open: PRICE, high: PRICE, low: PRICE, close: PRICE, bid_close: null, ask_close: null });
    // an instrument the config has no pip size for: the run fails, the host keeps going and hears of it
    const broken = promoterSchedule(stores, config, { instrument: 'XAU_XYZ', live: LIVE, bus, target: { apply: (st) => void applied.push(st) } });
    await broken.start(clock.now());
    const detachBroken = broken.attach(bus, clock);
    await writeTrades(store, { strategy: LIVE, shadow: false, pips: gaussianPips(3, 0.5, 8, 80), t0: day(0), spacingMs: SPACING });
    await store.run(`UPDATE strategy_trades SET instrument = 'XAU_XYZ'`);
    clock.set(day(1));
    bar(day(1) - 60_000);
    await vi.waitFor(() => expect(alerts).toHaveLength(1));
    expect(alerts[0]).toMatchObject({ severity: 'critical', code: 'promoter_failed' });
    expect(alerts[0].message).toMatch(/instrument XAU_XYZ is not in the config's instruments.*next run 2024-03-06T00:00:00.000Z/);
    detachBroken();
    expect(applied).toEqual([]);

    const schedule = promoterSchedule(stores, config, { instrument: INSTRUMENT, live: LIVE, bus, target: { apply: (st) => void applied.push(st) } });
    await schedule.start(clock.now());
    schedule.attach(bus, clock);
    await writeTrades(store, { strategy: LIVE, shadow: false, pips: gaussianPips(30, 0.5, 8, 81), t0: day(1), spacingMs: SPACING });
    const next = schedule.nextRun();
    clock.set(day(2) + 1000);
    bar(day(2));
    const r = await next;
    expect(r.at).toBe(day(2) + 1000); // the clock's time, not the bar's
    expect(r.decisions.map((d) => [d.kind, d.message])).toEqual([['hold', `no candidate: no strategy but ${LIVE} has closed trades on ${INSTRUMENT}`]]);
    expect(applied).toEqual([r.state]);
    expect(r.state).toMatchObject({ driver: LIVE, scale: 1, candidate: null });
  });

  it('names every rule a candidate fails: too few trades, no validation, no drawdown to compare with', async () => {
    await writeTrades(store, { strategy: LIVE, shadow: false, pips: gaussianPips(50, 0.5, 8, 51), t0: day(0), spacingMs: SPACING });
    await writeTrades(store, { strategy: 'mean-reversion:window=90', shadow: true, pips: gaussianPips(40, 4, 8, 52), t0: day(0), spacingMs: SPACING });
    await writeTrades(store, { strategy: 'no-such-policy:x=1', shadow: true, pips: gaussianPips(20, 4, 8, 53), t0: day(0), spacingMs: SPACING });
    // validated, but without an edge worth trading: the grader says so
    const weak = await saveValidationOf(store, 'mean-reversion:window=30', gaussianPips(300, 0.2, 8, 54));
    expect(['REJECT', 'IMPROVE']).toContain(weak.result.grade.recommendation);
    await writeTrades(store, { strategy: 'mean-reversion:window=30', shadow: true, pips: gaussianPips(150, 4, 8, 55), t0: day(0), spacingMs: SPACING / 3 });
    const r = await promote({ trades: store, validations: store }, config, { now: day(3), instrument: INSTRUMENT });
    expect(r.state.live_strategy).toBe(LIVE); // the newest live (shadow = false) trade's strategy
    const byCand = Object.fromEntries(r.decisions.map((d) => [d.candidate, d]));
    expect(byCand['mean-reversion:window=90'].failed_rules.map((f: { rule: string }) => f.rule)).toEqual(['min_trades', 'grade', 'drawdown']);
    expect(byCand['mean-reversion:window=90'].failed_rules[1].detail).toMatch(/no validation of mean-reversion with \{"entry_z":2,"exit_z":0.5,"window":90\} on GBP_JPY/);
    expect(byCand['no-such-policy:x=1'].failed_rules[1].detail).toMatch(/unknown policy 'no-such-policy'/);
    expect(byCand['no-such-policy:x=1'].evidence.p_better).not.toBeNull(); // the bootstrap is measured whatever else fails
    expect(byCand['mean-reversion:window=30'].failed_rules).toEqual([{ rule: 'grade', detail: `validation #${weak.id} recommends ${weak.result.grade.recommendation}, below TEST` }]);
    expect((await rows()).map((r) => [r.kind, r.candidate, r.failed_rules])).toEqual([
      ['not_qualified', 'mean-reversion:window=30', 'grade'],
      ['not_qualified', 'mean-reversion:window=90', 'min_trades,grade,drawdown'],
      ['not_qualified', 'no-such-policy:x=1', 'min_trades,grade,drawdown'],
    ]);
  });

  it('matches a spec to its validation with the policy defaults filled in, and whatever size was traded', async () => {
    // the validation was of mean-reversion with every default; the shadow trades 3 units a position (its
    // net pips are the market core's, for one position of env.units: the size does not change them)
    const v = await saveValidationOf(store, 'mean-reversion', gaussianPips(300, 4, 8, 61));
    await writeTrades(store, { strategy: LIVE, shadow: false, pips: gaussianPips(120, 0.5, 8, 62), t0: day(0), spacingMs: SPACING });
    const cand = gaussianPips(120, 4, 8, 63);
    await writeTrades(store, { strategy: 'mean-reversion:window=60,exit_z=0.5', shadow: true, pips: cand, t0: day(0), spacingMs: SPACING, units: 3 });
    const r = await promote({ trades: store, validations: store }, config, { now: day(5), instrument: INSTRUMENT, dryRun: true });
    const d = r.decisions[0];
    expect(d.evidence.validation_id).toBe(v.id);
    expect(d.evidence.candidate_expectancy).toBeCloseTo(avg(cand), 9);
    expect(d.evidence.drawdown).toBeCloseTo(compoundedDrawdown(cand.map((p) => (p * PIP) / PRICE), v.result.montecarlo.safe_f_mean), 12);
    expect(d.kind).toBe('promote');
    expect(d.id).toBeNull();
    expect(await store.one(`SELECT count(*)::INTEGER AS n FROM promotions`)).toEqual({ n: 0 });
    expect(await readRollout(store, INSTRUMENT)).toBeNull();
  });
});

describe('the promoter core', () => {
  const S: PromoterSettings = { ...promoterSettings(loadConfig({ env: {} })), resamples: 2000 };

  it('the bootstrap is deterministic for a seed, and its P moves only by resampling noise with another seed', () => {
    const a = gaussianPips(150, 1, 8, 71);
    const b = gaussianPips(150, 0, 8, 72);
    const p1 = bootstrapPBetter(a, b, 10_000, 5);
    expect(bootstrapPBetter(a, b, 10_000, 5)).toBe(p1);
    const p2 = bootstrapPBetter(a, b, 10_000, 6);
    expect(p2).not.toBe(p1);
    // the normal approximation of P(mean a > mean b): Φ(diff / se); resampling noise at B = 10 000 is ~0.004
    const diff = avg(a) - avg(b);
    const sd = (x: number[]) => Math.sqrt(x.reduce((s, v) => s + (v - avg(x)) ** 2, 0) / x.length);
    const z = diff / Math.sqrt(sd(a) ** 2 / a.length + sd(b) ** 2 / b.length);
    const phi = (x: number) => 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    expect(Math.abs(p1 - phi(z))).toBeLessThan(0.03);
    expect(Math.abs(p1 - p2)).toBeLessThan(0.03);
    // each resample draws its indices from the project's seeded stream, uniformly (Prng.below)
    const rng = new Prng(5, 0);
    const x = [1, 10, 100, 1000, 10000];
    const first = Array.from({ length: 2 }, () => x.reduce((s) => s + x[rng.below(x.length)], 0) / x.length);
    expect(Array.from(bootstrapMeans(x, 2, 5, 0))).toEqual(first);
    expect(bootstrapPNegative([-1, -2, -3], 1000, 1)).toBe(1);
    expect(bootstrapPNegative([1, 2, 3], 1000, 1)).toBe(0);
    // a live strategy without trades counts as earning 0 a trade
    expect(bootstrapPBetter([1, 2, 3], [], 1000, 1)).toBe(1);
  });

  it('compounds returns at f for the drawdown, hand-computed', () => {
    // equity 1 → 1.1 → 0.88 → 0.968: max fall 20 % of the 1.1 peak
    expect(compoundedDrawdown([0.05, -0.1, 0.05], 2)).toBeCloseTo(0.2, 12);
    expect(compoundedDrawdown([0.1, 0.1], 3)).toBe(0);
    expect(compoundedDrawdown([-0.6], 2)).toBe(1);
  });

  it('reads the schedule: daily at HH:MM UTC, one stage per period', () => {
    const s = parseSchedule('daily 06:30 UTC');
    expect(s.offsetMs).toBe(6.5 * HOUR);
    expect(nextSlot(Date.UTC(2024, 2, 4, 6, 30), s)).toBe(Date.UTC(2024, 2, 5, 6, 30));
    expect(nextSlot(Date.UTC(2024, 2, 4, 6, 29), s)).toBe(Date.UTC(2024, 2, 4, 6, 30));
    expect(periodIndex(Date.UTC(2024, 2, 5, 6, 29), { periodMs: s.periodMs, offsetMs: s.offsetMs })).toBe(periodIndex(Date.UTC(2024, 2, 4, 6, 30), s));
    expect(() => parseSchedule('every day')).toThrow(/promoter.schedule: expected 'daily HH:MM UTC'/);
    expect(() => loadConfig({ env: { SWT_PROMOTER__SCHEDULE: 'daily 25:00 UTC' } })).toThrow(/promoter\.schedule/);
    expect(() => loadConfig({ env: { SWT_PROMOTER__STAGES: '[0.5, 0.25, 1]' } })).toThrow(/promoter\.stages: stages must increase and end at 1/);
    expect(() => loadConfig({ env: { SWT_PROMOTER__STAGES: '[0.25, 0.5]' } })).toThrow(/promoter\.stages/);
    expect(loadConfig({ env: { SWT_PROMOTER__STAGES: '[0.5, 1]' } }).promoter.stages).toEqual([0.5, 1]);
  });

  it('a rollout does not advance twice in one period, however often it is checked', () => {
    const live = { pips: Float64Array.of(1), returns: Float64Array.of(0.001), exitTs: Float64Array.of(day(0)) };
    const state: RolloutState = { ...initialRollout(INSTRUMENT, LIVE, day(1)), candidate: CAND, stage: 1, scale: 0.25, driver: CAND, stage_since: day(1) + 5 * 60_000, promoted_at: day(1) };
    const input = { state, settings: S, strategies: [{ strategy: LIVE, trades: live, validation: null, validationNote: null, since: null }] };
    expect(decide({ ...input, now: day(2) - 1 }).decisions[0].kind).toBe('hold');
    expect(decide({ ...input, now: day(2) }).decisions[0]).toMatchObject({ kind: 'advance', stage: 2, scale: 0.5 });
  });
});

describe('swt live and the stored rollout', () => {
  const state = (driver: string, scale: number): RolloutState => ({ ...initialRollout(INSTRUMENT, LIVE, 0), driver, scale, candidate: driver === LIVE ? null : driver, stage: driver === LIVE ? null : 1 });

  it('a restart trades the stored driver at its scale; every other named strategy is a shadow', () => {
    expect(liveStrategies(null, LIVE, [CAND])).toEqual({ driver: LIVE, shadows: [CAND], scale: 1 });
    expect(liveStrategies(state(CAND, 0.25), LIVE, [CAND, 'ma-crossover:fast=5,slow=20'])).toEqual({ driver: CAND, shadows: [LIVE, 'ma-crossover:fast=5,slow=20'], scale: 0.25 });
    expect(liveStrategies(state(LIVE, 1), LIVE, [CAND])).toEqual({ driver: LIVE, shadows: [CAND], scale: 1 });
  });

  it('refuses a stored driver the command line does not name, rather than trading something else', () => {
    expect(() => liveStrategies(state(CAND, 0.5), LIVE, [])).toThrow(/makes 'mean-reversion:window=60' the strategy that trades \(scale 0.5\); start swt live with it as --policy or --shadow/);
  });

  it('the running target changes the scale of its own driver, and asks for a switch for another', async () => {
    const scales: number[] = [];
    const switches: string[] = [];
    const target = runnerRolloutTarget({ driver: CAND, setScale: (x) => void scales.push(x), switchTo: async (st) => void switches.push(st.driver) });
    await target.apply(state(CAND, 0.5));
    await target.apply(state(LIVE, 1));
    expect(scales).toEqual([0.5]);
    expect(switches).toEqual([LIVE]);
  });
});
