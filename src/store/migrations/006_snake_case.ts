import type { Migration } from './index.js';

// Every stored JSON document is snake_case. Stores written before this migration hold camelCase keys in
// runs.env (the EnvConfig), runs.metrics and validations.result.metrics (the Metrics), and validation
// results of schema swt.validation/1 with provenance.env {pip_size, spread_pips, units, reward_mode}.
// They are converted in place: the renames below (the complete list of camelCase keys those documents
// had), then validation results are lifted to swt.validation/2 with `reward_mode` moved to
// `reward.mode` and `migrated_from: "swt.validation/1"` marking them (they never recorded the env's
// stack, bar_ms or reward penalties, so those stay absent). The lists are frozen here on purpose: a
// migration must keep meaning what it meant when it was released.
const METRICS_KEYS: ReadonlyArray<[string, string]> = [
  ['winRate', 'win_rate'],
  ['netPips', 'net_pips'],
  ['stdevPips', 'stdev_pips'],
  ['avgWin', 'avg_win'],
  ['avgLoss', 'avg_loss'],
  ['payoffRatio', 'payoff_ratio'],
  ['profitFactor', 'profit_factor'],
  ['sqnClass', 'sqn_class'],
  ['maxDrawdownPips', 'max_drawdown_pips'],
  ['sharpeDaily', 'sharpe_daily'],
  ['periodsPerYear', 'periods_per_year'],
  ['tradesPerDay', 'trades_per_day'],
  ['avgBarsHeld', 'avg_bars_held'],
  ['forcedCloses', 'forced_closes'],
];
const ENV_KEYS: ReadonlyArray<[string, string]> = [
  ['pipSize', 'pip_size'],
  ['spreadPips', 'spread_pips'],
  ['idlePenalty', 'idle_penalty'],
  ['barMs', 'bar_ms'],
];

/** SQL renaming the given object keys of a JSON text expression (a key is `"name"` followed by `:`). */
function renameKeys(expr: string, keys: ReadonlyArray<[string, string]>): string {
  return keys.reduce((e, [from, to]) => `regexp_replace(${e}, '"${from}"\\s*:', '"${to}":', 'g')`, expr);
}

export const m006SnakeCase: Migration = {
  version: 6,
  name: 'snake_case JSON documents (runs.env, runs.metrics, validations.result)',
  up: [
    `UPDATE runs SET env = ${renameKeys('env', ENV_KEYS)}, metrics = ${renameKeys('metrics', METRICS_KEYS)}`,
    `UPDATE validations SET result = (${renameKeys('result::VARCHAR', METRICS_KEYS)})::JSON`,
    `UPDATE validations SET result = json_merge_patch(result, json_object(
       'schema', 'swt.validation/2',
       'migrated_from', 'swt.validation/1',
       'provenance', json_object('env', json_object('reward_mode', NULL, 'reward', json_object('mode', result->>'$.provenance.env.reward_mode')))))
     WHERE result->>'$.schema' = 'swt.validation/1'`,
  ],
};
