// Feature sets: what the agent sees of the market. A spec names the WST configuration, the window,
// its normalisation, the cyclical time features and any extra columns; its hash identifies the set in
// the store, so features computed under one spec are never read as another.
import { z } from 'zod';
import { hashOf } from '../config/load.js';

export const TIME_FEATURES = ['week_hour', 'day_hour'] as const;
export const EXTRA_COLUMNS = ['return_pips', 'range_pips'] as const;

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
  /** Cyclical time features, each as sin and cos: hour of the 120-hour FX week, hour of the day. */
  time_features: z.array(z.enum(TIME_FEATURES)),
  /** Raw per-bar extras: close-to-close return and high-low range, in pips. */
  extra: z.array(z.enum(EXTRA_COLUMNS)),
  /** A window containing a non-weekend gap of more missing minutes than this is not computed. */
  max_gap_minutes: z.number().int().min(0),
});

export type FeatureSpec = z.infer<typeof featureSpecSchema>;

export function specHash(spec: FeatureSpec): string {
  return hashOf(spec);
}

/** Column names in storage and observation order: WST paths, then time features, then extras. */
export function featureColumns(spec: FeatureSpec, wstChannels: number): string[] {
  const cols: string[] = [];
  for (let c = 0; c < wstChannels; c++) cols.push(`wst_${c}`);
  for (const t of spec.time_features) cols.push(`${t}_sin`, `${t}_cos`);
  for (const e of spec.extra) cols.push(e);
  return cols;
}

/** Feature-set names become table names: keep them simple. */
export function checkSetName(name: string): string {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(name)) throw new Error(`feature set names are lower-case letters, digits and _ (got "${name}")`);
  return name;
}
