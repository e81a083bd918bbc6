// `swt data fetch`: complete M1 candles from OANDA through the typed client, imported page by page
// through the importer (the same checks and rejections as `swt data import --format oanda`). Pages hold
// at most 5000 candles (the API's cap); the client keeps to the rate limits and waits out 429s. Each
// page is committed on its own, so a killed fetch has lost at most the page in flight, and a fetch
// without --from starts after the last stored bar: re-running it gives the same store.
// With price BA the candles are requested as MBA (mid, bid and ask): the bars are the mid candles, as
// with M, and each records its spread (ask − bid at the open) for env.spread 'recorded'.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Store } from '../store/db.js';
import type { OandaClient } from '../live/oanda/client.js';
import { timeMs } from '../live/oanda/models.js';
import { importFiles, type FileImportResult } from '../data/import.js';
import { UsageError } from '../util/errors.js';

export const PAGE_CANDLES = 5000;
const M1 = 60_000;

export interface FetchOptions {
  instrument: string;
  /** null: after the last stored bar of the instrument. */
  from: Date | null;
  /** Exclusive end (null: now). */
  to: Date | null;
  /** M: mid candles; BA: mid candles plus the recorded bid/ask spread of each bar. */
  price?: 'M' | 'BA';
  onPage?: (p: { page: number; fetched: number; cursor: number; to: number }) => void;
}

export interface FetchResult {
  instrument: string;
  from: string;
  to: string;
  price: 'M' | 'BA';
  pages: number;
  candles_served: number;
  candles_complete: number;
  rows_accepted: number;
  rows_rejected: number;
  rows_already_present: number;
}

export async function fetchCandles(store: Store, client: OandaClient, o: FetchOptions): Promise<FetchResult> {
  let from = o.from?.getTime() ?? null;
  if (from === null) {
    const r = await store.one<{ last: Date | null }>('SELECT max(ts) AS last FROM bars WHERE instrument = $1', [o.instrument]);
    if (!r?.last) throw new UsageError(`no stored bars of ${o.instrument} to continue from: give --from YYYY-MM-DD for the first fetch`);
    from = new Date(r.last).getTime() + M1;
  }
  const to = o.to?.getTime() ?? Math.floor(Date.now() / M1) * M1;
  if (from >= to) throw new UsageError(`nothing to fetch: ${new Date(from).toISOString()} is not before ${new Date(to).toISOString()}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'swt-fetch-'));
  const price = o.price ?? 'M';
  const out: FetchResult = { instrument: o.instrument, from: new Date(from).toISOString(), to: new Date(to).toISOString(), price, pages: 0, candles_served: 0, candles_complete: 0, rows_accepted: 0, rows_rejected: 0, rows_already_present: 0 };
  try {
    let cursor = from;
    while (cursor < to) {
      const page = await client.candles(o.instrument, { from: cursor, count: PAGE_CANDLES, price: price === 'BA' ? 'MBA' : 'M' });
      const candles = page.candles.filter((c) => timeMs(c.time) < to);
      out.pages++;
      if (candles.length === 0) break;
      out.candles_served += candles.length;
      out.candles_complete += candles.filter((c) => c.complete).length;
      if (candles.some((c) => c.complete)) {
        const file = path.join(dir, `page-${out.pages}.json`);
        writeFileSync(file, JSON.stringify({ ...page, candles }));
        // one unit: the importer's stage tables live as long as it holds the file
        const [r] = (await store.unit(() => importFiles(store, [file], { instrument: o.instrument, format: 'oanda', price: 'mid', spread: price === 'BA' }))) as FileImportResult[];
        out.rows_accepted += r.rows_accepted;
        out.rows_rejected += r.rows_rejected;
        out.rows_already_present += r.rows_already_present;
        rmSync(file);
      }
      cursor = timeMs(candles[candles.length - 1].time) + M1;
      o.onPage?.({ page: out.pages, fetched: out.candles_served, cursor, to });
      // A short page is the end of what the broker has; an incomplete candle is the minute still open.
      if (page.candles.length < PAGE_CANDLES || candles.some((c) => !c.complete)) break;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
