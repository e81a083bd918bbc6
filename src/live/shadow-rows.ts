// One feature-row build per bar for every strategy of a run: the live session and each shadow's read
// the same row, built once by the store build's row builder (src/features/row.ts). Each session keeps
// its own series of the same bars and asks for the row of the same newest bar; the first asks the
// builder (whose state advances one bar per call), the others copy its row.
import type { BarSeries } from '../env/types.js';
import type { FeatureRowSource } from './session.js';

export class SharedFeatureRows {
  private readonly row: Float32Array;
  private index = -1;
  private ts = NaN;
  private status = 0;
  builds = 0;

  constructor(private readonly source: FeatureRowSource) {
    this.row = new Float32Array(source.width);
  }

  /** A session's view of the shared rows (it frees nothing: the run frees the builder once). */
  view(): FeatureRowSource {
    return {
      width: this.source.width,
      rowAt: (bars: BarSeries, i: number, out: Float32Array) => {
        if (i !== this.index || bars.ts[i] !== this.ts) {
          this.status = this.source.rowAt(bars, i, this.row);
          this.index = i;
          this.ts = bars.ts[i];
          this.builds++;
        }
        out.set(this.row);
        return this.status;
      },
    };
  }

  free(): void {
    this.source.free?.();
  }
}
