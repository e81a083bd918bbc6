// Closed trades as growable column arrays (no object per trade on the hot path). `records()` turns them
// into plain objects for the store / JSON.

export interface TradeRecord {
  /** Index of the episode (in the EpisodeSet the run was given). */
  episode: number;
  side: 'long' | 'short';
  /** Bar index of the entry fill (the trade entered at that bar's open). */
  entryIndex: number;
  /** Bar index of the exit fill: its open for a normal close, its close for a forced close. */
  exitIndex: number;
  entryTs: number;
  /** Exit time: ts of the exit bar (open fill), or ts + barMs for a forced close at the bar's close. */
  exitTs: number;
  entryPrice: number;
  exitPrice: number;
  grossPips: number;
  netPips: number;
  costPips: number;
  maePips: number;
  mfePips: number;
  barsHeld: number;
  forced: boolean;
  /** Reward paid for this trade in amddp terms: netPips − penalty · maePips. */
  reward: number;
}

/** Columns a metrics computation needs; TradeLog provides them, so do plain arrays in tests. */
export interface TradeColumns {
  readonly count: number;
  readonly netPips: ArrayLike<number>;
  readonly side: ArrayLike<number>;
  readonly barsHeld: ArrayLike<number>;
  readonly exitTs: ArrayLike<number>;
  readonly forced?: ArrayLike<number>;
}

export class TradeLog implements TradeColumns {
  count = 0;
  episode: Int32Array;
  side: Int8Array;
  entryIndex: Int32Array;
  exitIndex: Int32Array;
  entryTs: Float64Array;
  exitTs: Float64Array;
  entryPrice: Float64Array;
  exitPrice: Float64Array;
  grossPips: Float64Array;
  netPips: Float64Array;
  costPips: Float64Array;
  maePips: Float64Array;
  mfePips: Float64Array;
  barsHeld: Int32Array;
  forced: Uint8Array;
  reward: Float64Array;

  constructor(capacity = 1024) {
    const c = Math.max(1, capacity);
    this.episode = new Int32Array(c);
    this.side = new Int8Array(c);
    this.entryIndex = new Int32Array(c);
    this.exitIndex = new Int32Array(c);
    this.entryTs = new Float64Array(c);
    this.exitTs = new Float64Array(c);
    this.entryPrice = new Float64Array(c);
    this.exitPrice = new Float64Array(c);
    this.grossPips = new Float64Array(c);
    this.netPips = new Float64Array(c);
    this.costPips = new Float64Array(c);
    this.maePips = new Float64Array(c);
    this.mfePips = new Float64Array(c);
    this.barsHeld = new Int32Array(c);
    this.forced = new Uint8Array(c);
    this.reward = new Float64Array(c);
  }

  get capacity(): number {
    return this.episode.length;
  }

  private grow(): void {
    const c = this.capacity * 2;
    const g = <T extends Int32Array | Int8Array | Uint8Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(c);
      b.set(a as never);
      return b;
    };
    this.episode = g(this.episode, (n) => new Int32Array(n));
    this.side = g(this.side, (n) => new Int8Array(n));
    this.entryIndex = g(this.entryIndex, (n) => new Int32Array(n));
    this.exitIndex = g(this.exitIndex, (n) => new Int32Array(n));
    this.entryTs = g(this.entryTs, (n) => new Float64Array(n));
    this.exitTs = g(this.exitTs, (n) => new Float64Array(n));
    this.entryPrice = g(this.entryPrice, (n) => new Float64Array(n));
    this.exitPrice = g(this.exitPrice, (n) => new Float64Array(n));
    this.grossPips = g(this.grossPips, (n) => new Float64Array(n));
    this.netPips = g(this.netPips, (n) => new Float64Array(n));
    this.costPips = g(this.costPips, (n) => new Float64Array(n));
    this.maePips = g(this.maePips, (n) => new Float64Array(n));
    this.mfePips = g(this.mfePips, (n) => new Float64Array(n));
    this.barsHeld = g(this.barsHeld, (n) => new Int32Array(n));
    this.forced = g(this.forced, (n) => new Uint8Array(n));
    this.reward = g(this.reward, (n) => new Float64Array(n));
  }

  push(
    episode: number,
    side: number,
    entryIndex: number,
    exitIndex: number,
    entryTs: number,
    exitTs: number,
    entryPrice: number,
    exitPrice: number,
    grossPips: number,
    netPips: number,
    costPips: number,
    maePips: number,
    mfePips: number,
    barsHeld: number,
    forced: boolean,
    reward: number,
  ): void {
    if (this.count === this.capacity) this.grow();
    const i = this.count++;
    this.episode[i] = episode;
    this.side[i] = side;
    this.entryIndex[i] = entryIndex;
    this.exitIndex[i] = exitIndex;
    this.entryTs[i] = entryTs;
    this.exitTs[i] = exitTs;
    this.entryPrice[i] = entryPrice;
    this.exitPrice[i] = exitPrice;
    this.grossPips[i] = grossPips;
    this.netPips[i] = netPips;
    this.costPips[i] = costPips;
    this.maePips[i] = maePips;
    this.mfePips[i] = mfePips;
    this.barsHeld[i] = barsHeld;
    this.forced[i] = forced ? 1 : 0;
    this.reward[i] = reward;
  }

  /**
   * A copy in canonical order: by exit time, then episode, then entry index. The order trades were
   * appended in depends on how episodes were spread over lanes; this one does not, so results are
   * identical whatever the batch size.
   */
  sorted(): TradeLog {
    const n = this.count;
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => this.exitTs[a] - this.exitTs[b] || this.episode[a] - this.episode[b] || this.entryIndex[a] - this.entryIndex[b]);
    const out = new TradeLog(n);
    for (const i of order) {
      out.push(
        this.episode[i],
        this.side[i],
        this.entryIndex[i],
        this.exitIndex[i],
        this.entryTs[i],
        this.exitTs[i],
        this.entryPrice[i],
        this.exitPrice[i],
        this.grossPips[i],
        this.netPips[i],
        this.costPips[i],
        this.maePips[i],
        this.mfePips[i],
        this.barsHeld[i],
        this.forced[i] === 1,
        this.reward[i],
      );
    }
    return out;
  }

  record(i: number): TradeRecord {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`trade ${i} out of range (0..${this.count - 1})`);
    return {
      episode: this.episode[i],
      side: this.side[i] > 0 ? 'long' : 'short',
      entryIndex: this.entryIndex[i],
      exitIndex: this.exitIndex[i],
      entryTs: this.entryTs[i],
      exitTs: this.exitTs[i],
      entryPrice: this.entryPrice[i],
      exitPrice: this.exitPrice[i],
      grossPips: this.grossPips[i],
      netPips: this.netPips[i],
      costPips: this.costPips[i],
      maePips: this.maePips[i],
      mfePips: this.mfePips[i],
      barsHeld: this.barsHeld[i],
      forced: this.forced[i] === 1,
      reward: this.reward[i],
    };
  }

  records(): TradeRecord[] {
    const out: TradeRecord[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.record(i);
    return out;
  }

  clear(): void {
    this.count = 0;
  }
}
