// Loads the Kymatio reference outputs in ../shared/fixtures/wst (see its README.md).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED } from './paths.js';

export interface WstFixtureSignal {
  name: string;
  normalisation: string;
  x: number[];
  x_raw: number[] | null;
  S: number[][];
  S_time_mean: number[];
}

export interface WstFixture {
  file: string;
  config_name: string;
  call_kwargs: { J: number; shape: number; Q: number | [number, number]; max_order: number };
  output_shape_single: [number, number];
  n_coeffs_per_order: number[];
  meta: {
    order: number[];
    key: number[][];
    n: (number | null)[][];
    j: (number | null)[][];
    xi: (number | null)[][];
    sigma: (number | null)[][];
  };
  signals: WstFixtureSignal[];
}

export const WST_FIXTURE_DIR = path.join(SHARED, 'fixtures', 'wst');

export function loadWstFixtures(): WstFixture[] {
  const index = JSON.parse(readFileSync(path.join(WST_FIXTURE_DIR, 'index.json'), 'utf8')) as { files: { file: string }[] };
  return index.files.map((f) => ({ file: f.file, ...(JSON.parse(readFileSync(path.join(WST_FIXTURE_DIR, f.file), 'utf8')) as Omit<WstFixture, 'file'>) }));
}

/** The tolerance: |d| <= 1e-10 + 1e-8 |ref|. Returns the first violation, or null. */
export function firstMismatch(got: ArrayLike<number>, ref: ArrayLike<number>): string | null {
  if (got.length !== ref.length) return `length ${got.length} != ${ref.length}`;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    if (!(d <= 1e-10 + 1e-8 * Math.abs(ref[i]))) return `index ${i}: ${got[i]} vs ${ref[i]} (|d| = ${d})`;
  }
  return null;
}

/** Q as Scattering1D was called: an integer Q means (Q, 1). */
export function fixtureQ(f: WstFixture): [number, number] {
  const q = f.call_kwargs.Q;
  return typeof q === 'number' ? [q, 1] : [q[0], q[1]];
}
