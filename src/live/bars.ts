// Price ticks → M1 bars (bid, ask and mid OHLC). A bar is emitted only when it is complete: when a tick
// of a later minute arrives, or when the clock has passed the minute's end by `graceMs` (a quiet
// market may send no tick for a while). A minute without ticks has no bar, as in OANDA's candles.
import type { Bar } from '../env/series.js';
import type { PriceTick } from './broker.js';

export interface Ohlc {
  open: number;
  high: number;
  low: number;
  close: number;
}

/** A completed bar: mid OHLC (the market core's prices) plus the bid and ask bars when known. */
export interface LiveBar extends Bar {
  bid: Ohlc | null;
  ask: Ohlc | null;
  ticks: number;
}

const touch = (o: Ohlc, p: number) => {
  if (p > o.high) o.high = p;
  if (p < o.low) o.low = p;
  o.close = p;
};

export class BarAggregator {
  private minute = -1;
  private mid: Ohlc | null = null;
  private bid: Ohlc | null = null;
  private ask: Ohlc | null = null;
  private ticks = 0;
  private lastTs = -Infinity;

  constructor(
    private readonly barMs = 60_000,
    private readonly graceMs = 2_000,
  ) {}

  /** Adds a tick; returns the bar it completed (a tick of a later minute), or null. Old ticks are dropped. */
  onTick(t: PriceTick): LiveBar | null {
    if (!(t.ts >= this.lastTs) || !(t.bid > 0 && t.ask >= t.bid)) return null;
    this.lastTs = t.ts;
    const m = Math.floor(t.ts / this.barMs);
    let done: LiveBar | null = null;
    if (m !== this.minute) {
      done = this.take();
      this.minute = m;
    }
    const mid = (t.bid + t.ask) / 2;
    if (!this.mid) {
      this.mid = { open: mid, high: mid, low: mid, close: mid };
      this.bid = { open: t.bid, high: t.bid, low: t.bid, close: t.bid };
      this.ask = { open: t.ask, high: t.ask, low: t.ask, close: t.ask };
    } else {
      touch(this.mid, mid);
      touch(this.bid!, t.bid);
      touch(this.ask!, t.ask);
    }
    this.ticks++;
    return done;
  }

  /** The open bar, once `now` is past its end by the grace period; else null. */
  flush(now: number): LiveBar | null {
    if (this.mid && now >= (this.minute + 1) * this.barMs + this.graceMs) return this.take();
    return null;
  }

  /**
   * Drops the open bar (after a disconnect its minute misses the ticks of the outage): the stream feed's
   * gap backfill brings the broker's complete candle for it instead.
   */
  discard(): void {
    this.mid = this.bid = this.ask = null;
    this.ticks = 0;
  }

  private take(): LiveBar | null {
    if (!this.mid) return null;
    // the recorded spread is the one at the bar's open, like the stored bars' (see MarketCore)
    const b: LiveBar = { ts: this.minute * this.barMs, ...this.mid, spread: this.ask!.open - this.bid!.open, bid: this.bid, ask: this.ask, ticks: this.ticks };
    this.mid = this.bid = this.ask = null;
    this.ticks = 0;
    return b;
  }
}
