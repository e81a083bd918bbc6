import type { Migration } from './index.js';

// Closed trades per strategy of a live or paper run: the live strategy's (from broker fills) and each
// shadow's (from its own paper book), tagged by strategy. Rolling performance, the promoter's
// bootstrap and Kelly sizing all read this one table, so a strategy's record is computed in one place.
// `strategy` is the policy spec as given (e.g. `muzero:checkpoint=best`); `shadow` says whether the
// trade was only simulated. gross/cost/net_pips are the market core's, for one position of env.units
// whatever size was traded (so they compare with the validation's trades across sizes and rollout
// stages); `units` is the size traded and pnl its result in the account currency (NULL when unknown).
export const m011StrategyTrades: Migration = {
  version: 11,
  name: 'strategy trades: closed trades per strategy (live and shadow)',
  up: [
    `CREATE TABLE IF NOT EXISTS strategy_trades (run_id VARCHAR NOT NULL, strategy VARCHAR NOT NULL, shadow BOOLEAN NOT NULL,
       instrument VARCHAR NOT NULL, side VARCHAR NOT NULL, units DOUBLE NOT NULL, entry_ts TIMESTAMP NOT NULL, exit_ts TIMESTAMP NOT NULL,
       entry_price DOUBLE NOT NULL, exit_price DOUBLE NOT NULL, gross_pips DOUBLE NOT NULL, cost_pips DOUBLE NOT NULL,
       net_pips DOUBLE NOT NULL, pnl DOUBLE, forced BOOLEAN NOT NULL)`,
  ],
};
