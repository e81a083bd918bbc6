// Where the runner's bars come from: a replay of stored bars at any speed (paper runs, soak, parity), or
// the broker's price stream through the bar aggregator, with gap detection and backfill from the
// candles endpoint (complete candles only). Either way the runner sees completed bars in time order.
import type { BarSeries } from '../env/types.js';
import type { Broker, PriceTick } from './broker.js';
import { BarAggregator, type LiveBar } from './bars.js';
import { VirtualClock, type Clock } from './clock.js';
import type { EventBus } from './events.js';
import { holeMinutesMs, type WeekCalendar } from '../data/calendar.js';

export interface Feed {
  /** Completed bars in time order; ends when the feed is closed or exhausted. */
  bars(): AsyncIterable<LiveBar>;
  close(): void;
}

/** Stored bars replayed: `speed` × real time (Infinity: as fast as the runner takes them). */
export class ReplayFeed implements Feed {
  private stopped = false;
  constructor(
    private readonly series: BarSeries,
    private readonly o: { speed: number; clock: Clock; barMs: number; bidAsk?: { bid: Float64Array; ask: Float64Array } | null },
  ) {
    // virtual time starts where the replayed market does (not at the epoch): what runs on the clock
    // before the first bar (start-up reconciliation, the promoter's first slot) reads market time
    if (o.clock instanceof VirtualClock && series.ts.length > 0 && o.clock.now() < series.ts[0]) o.clock.set(series.ts[0]);
  }
  async *bars(): AsyncIterable<LiveBar> {
    const s = this.series;
    const wait = Number.isFinite(this.o.speed) ? this.o.barMs / this.o.speed : 0;
    for (let i = 0; i < s.ts.length && !this.stopped; i++) {
      if (wait > 0 && !(this.o.clock instanceof VirtualClock)) await this.o.clock.sleep(wait);
      // virtual time follows the replayed market: a bar is complete at its end
      if (this.o.clock instanceof VirtualClock) this.o.clock.set(s.ts[i] + this.o.barMs);
      yield { ts: s.ts[i], open: s.open[i], high: s.high[i], low: s.low[i], close: s.close[i], spread: s.spread?.[i], bid: null, ask: null, ticks: 0 };
    }
  }
  close(): void {
    this.stopped = true;
  }
}

/** Candles of a time range [from, to) (complete ones only), for backfilling a gap. */
export type Backfill = (instrument: string, from: number, to: number) => Promise<LiveBar[]>;

export interface StreamFeedOptions {
  instrument: string;
  broker: Broker;
  clock: Clock;
  bus: EventBus;
  week: WeekCalendar;
  barMs: number;
  graceMs: number;
  backfill?: Backfill | null;
}

/** The broker's price stream as completed M1 bars. */
export class StreamFeed implements Feed {
  private readonly agg: BarAggregator;
  private queue: LiveBar[] = [];
  private wake: (() => void) | null = null;
  private stopped = false;
  private fatal: Error | null = null;
  private lastTs = -Infinity;
  private stream: ReturnType<Broker['priceStream']> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: StreamFeedOptions) {
    this.agg = new BarAggregator(o.barMs, o.graceMs);
  }

  private push(b: LiveBar | null): void {
    if (!b) return;
    this.queue.push(b);
    this.wake?.();
  }

  async *bars(): AsyncIterable<LiveBar> {
    const { bus, clock } = this.o;
    this.stream = this.o.broker.priceStream([this.o.instrument], {
      onTick: (t: PriceTick) => this.push(this.agg.onTick(t)),
      onConnect: () => bus.emit('feed', { ts: clock.now(), status: 'connected', detail: this.o.instrument }),
      onDisconnect: (why) => {
        // the minute in progress misses the outage's ticks: the gap backfill brings its complete candle
        this.agg.discard();
        bus.emit('feed', { ts: clock.now(), status: 'disconnected', detail: why });
      },
      onFatal: (e) => {
        this.fatal = e;
        this.wake?.();
      },
    });
    this.timer = setInterval(() => this.push(this.agg.flush(clock.now())), 250);
    try {
      while (!this.stopped) {
        if (this.fatal) throw this.fatal;
        if (this.queue.length === 0) {
          await new Promise<void>((r) => (this.wake = r));
          this.wake = null;
          continue;
        }
        const b = this.queue.shift()!;
        if (b.ts <= this.lastTs) continue;
        for (const f of await this.fillGap(b)) yield f;
        this.lastTs = b.ts;
        yield b;
      }
    } finally {
      this.close();
    }
  }

  /** Bars missing between the last bar and `b` (weekday minutes only), from the candles endpoint. */
  private async fillGap(b: LiveBar): Promise<LiveBar[]> {
    if (!Number.isFinite(this.lastTs)) return [];
    const hole = holeMinutesMs(this.lastTs, b.ts, this.o.week);
    if (hole.weekday <= 0) return [];
    this.o.bus.emit('feed', { ts: this.o.clock.now(), status: 'gap', detail: `${hole.weekday} minute(s) without a bar before ${new Date(b.ts).toISOString()}` });
    if (!this.o.backfill) return [];
    const got = await this.o.backfill(this.o.instrument, this.lastTs + this.o.barMs, b.ts);
    const out = got.filter((c) => c.ts > this.lastTs && c.ts < b.ts).sort((x, y) => x.ts - y.ts);
    if (out.length) this.lastTs = out[out.length - 1].ts;
    return out;
  }

  close(): void {
    this.stopped = true;
    this.stream?.close();
    if (this.timer) clearInterval(this.timer);
    this.wake?.();
  }
}
