// TEMPORARY adapter until the single feature-row builder lands (agent A): replaced at merge.
import type { Config } from '../config/schema.js';
import type { BarSeries } from '../env/types.js';
import type { FeatureRowSource } from '../live/session.js';

export function liveFeatureRows(_config: Config, _set: string, _instrument: string): FeatureRowSource {
  throw new Error('live feature rows: waiting for the single feature-row builder');
}
export type { BarSeries };
