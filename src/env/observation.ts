// The observation of one lane, assembled the same way by the vectorised env (stored feature matrix) and
// by the LiveSession (feature rows of a growing series):
//   for k = K−1 … 0 (oldest first): the feature row of bar t − k, then the 9 position features at the
//   close of bar t − k.
// Rows before the episode start use the series' real earlier feature rows (what a live runner has too)
// with flat position features; rows before bar 0 are zeros. The position features of the last K bars
// live in a ring per lane, slot (t − start) mod K.
import { N_POSITION_FEATURES } from '../features/position.js';

/** Values in one observation: K stacked rows of F features and the 9 position features. */
export function observationSize(K: number, F: number): number {
  return K * (F + N_POSITION_FEATURES);
}

/** Offset in a lane ring (K slots of 9 per lane) of the position features at bar t of an episode started at s. */
export function positionSlot(lane: number, K: number, t: number, s: number): number {
  return (lane * K + ((t - s) % K)) * N_POSITION_FEATURES;
}

/** Writes K · (F + 9) values at out[offset..]: the observation of `lane` at bar t (episode start s). */
export function writeObservation(
  out: Float32Array,
  offset: number,
  K: number,
  F: number,
  features: Float32Array | null,
  t: number,
  s: number,
  ring: Float32Array,
  lane: number,
): void {
  const P = N_POSITION_FEATURES;
  let w = offset;
  for (let k = K - 1; k >= 0; k--) {
    const r = t - k;
    if (F > 0) {
      if (r >= 0 && features) {
        const src = r * F;
        for (let j = 0; j < F; j++) out[w + j] = features[src + j];
      } else {
        for (let j = 0; j < F; j++) out[w + j] = 0;
      }
      w += F;
    }
    if (r >= s) {
      const src = positionSlot(lane, K, r, s);
      for (let j = 0; j < P; j++) out[w + j] = ring[src + j];
    } else {
      for (let j = 0; j < P; j++) out[w + j] = 0;
    }
    w += P;
  }
}
