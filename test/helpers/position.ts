// One position driven through the shared single-lane market core (src/env/step.ts), for tests that
// pin the position arithmetic by hand: open, mark bar by bar, read features, close.
import { MarketCore } from '../../src/env/step.js';
import { envConfig } from '../../src/env/config.js';
import { tradeSnapshot, type TradeSnapshot } from '../../src/features/position.js';

export class OnePosition {
  readonly core: MarketCore;
  constructor(pipSize: number, spreadPips: number, penalty: number, units = 1) {
    this.core = new MarketCore(envConfig({ pipSize, spreadPips, units, reward: { penalty } }), 1);
  }
  open(side: 1 | -1, price: number): void {
    this.core.open(0, side, price, 0, 0);
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
    this.core.close(0, 1, 1, price, false);
    return this.core.trades.record(this.core.lastTrade);
  }
}
