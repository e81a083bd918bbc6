// A small Sobol' sequence generator (Gray-code order, 32 bits), enough for the few dimensions of a
// parameter sweep. Direction numbers are Joe & Kuo's (new-joe-kuo-6.21201) for dimensions 2..12;
// dimension 1 is the van der Corput sequence. Unshifted, the points equal
// scipy.stats.qmc.Sobol(scramble=False), test/sweep-sobol.test.ts checks known points. A seeded random
// digital shift (XOR of every coordinate with one random word per dimension) keeps the net property
// while letting two sweeps with different seeds see different points.
import { Prng } from '../../util/prng.js';

/** [s, a, m_1..m_s] per dimension from 2 on (Joe & Kuo 2008). */
const JOE_KUO: ReadonlyArray<readonly number[]> = [
  [1, 0, 1],
  [2, 1, 1, 3],
  [3, 1, 1, 3, 1],
  [3, 2, 1, 1, 1],
  [4, 1, 1, 1, 3, 3],
  [4, 4, 1, 3, 5, 13],
  [5, 2, 1, 1, 5, 5, 17],
  [5, 4, 1, 1, 5, 5, 5],
  [5, 7, 1, 1, 7, 11, 19],
  [5, 11, 1, 1, 5, 1, 1],
  [5, 13, 1, 1, 1, 3, 11],
];

const BITS = 32;
export const SOBOL_MAX_DIMENSIONS = JOE_KUO.length + 1;

/** Direction numbers v[d][k] (already shifted to 32-bit fractions) of `dims` dimensions. */
function directions(dims: number): Uint32Array[] {
  const out: Uint32Array[] = [];
  for (let d = 0; d < dims; d++) {
    const v = new Uint32Array(BITS);
    if (d === 0) {
      for (let k = 0; k < BITS; k++) v[k] = 2 ** (BITS - 1 - k);
    } else {
      const [s, a, ...m] = JOE_KUO[d - 1];
      for (let k = 0; k < Math.min(s, BITS); k++) v[k] = m[k] * 2 ** (BITS - 1 - k);
      for (let k = s; k < BITS; k++) {
        let x = v[k - s] ^ (v[k - s] >>> s);
        for (let j = 1; j < s; j++) if ((a >>> (s - 1 - j)) & 1) x ^= v[k - j];
        v[k] = x >>> 0;
      }
    }
    out.push(v);
  }
  return out;
}

export class Sobol {
  private readonly v: Uint32Array[];
  private readonly shift: Uint32Array;

  /** `seed` null: the plain sequence; a number: a random digital shift drawn from it. */
  constructor(
    readonly dims: number,
    seed: number | null = null,
  ) {
    if (!Number.isInteger(dims) || dims < 1 || dims > SOBOL_MAX_DIMENSIONS) throw new RangeError(`Sobol: 1 to ${SOBOL_MAX_DIMENSIONS} dimensions, got ${dims}`);
    this.v = directions(dims);
    this.shift = new Uint32Array(dims);
    if (seed !== null) {
      const rng = new Prng(seed, 0x50b0);
      for (let d = 0; d < dims; d++) this.shift[d] = rng.u32();
    }
  }

  /** Point `index` (0-based) in [0, 1)^dims: Gray-code order, computed directly (no state). */
  point(index: number): number[] {
    if (!Number.isInteger(index) || index < 0 || index >= 2 ** BITS) throw new RangeError(`Sobol: index ${index} outside [0, 2^32)`);
    const gray = index ^ Math.floor(index / 2);
    const out: number[] = [];
    for (let d = 0; d < this.dims; d++) {
      let x = this.shift[d];
      let g = gray;
      for (let k = 0; g > 0; k++, g = Math.floor(g / 2)) if (g % 2 === 1) x ^= this.v[d][k];
      out.push((x >>> 0) / 2 ** BITS);
    }
    return out;
  }
}
