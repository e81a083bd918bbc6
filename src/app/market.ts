// Markets from the store for the application layer: the bars and sessions of a range, the feature rows
// a policy observes, and the in-sample market a fitting policy learns from. Backtests, validations,
// walk-forwards and (later) training all load their data through here.
import type { Config } from '../config/schema.js';
import type { TimeRange } from '../data/range.js';
import { loadMarket, type Market } from '../env/market.js';
import { loadFeatures } from '../features/store.js';
import { getPolicySpec } from '../agent/policies/registry.js';
import type { FitSample } from '../agent/policies/types.js';
import type { Store } from '../store/db.js';
import { UsageError } from '../util/errors.js';

export interface MarketRequest {
  instrument: string;
  range: TimeRange;
  sessions: number | 'all';
  seed: number;
  /** Feature set whose rows are loaded (and whose warm-up/gap rows rule sessions out), or null. */
  featureSet: string | null;
}

/** The instrument to use: the given one, or the only one in the store. */
export async function pickInstrument(store: Store, given: string | undefined): Promise<string> {
  if (given) return given;
  const rows = await store.all<{ instrument: string }>('SELECT DISTINCT instrument FROM bars ORDER BY instrument');
  if (rows.length === 1) return rows[0].instrument;
  if (rows.length === 0) throw new UsageError('the store holds no bars: import or synthesise data first (swt data import | swt data synth)');
  throw new UsageError(`the store holds several instruments (${rows.map((r) => r.instrument).join(', ')}): choose one with --instrument`);
}

/** The feature set a run of these policies needs: the given one, the default when any policy observes, else none. */
export function featureSetFor(config: Config, policies: readonly string[], given: string | null | undefined): string | null {
  if (given) return given;
  return policies.some((p) => getPolicySpec(p).observes) ? config.features.default_set : null;
}

export async function loadStoreMarket(store: Store, config: Config, req: MarketRequest): Promise<Market> {
  const set = req.featureSet;
  return loadMarket(
    store,
    {
      instrument: req.instrument,
      range: req.range,
      sessionLength: config.data.session_length,
      maxGap: config.data.max_gap_minutes,
      sessions: req.sessions,
      seed: req.seed,
      stack: config.env.stack,
      spreads: config.env.spread === 'recorded',
    },
    set
      ? async (bars) => {
          const f = await loadFeatures(store, set, req.instrument, bars.ts);
          return { set: f.set.name, hash: f.set.hash, matrix: { data: f.data, nFeatures: f.nFeatures }, ok: (t: number) => f.status[t] === 0 };
        }
      : undefined,
  );
}

/**
 * The in-sample range of a fitting policy: the one given, else everything before the tested range's
 * start. A tested range without a start leaves nothing before it: the user must say what to fit on.
 */
export function fitRangeFor(policy: string, tested: TimeRange, given: TimeRange | null): TimeRange {
  if (given && (given.from || given.to)) {
    if (given.to && tested.from && given.to > tested.from) {
      throw new UsageError(`the fit range of '${policy}' (to ${given.to.toISOString()}) overlaps the tested range (from ${tested.from.toISOString()}): fit in sample, test out of sample`);
    }
    return given;
  }
  if (!tested.from) {
    throw new UsageError(`'${policy}' is fitted on in-sample data: give --fit-from/--fit-to, or a --from whose earlier data it can be fitted on`);
  }
  return { from: null, to: tested.from };
}

export interface FitMarket {
  market: Market;
  /** The resolved in-sample range (what a stored run records). */
  range: TimeRange;
}

/** The in-sample market of a policy that fits (null for one that does not). */
export async function loadFitMarket(store: Store, config: Config, policy: string, req: MarketRequest, fitRange: TimeRange | null): Promise<FitMarket | null> {
  if (!getPolicySpec(policy).fits) return null;
  const range = fitRangeFor(policy, req.range, fitRange);
  const market = await loadStoreMarket(store, config, { ...req, range, sessions: 'all', featureSet: req.featureSet ?? config.features.default_set });
  return { market, range };
}

/** A FitSample of a fit market (its features are loaded: a fitting policy observes). */
export function fitSampleOf(fit: FitMarket | null): FitSample | null {
  if (!fit) return null;
  const m = fit.market;
  if (!m.features) throw new UsageError('the fit market has no feature rows');
  return { bars: m.bars, features: m.features, episodes: m.episodes };
}

export const isoOrNull = (d: Date | null): string | null => (d ? d.toISOString().replace('.000Z', 'Z') : null);
