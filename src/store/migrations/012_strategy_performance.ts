import type { Migration } from './index.js';

// Shadow strategies in the live journal (issue 14): a run journals its live strategy and every shadow
// in the same tables, each row tagged by `strategy` (the policy spec as given); `shadow` marks the rows
// of a simulated book, so a restart resumes the live position from the live rows only. fills is rebuilt
// because its key must hold the strategy: each shadow's paper book numbers its transactions from 1,
// like the live broker's may. Older rows take their order's strategy (fills) or stay NULL (= live).
// Re-runnable (a store set back to an older version runs it again): a fill's strategy is its order's.
// strategy_performance: the rolling figures of each strategy on an instrument, over its last `window`
// closed trades in strategy_trades, rewritten as each trade closes (src/live/performance.ts).
export const m012StrategyPerformance: Migration = {
  version: 12,
  name: 'shadow strategies: strategy-tagged journal rows, strategy_performance',
  up: [
    `ALTER TABLE orders ADD COLUMN IF NOT EXISTS shadow BOOLEAN DEFAULT FALSE`,
    `ALTER TABLE decisions ADD COLUMN IF NOT EXISTS shadow BOOLEAN DEFAULT FALSE`,
    `ALTER TABLE positions ADD COLUMN IF NOT EXISTS strategy VARCHAR`,
    `ALTER TABLE positions ADD COLUMN IF NOT EXISTS shadow BOOLEAN DEFAULT FALSE`,
    `ALTER TABLE reconciliations ADD COLUMN IF NOT EXISTS strategy VARCHAR`,
    `ALTER TABLE events ADD COLUMN IF NOT EXISTS strategy VARCHAR`,
    `CREATE TABLE fills_012 (run_id VARCHAR NOT NULL, strategy VARCHAR NOT NULL, transaction_id VARCHAR NOT NULL, client_id VARCHAR, instrument VARCHAR NOT NULL,
       units DOUBLE NOT NULL, price DOUBLE NOT NULL, mid DOUBLE, ts TIMESTAMP NOT NULL, PRIMARY KEY (run_id, strategy, transaction_id))`,
    `INSERT INTO fills_012 SELECT f.run_id, COALESCE((SELECT o.strategy FROM orders o WHERE o.client_id = f.client_id), ''), f.transaction_id, f.client_id, f.instrument,
       f.units, f.price, f.mid, f.ts FROM fills f`,
    `DROP TABLE fills`,
    `ALTER TABLE fills_012 RENAME TO fills`,
    `CREATE TABLE IF NOT EXISTS strategy_performance (strategy VARCHAR NOT NULL, instrument VARCHAR NOT NULL, shadow BOOLEAN NOT NULL, run_id VARCHAR NOT NULL,
       updated_at TIMESTAMP NOT NULL, window_trades INTEGER NOT NULL, trades INTEGER NOT NULL, net_pips DOUBLE NOT NULL, expectancy DOUBLE, win_rate DOUBLE,
       payoff_ratio DOUBLE, sqn DOUBLE, max_drawdown_pips DOUBLE NOT NULL, sharpe DOUBLE, PRIMARY KEY (strategy, instrument))`,
  ],
};
