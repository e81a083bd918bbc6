// The market calendar of the runner: the FX week of the config (data.week_close / data.week_open, the
// same calendar the data checks use), whether the market is open now, and how long until the weekly
// close (the runner flattens live.flatten_before_close_minutes before it).
import type { Config } from '../config/schema.js';
import { inClosureMs, minuteOfWeekMs, weekCalendar, WEEK_MINUTES, type WeekCalendar } from '../data/calendar.js';

export class MarketCalendar {
  constructor(private readonly cal: WeekCalendar) {}

  static fromConfig(config: Config): MarketCalendar {
    return new MarketCalendar(weekCalendar(config));
  }

  isOpen(ms: number): boolean {
    return !inClosureMs(ms, this.cal);
  }

  /** Minutes from `ms` to the next weekly close (0 while closed). */
  minutesToClose(ms: number): number {
    if (!this.isOpen(ms)) return 0;
    const mow = minuteOfWeekMs(ms);
    return (((this.cal.closeMinute - mow) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
  }

  /** Epoch ms of the next weekly open after `ms` (where a closed market's runner sleeps until). */
  nextOpen(ms: number): number {
    const mow = minuteOfWeekMs(ms);
    const ahead = (((this.cal.openMinute - mow) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
    return (Math.floor(ms / 60_000) + ahead) * 60_000;
  }
}
