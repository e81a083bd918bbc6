// Value targets of a trajectory: n-step TD returns bootstrapped from the stored search values.
//
//   z_t = Σ_{i<n} γ^i r_{t+i} + γ^n v_{t+n}
//
// A trajectory has T decisions (states 0..T−1) and a last state T, where the session ended. Training
// treats that end as a truncation (the market goes on; the open position is not closed), so a return
// that runs past T is cut at T and bootstrapped from v_T, the search value of the last state. A true
// terminal (only used to show the difference, and for any future env with real episode ends) adds
// nothing after T: z_T = 0.
export type EpisodeEnd = 'truncation' | 'terminal';

/** z_0 .. z_T (T + 1 values) from rewards r_0..r_{T−1} and search values v_0..v_T. */
export function nStepTargets(rewards: ArrayLike<number>, values: ArrayLike<number>, n: number, gamma: number, end: EpisodeEnd): Float64Array {
  const T = rewards.length;
  if (values.length !== T + 1) throw new RangeError(`nStepTargets: ${T} rewards need ${T + 1} values (the last state's too), got ${values.length}`);
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`nStepTargets: n must be an integer >= 1, got ${n}`);
  const vEnd = end === 'truncation' ? values[T] : 0;
  const z = new Float64Array(T + 1);
  for (let t = 0; t <= T; t++) {
    const stop = Math.min(t + n, T);
    let g = 0;
    let disc = 1;
    for (let i = t; i < stop; i++) {
      g += disc * rewards[i];
      disc *= gamma;
    }
    g += disc * (t + n < T ? values[t + n] : vEnd);
    z[t] = g;
  }
  return z;
}
