// A bar series that grows one bar at a time (live feeds, replays): typed arrays with spare capacity,
// viewed as a BarSeries of the bars received so far. Indices never move, so a bar index means the same
// bar for the whole life of the series.
import { EnvInputError, type BarSeries } from './types.js';

export interface Bar {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Recorded spread (ask − bid at the bar's open, price units); absent or NaN: not recorded. */
  spread?: number;
}

export class GrowingSeries {
  private cap: number;
  private ts: Float64Array;
  private open: Float64Array;
  private high: Float64Array;
  private low: Float64Array;
  private close: Float64Array;
  private spread: Float64Array;
  length = 0;
  /** The bars so far (views; replaced on every append, so hold on to `view`, not its arrays). */
  view: BarSeries;

  constructor(
    capacity = 4096,
    private readonly instrument?: string,
  ) {
    this.cap = Math.max(16, capacity);
    this.ts = new Float64Array(this.cap);
    this.open = new Float64Array(this.cap);
    this.high = new Float64Array(this.cap);
    this.low = new Float64Array(this.cap);
    this.close = new Float64Array(this.cap);
    this.spread = new Float64Array(this.cap);
    this.view = this.makeView();
  }

  private makeView(): BarSeries {
    const n = this.length;
    return {
      ts: this.ts.subarray(0, n),
      open: this.open.subarray(0, n),
      high: this.high.subarray(0, n),
      low: this.low.subarray(0, n),
      close: this.close.subarray(0, n),
      spread: this.spread.subarray(0, n),
      instrument: this.instrument,
    };
  }

  /** Appends a bar; refuses one that is not after the last bar or has a non-finite price. */
  push(bar: Bar): number {
    const n = this.length;
    if (!Number.isFinite(bar.ts) || (n > 0 && !(bar.ts > this.ts[n - 1]))) {
      throw new EnvInputError(`bar at ${new Date(bar.ts).toISOString()} is not after the last bar (${n > 0 ? new Date(this.ts[n - 1]).toISOString() : 'none'})`);
    }
    for (const k of ['open', 'high', 'low', 'close'] as const) {
      if (!Number.isFinite(bar[k]) || bar[k] <= 0) throw new EnvInputError(`bar at ${new Date(bar.ts).toISOString()}: ${k} must be a positive number, got ${bar[k]}`);
    }
    if (n === this.cap) this.grow();
    this.ts[n] = bar.ts;
    this.open[n] = bar.open;
    this.high[n] = bar.high;
    this.low[n] = bar.low;
    this.close[n] = bar.close;
    this.spread[n] = bar.spread ?? NaN;
    this.length = n + 1;
    this.view = this.makeView();
    return n;
  }

  private grow(): void {
    this.cap *= 2;
    const g = (a: Float64Array) => {
      const b = new Float64Array(this.cap);
      b.set(a);
      return b;
    };
    this.ts = g(this.ts);
    this.open = g(this.open);
    this.high = g(this.high);
    this.low = g(this.low);
    this.close = g(this.close);
    this.spread = g(this.spread);
  }
}

/** Row-major Float32 rows that grow one row at a time (live feature rows, aligned with a GrowingSeries). */
export class GrowingRows {
  private cap: number;
  private buf: Float32Array;
  length = 0;
  constructor(
    readonly width: number,
    capacity = 4096,
  ) {
    this.cap = Math.max(16, capacity);
    this.buf = new Float32Array(this.cap * width);
  }
  /** The next row to fill (a view into the buffer); commit it with `commit()`. */
  next(): Float32Array {
    if (this.length === this.cap) {
      this.cap *= 2;
      const b = new Float32Array(this.cap * this.width);
      b.set(this.buf);
      this.buf = b;
    }
    return this.buf.subarray(this.length * this.width, (this.length + 1) * this.width);
  }
  commit(): void {
    this.length++;
  }
  /** All committed rows, row-major. */
  get data(): Float32Array {
    return this.buf.subarray(0, this.length * this.width);
  }
}
