import { z } from 'zod';

const instrument = z.strictObject({
  pip_size: z.number().positive(),
  spread_pips: z.number().nonnegative(),
});

const weekTime = z.strictObject({
  weekday: z.number().int().min(0).max(6),
  hour: z.number().int().min(0).max(23),
});

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');

// No .default() here: config/default.yaml is the one place MCTS defaults live (the native batch
// and its binding require every field; see src/agent/search.ts mctsConfigFromConfig).
const mcts = z.strictObject({
  simulations: z.number().int().min(1),
  mode: z.enum(['puct', 'gumbel']),
  chance: z.enum(['deterministic', 'sample']),
  discount: z.number().min(0).max(1),
  pb_c_init: z.number().nonnegative(),
  pb_c_base: z.number().positive(),
  dirichlet_alpha: z.number().positive(),
  exploration_fraction: z.number().min(0).max(1),
  value_fill: z.enum(['parent_mean', 'constant']),
  fill_value: z.number(),
  normalize: z.boolean(),
  gumbel: z.strictObject({
    max_considered: z.number().int().min(1),
    scale: z.number().nonnegative(),
    c_visit: z.number().nonnegative(),
    c_scale: z.number().nonnegative(),
    min_q_range: z.number().nonnegative(),
  }),
  support: z
    .strictObject({ lo: z.number(), hi: z.number(), bins: z.number().int().min(2) })
    .refine((s) => s.lo < s.hi, 'support: lo must be below hi'),
  threads: z.number().int().nonnegative(),
});

const host = z.strictObject({ rest_url: z.string().url(), stream_url: z.string().url() });

const risk = z.strictObject({
  max_position_units: z.number().positive(),
  max_order_units: z.number().positive(),
  max_orders_per_minute: z.number().int().min(1),
  daily_loss_pips: z.number().positive(),
  kill_switch_file: z.string().min(1).nullable(),
});

// Position sizing (src/live/sizing.ts; README "Position sizing"). units null: env.units.
const sizingFields = z.strictObject({
  method: z.enum(['fixed', 'kelly', 'safe_f']),
  units: z.number().positive().nullable(),
  kelly_fraction: z.number().gt(0).max(1),
  min_fraction: z.number().nonnegative(),
  max_fraction: z.number().positive(),
  min_trades: z.number().int().min(2),
  window: z.number().int().min(2),
  quote_per_account: z.number().positive(),
});
const sizing = sizingFields.refine((x) => x.min_fraction <= x.max_fraction, { message: 'min_fraction must be <= max_fraction', path: ['min_fraction'] });

// Live and paper trading (src/live). Secrets never live here: the token comes from token_env or
// token_file (a path; the file holds the token), and stays out of the config hash.
const live = z.strictObject({
  oanda: z.strictObject({
    practice: host,
    live: host,
    account_env: z.string().min(1),
    token_env: z.string().min(1),
    token_file: z.string().min(1).nullable(),
    timeout_ms: z.number().int().positive(),
    retries: z.number().int().nonnegative(),
    backoff_ms: z.number().int().positive(),
    max_backoff_ms: z.number().int().positive(),
    stale_ms: z.number().int().positive(),
    requests_per_second: z.number().positive().max(100),
    order_lookup_attempts: z.number().int().min(1),
    order_lookup_delay_ms: z.number().int().nonnegative(),
  }),
  risk,
  sizing,
  // per strategy (keyed by the policy spec as given to --policy / --shadow): overrides of risk and sizing
  strategies: z.record(z.string().min(1), z.strictObject({ risk: risk.partial().optional(), sizing: sizingFields.partial().optional() })),
  paper: z.strictObject({ slippage_pips: z.number().nonnegative(), balance: z.number().positive() }),
  reconcile_every_s: z.number().positive(),
  max_clock_skew_s: z.number().positive(),
  manual_trades: z.enum(['adopt', 'flatten']),
  flatten_before_close_minutes: z.number().int().nonnegative(),
  bar_grace_ms: z.number().int().nonnegative(),
  journal: z.string().min(1),
  api: z.strictObject({ host: z.string().min(1), port: z.number().int().min(0).max(65535), token_env: z.string().min(1), state_file: z.string().min(1) }),
});

