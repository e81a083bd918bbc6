import { describe, it, expect } from 'vitest';
import { makePolicy } from './helpers/policy.js';
import { createPolicy, type Policy } from '../src/agent/policies/index.js';
import { envConfig } from '../src/env/config.js';
import { episodeTotals, indexRange, rangeEpisode, sampleEpisodes, sessionEpisodes, sessionEpisodesFromTimes } from '../src/env/episodes.js';
import type { EnvView } from '../src/env/env.js';
import type { TradeLog } from '../src/env/trades.js';
import { BUY, CLOSE, HOLD, SELL, type BarSeries, type FeatureMatrix } from '../src/env/types.js';
import { nextF64, seedState, streamSeed } from '../src/util/prng.js';
import { runBacktest } from '../src/validation/backtest.js';
import { DAY_MS } from '../src/validation/metrics.js';
import { causalFeatures, copyBars, loadSharedGbpJpy, randomWalk } from './helpers/series.js';
import { HAS_SHARED, SHARED } from './helpers/paths.js';

const N = 40 * 360 + 17;
const bars = randomWalk(N, 2024);
const starts = Array.from({ length: 40 }, (_, i) => i * 360 + 17);
const sessions = sessionEpisodes(starts, 360, N);
const cfg = envConfig();

const COLUMNS = ['episode', 'side', 'entryIndex', 'exitIndex', 'entryTs', 'exitTs', 'entryPrice', 'exitPrice', 'grossPips', 'netPips', 'costPips', 'maePips', 'mfePips', 'barsHeld', 'forced', 'reward'] as const;

/** Bit-for-bit equality of two trade logs (every column compared as raw bytes). */
function sameBits(a: TradeLog, b: TradeLog): boolean {
  if (a.count !== b.count) return false;
  return COLUMNS.every((k) => {
    const x = a[k].subarray(0, a.count);
    const y = b[k].subarray(0, b.count);
    return Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  });
}

describe('backtest runner', () => {
  it('is deterministic: same seed, same trades bit for bit, whatever the batch size', async () => {
    const run = async (seed: number, batch: number) => (await runBacktest({ bars, episodes: sessions, policy: await makePolicy('random', { p_open: 0.1, p_close: 0.05 }, seed), env: cfg, batch })).trades;
    const a = await run(7, 64);
    expect(a.count).toBeGreaterThan(100);
    expect(sameBits(a, await run(7, 64))).toBe(true);
    expect(sameBits(a, await run(7, 1))).toBe(true);
    expect(sameBits(a, await run(7, 9))).toBe(true);
    expect(sameBits(a, await run(8, 64))).toBe(false);
  });

  it('counts every decision and returns trades consistent with the env rules', async () => {
    const r = await runBacktest({ bars, episodes: sessions, policy: (await makePolicy('ma-crossover', { fast: 5, slow: 30 }, 0)), env: cfg });
    expect(r.episodes).toBe(40);
    expect(r.totalBars).toBe(40 * 360);
    expect(r.decisions).toBe(40 * 359);
    expect(r.metrics.actions.decisions).toBe(40 * 359);
    expect(r.actionCounts[BUY] + r.actionCounts[SELL]).toBe(r.trades.count); // every open is a trade
    expect(r.actionCounts[CLOSE]).toBe(r.trades.count - r.metrics.forced_closes);
    expect(r.metrics.trades).toBe(r.trades.count);
    let held = 0;
    for (let i = 0; i < r.trades.count; i++) {
      expect(r.trades.netPips[i]).toBeCloseTo(r.trades.grossPips[i] - 4, 9);
      expect(r.trades.entryIndex[i]).toBeGreaterThan(sessions.start[r.trades.episode[i]]); // fills after a decision
      expect(r.trades.exitIndex[i]).toBeLessThan(sessions.end[r.trades.episode[i]]);
      held += r.trades.barsHeld[i];
      if (i > 0) expect(r.trades.exitTs[i]).toBeGreaterThanOrEqual(r.trades.exitTs[i - 1]);
    }
    expect(r.metrics.exposure).toBeCloseTo(held / (40 * 360), 12);
    expect(r.metrics.days).toBe(r.days.length);
    expect(r.policy).toEqual({ name: 'ma-crossover', params: { fast: 5, slow: 30 } });
  });

  it('buy-and-hold makes one forced long per session; hold makes none and shows HOLD = 100%', async () => {
    const bh = await runBacktest({ bars, episodes: sessions, policy: (await makePolicy('buy-and-hold', {}, 0)), env: cfg });
    expect(bh.trades.count).toBe(40);
    for (let i = 0; i < 40; i++) {
      const ep = bh.trades.episode[i];
      expect(bh.trades.side[i]).toBe(1);
      expect(bh.trades.forced[i]).toBe(1);
      expect(bh.trades.entryIndex[i]).toBe(sessions.start[ep] + 1);
      expect(bh.trades.exitIndex[i]).toBe(sessions.end[ep] - 1);
      expect(bh.trades.exitPrice[i]).toBe(bars.close[sessions.end[ep] - 1]);
      expect(bh.trades.barsHeld[i]).toBe(359);
    }
    expect(bh.metrics.exposure).toBeCloseTo(359 / 360, 12);
    const h = await runBacktest({ bars, episodes: sessions, policy: (await makePolicy('hold', {}, 0)), env: cfg });
    expect(h.trades.count).toBe(0);
    expect(h.metrics.actions.share.HOLD).toBe(1);
  });

  it('both reward modes pay the same total: Σ (net − 0.01 · MAE) over the trades', async () => {
    const pol = () => makePolicy('random', { p_open: 0.2, p_close: 0.1 }, 3);
    const sparse = await runBacktest({ bars, episodes: sessions, policy: await pol(), env: cfg });
    const dense = await runBacktest({ bars, episodes: sessions, policy: await pol(), env: envConfig({ reward: { mode: 'dense' } }) });
    let expected = 0;
    for (let i = 0; i < sparse.trades.count; i++) expected += sparse.trades.netPips[i] - 0.01 * sparse.trades.maePips[i];
    expect(sparse.rewardTotal).toBeCloseTo(expected, 6);
    expect(dense.rewardTotal).toBeCloseTo(expected, 6);
    expect(sameBits(sparse.trades, dense.trades)).toBe(true); // the reward mode changes what is paid when, not the trades
  });

  it('runs one continuous range as a single episode', async () => {
    const r = await runBacktest({ bars, episodes: rangeEpisode(100, 5100, N), policy: (await makePolicy('ma-crossover', {}, 0)), env: cfg });
    expect(r.episodes).toBe(1);
    expect(r.decisions).toBe(4999);
    expect(r.trades.count).toBeGreaterThan(10);
  });

  it('refuses an empty episode set, and awaits an asynchronous policy to the same trades', async () => {
    const none = { start: new Int32Array(0), end: new Int32Array(0) };
    await expect(runBacktest({ bars, episodes: none, policy: (await makePolicy('hold', {}, 0)), env: cfg })).rejects.toThrow(/no valid session/);
    const inner = (await makePolicy('random', {}, 1));
    const asyncPolicy: Policy = {
      ...inner,
      name: 'slow-net',
      begin: (v) => inner.begin(v),
      resetLane: (l, e, v) => inner.resetLane(l, e, v),
      act: async (o, m, v, out) => {
        await new Promise((r) => setImmediate(r));
        return inner.act(o, m, v, out);
      },
    };
    const a = await runBacktest({ bars, episodes: sessions, policy: asyncPolicy, env: cfg });
    const b = await runBacktest({ bars, episodes: sessions, policy: (await makePolicy('random', {}, 1)), env: cfg });
    expect(sameBits(a.trades, b.trades)).toBe(true);
  });
});

