// One position driven through the shared single-lane market core (src/env/step.ts), for tests that
// pin the position arithmetic by hand: open, mark bar by bar, read features, close.
import { MarketCore } from '../../src/env/step.js';
import { envConfig } from '../../src/env/config.js';
import { tradeSnapshot, type TradeSnapshot } from '../../src/features/position.js';
import type { BarSeries } from '../../src/env/types.js';

// No bar prices are read by open/close with the constant spread; the core asks for a series only to
// look up recorded spreads.
const NO_BARS: BarSeries = { ts: new Float64Array(2), open: new Float64Array(2), high: new Float64Array(2), low: new Float64Array(2), close: new Float64Array(2) };

export class OnePosition {
  readonly core: MarketCore;
  constructor(pipSize: number, spreadPips: number, penalty: number, units = 1) {
    this.core = new MarketCore(envConfig({ pipSize, spreadPips, units, reward: { penalty } }), 1);
  }
  open(side: 1 | -1, price: number): void {
    this.core.open(0, side, price, NO_BARS, 0, 0);
  }
  mark(high: number, low: number, close: number): void {
    this.core.mark(0, high, low, close);
  }
  features(out: Float32Array | Float64Array = new Float32Array(9)): Float32Array | Float64Array {
    this.core.writePositionFeatures(0, out, 0);
    return out;
  }
  snapshot(): TradeSnapshot {
    return tradeSnapshot(this.core.state, 0);
  }
  close(price: number) {
    this.core.close(0, NO_BARS, 1, 1, price, false);
    return this.core.trades.record(this.core.lastTrade);
  }
}
