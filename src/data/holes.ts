// Holes: the missing minutes between neighbouring bars. They are few next to the bars, so SQL finds
// them and the one rule in calendar.ts (holeMinutesMs) splits each into weekend closure and weekday
// minutes, for the quality report and the session index alike (the feature build applies the same rule
// to the bars it has loaded).
import type { Store, Params } from '../store/db.js';
import { readColumns } from '../store/columnar.js';

export interface Holes {
  n: number;
  /** the bar before each hole (epoch ms) */
  prev: Float64Array;
  /** the bar after it */
  next: Float64Array;
}

/** The holes of `source` (a table or a parenthesised query with a `ts` column), in time order. */
export async function readHoles(store: Store, source: string, params?: Params): Promise<Holes> {
  const r = await readColumns(
    store,
    `SELECT prev, ts FROM (SELECT lag(ts) OVER (ORDER BY ts) AS prev, ts FROM ${source}) WHERE ts - prev > INTERVAL 1 MINUTE ORDER BY ts`,
    [
      { name: 'prev', kind: 'ts_ms' },
      { name: 'ts', kind: 'ts_ms' },
    ],
    params,
  );
  return { n: r.n, prev: r.cols.prev as Float64Array, next: r.cols.ts as Float64Array };
}