/**
 * A policy that reads the observations (like a network will) and records, per step, what it saw and
 * what it decided. Decisions depend on the observation and on a seeded stream.
 */
class RecordingPolicy implements Policy {
  readonly name = 'recording';
  readonly params = {};
  readonly needsObservation = true;
  readonly seen: Array<{ t: number; obs: number[]; action: number }> = [];
  private rng = new Uint32Array(4);
  begin(): void {}
  resetLane(lane: number, episode: number): void {
    seedState(this.rng, lane, streamSeed(77, episode));
  }
  act(obs: Float32Array | null, mask: Uint8Array, view: EnvView, out: Uint8Array): void {
    const d = view.obsDim;
    const row = Array.from(obs!.subarray(0, d));
    const u = nextF64(this.rng, 0);
    const signal = row[d - 9 - 3] + row[d - 1] * 0.5 + (u - 0.5); // newest 1-bar return feature, has_position, noise
    let a = HOLD;
    if (mask[BUY] && signal > 0.4) a = BUY;
    else if (mask[SELL] && signal < -0.4) a = SELL;
    else if (mask[CLOSE] && Math.abs(signal) > 0.45) a = CLOSE;
    out[0] = a;
    this.seen.push({ t: view.t[0], obs: row, action: a });
  }
}

describe('no look-ahead', () => {
  it('changing any bar after t changes nothing the policy saw or decided up to t', async () => {
    const n = 3000;
    const base = randomWalk(n, 5);
    const run = async (b: BarSeries, f: FeatureMatrix) => {
      const p = new RecordingPolicy();
      const r = await runBacktest({ bars: b, features: f, episodes: sessionEpisodes([1000], 1000, n), policy: p, env: envConfig({ stack: 3 }), batch: 1 });
      return { seen: p.seen, trades: r.trades };
    };
    const a = await run(base, causalFeatures(base));
    expect(a.trades.count).toBeGreaterThan(5);
    for (const cut of [1000, 1001, 1337, 1997]) {
      const changed = copyBars(base);
      const noise = randomWalk(n, cut, { start: 140 });
      for (let i = cut + 1; i < n; i++) {
        changed.open[i] = noise.open[i];
        changed.high[i] = noise.high[i];
        changed.low[i] = noise.low[i];
        changed.close[i] = noise.close[i];
      }
      const b = await run(changed, causalFeatures(changed));
      const upTo = (s: typeof a.seen) => s.filter((x) => x.t <= cut);
      expect(upTo(a.seen).length).toBe(cut - 1000 + 1);
      expect(upTo(b.seen)).toEqual(upTo(a.seen)); // observations and decisions identical through bar t
      expect(b.seen.find((x) => x.t === cut + 1)?.obs).not.toEqual(a.seen.find((x) => x.t === cut + 1)?.obs); // and the change is visible right after
    }
  });
});

