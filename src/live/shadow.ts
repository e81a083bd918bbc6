// Shadow strategies (issue 14): extra policies on the live run's feed and feature rows, each trading
// its own paper book. A shadow is a Runner like the live one (the same session, risk, order and
// reconciliation code, so its trades are those of a paper run of its policy alone), with its own
// PaperBroker, risk engine, event bus and journal rows tagged by its strategy. It cannot reach the real
// broker: createShadow takes no broker and builds its book itself, and the live runner hands it bars
// only (as a follower, after its own work on the bar).
import { EventBus } from './events.js';
import { PaperBroker, type PaperBrokerOptions } from './paper.js';
import { RiskEngine, type RiskLimits } from './risk.js';
import { Runner } from './runner.js';
import type { LiveBar } from './bars.js';
import type { Clock } from './clock.js';
import type { MarketCalendar } from './calendar.js';
import type { JournalHooks } from './journal.js';
import type { LiveSession } from './session.js';
import type { PositionSizer } from './sizing.js';

export interface ShadowOptions {
  /** The policy spec as given (--shadow), the strategy tag of its rows. */
  strategy: string;
  instrument: string;
  units: number;
  session: LiveSession;
  /** Its paper book's costs and balance (the paper broker's: the same fill rule as a paper run). */
  book: Omit<PaperBrokerOptions, 'instrument'>;
  limits: RiskLimits;
  clock: Clock;
  calendar: MarketCalendar | null;
  flattenBeforeCloseMinutes: number;
  reconcileEveryMs: number;
  maxClockSkewMs: number;
  /** Prefix of its client ids (unique in the run: the live runner's prefix plus the shadow's number). */
  clientIdPrefix: string;
  journal?: JournalHooks | null;
  sizer?: PositionSizer | null;
  bus?: EventBus;
}

export interface Shadow {
  readonly strategy: string;
  readonly runner: Runner;
  readonly book: PaperBroker;
  readonly bus: EventBus;
  readonly risk: RiskEngine;
  readonly session: LiveSession;
  start(): Promise<void>;
  onBar(bar: LiveBar): Promise<void>;
}

export function createShadow(o: ShadowOptions): Shadow {
  const bus = o.bus ?? new EventBus();
  const book = new PaperBroker({ instrument: o.instrument, ...o.book });
  const risk = new RiskEngine(o.limits, bus, o.clock);
  const runner = new Runner({
    instrument: o.instrument,
    units: o.units,
    session: o.session,
    broker: book,
    feed: { async *bars() {}, close() {} },
    clock: o.clock,
    bus,
    risk,
    calendar: o.calendar,
    flattenBeforeCloseMinutes: o.flattenBeforeCloseMinutes,
    // nothing trades a shadow's book but the shadow
    manualTrades: 'flatten',
    reconcileEveryMs: o.reconcileEveryMs,
    maxClockSkewMs: o.maxClockSkewMs,
    runId: o.clientIdPrefix,
    strategy: o.strategy,
    journal: o.journal ?? null,
    sizer: o.sizer ?? null,
  });
  return { strategy: o.strategy, runner, book, bus, risk, session: o.session, start: () => runner.start(), onBar: (bar) => runner.onBar(bar) };
}
