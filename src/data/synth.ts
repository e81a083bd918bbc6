// `swt data synth`: the embedded default dataset. A deterministic (per seed) GBP/JPY-like M1 series:
//  - returns are Student-t (4 dof, fat tails) scaled by an intraday volatility profile (Asia quiet,
//    London and the London/New York overlap busy) and a slowly varying volatility regime;
//  - the market is closed from Friday 21:00 to Sunday 21:00 UTC;
//  - rare short gaps (1-8 missing minutes) and occasional news-like spikes (a jump, then a few minutes
//    of several-fold volatility);
//  - bars: open = previous close, close = open + return, high/low extend beyond the body by half-normal
//    amounts proportional to the minute's volatility; prices rounded to 0.001 like real JPY quotes.
//
// `--edge` plants a learnable pattern of known strength: the price is the random walk PLUS an
// Ornstein-Uhlenbeck deviation with stationary standard deviation `edgeStrengthPips` and half-life
// `edgeHalfLifeMinutes`. Deviations revert: a trader who fades a z-score of the close against its
// recent mean earns, on average, a fraction of the deviation per trade (minus the spread). With the
// defaults (12 pips, 30 minutes) a mean-reversion policy on a 60-bar window can beat a 4-pip round
// trip; without `--edge` no policy can, beyond luck.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Prng } from '../util/prng.js';
import { inClosureMs, type WeekCalendar } from './calendar.js';

/** Bumped whenever the generator's output for a given seed changes (it is part of default file names). */
export const SYNTH_VERSION = 2;

export interface SynthOptions {
  from: string; // YYYY-MM-DD, first day (00:00 UTC)
  to: string; // YYYY-MM-DD, last day (inclusive)
  seed: number;
  startPrice: number;
  pipSize: number;
  calendar: WeekCalendar;
  edge?: boolean;
  edgeStrengthPips?: number;
  edgeHalfLifeMinutes?: number;
}

export interface SynthSummary {
  bars: number;
  first: string;
  last: string;
  gaps: number;
  spikes: number;
  edge: null | { strength_pips: number; half_life_minutes: number };
}

/** Volatility multiplier by UTC hour: Asia quiet, London busy, London/NY overlap busiest. */
export const HOURLY_VOL = [
  0.55, 0.55, 0.55, 0.6, 0.6, 0.65, 0.8, 1.15, 1.3, 1.3, 1.2, 1.15, 1.35, 1.5, 1.55, 1.45, 1.1, 0.95, 0.85, 0.75, 0.65, 0.55, 0.5, 0.5,
];

const BASE_SIGMA_PIPS = 1.75;
const T4_SCALE = Math.SQRT1_2; // Student-t(4) has variance 2: scale to unit variance

