// The synthetic series a request asks for: instrument, dates, seed, planted edge, and the file it is
// written to (the default name carries the generator version and every choice).
import type { Config } from '../config/schema.js';
import { instrumentSpec } from '../config/load.js';
import { weekCalendar } from '../data/calendar.js';
import path from 'node:path';
import { SYNTH_VERSION } from '../data/synth.js';
import { UsageError } from '../util/errors.js';

export interface SynthChoice {
  instrument?: string;
  from?: string;
  to?: string;
  seed?: number;
  edge?: boolean;
  edgeStrength?: number;
  edgeHalfLife?: number;
  out?: string;
}

export function synthOptions(config: Config, o: SynthChoice) {
  const instrument = o.instrument ?? config.synth.instrument;
  const from = o.from ?? config.synth.from;
  const to = o.to ?? config.synth.to;
  for (const [k, v] of [['--from', from], ['--to', to]] as const) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || !Number.isFinite(Date.parse(`${v}T00:00:00Z`))) throw new UsageError(`${k} must be a date YYYY-MM-DD, got "${v}"`);
  }
  if (Date.parse(to) < Date.parse(from)) throw new UsageError(`--to ${to} is before --from ${from}`);
  const seed = o.seed ?? config.synth.seed;
  const edge = Boolean(o.edge);
  const file = o.out ?? defaultSynthFile(instrument, from, to, seed, edge);
  return {
    instrument,
    file,
    gen: {
      from,
      to,
      seed,
      startPrice: config.synth.start_price,
      pipSize: instrumentSpec(config, instrument).pip_size,
      calendar: weekCalendar(config),
      edge,
      edgeStrengthPips: o.edgeStrength,
      edgeHalfLifeMinutes: o.edgeHalfLife,
    },
  };
}

/** data/synth/<instrument>_M1_<from>_<to>_seed<S>[_edge]_v<generator version>.csv */
export function defaultSynthFile(instrument: string, from: string, to: string, seed: number, edge: boolean): string {
  return path.join('data', 'synth', `${instrument}_M1_${from}_${to}_seed${seed}${edge ? '_edge' : ''}_v${SYNTH_VERSION}.csv`);
}