// Training (src/agent/train, src/app/train.ts): self-play, replay, targets, losses, optimizer, evaluation,
// collapse guard. `train_presets` hold named overrides (of train, model, mcts, env) applied on top.
// PPO (src/agent/ppo, `swt train --algo ppo`): the actor-critic's sizes (they make its architecture_id)
// and the update. `ppo_presets` hold named overrides (of ppo, env) applied on top with --algo ppo.
const ppo = z.strictObject({
  model: z.strictObject({
    history: z.number().int().min(1).max(256),
    encoder: z.number().int().min(1).max(8192),
    actor_hidden: z.number().int().min(1).max(8192),
    critic_hidden: z.number().int().min(1).max(8192),
    layer_norm_epsilon: z.number().positive(),
  }),
  envs: z.number().int().min(1).max(4096),
  rollout: z.number().int().min(1).max(65536),
  gamma: z.number().gt(0).max(1),
  gae_lambda: z.number().min(0).max(1),
  clip: z.number().gt(0).max(1),
  value_clip: z.number().gt(0),
  value_coef: z.number().nonnegative(),
  entropy: z.number().nonnegative(),
  epochs: z.number().int().min(1).max(100),
  minibatch: z.number().int().min(1),
  reward_scale: z.number().positive(),
  initial_close_logit: z.number(),
  normalizer_epsilon: z.number().positive(),
  optimizer: z.strictObject({
    lr: z.number().positive(),
    beta1: z.number().min(0).lt(1),
    beta2: z.number().min(0).lt(1),
    epsilon: z.number().positive(),
    max_grad_norm: z.number().positive(),
  }),
  eval_every: z.number().int().min(1),
});

const train = z.strictObject({
  envs: z.number().int().min(1).max(4096),
  unroll: z.number().int().min(1).max(64),
  td_steps: z.number().int().min(1).max(1000),
  batch_size: z.number().int().min(1).max(65536),
  updates_per_iteration: z.number().int().min(1),
  min_replay_episodes: z.number().int().min(1),
  refresh_every: z.number().int().min(1),
  eval_every: z.number().int().min(1),
  eval_sessions: z.number().int().min(1),
  eval_simulations: z.number().int().min(0).max(400),
  eval_c_scale: z.number().nonnegative(),
  eval_min_trades: z.number().int().min(2),
  ema_decay: z.number().min(0).lt(1),
  holdout_fraction: z.number().gt(0).lt(1),
  seed: z.number().int().nonnegative(),
  hindsight: z.strictObject({ horizon: z.number().int().min(2).max(100000) }),
  replay: z.strictObject({
    capacity_episodes: z.number().int().min(1),
    trade_quota: z.number().min(0).max(1),
    recency_min: z.number().gt(0).max(1),
    entry_exit_share: z.number().min(0).max(1),
    success: z.strictObject({
      mode: z.enum(['off', 'top_episodes', 'profitable_trades']),
      top_fraction: z.number().gt(0).max(1),
      min_trade_pips: z.number(),
      capacity_episodes: z.number().int().min(1),
      batch_share: z.number().min(0).max(0.5),
    }),
  }),
  loss: z.strictObject({
    policy: z.number().nonnegative(),
    value: z.number().nonnegative(),
    reward: z.number().nonnegative(),
    chance: z.number().nonnegative(),
    q: z.number().nonnegative(),
    commitment: z.number().nonnegative(),
    hindsight: z.number().nonnegative(),
    entropy: z.number().nonnegative(),
    dynamics_gradient_scale: z.number().gt(0).max(1),
  }),
  optimizer: z.strictObject({
    lr: z.number().positive(),
    warmup_steps: z.number().int().nonnegative(),
    decay_steps: z.number().int().min(1),
    decay_rate: z.number().gt(0).max(1),
    min_lr: z.number().nonnegative(),
    beta1: z.number().gt(0).lt(1),
    beta2: z.number().gt(0).lt(1),
    epsilon: z.number().positive(),
    weight_decay: z.number().nonnegative(),
    max_grad_norm: z.number().positive(),
  }),
  exploration: z.strictObject({
    dirichlet_alpha: z.number().positive(),
    exploration_fraction: z.number().min(0).max(1),
    temperature_start: z.number().nonnegative(),
    temperature_end: z.number().nonnegative(),
    temperature_episodes: z.number().int().min(1),
    gumbel_scale: z.number().nonnegative(),
    random_action_start: z.number().min(0).max(1),
    random_action_end: z.number().min(0).max(1),
    random_action_episodes: z.number().int().min(1),
    random_action_in_position: z.number().min(0).max(1),
  }),
  guard: z.strictObject({
    window_decisions: z.number().int().min(1),
    min_decisions: z.number().int().min(1),
    hold_flat_max: z.number().gt(0).max(1),
    in_market_max: z.number().gt(0).max(1),
  }),
});

