// Running mean and variance of every observation value over all rollouts so far (parallel-update
// form of Welford's algorithm, float64), and the statistics the network applies: mean and
// sqrt(var + epsilon), written into its non-trainable normaliser parameters.
export interface NormalizerState {
  count: number;
  mean: number[];
  m2: number[];
}

export class RunningNormalizer {
  count = 0;
  readonly mean: Float64Array;
  readonly m2: Float64Array;

  constructor(
    readonly dim: number,
    readonly epsilon: number,
  ) {
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dim);
  }

  /** Folds in `n` rows of `dim` values taken every `stride` values from `offset` in `data`. */
  update(data: Float32Array, n: number, stride: number, offset: number): void {
    if (n === 0) return;
    const D = this.dim;
    const bm = new Float64Array(D);
    const bv = new Float64Array(D);
    for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) bm[j] += data[i * stride + offset + j];
    for (let j = 0; j < D; j++) bm[j] /= n;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < D; j++) {
        const d = data[i * stride + offset + j] - bm[j];
        bv[j] += d * d;
      }
    const total = this.count + n;
    for (let j = 0; j < D; j++) {
      const delta = bm[j] - this.mean[j];
      this.mean[j] += (delta * n) / total;
      this.m2[j] += bv[j] + (delta * delta * this.count * n) / total;
    }
    this.count = total;
  }

  /** float32 mean and scale for the network (scale 1 before any data). */
  stats(): { mean: Float32Array; std: Float32Array } {
    const std = new Float32Array(this.dim);
    for (let j = 0; j < this.dim; j++) std[j] = this.count > 0 ? Math.sqrt(this.m2[j] / this.count + this.epsilon) : 1;
    return { mean: Float32Array.from(this.mean), std };
  }

  state(): NormalizerState {
    return { count: this.count, mean: [...this.mean], m2: [...this.m2] };
  }

  static fromState(s: NormalizerState, epsilon: number): RunningNormalizer {
    const r = new RunningNormalizer(s.mean.length, epsilon);
    r.count = s.count;
    r.mean.set(s.mean);
    r.m2.set(s.m2);
    return r;
  }
}
