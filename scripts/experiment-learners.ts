// npm run experiment:learners — which learner finds what, at what cost (issue 15), and, narrowed to
// MuZero on the synthetic series, issue 11's acceptance procedure (`npm run experiment:edge`).
//
// For each dataset and seed: a store with the bars, sessions and features; each learner trained
// (`swt train --algo A --preset P`) on the first 75% for at most --minutes; then, out of sample on the
// last 25%, every learner's best checkpoint beside `linear` and the rule baselines with walk-forward
// parameters, all through `swt validate`. Datasets: `edge` (planted-edge synthetic), `flat`
// (edge-free synthetic, same generator and seed) and `real2016` (the real GBP/JPY bars in
// ../shared/data; the seed changes only the training). Writes summary.{md,json} and index.html (the
// table, a chart of out-of-sample net pips, links to every validation report) under --out.
// Long: minutes per learner, dataset and seed; never part of npm test.
//   npm run experiment:learners -- [--learners muzero,ppo] [--datasets edge,flat,real2016] [--seeds 1,2,3]
//     [--minutes 15] [--preset test] [--from 2022-01-03] [--to 2025-08-29] [--jobs 1] [--out reports/experiment-learners]
// --jobs N runs N (dataset, seed) cells at once (one store each); the table keeps the (dataset, seed)
// order. Trainings are bounded by wall time, so cells sharing the cores train fewer steps: the table's
// env_steps column says how many.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const arg = (name: string, dflt: string) => {
  const i = process.argv.lastIndexOf(`--${name}`); // the last wins: an npm alias fixes some flags, a user may override them
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const learners = arg('learners', 'muzero,ppo').split(',').filter(Boolean);
const datasets = arg('datasets', 'edge,flat,real2016').split(',').filter(Boolean);
const seeds = arg('seeds', '1,2,3').split(',').map(Number);
const minutes = arg('minutes', '15');
const preset = arg('preset', 'test');
const from = arg('from', '2022-01-03');
const to = arg('to', '2025-08-29');
const out = path.resolve(arg('out', path.join('reports', 'experiment-learners')));
const jobs = Number(arg('jobs', '1'));
if (!(Number.isInteger(jobs) && jobs >= 1)) throw new Error(`--jobs: expected a whole number >= 1, got "${arg('jobs', '1')}"`);
const REAL = path.resolve('..', 'shared', 'data', 'GBPJPY_M1_20160422_20160624.csv.gz');
const RULES = ['linear', 'mean-reversion', 'ma-crossover'];
for (const d of datasets) if (!['edge', 'flat', 'real2016'].includes(d)) throw new Error(`--datasets: unknown dataset "${d}" (edge, flat, real2016)`);
for (const l of learners) if (!['muzero', 'ppo'].includes(l)) throw new Error(`--learners: unknown learner "${l}" (muzero, ppo)`);
if (datasets.includes('real2016') && !existsSync(REAL)) throw new Error(`real2016: ${REAL} not found (the shared data lives beside the checkout)`);
mkdirSync(out, { recursive: true });

function swt(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve('bin', 'swt.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('close', (status, signal) => (status === 0 ? resolve(stdout) : reject(new Error(`swt ${args.join(' ')} failed (${status ?? signal}): ${stderr}`))));
  });
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A store with bars, sessions and features; returns the instrument and the day the test range starts. */
async function prepare(dataset: string, seed: number, dir: string, env: Record<string, string>): Promise<{ instrument: string; split: string }> {
  const db = path.join(dir, 'store.duckdb');
  if (dataset === 'real2016') {
    await swt(['data', 'import', REAL, '--instrument', 'GBP_JPY', '--format', 'csv', '--db', db], env);
    await swt(['data', 'sessions', '--instrument', 'GBP_JPY', '--db', db], env);
    await swt(['features', 'build', '--instrument', 'GBP_JPY', '--db', db], env);
    // 2016-04-22 .. 2016-06-24: the last quarter starts on 2016-06-08
    return { instrument: 'GBP_JPY', split: day(Date.parse('2016-04-22') + 0.75 * (Date.parse('2016-06-25') - Date.parse('2016-04-22'))) };
  }
  await swt(['data', 'synth', '--from', from, '--to', to, '--seed', String(seed), ...(dataset === 'edge' ? ['--edge'] : []), '--out', path.join(dir, 'bars.csv'), '--db', db], env);
  await swt(['data', 'sessions', '--instrument', 'SYN_GBPJPY', '--db', db], env);
  await swt(['features', 'build', '--instrument', 'SYN_GBPJPY', '--db', db], env);
  return { instrument: 'SYN_GBPJPY', split: day(Date.parse(from) + 0.75 * (Date.parse(to) - Date.parse(from))) };
}

