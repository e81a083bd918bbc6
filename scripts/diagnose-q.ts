// npm run experiment:diagnose-q -- --db FILE [--checkpoint latest|best|ID] [--from YYYY-MM-DD] [--preset test] [--instrument I]
//
// Does a MuZero checkpoint know the direction of the market, and where? On held-out sessions it
// compares, against the feature `close_z` and the realised 30-bar forward return:
//  - V(long) − V(short): the prediction head's value of the same bar observed in a long vs a short
//    position (what the representation learned from in-position states);
//  - Q(BUY) − Q(SELL) while flat: the afterstate Q head at the entry decision (what the search reads
//    first when it chooses an entry), and the policy head's favourite entry.
// A learner that found the planted edge has both differences anti-correlated with close_z. Prints
// name=value lines. Diagnostic only: no result of swt depends on it.
import { loadConfig } from '../src/config/load.js';
import { Store } from '../src/store/db.js';
import { loadStoreMarket } from '../src/app/market.js';
import { openCheckpoint } from '../src/agent/checkpoints/registry.js';
import { OnnxModel } from '../src/agent/network/model.js';
import { TradingEnv } from '../src/env/env.js';
import { envConfigFromConfig } from '../src/env/config.js';
import { featureColumnsOf } from '../src/features/row.js';
import { specFromConfig as featureSpecFromConfig } from '../src/features/spec.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const db = arg('db', 'data/swt.duckdb');
const config = loadConfig({ preset: arg('preset', 'test') as 'test' });
const instrument = arg('instrument', 'SYN_GBPJPY');
const store = await Store.open(db);
const set = config.features.default_set;
const market = await loadStoreMarket(store, config, { instrument, range: { from: new Date(`${arg('from', '2022-05-17')}T00:00:00Z`), to: null }, sessions: 'all', seed: 0, featureSet: set });
const ck = await openCheckpoint(store, arg('checkpoint', 'latest'), { featureHash: market.featureHash ?? undefined });
const model = await OnnxModel.create(ck.spec, ck.onnx, {});
const features = market.features!;
const F = features.nFeatures;
const iz = featureColumnsOf(featureSpecFromConfig(config, set)).indexOf('close_z');
if (iz < 0) throw new Error(`feature set ${set} has no close_z column`);
// lane 0 stays flat, lane 1 is long from the first bar, lane 2 short: the same bars seen three ways
const env = new TradingEnv(market.bars, features, envConfigFromConfig(config, instrument), { batch: 3 });
const D = env.obsDim;
const rows: Float32Array[][] = [[], [], []];
const z: number[] = [];
const fwd: number[] = [];
const o = new Float32Array(D);
const H = 30;
for (let e = 0; e < Math.min(market.episodes.start.length, 40); e++) {
  const s = market.episodes.start[e];
  const end = market.episodes.end[e];
  for (let l = 0; l < 3; l++) env.reset(l, s, end, e * 3 + l);
  env.step(Int32Array.from([0, 1, 2]));
  for (let t = s + 1; t < end - H - 1; t += 3) {
    for (let l = 0; l < 3; l++) {
      env.observeLane(l, o, 0);
      rows[l].push(Float32Array.from(o));
    }
    z.push(features.data[t * F + iz]);
    fwd.push(market.bars.close[t + H] - market.bars.close[t]);
    for (let k = 0; k < 3; k++) env.step(Int32Array.from([0, 0, 0]));
  }
}
const N = z.length;
const stack = (r: Float32Array[]) => {
  const x = new Float32Array(N * D);
  r.forEach((v, i) => x.set(v, i * D));
  return x;
};
const [flat, long, short] = await Promise.all(rows.map((r) => model.initial(stack(r), N)));
const q = await Promise.all([1, 2].map((a) => model.recurrentDecision(flat.latents, new Int32Array(N).fill(a))));
// in the long position: Q(HOLD) − Q(CLOSE), the exit decision; while flat: Q(HOLD) against the best entry
const [qlh, qlc, qfh] = await Promise.all([
  model.recurrentDecision(long.latents, new Int32Array(N).fill(0)),
  model.recurrentDecision(long.latents, new Int32Array(N).fill(3)),
  model.recurrentDecision(flat.latents, new Int32Array(N).fill(0)),
]);
const corr = (x: ArrayLike<number>, y: ArrayLike<number>) => {
  let mx = 0, my = 0;
  for (let i = 0; i < N; i++) { mx += x[i]; my += y[i]; }
  mx /= N; my /= N;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < N; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; syy += (y[i] - my) ** 2; }
  return sxy / Math.sqrt(sxx * syy);
};
const sd = (x: number[]) => { const m = x.reduce((a, b) => a + b, 0) / x.length; return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length); };
const ls = Array.from({ length: N }, (_, i) => long.values[i] - short.values[i]);
const bs = Array.from({ length: N }, (_, i) => q[0].values[i] - q[1].values[i]);
const pick = [0, 0, 0];
for (let i = 0; i < N; i++) { const p = flat.policy.subarray(i * 4, i * 4 + 3); pick[p.indexOf(Math.max(p[0], p[1], p[2]))]++; }
const hc = Array.from({ length: N }, (_, i) => qlh.values[i] - qlc.values[i]);
const he = Array.from({ length: N }, (_, i) => qfh.values[i] - Math.max(q[0].values[i], q[1].values[i]));
let closeFav = 0;
for (let i = 0; i < N; i++) if (long.policy[i * 4 + 3] > long.policy[i * 4]) closeFav++;
const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
const out: Record<string, string | number> = {
  checkpoint: ck.meta.id,
  states: N,
  corr_close_z_fwd30: corr(z, fwd),
  corr_v_long_minus_short_close_z: corr(ls, z),
  corr_v_long_minus_short_fwd30: corr(ls, fwd),
  sd_v_long_minus_short: sd(ls),
  corr_q_buy_minus_sell_close_z: corr(bs, z),
  corr_q_buy_minus_sell_fwd30: corr(bs, fwd),
  sd_q_buy_minus_sell: sd(bs),
  mean_q_hold_minus_close_long: mean(hc),
  sd_q_hold_minus_close_long: sd(hc),
  corr_q_hold_minus_close_long_close_z: corr(hc, z),
  share_q_close_above_hold_long: hc.filter((x) => x < 0).length / N,
  long_policy_prefers_close: closeFav / N,
  mean_q_hold_minus_best_entry_flat: mean(he),
  share_q_entry_above_hold_flat: he.filter((x) => x < 0).length / N,
  flat_policy_argmax_hold: pick[0] / N,
  flat_policy_argmax_buy: pick[1] / N,
  flat_policy_argmax_sell: pick[2] / N,
};
for (const [k, v] of Object.entries(out)) console.log(`${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : v}`);
await model.dispose();
store.close();
