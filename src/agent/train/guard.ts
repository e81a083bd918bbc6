// The collapse guard: a rolling window of self-play decisions, and two alarms the predecessor lacked
// (its agent collapsed to HOLD-only without a word):
//   hold_only         HOLD is more than `hold_flat_max` of the decisions taken while flat
//   always_in_market  more than `in_market_max` of all decisions are taken in a position
// Each alarm is raised once when it starts (the caller warns and stores an event) and may be raised
// again after it has cleared. The mix is learner-independent: any self-play that reports decision
// counts can use it.
import type { Config } from '../../config/schema.js';
import { ACTION_NAMES } from '../../env/types.js';
import { emptyCounts, type DecisionCounts } from '../selfplay/selfplay.js';

export type GuardConfig = Config['train']['guard'];
export type CollapseKind = 'hold_only' | 'always_in_market';

export interface ActionMix {
  decisions: number;
  share: Record<(typeof ACTION_NAMES)[number], number | null>;
  /** HOLD among decisions taken while flat. */
  hold_while_flat: number | null;
  /** Decisions taken in a position. */
  in_market: number | null;
  /** Decisions executed as the exploration's random action (the shares above count the search's choices). */
  random_action: number | null;
}

export interface Collapse {
  kind: CollapseKind;
  share: number;
  threshold: number;
  decisions: number;
  message: string;
}

export interface GuardState {
  chunks: DecisionCounts[];
  active: CollapseKind[];
}

const total = (c: DecisionCounts) => c.flat + c.inMarket;

export class CollapseGuard {
  private chunks: DecisionCounts[] = [];
  private active = new Set<CollapseKind>();

  constructor(readonly cfg: GuardConfig) {}

  /** Adds a collect's counts; returns the alarms that start now. */
  observe(counts: DecisionCounts): Collapse[] {
    this.chunks.push(counts);
    // Drop whole old chunks while the rest still fills the window.
    while (this.chunks.length > 1 && this.sum(this.chunks.slice(1)).decisions >= this.cfg.window_decisions) this.chunks.shift();
    const m = this.mix();
    const raised: Collapse[] = [];
    const check = (kind: CollapseKind, share: number | null, threshold: number, what: string) => {
      const on = m.decisions >= this.cfg.min_decisions && share !== null && share > threshold;
      if (on && !this.active.has(kind)) {
        this.active.add(kind);
        raised.push({ kind, share: share!, threshold, decisions: m.decisions, message: `collapse: ${what} ${(100 * share!).toFixed(1)}% > ${(100 * threshold).toFixed(1)}% over the last ${m.decisions} decisions` });
      } else if (!on) this.active.delete(kind);
    };
    check('hold_only', m.hold_while_flat, this.cfg.hold_flat_max, 'HOLD while flat');
    check('always_in_market', m.in_market, this.cfg.in_market_max, 'decisions in a position');
    return raised;
  }

  private sum(chunks: DecisionCounts[]): { c: DecisionCounts; decisions: number } {
    const c = emptyCounts();
    for (const x of chunks) {
      for (let a = 0; a < 4; a++) c.actions[a] += x.actions[a];
      c.flat += x.flat;
      c.holdFlat += x.holdFlat;
      c.inMarket += x.inMarket;
      c.random += x.random ?? 0;
    }
    return { c, decisions: total(c) };
  }

  /** The rolling action mix. */
  mix(): ActionMix {
    const { c, decisions: n } = this.sum(this.chunks);
    const share = Object.fromEntries(ACTION_NAMES.map((name, a) => [name, n ? c.actions[a] / n : null])) as ActionMix['share'];
    return { decisions: n, share, hold_while_flat: c.flat ? c.holdFlat / c.flat : null, in_market: n ? c.inMarket / n : null, random_action: n ? c.random / n : null };
  }

  activeAlarms(): CollapseKind[] {
    return [...this.active];
  }

  state(): GuardState {
    return { chunks: this.chunks.map((c) => ({ ...c, actions: [...c.actions] })), active: [...this.active] };
  }

  static fromState(cfg: GuardConfig, s: GuardState): CollapseGuard {
    const g = new CollapseGuard(cfg);
    g.chunks = s.chunks.map((c) => ({ ...c, actions: [...c.actions] }));
    g.active = new Set(s.active);
    return g;
  }
}
