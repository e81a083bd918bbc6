// Episodes: sessions (fixed-length windows at given start indices) or one continuous range, and seeded
// sampling of sessions.
import { Prng } from '../util/prng.js';
import { EnvInputError, type BarSeries, type EpisodeSet, type FeatureMatrix } from './types.js';

function check(start: number, end: number, nBars: number, what: string): void {
  if (!Number.isInteger(start) || !Number.isInteger(end)) throw new EnvInputError(`${what}: bar indices must be integers, got [${start}, ${end})`);
  if (start < 0 || end > nBars) throw new EnvInputError(`${what}: bars [${start}, ${end}) fall outside the series of ${nBars} bars`);
  if (end - start < 2) throw new EnvInputError(`${what}: an episode needs at least 2 bars (one decision and its fill), got [${start}, ${end})`);
}

/** Episodes [s, s + length) for each session start index s. */
export function sessionEpisodes(starts: ArrayLike<number>, length: number, nBars: number): EpisodeSet {
  if (!Number.isInteger(length) || length < 2) throw new EnvInputError(`session length must be an integer >= 2, got ${length}`);
  const n = starts.length;
  const start = new Int32Array(n);
  const end = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    check(starts[i], starts[i] + length, nBars, `session ${i}`);
    start[i] = starts[i];
    end[i] = starts[i] + length;
  }
  return { start, end };
}

/** Episodes from explicit [start, end) pairs (sessions of different lengths). */
export function episodesFromRanges(starts: ArrayLike<number>, ends: ArrayLike<number>, nBars: number): EpisodeSet {
  if (starts.length !== ends.length) throw new EnvInputError(`episode starts (${starts.length}) and ends (${ends.length}) differ in count`);
  const start = Int32Array.from(starts);
  const end = Int32Array.from(ends);
  for (let i = 0; i < start.length; i++) check(starts[i], ends[i], nBars, `episode ${i}`);
  return { start, end };
}

/** One continuous episode over bars [from, to). */
export function rangeEpisode(from: number, to: number, nBars: number): EpisodeSet {
  check(from, to, nBars, 'range');
  return { start: Int32Array.of(from), end: Int32Array.of(to) };
}

/** Bar-index range [from, to) of the bars whose ts lies in [fromTs, toTs) (binary search). */
export function indexRange(bars: BarSeries, fromTs: number, toTs: number): { from: number; to: number } {
  const lower = (x: number): number => {
    let lo = 0;
    let hi = bars.ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bars.ts[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return { from: lower(fromTs), to: lower(toTs) };
}

/**
 * Seeded sample of `n` episodes. Without replacement (backtests) the chosen episodes keep their
 * original (chronological) order; with replacement (training) they come in draw order. `n` larger than
 * the set without replacement is an error, not a silent truncation.
 */
export function sampleEpisodes(set: EpisodeSet, n: number, seed: number, opts: { replace?: boolean } = {}): EpisodeSet {
  const total = set.start.length;
  if (!Number.isInteger(n) || n < 0) throw new EnvInputError(`number of sessions must be an integer >= 0, got ${n}`);
  if (total === 0 && n > 0) throw new EnvInputError('no valid session to sample from');
  const rng = new Prng(seed, 0x5e55);
  const idx = new Int32Array(n);
  if (opts.replace) {
    for (let i = 0; i < n; i++) idx[i] = rng.below(total);
  } else {
    if (n > total) throw new EnvInputError(`asked for ${n} sessions but only ${total} are available`);
    const perm = new Int32Array(total);
    for (let i = 0; i < total; i++) perm[i] = i;
    for (let i = 0; i < n; i++) {
      const j = i + rng.below(total - i);
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    idx.set(perm.subarray(0, n));
    idx.sort();
  }
  const start = new Int32Array(n);
  const end = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    start[i] = set.start[idx[i]];
    end[i] = set.end[idx[i]];
  }
  return { start, end };
}

/** Number of bars and of decisions (bars − 1 per episode) in a set. */
export function episodeTotals(set: EpisodeSet): { bars: number; decisions: number } {
  let bars = 0;
  for (let i = 0; i < set.start.length; i++) bars += set.end[i] - set.start[i];
  return { bars, decisions: bars - set.start.length };
}

/**
 * Sessions given by their first bar's timestamp (the sessions table) → episodes of `length` bars.
 * Every start must be a bar of the series exactly; a missing one is an error naming it.
 */
export function sessionEpisodesFromTimes(bars: BarSeries, startTs: ArrayLike<number>, length: number): EpisodeSet {
  const n = bars.ts.length;
  const idx = new Array<number>(startTs.length);
  for (let i = 0; i < startTs.length; i++) {
    const { from } = indexRange(bars, startTs[i], startTs[i]);
    if (from >= n || bars.ts[from] !== startTs[i]) {
      throw new EnvInputError(`session ${i} starts at ${new Date(startTs[i]).toISOString()}, which is not a bar of the series`);
    }
    idx[i] = from;
  }
  return sessionEpisodes(idx, length, n);
}

/**
 * Refuses a feature matrix that does not cover the episodes: every row an observation can read (the
 * episode's bars and the K − 1 before it) must be finite. Names the first bad bar.
 */
export function checkFeatureCoverage(bars: BarSeries, features: FeatureMatrix, episodes: EpisodeSet, stack = 1): void {
  const F = features.nFeatures;
  const d = features.data;
  if (d.length !== bars.ts.length * F) {
    throw new EnvInputError(`the feature matrix has ${d.length / Math.max(F, 1)} rows for ${bars.ts.length} bars`);
  }
  for (let e = 0; e < episodes.start.length; e++) {
    const from = Math.max(0, episodes.start[e] - stack + 1);
    for (let t = from; t < episodes.end[e]; t++) {
      for (let j = 0; j < F; j++) {
        if (!Number.isFinite(d[t * F + j])) {
          throw new EnvInputError(
            `the feature set does not cover bar ${t} (${new Date(bars.ts[t]).toISOString()}): feature ${j} is ${d[t * F + j]}; episode ${e} needs bars ${from}..${episodes.end[e] - 1}`,
          );
        }
      }
    }
  }
}
