// Feature sets: what the agent sees of the market. A spec names the WST configuration, the window,
// its normalisation, the directional inputs, the cyclical time features and any extra columns; its
// hash identifies the set in the store, so features computed under one spec are never read as another.
import { z } from 'zod';
import { hashOf } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { UsageError } from '../util/errors.js';

export const TIME_FEATURES = ['week_hour', 'day_hour'] as const;
export const EXTRA_COLUMNS = ['return_pips', 'range_pips'] as const;

/**
 * Scale-free inputs that carry the direction of the market. Orders 1 and 2 of the scattering
 * transform are moduli (a window and its mirror image give the same values) and the mean of the
 * order-0 path of a z-scored window is ~0, so without these a feature row cannot tell up from down.
 */
export const directionalSchema = z
  .strictObject({
    /** The order-0 path at each of its window / 2^J output times (`wst_0_t<k>`), not only its mean. */
    order0_samples: z.boolean(),
    /** z-score of the last close within the window, (close_t - mean) / std (`close_z`). */
    close_zscore: z.boolean(),
    /**
     * Log returns over these horizons (bars), scaled by the rolling volatility (`ret_<h>_z`):
     * ln(close_t / close_{t-h}) / (sigma_t * sqrt(h)), 0 when sigma_t is 0.
     */
    return_horizons: z.array(z.number().int().min(1).max(100_000)),
    /** sigma_t = root mean square of the last `vol_bars` one-bar log returns, ln(close_j / close_{j-1}) for j = t-vol_bars+1..t. */
    vol_bars: z.number().int().min(2).max(100_000),
  })
  .refine((d) => new Set(d.return_horizons).size === d.return_horizons.length, { message: 'return_horizons must not repeat a horizon', path: ['return_horizons'] });

const NO_DIRECTIONAL = { order0_samples: false, close_zscore: false, return_horizons: [], vol_bars: 240 };

export const featureSpecSchema = z.strictObject({
  wst: z.strictObject({
    J: z.number().int().min(1).max(8),
    Q: z.tuple([z.number().int().min(1).max(32), z.number().int().min(1).max(32)]),
    max_order: z.union([z.literal(1), z.literal(2)]),
  }),
  /** Bars per WST window (a power of two; Kymatio's `shape`). */
  window: z.number().int().refine((n) => n >= 16 && (n & (n - 1)) === 0, 'window must be a power of two >= 16'),
  input: z.literal('close'),
  /** Each window is z-scored: (w - mean) / std, population std; a flat window gives zeros. */
  normalisation: z.literal('zscore'),
  /** Directional inputs; absent means none. */
  directional: directionalSchema.default(NO_DIRECTIONAL),
  /** Cyclical time features, each as sin and cos: hour of the 120-hour FX week, hour of the day. */
  time_features: z.array(z.enum(TIME_FEATURES)),
  /** Raw per-bar extras: close-to-close return and high-low range, in pips. */
  extra: z.array(z.enum(EXTRA_COLUMNS)),
  /** A row whose lookback holds a non-weekend gap of more missing minutes than this is not computed. */
  max_gap_minutes: z.number().int().min(0),
});

export type FeatureSpec = z.infer<typeof featureSpecSchema>;

export function specHash(spec: FeatureSpec): string {
  return hashOf(spec);
}

/** The spec of a configured set (features.sets.<name>), validated; a clear error for an unknown name or a bad field. */
export function specFromConfig(config: Config, name: string): FeatureSpec {
  const raw = config.features.sets[name];
  if (!raw) {
    throw new UsageError(`unknown feature set "${name}": the config defines ${Object.keys(config.features.sets).join(', ')} (features.sets)`);
  }
  const r = featureSpecSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UsageError(`config features.sets.${name}.${issue.path.join('.')}: ${issue.message}`);
  }
  return r.data;
}

/** Top-level spec fields whose values differ between two specs (to say why a stored set is refused). */
export function specDifferences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => hashOf(a[k] ?? null) !== hashOf(b[k] ?? null));
}

/**
 * Column names in storage and observation order: the columns that need a lookback (WST paths, the
 * order-0 samples, close_z, the scaled returns), then time features, then extras.
 */
export function featureColumns(spec: FeatureSpec, dims: { channels: number; tOut: number }): string[] {
  const cols: string[] = [];
  for (let c = 0; c < dims.channels; c++) cols.push(`wst_${c}`);
  const d = spec.directional;
  if (d.order0_samples) for (let k = 0; k < dims.tOut; k++) cols.push(`wst_0_t${k}`);
  if (d.close_zscore) cols.push('close_z');
  for (const h of d.return_horizons) cols.push(`ret_${h}_z`);
  for (const t of spec.time_features) cols.push(`${t}_sin`, `${t}_cos`);
  for (const e of spec.extra) cols.push(e);
  return cols;
}

/** Feature-set names become table names: keep them simple. */
export function checkSetName(name: string): string {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(name)) throw new Error(`feature set names are lower-case letters, digits and _ (got "${name}")`);
  return name;
}
