// The risk engine: every order passes it first. States (nautilus_trader's RiskEngine):
//   ACTIVE    orders that pass the checks go out;
//   REDUCING  only orders that shrink the position go out (set by the daily loss limit, or by hand);
//   HALTED    nothing goes out (kill switch, an unreadable broker report, a fill that could not be
//             corrected): the runner keeps watching and reconciling, and a person resumes it.
// A denial carries a code and is an event; so is every change of state.
import { existsSync } from 'node:fs';
import type { Clock } from './clock.js';
import type { EventBus, RiskState } from './events.js';

export interface RiskLimits {
  maxPositionUnits: number;
  maxOrderUnits: number;
  maxOrdersPerMinute: number;
  /** Realised loss (net pips of the whole position) in one UTC day that turns the engine REDUCING. */
  dailyLossPips: number;
  /** A file whose existence halts the runner (the kill switch on disk). */
  killSwitchFile: string | null;
}

export type DenialCode = 'HALTED' | 'REDUCING_ONLY' | 'KILL_SWITCH' | 'MAX_ORDER_UNITS' | 'MAX_POSITION_UNITS' | 'MAX_ORDERS_PER_MINUTE' | 'DAILY_LOSS_LIMIT';

export type RiskVerdict = { ok: true } | { ok: false; code: DenialCode; message: string };

const DAY_MS = 86_400_000;
const DAILY = 'daily loss limit: ';

export class RiskEngine {
  private s: RiskState = 'ACTIVE';
  private why = 'start';
  private readonly orderTimes: number[] = [];
  private day = -1;
  private realisedToday = 0;

  constructor(
    readonly limits: RiskLimits,
    private readonly bus: EventBus,
    private readonly clock: Clock,
  ) {}

  get state(): RiskState {
    return this.s;
  }

  get reason(): string {
    return this.why;
  }

  private to(next: RiskState, reason: string): void {
    if (next === this.s) return;
    const from = this.s;
    this.s = next;
    this.why = reason;
    this.bus.emit('risk_state', { ts: this.clock.now(), from, to: next, reason });
  }

  halt(reason: string): void {
    this.to('HALTED', reason);
  }

  reduce(reason: string): void {
    if (this.s === 'ACTIVE') this.to('REDUCING', reason);
  }

  resume(reason: string): void {
    this.to('ACTIVE', reason);
  }

  /** The kill-switch file: checked before every order and by the runner each bar. */
  killSwitchOn(): boolean {
    return !!this.limits.killSwitchFile && existsSync(this.limits.killSwitchFile);
  }

  /** Realised net pips of a closed trade (the daily loss limit counts them per UTC day). */
  recordRealised(pips: number, ts: number): void {
    this.newDay(ts);
    this.realisedToday += pips;
    if (this.realisedToday <= -this.limits.dailyLossPips) this.reduce(`${DAILY}${this.realisedToday.toFixed(1)} pips today (limit ${this.limits.dailyLossPips})`);
  }

  /** A new UTC day resets the day's loss, and lifts a REDUCING state the daily loss limit set. */
  private newDay(ts: number): void {
    const d = Math.floor(ts / DAY_MS);
    if (d === this.day) return;
    this.day = d;
    this.realisedToday = 0;
    if (this.s === 'REDUCING' && this.why.startsWith(DAILY)) this.to('ACTIVE', 'a new UTC day');
  }

  /** Checks an order of `units` (signed) against a position of `position` units; a denial is an event. */
  check(clientId: string, units: number, position: number): RiskVerdict {
    const v = this.verdict(units, position);
    if (!v.ok) this.bus.emit('risk_denial', { ts: this.clock.now(), code: v.code, message: v.message, client_id: clientId, units });
    else this.orderTimes.push(this.clock.now());
    return v;
  }

  private verdict(units: number, position: number): RiskVerdict {
    const L = this.limits;
    const next = position + units;
    const reduces = Math.abs(next) < Math.abs(position) && Math.sign(next) * Math.sign(position) >= 0;
    if (this.killSwitchOn()) {
      this.halt(`kill switch file ${L.killSwitchFile} exists`);
      return { ok: false, code: 'KILL_SWITCH', message: `kill switch file ${L.killSwitchFile} exists` };
    }
    if (this.s === 'HALTED') return { ok: false, code: 'HALTED', message: `the runner is HALTED (${this.why})` };
    const now = this.clock.now();
    this.newDay(now);
    if (this.realisedToday <= -L.dailyLossPips && !reduces) {
      return { ok: false, code: 'DAILY_LOSS_LIMIT', message: `daily loss limit reached (${this.realisedToday.toFixed(1)} pips today): only reducing orders` };
    }
    if (this.s === 'REDUCING' && !reduces) return { ok: false, code: 'REDUCING_ONLY', message: `the runner is REDUCING (${this.why}): only orders that shrink the position` };
    if (Math.abs(units) > L.maxOrderUnits) return { ok: false, code: 'MAX_ORDER_UNITS', message: `order of ${Math.abs(units)} units is over max_order_units ${L.maxOrderUnits}` };
    if (Math.abs(next) > L.maxPositionUnits) return { ok: false, code: 'MAX_POSITION_UNITS', message: `position of ${Math.abs(next)} units would be over max_position_units ${L.maxPositionUnits}` };
    while (this.orderTimes.length && this.orderTimes[0] <= now - 60_000) this.orderTimes.shift();
    if (this.orderTimes.length >= L.maxOrdersPerMinute) return { ok: false, code: 'MAX_ORDERS_PER_MINUTE', message: `${this.orderTimes.length} orders in the last minute (max_orders_per_minute ${L.maxOrdersPerMinute})` };
    return { ok: true };
  }
}
