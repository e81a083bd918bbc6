// Seeded PRNG for the TypeScript side: xoshiro128** seeded through splitmix32. 32-bit integer
// arithmetic only (Math.imul, >>> 0), so a stream is bit-identical on every platform and Node version.
// State lives in a caller-owned Uint32Array (4 words per stream) so a batch of streams (one per env
// lane) needs no objects and no allocation per draw.

/** splitmix32 step on a 32-bit state; returns [next output] and advances `s[0]`. */
function splitmix32(s: Uint32Array, i: number): number {
  s[i] = (s[i] + 0x9e3779b9) >>> 0;
  let z = s[i];
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const tmp = new Uint32Array(1);

/**
 * Mixes a seed and a stream index (episode, lane …) into a 32-bit stream seed, so every unit of work
 * has its own stream whatever order it is processed in. Seeds may be any safe integers (the high
 * part is folded in, not dropped).
 */
export function streamSeed(seed: number, stream: number): number {
  if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(stream)) {
    throw new RangeError(`seed and stream must be safe integers (got seed=${seed}, stream=${stream})`);
  }
  const hi = Math.floor(seed / 4294967296) >>> 0;
  tmp[0] = (seed >>> 0) ^ Math.imul(hi, 0x27d4eb2f);
  let x = splitmix32(tmp, 0);
  tmp[0] = x ^ Math.imul((stream >>> 0) + 1, 0x165667b1) ^ Math.imul(Math.floor(stream / 4294967296) >>> 0, 0x9e3779b1);
  x = splitmix32(tmp, 0);
  return x;
}

/** Seeds stream `lane` of a state array (4 words per stream) from a 32-bit seed. */
export function seedState(state: Uint32Array, lane: number, seed32: number): void {
  tmp[0] = seed32 >>> 0;
  const o = lane * 4;
  state[o] = splitmix32(tmp, 0);
  state[o + 1] = splitmix32(tmp, 0);
  state[o + 2] = splitmix32(tmp, 0);
  state[o + 3] = splitmix32(tmp, 0);
  if ((state[o] | state[o + 1] | state[o + 2] | state[o + 3]) === 0) state[o] = 1;
}

/** Next 32-bit output of stream `lane` (xoshiro128**). */
export function nextU32(s: Uint32Array, lane: number): number {
  const o = lane * 4;
  const s0 = s[o];
  const s1 = s[o + 1];
  const s2 = s[o + 2];
  const s3 = s[o + 3];
  const m = Math.imul(s1, 5);
  const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
  const t = s1 << 9;
  const n2 = s2 ^ s0;
  const n3 = s3 ^ s1;
  s[o + 1] = s1 ^ n2;
  s[o] = s0 ^ n3;
  s[o + 2] = n2 ^ t;
  s[o + 3] = (n3 << 11) | (n3 >>> 21);
  return result;
}

/** Uniform in [0, 1) with 53 bits (two 32-bit draws). */
export function nextF64(s: Uint32Array, lane: number): number {
  const a = nextU32(s, lane) >>> 5; // 27 bits
  const b = nextU32(s, lane) >>> 6; // 26 bits
  return (a * 67108864 + b) / 9007199254740992;
}

/** Uniform integer in [0, n) (n <= 2^32), without modulo bias (Lemire's rejection). */
export function nextBelow(s: Uint32Array, lane: number, n: number): number {
  if (!(n >= 1 && n <= 4294967296)) throw new RangeError(`nextBelow: n must be in [1, 2^32], got ${n}`);
  const threshold = 4294967296 % n;
  for (;;) {
    const x = nextU32(s, lane);
    if (x >= threshold) return x % n;
  }
}

/** Standard normal (Box–Muller; one value per call, the pair's twin is discarded for simplicity). */
export function nextNormal(s: Uint32Array, lane: number): number {
  let u = nextF64(s, lane);
  while (u === 0) u = nextF64(s, lane);
  const v = nextF64(s, lane);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A single seeded stream with a small object API, for code that is not on a hot path. */
export class Prng {
  private readonly s = new Uint32Array(4);
  constructor(seed: number, stream = 0) {
    seedState(this.s, 0, streamSeed(seed, stream));
  }
  u32(): number {
    return nextU32(this.s, 0);
  }
  float(): number {
    return nextF64(this.s, 0);
  }
  below(n: number): number {
    return nextBelow(this.s, 0, n);
  }
  normal(): number {
    return nextNormal(this.s, 0);
  }
  /** The stream's position (4 words), to save with a checkpoint. */
  state(): number[] {
    return Array.from(this.s);
  }
  /** A stream that continues from a saved state(). */
  static fromState(words: ArrayLike<number>): Prng {
    if (words.length !== 4 || !Array.from(words).every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new RangeError('Prng.fromState: expected 4 unsigned 32-bit words');
    }
    const p = new Prng(0);
    p.s.set(words);
    return p;
  }
}
