// Numbered migrations, applied in order and recorded in schema_version. Never edit a released
// migration: add a new one.
import { m001Data } from './001_data.js';
import { m002Features } from './002_features.js';
import { m003Backtests } from './003_backtests.js';
import { m004Validations } from './004_validations.js';
import { m005Checkpoints } from './005_checkpoints.js';
import { m006SnakeCase } from './006_snake_case.js';
import { m007RunFitRange } from './007_run_fit_range.js';
import { m008LiveJournal } from './008_live_journal.js';
import { m009Training } from './009_training.js';
import { m010BarSpreads } from './010_bar_spreads.js';
import { m011StrategyTrades } from './011_strategy_trades.js';
import { m012StrategyPerformance } from './012_strategy_performance.js';
import { m013Promotions } from './013_promotions.js';
import { m014Sweeps } from './014_sweeps.js';
import { m015SweepTraining } from './015_sweep_training.js';

export interface Migration {
  version: number;
  name: string;
  up: string[];
}

export const migrations: Migration[] = [m001Data, m002Features, m003Backtests, m004Validations, m005Checkpoints, m006SnakeCase, m007RunFitRange, m008LiveJournal, m009Training, m010BarSpreads, m011StrategyTrades, m012StrategyPerformance, m013Promotions, m014Sweeps, m015SweepTraining].sort((a, b) => a.version - b.version);
