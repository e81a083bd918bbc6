// A strategy's record in a live run: every closed trade of the live strategy and of each shadow goes
// to strategy_trades (migration 011) and rewrites the strategy's row of strategy_performance
// (migration 012): trades, net pips, expectancy, win rate, payoff ratio, SQN, max drawdown and Sharpe
// over its newest `window` trades, computed by the validation metrics (src/validation/metrics.ts), the
// same figures a backtest reports. The record starts from the strategy's stored trades on the
// instrument (earlier runs count), and Kelly sizing reads its rolling figures from here in memory.
// Sharpe's daily series covers every UTC day from the first to the last exit of the window except
// Saturdays (the FX week), days without an exit counting 0, as the backtest counts its days.
import type { Store } from '../store/db.js';
import type { EventBus, LiveEventMap } from './events.js';
import { computeMetrics, DAY_MS, type Metrics } from '../validation/metrics.js';
import type { TradeColumns } from '../env/trades.js';
import type { RollingStats } from './sizing.js';
import { rollingStats } from './sizing.js';

export type ClosedTrade = LiveEventMap['trade'];

export interface StrategyRecordOptions {
  runId: string;
  strategy: string;
  shadow: boolean;
  instrument: string;
  window: number;
  pipSize: number;
  /** The units the market core's pips are for (env.units): pnl = net_pips / envUnits × units × pip. */
  envUnits: number;
  quotePerAccount: number;
}

const tsOf = (ms: number) => new Date(ms).toISOString();

/** The performance row of a window of trades (snake_case, as stored). */
export interface PerformanceFigures {
  strategy: string;
  instrument: string;
  shadow: boolean;
  window_trades: number;
  trades: number;
  net_pips: number;
  expectancy: number | null;
  win_rate: number | null;
  payoff_ratio: number | null;
  sqn: number | null;
  max_drawdown_pips: number;
  sharpe: number | null;
}

export class StrategyRecord {
  private trades: ClosedTrade[] = [];
  /** All trades closed in this run (the window keeps only the newest). */
  readonly closed: ClosedTrade[] = [];
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private detach: (() => void) | null = null;

  private constructor(
    private readonly store: Store | null,
    readonly o: StrategyRecordOptions,
  ) {}

  /** The record of `strategy` on the instrument: its newest stored trades (none without a store). */
  static async open(store: Store | null, o: StrategyRecordOptions): Promise<StrategyRecord> {
    const r = new StrategyRecord(store, o);
    if (store) {
      const rows = await store.all<Record<string, unknown>>(
        `SELECT * FROM (SELECT *, epoch_ms(entry_ts) AS e_ms, epoch_ms(exit_ts) AS x_ms FROM strategy_trades WHERE strategy = $1 AND instrument = $2 ORDER BY exit_ts DESC LIMIT $3) ORDER BY x_ms`,
        [o.strategy, o.instrument, o.window],
      );
      r.trades = rows.map((x) => ({
        ts: Number(x.x_ms),
        strategy: o.strategy,
        instrument: o.instrument,
        side: x.side as 'long' | 'short',
        units: Number(x.units),
        entry_ts: Number(x.e_ms),
        exit_ts: Number(x.x_ms),
        entry_price: Number(x.entry_price),
        exit_price: Number(x.exit_price),
        gross_pips: Number(x.gross_pips),
        cost_pips: Number(x.cost_pips),
        net_pips: Number(x.net_pips),
        bars_held: 0,
        forced: Boolean(x.forced),
      }));
    }
    return r;
  }

  /** Records every `trade` event of the bus (a shadow's bus carries only its own). */
  attach(bus: EventBus): this {
    this.detach = bus.on('trade', (t) => this.add(t));
    return this;
  }

  add(t: ClosedTrade): void {
    this.closed.push(t);
    this.trades.push(t);
    if (this.trades.length > this.o.window) this.trades.splice(0, this.trades.length - this.o.window);
    if (!this.store) return;
    const figures = this.figures();
    this.chain = this.chain.then(() => this.write(t, figures)).catch((e: Error) => void (this.failure ??= e));
  }

  private columns(): TradeColumns {
    const t = this.trades;
    return {
      count: t.length,
      netPips: Float64Array.from(t, (x) => x.net_pips),
      side: Int8Array.from(t, (x) => (x.side === 'long' ? 1 : -1)),
      barsHeld: Float64Array.from(t, (x) => x.bars_held),
      exitTs: Float64Array.from(t, (x) => x.exit_ts),
      forced: Uint8Array.from(t, (x) => (x.forced ? 1 : 0)),
    };
  }

  /** The validation metrics of the window. */
  metrics(): Metrics {
    const days: number[] = [];
    if (this.trades.length > 0) {
      const first = Math.floor(this.trades[0].exit_ts / DAY_MS);
      const last = Math.floor(this.trades[this.trades.length - 1].exit_ts / DAY_MS);
      // day 0 (1970-01-01) was a Thursday: (d + 4) % 7 === 6 is a Saturday
      for (let d = first; d <= last; d++) if ((d + 4) % 7 !== 6) days.push(d);
    }
    return computeMetrics({ trades: this.columns(), days });
  }

  /** What Kelly sizing reads. */
  stats(): RollingStats {
    return rollingStats(this.columns());
  }

  figures(): PerformanceFigures {
    const m = this.metrics();
    const o = this.o;
    return {
      strategy: o.strategy,
      instrument: o.instrument,
      shadow: o.shadow,
      window_trades: o.window,
      trades: m.trades,
      net_pips: m.net_pips,
      expectancy: m.expectancy,
      win_rate: m.win_rate,
      payoff_ratio: m.payoff_ratio,
      sqn: m.sqn,
      max_drawdown_pips: m.max_drawdown_pips,
      sharpe: m.sharpe,
    };
  }

  /** The trade's profit in the account currency: its pips per unit × units × pip size, converted. */
  pnl(t: ClosedTrade): number {
    return ((t.net_pips / this.o.envUnits) * t.units * this.o.pipSize) / this.o.quotePerAccount;
  }

  private async write(t: ClosedTrade, f: PerformanceFigures): Promise<void> {
    const s = this.store!;
    const o = this.o;
    await s.transaction(async () => {
      await s.run(
        `INSERT INTO strategy_trades (run_id, strategy, shadow, instrument, side, units, entry_ts, exit_ts, entry_price, exit_price, gross_pips, cost_pips, net_pips, pnl, forced)
         VALUES ($1, $2, $3, $4, $5, $6, $7::TIMESTAMP, $8::TIMESTAMP, $9, $10, $11, $12, $13, $14, $15)`,
        [o.runId, o.strategy, o.shadow, o.instrument, t.side, t.units, tsOf(t.entry_ts), tsOf(t.exit_ts), t.entry_price, t.exit_price, t.gross_pips, t.cost_pips, t.net_pips, this.pnl(t), t.forced],
      );
      await s.run(
        `INSERT OR REPLACE INTO strategy_performance (strategy, instrument, shadow, run_id, updated_at, window_trades, trades, net_pips, expectancy, win_rate, payoff_ratio, sqn, max_drawdown_pips, sharpe)
         VALUES ($1, $2, $3, $4, $5::TIMESTAMP, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [f.strategy, f.instrument, f.shadow, o.runId, tsOf(t.ts), f.window_trades, f.trades, f.net_pips, f.expectancy, f.win_rate, f.payoff_ratio, f.sqn, f.max_drawdown_pips, f.sharpe],
      );
    });
  }

  /** Waits for the writes so far; a failed write is thrown here. */
  async flush(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.detach?.();
    await this.flush();
  }
}