describe('episodes', () => {
  it('samples sessions with a seed, keeping chronological order without replacement', async () => {
    const a = sampleEpisodes(sessions, 10, 1);
    expect(sampleEpisodes(sessions, 10, 1)).toEqual(a);
    expect(sampleEpisodes(sessions, 10, 2)).not.toEqual(a);
    expect([...a.start]).toEqual([...a.start].sort((x, y) => x - y));
    expect(new Set(a.start).size).toBe(10);
    expect(episodeTotals(a)).toEqual({ bars: 3600, decisions: 3590 });
    expect(() => sampleEpisodes(sessions, 41, 1)).toThrow(/asked for 41 sessions but only 40 are available/);
    expect(sampleEpisodes(sessions, 100, 1, { replace: true }).start.length).toBe(100);
  });

  it('refuses sessions that run past the series and maps times to bar ranges', async () => {
    expect(() => sessionEpisodes([N - 100], 360, N)).toThrow(/session 0: bars \[\d+, \d+\) fall outside the series/);
    const { from, to } = indexRange(bars, bars.ts[10], bars.ts[20] + 1);
    expect([from, to]).toEqual([10, 21]);
  });
});

describe('inputs the backtest refuses', () => {
  it('a feature set that does not cover the episodes (a policy that reads observations)', async () => {
    const f = causalFeatures(bars);
    const holed = { data: f.data.slice(), nFeatures: f.nFeatures };
    holed.data[(starts[3] + 100) * 3 + 1] = NaN;
    const rec = () => new RecordingPolicy();
    await expect(runBacktest({ bars, features: holed, episodes: sessions, policy: rec(), env: cfg })).rejects.toThrow(
      new RegExp(`the feature set does not cover bar ${starts[3] + 100} \\(.*\\): feature 1 is NaN; episode 3`),
    );
    // With K = 3 the two rows before an episode are read too.
    holed.data.set(f.data);
    holed.data[(starts[0] - 2) * 3] = NaN; // bar 15: before the first session (bar 17), in no episode
    await expect(runBacktest({ bars, features: holed, episodes: sessions, policy: rec(), env: cfg, batch: 1 })).resolves.toBeDefined();
    await expect(runBacktest({ bars, features: holed, episodes: sessions, policy: rec(), env: envConfig({ stack: 3 }), batch: 1 })).rejects.toThrow(/does not cover bar/);
  });

  it('session starts that are not bars of the series', async () => {
    const eps = sessionEpisodesFromTimes(bars, [bars.ts[17], bars.ts[377]], 360);
    expect([...eps.start]).toEqual([17, 377]);
    expect(() => sessionEpisodesFromTimes(bars, [bars.ts[17] + 1], 360)).toThrow(/session 0 starts at .*, which is not a bar of the series/);
  });
});

describe.skipIf(!HAS_SHARED)('real GBP/JPY 2016 data (../shared)', () => {
  it('ma-crossover runs end to end over 360-bar sessions', async () => {
    const real = loadSharedGbpJpy(SHARED);
    expect(real.ts.length).toBe(65_039);
    const st: number[] = [];
    for (let s = 0; s + 360 <= real.ts.length; s += 360) st.push(s);
    const r = await runBacktest({ bars: real, episodes: sessionEpisodes(st, 360, real.ts.length), policy: (await makePolicy('ma-crossover', {}, 0)), env: envConfig() });
    expect(r.episodes).toBe(180);
    expect(r.trades.count).toBeGreaterThan(500);
    expect(r.metrics.net_pips).toBeCloseTo(r.trades.grossPips.subarray(0, r.trades.count).reduce((x, y) => x + y, 0) - 4 * r.trades.count, 6);
    expect(r.metrics.days).toBeGreaterThan(40);
    // The Brexit night (2016-06-24) is in the data: some trade's adverse excursion must reflect it.
    const brexit = Date.UTC(2016, 5, 24) / DAY_MS;
    let worst = 0;
    for (let i = 0; i < r.trades.count; i++) if (Math.floor(r.trades.exitTs[i] / DAY_MS) === brexit) worst = Math.max(worst, r.trades.maePips[i]);
    expect(worst).toBeGreaterThan(100);
  });
});