type Row = Record<string, string | number | null>;
const SERIES: Record<string, string> = { edge: 'planted edge', flat: 'edge-free', real2016: 'real GBP/JPY 2016' };

/** One (dataset, seed) cell: its store, the learners trained, every policy validated out of sample. */
async function runCell(dataset: string, seed: number): Promise<{ rows: Row[]; report: { dataset: string; seed: number; dir: string } }> {
  const name = `${dataset}-seed${seed}`;
  const dir = path.join(out, name);
  mkdirSync(dir, { recursive: true });
  const db = path.join(dir, 'store.duckdb');
  const env = { SWT_CHECKPOINTS__DIR: path.join(dir, 'checkpoints'), SWT_LOG__DIR: path.join(dir, 'logs') };
  const t0 = Date.now();
  const { instrument, split } = await prepare(dataset, seed, dir, env);
  const trained: Record<string, { checkpoint: string; minutes: number; env_steps: number }> = {};
  for (const algo of learners) {
    const t = Date.now();
    const s = JSON.parse(await swt(['train', '--algo', algo, '--preset', preset, '--instrument', instrument, '--to', split, '--max-minutes', minutes, '--seed', String(seed), '--db', db, '--json'], env)) as {
      best_checkpoint: string | null;
      last_checkpoint: string;
      env_steps: number;
    };
    trained[algo] = { checkpoint: s.best_checkpoint ?? s.last_checkpoint, minutes: (Date.now() - t) / 60_000, env_steps: s.env_steps };
    process.stderr.write(`${name}: ${algo} trained in ${trained[algo].minutes.toFixed(1)} min, checkpoint ${trained[algo].checkpoint}\n`);
  }
  const policies = [...learners.map((a) => `${a}:checkpoint=${trained[a].checkpoint}`), ...RULES];
  const v = JSON.parse(
    await swt(['validate', ...policies.flatMap((p) => ['--policy', p]), '--walk-forward', '--from', split, '--instrument', instrument, '--seed', String(seed), '--out', path.join(dir, 'reports'), '--force', '--db', db, '--json'], env),
  ) as { validations: Array<{ key: string; result: { metrics: Record<string, number | null>; grade: { recommendation: string; letter: string } } }> };
  const rows = v.validations.map((x) => {
    const learner = trained[x.key];
    return {
      series: SERIES[dataset],
      seed,
      policy: x.key,
      grade: `${x.result.grade.recommendation} (${x.result.grade.letter})`,
      trades: x.result.metrics.trades,
      oos_net_pips: x.result.metrics.net_pips,
      expectancy: x.result.metrics.expectancy,
      sqn: x.result.metrics.sqn,
      train_minutes: learner ? learner.minutes : null,
      env_steps: learner ? learner.env_steps : null,
    };
  });
  process.stderr.write(`${name}: done in ${((Date.now() - t0) / 60_000).toFixed(1)} min\n`);
  return { rows, report: { dataset, seed, dir: path.relative(out, path.join(dir, 'reports')) } };
}