/** Calls `emit` for every generated bar in time order (epoch ms, o, h, l, c, volume). */
export function generateBars(
  opts: SynthOptions,
  emit: (ms: number, o: number, h: number, l: number, c: number, v: number) => void,
): SynthSummary {
  const rng = new Prng(opts.seed);
  const start = Date.parse(`${opts.from}T00:00:00Z`);
  const end = Date.parse(`${opts.to}T00:00:00Z`) + 86_400_000;
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) throw new Error(`bad synth range ${opts.from}..${opts.to}`);
  const pip = opts.pipSize;
  const theta = opts.edge ? Math.LN2 / (opts.edgeHalfLifeMinutes ?? 30) : 0;
  const edgeSd = opts.edge ? (opts.edgeStrengthPips ?? 12) : 0;
  const edgeInnov = opts.edge ? edgeSd * Math.sqrt(2 * theta - theta * theta) : 0;

  let walk = opts.startPrice / pip; // in pips
  let dev = 0; // OU deviation in pips (edge only)
  let logVol = 0;
  let spikeLeft = 0;
  let spikeMult = 1;
  let gapLeft = 0;
  let prevClose = Math.round(opts.startPrice * 1000) / 1000;
  let bars = 0;
  let gaps = 0;
  let spikes = 0;
  let first = -1;
  let last = -1;
  for (let ms = start; ms < end; ms += 60_000) {
    if (inClosureMs(ms, opts.calendar)) continue;
    const hour = Math.floor((ms % 86_400_000) / 3_600_000);
    logVol = 0.9985 * logVol + 0.0085 * rng.normal();
    let sigma = BASE_SIGMA_PIPS * HOURLY_VOL[hour] * Math.exp(logVol);
    let jump = 0;
    if (spikeLeft === 0 && rng.float() < 1 / 12_000) {
      spikes++;
      spikeLeft = 3 + rng.below(8);
      spikeMult = 5 + 7 * rng.float();
      jump = (rng.float() < 0.5 ? -1 : 1) * (15 + 60 * rng.float());
    }
    if (spikeLeft > 0) {
      sigma *= 1 + (spikeMult - 1) * (spikeLeft / 10);
      spikeLeft--;
    }
    // Student-t(4): normal / sqrt(chi2_4 / 4)
    let chi = 0;
    for (let k = 0; k < 4; k++) {
      const z = rng.normal();
      chi += z * z;
    }
    const ret = sigma * T4_SCALE * (rng.normal() / Math.sqrt(chi / 4)) + jump;
    walk += ret;
    if (opts.edge) dev = dev * (1 - theta) + edgeInnov * rng.normal();
    const wickUp = Math.abs(rng.normal()) * 1.2 * sigma;
    const wickDown = Math.abs(rng.normal()) * 1.2 * sigma;
    const volume = Math.max(1, Math.round(8 + 55 * (sigma / BASE_SIGMA_PIPS) * (0.5 + rng.float())));
    if (gapLeft > 0) {
      gapLeft--; // the market moved but no bar was recorded (a feed gap)
      prevClose = Math.round((walk + dev) * pip * 1000) / 1000;
      continue;
    }
    if (rng.float() < 1 / 25_000) {
      gaps++;
      gapLeft = 1 + rng.below(8);
    }
    const o = prevClose;
    const c = Math.round((walk + dev) * pip * 1000) / 1000;
    const h = Math.round((Math.max(o, c) + wickUp * pip) * 1000) / 1000;
    const l = Math.round((Math.min(o, c) - wickDown * pip) * 1000) / 1000;
    emit(ms, o, h, l, c, volume);
    prevClose = c;
    bars++;
    if (first < 0) first = ms;
    last = ms;
  }
  return {
    bars,
    first: new Date(first).toISOString().replace('.000Z', 'Z'),
    last: new Date(last).toISOString().replace('.000Z', 'Z'),
    gaps,
    spikes,
    edge: opts.edge ? { strength_pips: edgeSd, half_life_minutes: opts.edgeHalfLifeMinutes ?? 30 } : null,
  };
}

/** Writes the series as a `csv`-format file (ts,open,high,low,close,volume; ISO UTC). */
export function writeSynthCsv(file: string, opts: SynthOptions): SynthSummary {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const fd = openSync(file, 'w');
  let buf: string[] = ['ts,open,high,low,close,volume'];
  // Formatting a Date per bar dominates the run time: format the day once, the minute by arithmetic.
  let dayStart = -1;
  let dayPrefix = '';
  const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
  const flush = () => {
    writeSync(fd, `${buf.join('\n')}\n`);
    buf = [];
  };
  try {
    const summary = generateBars(opts, (ms, o, h, l, c, v) => {
      if (ms >= dayStart + 86_400_000 || dayStart < 0) {
        dayStart = ms - (ms % 86_400_000);
        dayPrefix = new Date(dayStart).toISOString().slice(0, 11);
      }
      const minute = (ms - dayStart) / 60_000;
      const ts = `${dayPrefix}${pad2(Math.floor(minute / 60))}:${pad2(minute % 60)}:00Z`;
      buf.push(`${ts},${o.toFixed(3)},${h.toFixed(3)},${l.toFixed(3)},${c.toFixed(3)},${v}`);
      if (buf.length >= 50_000) flush();
    });
    if (buf.length) flush();
    return summary;
  } finally {
    closeSync(fd);
  }
}