export const configSchema = z.strictObject({
  store: z.strictObject({ db: z.string().min(1), lock_wait_ms: z.number().int().nonnegative() }),
  log: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    file_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    dir: z.string().min(1),
  }),
  instruments: z.record(z.string().regex(/^[A-Z0-9]+_[A-Z0-9]+$|^[A-Z0-9_]+$/, 'instrument names look like GBP_JPY'), instrument),
  data: z.strictObject({
    max_gap_minutes: z.number().int().positive(),
    session_length: z.number().int().min(2),
    week_close: weekTime,
    week_open: weekTime,
    quality: z.strictObject({
      range_threshold_pips: z.number().positive(),
      fail_share_range_over: z.number().min(0).max(1),
      warn_share_range_over: z.number().min(0).max(1),
      fail_coverage: z.number().min(0).max(1),
      warn_coverage: z.number().min(0).max(1),
      warn_gaps_over_limit: z.number().int().nonnegative(),
      fail_ohlc_errors: z.number().int().nonnegative(),
      warn_bars_in_weekend: z.number().int().nonnegative(),
      warn_rejected_rows: z.number().int().nonnegative(),
    }),
  }),
  synth: z.strictObject({
    instrument: z.string().min(1),
    from: isoDate,
    to: isoDate,
    seed: z.number().int(),
    start_price: z.number().positive(),
  }),
  env: z.strictObject({
    units: z.number().positive(),
    spread: z.enum(['constant', 'recorded']),
    stack: z.number().int().min(1).max(4096),
    bar_ms: z.number().int().positive(),
    batch: z.number().int().min(1).max(65536),
    reward: z.strictObject({
      mode: z.enum(['amddp', 'dense']),
      penalty: z.number().nonnegative(),
      idle_penalty: z.number().nonnegative(),
    }),
  }),
  // Monte Carlo risk analysis (Bandy's safe-f / CAR25); defaults are his reference parameters.
  montecarlo: z.strictObject({
    forecast: z.number().int().min(1),
    curves: z.number().int().min(1),
    dd_tolerance: z.number().gt(0).lt(1),
    tail_pct: z.number().gt(0).lt(100),
    accuracy: z.number().positive(),
    max_iterations: z.number().int().min(1),
    periods_per_year: z.number().positive(),
    max_f: z.number().positive(),
    repeats: z.number().int().min(1),
    seed: z.number().int().nonnegative(),
    threads: z.number().int().nonnegative(),
  }),
  mcts,
  // The Stochastic MuZero networks (src/agent/network/spec.ts); their sizes make the architecture_id.
  model: z.strictObject({
    hidden: z.number().int().min(1).max(8192),
    blocks: z.number().int().min(0).max(64),
    head_hidden: z.number().int().min(0).max(8192),
    latent: z.number().int().min(1).max(8192),
    chance_codes: z.number().int().min(1).max(1024),
    layer_norm_epsilon: z.number().positive(),
  }),
  /** The main job (`swt main`, `npm start`): see src/app/main-job.ts. */
  main: z.strictObject({
    edge_instrument: z.string().regex(/^[A-Z0-9]+(_[A-Z0-9]+)*$/),
    train_preset: z.enum(['test', 'demo', 'default']),
    train_share: z.number().gt(0).lt(1),
    train_minutes: z.number().positive(),
    validation_sessions: z.number().int().min(10),
  }),
  train,
  train_presets: z.partialRecord(z.enum(['test', 'demo', 'default']), z.partialRecord(z.enum(['train', 'model', 'mcts', 'env']), z.record(z.string(), z.unknown()))),
  ppo,
  ppo_presets: z.partialRecord(z.enum(['test', 'demo', 'default']), z.partialRecord(z.enum(['ppo', 'train', 'env']), z.record(z.string(), z.unknown()))),
  checkpoints: z.strictObject({
    dir: z.string().min(1),
    keep_last: z.number().int().min(1),
    keep_best: z.number().int().nonnegative(),
  }),
  features: z.strictObject({
    default_set: z.string().min(1),
    // each set is validated against the feature spec schema when it is used (src/features/spec.ts)
    sets: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,40}$/, 'feature set names are lower-case letters, digits and _'), z.record(z.string(), z.unknown())),
    build: z.strictObject({
      chunk_rows: z.number().int().min(256),
      threads: z.number().int().nonnegative(),
    }),
  }),
  // Validation: gains, horizon, stress scenarios, grade gates, walk-forward, report, workers.
  validation: z.strictObject({
    gains: z.enum(['trade', 'daily', 'auto']),
    max_trade_forecast: z.number().int().min(1),
    forecast_years: z.number().positive(),
    scenarios: z.string().min(1),
    adverse_pips: z.number().nonnegative(),
    drop_random_fraction: z.number().min(0).lt(1),
    drop_winners_fraction: z.number().min(0).lt(1),
    longer_forecast_factor: z.number().positive(),
    early_stop_fraction: z.number().gt(0).lt(1),
    gates: z.strictObject({
      min_car25: z.number(),
      max_dd95: z.number().gt(0).max(1),
      min_profit_factor: z.number().nonnegative(),
      min_win_rate: z.number().min(0).max(1),
      min_trades: z.number().int().nonnegative(),
    }),
    deploy_min_score: z.number().min(0).max(100),
    walkforward: z.strictObject({
      folds: z.number().int().min(1),
      mode: z.enum(['rolling', 'anchored']),
      is_ratio: z.number().int().min(1),
      objective: z.enum(['net_pips', 'expectancy']),
      min_trades: z.number().int().min(1),
    }),
    report: z.strictObject({
      chart_points: z.number().int().min(10).max(5000),
      histogram_bins: z.number().int().min(5).max(200),
    }),
    workers: z.number().int().nonnegative(),
  }),
  live,
  // The auto-promoter (src/live/promoter.ts): swt promote, and its schedule inside swt live.
  promoter: z.strictObject({
    min_trades: z.number().int().min(2),
    confidence: z.number().gt(0.5).lt(1),
    resamples: z.number().int().min(100).max(1_000_000),
    stages: z
      .array(z.number().gt(0).max(1))
      .min(1)
      .refine((s) => s.every((x, i) => i === 0 || x > s[i - 1]) && s[s.length - 1] === 1, 'stages must increase and end at 1 (the full live size)'),
    rollback_last_n: z.number().int().min(2),
    schedule: z.string().regex(/^daily ([01]\d|2[0-3]):[0-5]\d UTC$/, "expected 'daily HH:MM UTC'"),
    seed: z.number().int().nonnegative(),
  }),
  // The dashboard (src/server): swt serve, swt live --dashboard. Its bearer token is never here: it
  // comes from the environment variable token_env only.
  dashboard: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    token_env: z.string().min(1),
    history: z.number().int().min(1).max(10_000),
    equity_points: z.number().int().min(10).max(100_000),
    throttle_ms: z.number().int().min(1),
    training_poll_ms: z.number().int().min(100),
    alerts: z.strictObject({
      check_every_ms: z.number().int().min(100),
      suppress_ms: z.number().int().nonnegative(),
      webhook_url: z.string().url().nullable(),
      webhook_timeout_ms: z.number().int().min(1),
      drawdown_pips: z.number().positive(),
      loss_streak: z.number().int().min(1),
      stale_feed_ms: z.number().int().min(1000),
      hold_share: z.number().gt(0).max(1),
      plateau_evaluations: z.number().int().min(2),
    }),
  }),
});

export type Config = z.infer<typeof configSchema>;