// a pool of `jobs` cells; results land in the cells' own order
const cells = datasets.flatMap((dataset) => seeds.map((seed) => ({ dataset, seed })));
const results: Array<Awaited<ReturnType<typeof runCell>>> = new Array(cells.length);
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(jobs, cells.length) }, async () => {
    while (next < cells.length) {
      const k = next++;
      results[k] = await runCell(cells[k].dataset, cells[k].seed);
    }
  }),
);
const rows: Row[] = results.flatMap((r) => r.rows);
const reports = results.map((r) => r.report);

const fmt = (x: unknown) => (typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toFixed(2)) : String(x ?? '-'));
const cols = Object.keys(rows[0] ?? {});
const md = [`| ${cols.join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${cols.map((c) => fmt(r[c])).join(' | ')} |`)].join('\n');
const title = `experiment:learners (${learners.join(', ')}; preset ${preset}, at most ${minutes} min per training; synthetic ${from}..${to}; seeds ${seeds.join(', ')}; ${jobs} cell(s) at a time)`;
writeFileSync(path.join(out, 'summary.md'), `# ${title}\n\n${md}\n`);
writeFileSync(path.join(out, 'summary.json'), JSON.stringify({ learners, datasets, seeds, preset, minutes: Number(minutes), from, to, jobs, rows }, null, 2));
writeFileSync(path.join(out, 'index.html'), html(title, cols, rows));
process.stdout.write(`${md}\n\nreport: ${path.join(out, 'index.html')}\n`);

/** The table, one horizontal bar chart of OOS net pips per series (mean over seeds), and the report links. */
function html(heading: string, columns: string[], data: Row[]): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const charts = [...new Set(data.map((r) => String(r.series)))].map((series) => {
    const byPolicy = new Map<string, number[]>();
    for (const r of data.filter((x) => x.series === series)) byPolicy.set(String(r.policy), [...(byPolicy.get(String(r.policy)) ?? []), Number(r.oos_net_pips ?? 0)]);
    const bars = [...byPolicy].map(([p, xs]) => ({ p, v: xs.reduce((a, b) => a + b, 0) / xs.length }));
    // labels in their own column; the axis sits at zero on a scale from min(0, lowest) to max(0, highest)
    const W = 760;
    const x0 = 170;
    const x1 = W - 70;
    const lo = Math.min(0, ...bars.map((b) => b.v));
    const hi = Math.max(0, ...bars.map((b) => b.v));
    const span = Math.max(1, hi - lo);
    const at = (v: number) => x0 + ((v - lo) / span) * (x1 - x0);
    const mid = at(0);
    const rowsSvg = bars
      .map((b, i) => {
        const x = Math.min(at(b.v), mid);
        const w = Math.abs(at(b.v) - mid);
        const y = 10 + i * 26;
        const label = b.v >= 0 ? at(b.v) + 4 : mid + 4;
        return `<text x="0" y="${y + 14}" font-size="12">${esc(b.p)}</text><rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="18" fill="${b.v >= 0 ? '#2e7d32' : '#c62828'}"/><text x="${label.toFixed(1)}" y="${y + 14}" font-size="12">${b.v.toFixed(0)}</text>`;
      })
      .join('');
    return `<h3>${esc(series)}: mean out-of-sample net pips over seeds</h3><svg width="${W}" height="${20 + bars.length * 26}" role="img"><line x1="${mid.toFixed(1)}" y1="0" x2="${mid.toFixed(1)}" y2="${20 + bars.length * 26}" stroke="#555"/>${rowsSvg}</svg>`;
  });
  const table = `<table><thead><tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${data.map((r) => `<tr>${columns.map((c) => `<td>${esc(fmt(r[c]))}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  const links = reports.map((r) => `<li><a href="${esc(r.dir)}/">${esc(`${SERIES[r.dataset]}, seed ${r.seed}`)}</a></li>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(heading)}</title><style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}</style></head><body><h1>${esc(heading)}</h1><p>Out of sample (the last 25% of each series), after costs. Learners: their best checkpoint by held-out SQN. Rule baselines: walk-forward parameters.</p>${table}${charts.join('')}<h2>Validation reports</h2><ul>${links}</ul></body></html>`;
}
